"""Yang et al. 2019 suite: names, channels, ring encoding, targets, noise convention, params."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.tasks import yang2019
from rnnzoo.tasks.yang2019.encoding import population_vector

RULES = [
    "fdgo",
    "reactgo",
    "delaygo",
    "fdanti",
    "reactanti",
    "delayanti",
    "dm1",
    "dm2",
    "contextdm1",
    "contextdm2",
    "multidm",
    "delaydm1",
    "delaydm2",
    "contextdelaydm1",
    "contextdelaydm2",
    "multidelaydm",
    "dmsgo",
    "dmsnogo",
    "dmcgo",
    "dmcnogo",
]
PAPER_NAMES = [
    "Go",
    "RT Go",
    "Dly Go",
    "Anti",
    "RT Anti",
    "Dly Anti",
    "DM 1",
    "DM 2",
    "Ctx DM 1",
    "Ctx DM 2",
    "MultSen DM",
    "Dly DM 1",
    "Dly DM 2",
    "Ctx Dly DM 1",
    "Ctx Dly DM 2",
    "MultSen Dly DM",
    "DMS",
    "DNMS",
    "DMC",
    "DNMC",
]
SOO_NAMES = [
    "go",
    "rtgo",
    "dlygo",
    "anti",
    "rtanti",
    "dlyanti",
    "dm1",
    "dm2",
    "ctxdm1",
    "ctxdm2",
    "multsendm",
    "dlydm1",
    "dlydm2",
    "ctxdlydm1",
    "ctxdlydm2",
    "multsendlydm",
    "dms",
    "dnms",
    "dmc",
    "dnmc",
]
SIGMA = math.pi / 8


def _gauss(d: float) -> float:
    return 0.8 * math.exp(-0.5 * (d / SIGMA) ** 2)


def test_twenty_rules_in_the_paper_order_with_all_names() -> None:
    assert list(yang2019.RULES) == RULES
    for rule, paper, short in zip(RULES, PAPER_NAMES, SOO_NAMES, strict=True):
        assert tasks.get_task_class(paper).name == rule
        assert tasks.get_task_class(short).name == rule
        task = tasks.make(rule)
        assert list(task.versions) == ["vanilla", "realistic", "long", "soo2023"]
    # the abbreviations of Soo et al.'s Table 1
    table = {"dgo": "delaygo", "danti": "delayanti", "ddm": "delaydm1"}
    table |= {"ddmd": "contextdelaydm1", "msddm": "multidelaydm"}
    for short, rule in table.items():
        assert tasks.get_task_class(short).name == rule


def test_channels() -> None:
    task = tasks.make("Ctx DM 1")
    names = task.input_names
    assert len(names) == 85 and task.n_outputs == 33
    assert names[0] == "fixation"
    assert names[1:33] == tuple(f"ring1_{i}" for i in range(32))
    assert names[33:65] == tuple(f"ring2_{i}" for i in range(32))
    assert names[65:] == tuple(f"rule_{r}" for r in RULES)
    assert task.output_names == ("fixation", *(f"ring_{i}" for i in range(32)))


@pytest.mark.parametrize("rule", RULES)
def test_rule_unit_is_on_for_the_whole_trial_and_alone(rule: str) -> None:
    task = tasks.make(rule, add_noise=False, shared_timing=False)
    batch = task.generate(6, seed=1)
    unit = 65 + RULES.index(rule)
    assert yang2019.rule_unit(rule) == unit
    np.testing.assert_array_equal(batch.inputs[:, :, unit], batch.valid)
    others = np.delete(batch.inputs[:, :, 65:], RULES.index(rule), axis=2)
    assert not others.any()


def _one_trial(rule: str, **values):
    task = tasks.make(rule, add_noise=False)
    return task.from_conditions(task.psychometric_conditions(**values))


def test_input_bump_at_hand_computed_distances() -> None:
    batch = _one_trial("fdgo", stim_loc=0.0, stim_mod=1)
    s0 = batch.epochs["stim1"][0, 0]
    ring1 = batch.inputs[s0, 0, 1:33]
    assert ring1[0] == pytest.approx(0.8, abs=1e-7)  # distance 0
    assert ring1[1] == pytest.approx(_gauss(math.pi / 16), abs=1e-7)  # 0.8 exp(-1/8)
    assert ring1[2] == pytest.approx(0.8 * math.exp(-0.5), abs=1e-7)  # distance pi/8
    assert ring1[31] == pytest.approx(0.8 * math.exp(-1 / 8), abs=1e-7)  # across the wrap
    assert ring1[16] == pytest.approx(0.8 * math.exp(-32), abs=1e-12)  # opposite
    assert not batch.inputs[:, 0, 33:65].any()  # ring 2 silent
    # halfway between units 31 and 0: both at distance pi/32, across the 0/2pi wrap
    batch = _one_trial("fdgo", stim_loc=2 * math.pi * 31.5 / 32, stim_mod=2)
    ring2 = batch.inputs[batch.epochs["stim1"][0, 0], 0, 33:65]
    assert ring2[31] == pytest.approx(0.8 * math.exp(-1 / 32), abs=1e-7)
    assert ring2[0] == pytest.approx(ring2[31], abs=1e-7)
    assert not batch.inputs[:, 0, 1:33].any()


def test_strength_scales_the_bump() -> None:
    batch = _one_trial(
        "dm1",
        stim1_loc=0.0,
        stim2_loc=math.pi,
        stim1_mod1_strength=1.1,
        stim2_mod1_strength=0.7,
    )
    t = batch.epochs["stim1"][0, 0]
    assert batch.inputs[t, 0, 1] == pytest.approx(0.88, abs=1e-6)
    assert batch.inputs[t, 0, 17] == pytest.approx(0.56, abs=1e-6)
    assert batch.inputs[t, 0, 2] == pytest.approx(1.1 * _gauss(math.pi / 16), abs=1e-6)


def test_targets_fixation_then_response_bump() -> None:
    batch = _one_trial("fdanti", stim_loc=0.0, stim_mod=1)
    go, end = batch.epochs["go1"][0]
    targets = batch.targets[:, 0]
    np.testing.assert_allclose(targets[:go, 0], 0.8)
    np.testing.assert_allclose(targets[go:end, 0], 0.05)
    np.testing.assert_allclose(targets[:go, 1:], 0.05)
    response = targets[go, 1:]  # anti: centred on pi = unit 16
    assert response[16] == pytest.approx(0.85, abs=1e-7)
    assert response[17] == pytest.approx(0.05 + _gauss(math.pi / 16), abs=1e-7)
    assert response[0] == pytest.approx(0.05, abs=1e-7)
    np.testing.assert_array_equal(targets[go:end, 1:], np.tile(response, (end - go, 1)))
    assert population_vector(response) == pytest.approx(math.pi, abs=1e-9)
    # fixation target is a parameter (Soo et al. use 0.85)
    task = tasks.make("fdgo", fixation_target=0.85, add_noise=False)
    batch = task.from_conditions(task.psychometric_conditions(stim_loc=1.0))
    np.testing.assert_allclose(batch.targets[: batch.epochs["go1"][0, 0], 0, 0], 0.85)


def test_population_vector() -> None:
    pref = 2 * np.pi * np.arange(32) / 32
    assert population_vector(np.eye(32)[5]) == pytest.approx(pref[5])
    assert population_vector(np.full(32, 0.05) + np.eye(32)[30]) == pytest.approx(pref[30])
    assert population_vector(-np.eye(32)[5]) == pytest.approx(pref[5])
    # as the original, both sums are divided by the total activity: a negative total turns by pi
    assert population_vector(np.eye(32)[5] - 0.1) == pytest.approx(pref[21])
    assert np.isnan(population_vector(np.zeros(32)))


@pytest.mark.parametrize(
    ("dt_ms", "tau_ms", "std"),
    [(20.0, 100.0, 0.01 * math.sqrt(10)), (5.0, 100.0, 0.01 * math.sqrt(40)), (20.0, 40.0, 0.02)],
)
def test_noise_is_sigma_x_sqrt_two_over_alpha_on_every_input(dt_ms, tau_ms, std) -> None:
    task = tasks.make("dm1", dt_ms=dt_ms, tau_ms=tau_ms)
    assert task.params.noise_scale == 0.01  # stored as given: sigma_x
    assert task.params.input_noise_std == pytest.approx(std)
    noisy = task.generate(64, seed=3)
    clean = task.from_conditions(noisy.conditions)
    noise = (noisy.inputs - clean.inputs)[noisy.valid]  # (n, 85)
    n = noise.shape[0]
    assert np.all(np.abs(noise.std(axis=0) / std - 1) < 5 / math.sqrt(2 * n))  # every unit
    assert abs(noise.mean()) < 5 * std / math.sqrt(noise.size)


@pytest.mark.parametrize(
    ("rule", "overrides", "name"),
    [
        ("fdgo", {"response_grace_ms": 500.0}, "response_grace_ms"),
        ("dmcgo", {"response_grace_ms": 200.0}, "response_grace_ms"),
        ("dm1", {"strength_mean_low": 1.3}, "strength_mean_high"),
        ("dm1", {"coherences": (0.0, 0.1)}, "coherences"),
        ("dmsgo", {"test_ms": "uniform(0, 400)"}, "test_ms"),
        ("fdgo", {"fixation_target": 1.0}, "fixation_target"),
        ("delaydm1", {"delay2_ms": -1.0}, "delay2_ms"),
        ("fdgo", {"tau_ms": 0.0}, "tau_ms"),
    ],
)
def test_invalid_parameters_are_named(rule, overrides, name) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{name}'"):
        tasks.make(rule, **overrides)


def test_psychometric_conditions_errors() -> None:
    task = tasks.make("dm1")
    with pytest.raises(InvalidParameterError, match="'choice' is derived"):
        task.psychometric_conditions(choice=1)
    with pytest.raises(InvalidParameterError, match="unknown condition 'stim_loc'"):
        task.psychometric_conditions(stim_loc=1.0)
    with pytest.raises(InvalidParameterError, match="one length"):
        task.psychometric_conditions(stim1_loc=[0.0, 1.0], stim2_loc=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidParameterError, match="1-d arrays; got 'stim1_loc'"):
        task.psychometric_conditions(stim1_loc=np.zeros((2, 2)))
