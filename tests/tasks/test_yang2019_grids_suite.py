"""Yang et al. 2019 suite: the original test grids, psychometric batches, the 20-rule suite."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.tasks import yang2019

TWO_PI = 2 * math.pi
# (grid size, original epoch durations in ms) of the original 'test' mode
GRIDS = {
    "fdgo": (40, {"fix1": 500, "stim1": 1000, "go1": 500}),
    "reactanti": (40, {"fix1": 2000, "hold": 0, "go1": 500}),
    "delayanti": (40, {"fix1": 500, "stim1": 500, "delay1": 1000, "go1": 500}),
    "dm2": (100, {"fix1": 500, "stim1": 1500, "go1": 500}),
    "contextdm1": (500, {"fix1": 500, "stim1": 1000, "go1": 500}),
    "multidm": (500, {"fix1": 500, "stim1": 1000, "go1": 500}),
    "delaydm1": (
        100,
        {"fix1": 500, "stim1": 500, "delay1": 1000, "stim2": 500, "delay2": 200, "go1": 300},
    ),
    "contextdelaydm2": (
        500,
        {"fix1": 500, "stim1": 500, "delay1": 1000, "stim2": 500, "delay2": 500, "go1": 500},
    ),
    "dmsgo": (80, {"fix1": 500, "stim1": 500, "delay1": 1200, "stim2": 0, "go1": 500}),
    "dmcnogo": (80, {"fix1": 500, "stim1": 500, "delay1": 1200, "stim2": 0, "go1": 500}),
}


@pytest.mark.parametrize("rule", sorted(GRIDS))
def test_test_grid_size_timing_and_targets(rule: str) -> None:
    size, durations = GRIDS[rule]
    task = tasks.make(rule)
    grid = task.test_conditions()
    assert all(len(v) == size for v in grid.values())
    for epoch, ms in durations.items():
        np.testing.assert_array_equal(grid[f"{epoch}_steps"], ms // 20)
    batch = task.generate_test()
    assert batch.n_steps == sum(durations.values()) // 20
    assert np.all(task.performance(batch.targets, batch) == 1)
    assert task.generate_test().equals(batch)
    # every test trial of the matching tasks asks for a response (the original's choice)
    assert not np.isnan(grid["response_loc"]).any()


def test_reach_grid_values() -> None:
    grid = tasks.make("fdanti").test_conditions()
    np.testing.assert_allclose(
        grid["stim_loc"][:6], [0, 0, TWO_PI / 20, TWO_PI / 20, 2 * TWO_PI / 20, 2 * TWO_PI / 20]
    )
    np.testing.assert_array_equal(grid["stim_mod"][:4], [1, 2, 1, 2])
    np.testing.assert_allclose(grid["response_loc"][:2], math.pi)


def test_decision_grid_values() -> None:
    dm = tasks.make("dm2").test_conditions()
    np.testing.assert_allclose(dm["stim2_mod2_strength"][:5], [1.2, 1.12, 1.04, 0.96, 0.88])
    np.testing.assert_allclose(dm["stim1_mod2_strength"][:5], [0.8, 0.88, 0.96, 1.04, 1.12])
    assert not dm["stim1_mod1_strength"].any()
    np.testing.assert_allclose(dm["stim1_loc"][5], TWO_PI / 20)
    np.testing.assert_allclose(dm["stim2_loc"][5], TWO_PI / 20 + math.pi)
    np.testing.assert_array_equal(dm["choice"][:5], [2, 2, 2, 1, 1])
    delay = tasks.make("delaydm1").test_conditions()
    np.testing.assert_allclose(delay["stim1_mod1_strength"][:5], [0.5, 0.7, 0.9, 1.1, 1.3])
    ctx = tasks.make("contextdm2").test_conditions()
    # row-major (location, ring-1 index, ring-2 index)
    np.testing.assert_allclose(ctx["stim1_mod1_strength"][[0, 5, 24, 25]], [0.8, 0.88, 1.12, 0.8])
    np.testing.assert_allclose(ctx["stim1_mod2_strength"][[0, 1, 4, 5]], [0.8, 0.88, 1.12, 0.8])
    np.testing.assert_allclose(ctx["stim1_loc"][[24, 25]], [0, TWO_PI / 20])


def test_matching_grid_values() -> None:
    dms, dnms = tasks.make("dmsgo").test_conditions(), tasks.make("dmsnogo").test_conditions()
    np.testing.assert_array_equal(dms["stim1_mod"][:4], [1, 1, 2, 2])
    np.testing.assert_array_equal(dms["stim2_mod"][:4], [1, 2, 1, 2])
    np.testing.assert_allclose(dms["stim1_loc"][4], TWO_PI / 20)
    np.testing.assert_allclose(dms["stim2_loc"], dms["stim1_loc"])
    np.testing.assert_allclose(dnms["stim2_loc"], np.mod(dnms["stim1_loc"] + math.pi, TWO_PI))
    assert dms["match"].all() and not dnms["match"].any()
    dmc = tasks.make("dmcgo").test_conditions()
    samples = dmc["stim1_loc"][::4]
    np.testing.assert_allclose(samples[[0, 1, 9, 10, 19]] / math.pi, [0.1, 0.18, 0.82, 1.1, 1.82])


def test_grid_timing_follows_changed_laws() -> None:
    soo = tasks.make("dmsgo", "soo2023").test_conditions()  # every epoch law changed: expectations
    assert soo["fix1_steps"][0] == 100 and soo["delay1_steps"][0] == 200
    assert soo["stim2_steps"][0] == 100 and soo["go1_steps"][0] == 100
    long = tasks.make("delaygo", "long").test_conditions()  # only the delay changed
    assert long["delay1_steps"][0] == 3000 // 20 and long["stim1_steps"][0] == 500 // 20


def test_psychometric_conditions() -> None:
    task = tasks.make("contextdm1")
    strengths = np.linspace(0.9, 1.1, 7)
    c = task.psychometric_conditions(
        stim1_loc=0.5,
        stim2_loc=0.5 + math.pi,
        stim1_mod1_strength=strengths,
        stim2_mod1_strength=1.0,
        stim1_mod2_strength=1.0,
        stim2_mod2_strength=1.2,
    )
    assert all(len(v) == 7 for v in c.values())
    np.testing.assert_array_equal(c["choice"], np.where(strengths > 1.0, 1, 2))
    np.testing.assert_array_equal(c["fix1_steps"], 25)  # the grid's timing
    batch = task.from_conditions(c)
    assert batch.batch_size == 7
    noisy = task.from_conditions(c, seed=1)
    assert not noisy.equals(batch) and task.from_conditions(c, seed=1).equals(noisy)
    timed = task.psychometric_conditions(stim1_steps=[20, 40])
    assert task.from_conditions(timed).lengths.tolist() == [25 + 20 + 25, 25 + 40 + 25]


# ---- the 20-rule suite ---------------------------------------------------------------------


def test_suite_composition_channels_and_weights() -> None:
    multi = yang2019.suite()
    assert multi.labels == yang2019.RULES
    assert multi.channels == "shared" and not multi.rule_inputs
    assert multi.input_names == tasks.make("fdgo").input_names  # 85, rule units included
    assert multi.n_outputs == 33
    expected = np.array([5.0 if r in ("contextdm1", "contextdm2") else 1.0 for r in yang2019.RULES])
    np.testing.assert_allclose(multi.weights, expected / 28)


def test_suite_trials_carry_their_own_rule_unit() -> None:
    multi = yang2019.suite(add_noise=False, mode="interleave")  # every trial draws its rule
    batch = multi.generate(1500, seed=1)
    owner = batch.conditions["task_index"]
    counts = np.bincount(owner, minlength=20)
    for k, rule in enumerate(yang2019.RULES):
        p = multi.weights[k]
        assert abs(counts[k] - 1500 * p) <= 4.5 * math.sqrt(1500 * p * (1 - p)), rule
    rules = batch.inputs[:, :, 65:]
    on = np.abs(rules).sum(axis=0) > 0  # (B, 20): which rule units were ever on
    np.testing.assert_array_equal(on, np.eye(20, dtype=bool)[owner])
    np.testing.assert_array_equal(rules[:, np.arange(1500), owner], batch.valid)
    assert np.all(multi.performance(batch.targets, batch) == 1)


def test_suite_options_and_errors() -> None:
    multi = yang2019.suite("soo2023", rules=("fdgo", "dmsgo"), weights={"dmsgo": 3})
    assert multi.dt_ms == 5.0
    np.testing.assert_allclose(multi.weights, [0.25, 0.75])
    subset = yang2019.suite(rules=("fdgo", "contextdm1"))  # the paper's weights that apply
    np.testing.assert_allclose(subset.weights, [1 / 6, 5 / 6])
    assert tasks.from_config(multi.config()).generate(3, 0).equals(multi.generate(3, 0))
    with pytest.raises(InvalidParameterError, match="'rules'"):
        yang2019.suite(rules=("fdgo", "flipflop"))
    with pytest.raises(InvalidParameterError, match="'weights'"):
        yang2019.suite(rules=("fdgo",), weights={"dm1": 2})


def test_one_rule_per_batch_as_the_original() -> None:
    multi = yang2019.suite()
    seen = []
    for index in range(600):
        rule, batch = yang2019.one_rule_batch(multi, 3, seed=2, index=index)
        seen.append(rule)
        if index < 20:
            assert batch.config["task"] == rule
            assert batch.input_names == multi.input_names
            assert len(set(batch.lengths.tolist())) == 1  # timing shared within the batch
    for k, rule in enumerate(yang2019.RULES):
        p = multi.weights[k]
        assert abs(seen.count(rule) - 600 * p) <= 4.5 * math.sqrt(600 * p * (1 - p)), rule
    again = yang2019.one_rule_batch(multi, 3, seed=2, index=5)
    first = yang2019.one_rule_batch(multi, 3, seed=2, index=5)
    assert again[0] == first[0] and again[1].equals(first[1])


def test_suite_noise_follows_each_task_convention() -> None:
    rules = ("fdgo", "contextdm1")
    noisy = yang2019.suite(rules=rules, dt_ms=10.0).generate(64, seed=3)
    clean = yang2019.suite(rules=rules, dt_ms=10.0, add_noise=False).generate(64, seed=3)
    noise = (noisy.inputs - clean.inputs)[noisy.valid]
    std = 0.01 * math.sqrt(2 * 100 / 10)  # sigma_x sqrt(2 / alpha), alpha = 10/100
    assert abs(noise.std() / std - 1) < 5 / math.sqrt(2 * noise.size)
    assert not (noisy.inputs - clean.inputs)[~noisy.valid].any()
