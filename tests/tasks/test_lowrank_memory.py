"""Seed 004 B.3 PWM and two-stimulus DMS: timing laws, draws, encodings, noise, weights, metric."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

NAMES = ["fixation", "stimulus_1", "delay", "stimulus_2", "decision"]


def _binomial_ok(count: int, n: int, p: float, n_sd: float = 4.5) -> bool:
    return abs(count - n * p) <= n_sd * math.sqrt(n * p * (1 - p))


def _check_uniform_steps(steps: np.ndarray, low_ms: float, high_ms: float, dt: float) -> None:
    """Steps of U(low, high) ms rounded half up: exact support, end cells half as likely."""
    n = len(steps)
    lo, hi = round(low_ms / dt), round(high_ms / dt)
    values, counts = np.unique(steps, return_counts=True)
    assert values.min() == lo and values.max() == hi
    assert set(values.tolist()) == set(range(lo, hi + 1))
    width = hi - lo
    count = dict(zip(values.tolist(), counts.tolist(), strict=True))
    assert _binomial_ok(count[lo], n, 0.5 / width) and _binomial_ok(count[hi], n, 0.5 / width)
    middle = (lo + hi) // 2
    assert _binomial_ok(count[middle], n, 1 / width)
    sd = width / math.sqrt(12)
    assert abs(steps.mean() - (lo + hi) / 2) < 4.5 * sd / math.sqrt(n)


def _fixed_epochs(batch) -> list[list[int]]:
    return [
        (batch.epochs[name][:, 1] - batch.epochs[name][:, 0]).tolist()
        for name in ("fixation", "stimulus_1", "stimulus_2", "decision")
    ]


# ---- parametric working memory ----------------------------------------------------------------


def test_pwm_channels_and_alias() -> None:
    task = tasks.make("pwm")
    assert task.name == "parametric_working_memory"
    assert task.input_names == ("stimulus",) and task.output_names == ("difference",)
    assert task.params.noise_scale == 0.01 and task.params.dt_ms == 10.0


def test_pwm_timing_is_b3() -> None:
    # B.3: fixation 100, stimulus 100, delay U(500, 2000), stimulus 100, decision 100 ms
    task = tasks.make("pwm")
    batch = task.generate(500, seed=1)
    for name, durations in zip(
        ("fixation", "stimulus_1", "stimulus_2", "decision"), _fixed_epochs(batch), strict=True
    ):
        assert set(durations) == {10}, name
    np.testing.assert_array_equal(batch.epochs["fixation"][:, 0], 0)
    for previous, name in itertools.pairwise(NAMES):
        np.testing.assert_array_equal(batch.epochs[name][:, 0], batch.epochs[previous][:, 1])
    np.testing.assert_array_equal(batch.epochs["decision"][:, 1], batch.lengths)
    delays = task.sample_conditions(np.random.default_rng(2), 40_000)["delay_steps"]
    _check_uniform_steps(delays, 500, 2000, 10.0)


def test_pwm_values_are_uniform_and_independent() -> None:
    n = 50_000
    cond = tasks.make("pwm").sample_conditions(np.random.default_rng(3), n)
    for key in ("f1", "f2"):
        values, counts = np.unique(cond[key], return_counts=True)
        assert values.tolist() == list(range(10, 35))
        assert all(_binomial_ok(c, n, 1 / 25) for c in counts)
    assert _binomial_ok(int((cond["f1"] == cond["f2"]).sum()), n, 1 / 25)
    assert _binomial_ok(int((cond["f1"] > cond["f2"]).sum()), n, 12 / 25)


def test_pwm_encoding_at_chosen_values() -> None:
    # m = (10 + 34) / 2 = 22, span = 24: f1 = 30 -> 1/3, f2 = 14 -> -1/3, target 16/24 = 2/3
    task = tasks.make("pwm")
    cond = {k: v[:1] for k, v in task.test_conditions().items()}
    cond["f1"], cond["f2"] = np.array([30.0]), np.array([14.0])
    batch = task.from_conditions(cond)
    e = {name: batch.epochs[name][0] for name in NAMES}
    x = batch.inputs[:, 0, 0]
    np.testing.assert_allclose(x[slice(*e["stimulus_1"])], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(x[slice(*e["stimulus_2"])], -1 / 3, rtol=1e-6)
    silent = np.ones(batch.n_steps, bool)
    silent[slice(*e["stimulus_1"])] = silent[slice(*e["stimulus_2"])] = False
    np.testing.assert_array_equal(x[silent], 0.0)
    decision = slice(*e["decision"])
    np.testing.assert_allclose(batch.targets[decision, 0, 0], 2 / 3, rtol=1e-6)
    assert not batch.targets[: e["decision"][0], 0].any()
    np.testing.assert_array_equal(batch.weights[decision, 0, 0], 1.0)
    assert batch.weights[:, 0, 0].sum() == 10


def test_pwm_input_noise_is_white_with_std_001() -> None:
    task = tasks.make("pwm")
    noisy = task.generate(300, seed=4)
    clean = task.from_conditions(noisy.conditions)
    residual = (noisy.inputs - clean.inputs)[noisy.valid]
    assert abs(residual.std() - 0.01) < 0.0003
    lag = (noisy.inputs - clean.inputs)[:, :, 0]
    assert abs(np.corrcoef(lag[:-1].ravel(), lag[1:].ravel())[0, 1]) < 0.02


def test_pwm_metric_signs_and_ties() -> None:
    task = tasks.make("pwm")
    cond = {k: v[:3] for k, v in task.test_conditions().items()}
    cond["f1"], cond["f2"] = np.array([20.0, 30.0, 12.0]), np.array([20.0, 14.0, 13.0])
    batch = task.from_conditions(cond)
    decision = batch.weights[:, :, :] > 0

    def score(values: list[float]) -> list[float]:
        return task.performance(decision * np.array(values)[None, :, None], batch).tolist()

    # tie (f1 = f2): correct within half the smallest non-zero target, 1 / (2 * 24) = 0.02083
    assert score([0.02, 0.01, -0.01]) == [1.0, 1.0, 1.0]
    assert score([-0.021, -0.01, 0.01]) == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(task.performance(batch.targets, batch), 1.0)


def test_pwm_grid_has_every_ordered_pair() -> None:
    task = tasks.make("pwm")
    grid = task.test_conditions()
    assert len(grid["f1"]) == 625
    np.testing.assert_array_equal(grid["f1"], np.repeat(np.arange(10, 35), 25))
    np.testing.assert_array_equal(grid["f2"], np.tile(np.arange(10, 35), 25))
    np.testing.assert_array_equal(grid["delay_steps"], 125)  # E U(500, 2000) = 1250 ms


# ---- two-stimulus delayed match-to-sample -----------------------------------------------------


def test_dms_channels_and_not_colliding_with_the_ring_task() -> None:
    task = tasks.make("dms_lowrank")
    assert task.input_names == ("stimulus_a", "stimulus_b") and task.output_names == ("match",)
    assert tasks.make("delayed_match_to_sample_ab").name == "dms_lowrank"
    assert tasks.make("delayed_match_to_sample").name != task.name


def test_dms_timing_is_b3() -> None:
    # B.3: fixation 100, stimulus 500, delay U(500, 3000), stimulus 500, decision 1000 ms
    task = tasks.make("dms_lowrank")
    batch = task.generate(200, seed=5)
    assert [set(d) for d in _fixed_epochs(batch)] == [{10}, {50}, {50}, {100}]
    delays = task.sample_conditions(np.random.default_rng(6), 50_000)["delay_steps"]
    _check_uniform_steps(delays, 500, 3000, 10.0)


def test_dms_trial_types_are_equally_likely() -> None:
    n = 40_000
    cond = tasks.make("dms_lowrank").sample_conditions(np.random.default_rng(7), n)
    types = 2 * cond["sample"] + cond["test"]
    counts = np.bincount(types, minlength=4)
    assert len(counts) == 4 and all(_binomial_ok(c, n, 0.25) for c in counts)


@pytest.mark.parametrize(
    ("sample", "test", "target"), [(0, 0, 1), (0, 1, -1), (1, 0, -1), (1, 1, 1)]
)
def test_dms_encoding_and_target(sample: int, test: int, target: float) -> None:
    task = tasks.make("dms_lowrank", add_noise=False)
    cond = {k: v[:1] for k, v in task.test_conditions().items()}
    cond["sample"], cond["test"] = np.array([sample]), np.array([test])
    batch = task.from_conditions(cond)
    e = {name: slice(*batch.epochs[name][0]) for name in NAMES}
    x = batch.inputs[:, 0]
    np.testing.assert_array_equal(x[e["stimulus_1"], sample], 1.0)
    np.testing.assert_array_equal(x[e["stimulus_1"], 1 - sample], 0.0)
    np.testing.assert_array_equal(x[e["stimulus_2"], test], 1.0)
    np.testing.assert_array_equal(x[e["stimulus_2"], 1 - test], 0.0)
    for silent in ("fixation", "delay", "decision"):
        assert not x[e[silent]].any()
    np.testing.assert_array_equal(batch.targets[e["decision"], 0, 0], target)
    assert not batch.targets[: batch.epochs["decision"][0, 0]].any()
    np.testing.assert_array_equal(batch.weights[e["decision"], 0, 0], 1.0)
    assert batch.weights.sum() == 100


def test_dms_noise_std_and_metric() -> None:
    task = tasks.make("dms_lowrank")
    noisy = task.generate(100, seed=8)
    clean = task.from_conditions(noisy.conditions)
    residual = (noisy.inputs - clean.inputs)[noisy.valid]
    assert abs(residual.std() - 0.03) < 0.0005
    target = clean.targets
    np.testing.assert_array_equal(task.performance(target, clean), 1.0)
    np.testing.assert_array_equal(task.performance(-target, clean), 0.0)
    answer_early = np.where(clean.weights > 0, 0.0, target.sum(axis=0, keepdims=True))
    np.testing.assert_array_equal(task.performance(-1e-3 * target + answer_early, clean), 0.0)


def test_dms_grid_spans_the_delay_law() -> None:
    task = tasks.make("dms_lowrank")
    grid = task.test_conditions()
    np.testing.assert_array_equal(grid["delay_steps"], np.repeat([50, 100, 150, 200, 250, 300], 4))
    np.testing.assert_array_equal(grid["sample"], np.tile([0, 0, 1, 1], 6))
    np.testing.assert_array_equal(grid["test"], np.tile([0, 1, 0, 1], 6))
    fixed = tasks.make("dms_lowrank", delay_ms=800.0).test_conditions()
    np.testing.assert_array_equal(fixed["delay_steps"], 80)


def test_versions_change_the_delay_and_noise() -> None:
    rng = np.random.default_rng(9)
    long = tasks.make("pwm", "long").sample_conditions(rng, 3000)["delay_steps"]
    assert long.min() >= 200 and long.max() <= 600
    long = tasks.make("dms_lowrank", "long").sample_conditions(rng, 3000)["delay_steps"]
    assert long.min() >= 300 and long.max() <= 800
    realistic = tasks.make("dms_lowrank", "realistic").params
    assert (realistic.noise_scale, realistic.noise_decay_ms) == (0.1, 20.0)


@pytest.mark.parametrize(
    ("name", "overrides", "parameter"),
    [
        ("pwm", {"values": (10.0,)}, "values"),
        ("pwm", {"values": (10.0, 10.0, 12.0)}, "values"),
        ("pwm", {"stimulus_2_ms": 0.0}, "stimulus_2_ms"),
        ("dms_lowrank", {"test_delays": 0}, "test_delays"),
        ("dms_lowrank", {"delay_ms": "uniform(3000, 500)"}, "delay_ms"),
    ],
)
def test_invalid_parameters_are_named(name: str, overrides: dict, parameter: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{parameter}'"):
        tasks.make(name, **overrides)
