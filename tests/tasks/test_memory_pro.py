"""Memory-pro (seed 004 B.4): random epochs, the three stimulus kinds, encodings, weights, metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

NAME = "memory_pro"
EPOCHS = ("fixation", "stimulus", "delay", "response")


def _binomial_ok(count: int, n: int, p: float, n_sd: float = 4.5) -> bool:
    return abs(count - n * p) <= n_sd * math.sqrt(n * p * (1 - p))


def _one_trial(task, value: float):
    cond = {k: v[:1] for k, v in task.test_conditions().items()}
    cond["stimulus_value"] = np.array([value])
    return task.from_conditions(cond)


def test_versions_channels_and_metrics() -> None:
    circular, linear, discrete = (tasks.make(NAME, v) for v in ("vanilla", "linear", "discrete"))
    assert list(circular.versions)[:3] == ["vanilla", "realistic", "long"]
    assert circular.input_names == ("fixation", "stimulus_cos", "stimulus_sin")
    assert circular.output_names == ("response_cos", "response_sin")
    assert linear.input_names == ("fixation", "stimulus") and linear.output_names == ("response",)
    assert discrete.input_names == ("fixation", *(f"state_{k}" for k in range(8)))
    assert discrete.output_names == tuple(f"response_{k}" for k in range(8))
    names = [t.card().metric["name"] for t in (circular, linear, discrete)]
    assert names == ["angle_score", "value_score", "accuracy"]
    assert "B.4" in circular.card().source and "Driscoll" in circular.card().source


def test_epoch_durations_follow_b4() -> None:
    # B.4: fixation 300-700, stimulus 200-1600, delay 200-1600, response 300-700 ms (dt 20 ms)
    n = 40_000
    cond = tasks.make(NAME).sample_conditions(np.random.default_rng(0), n)
    for epoch, (lo, hi) in zip(EPOCHS, ((15, 35), (10, 80), (10, 80), (15, 35)), strict=True):
        steps = cond[f"{epoch}_steps"]
        values, counts = np.unique(steps, return_counts=True)
        assert values.tolist() == list(range(lo, hi + 1)), epoch
        count = dict(zip(values.tolist(), counts.tolist(), strict=True))
        width = hi - lo  # round half up: the end values take half a cell
        assert _binomial_ok(count[lo], n, 0.5 / width) and _binomial_ok(count[hi], n, 0.5 / width)
        assert _binomial_ok(count[(lo + hi) // 2], n, 1 / width)
    # the four durations are drawn independently
    corr = np.corrcoef(np.stack([cond[f"{e}_steps"] for e in EPOCHS]))
    assert np.all(np.abs(corr[np.triu_indices(4, 1)]) < 0.03)


def test_stimulus_laws() -> None:
    n = 40_000
    rng = np.random.default_rng(1)
    theta = tasks.make(NAME).sample_conditions(rng, n)["stimulus_value"]
    assert theta.min() >= 0 and theta.max() < 2 * np.pi
    octants = np.bincount((theta // (np.pi / 4)).astype(int), minlength=8)
    assert len(octants) == 8 and all(_binomial_ok(c, n, 1 / 8) for c in octants)
    x = tasks.make(NAME, "linear").sample_conditions(rng, n)["stimulus_value"]
    assert x.min() >= -1 and x.max() <= 1
    quarters = np.bincount(((x + 1) // 0.5).astype(int), minlength=4)
    assert all(_binomial_ok(c, n, 1 / 4) for c in quarters)
    k = tasks.make(NAME, "discrete").sample_conditions(rng, n)["stimulus_value"]
    values, counts = np.unique(k, return_counts=True)
    assert values.tolist() == list(range(8)) and all(_binomial_ok(c, n, 1 / 8) for c in counts)


def test_circular_encoding_targets_and_weights() -> None:
    task = tasks.make(NAME, add_noise=False)
    batch = _one_trial(task, np.pi / 3)
    e = {name: batch.epochs[name][0] for name in EPOCHS}
    assert [int(b - a) for a, b in e.values()] == [25, 45, 45, 25]  # 500, 900, 900, 500 ms
    t = np.arange(batch.n_steps)
    go = e["response"][0]
    np.testing.assert_array_equal(batch.inputs[:, 0, 0], t < go)
    stim = (t >= e["stimulus"][0]) & (t < e["stimulus"][1])
    np.testing.assert_allclose(batch.inputs[:, 0, 1], 0.5 * stim, atol=1e-7)
    np.testing.assert_allclose(batch.inputs[:, 0, 2], math.sqrt(3) / 2 * stim, atol=1e-7)
    response = t >= go
    np.testing.assert_allclose(batch.targets[:, 0, 0], 0.5 * response, atol=1e-7)
    np.testing.assert_allclose(batch.targets[:, 0, 1], math.sqrt(3) / 2 * response, atol=1e-7)
    # 100 ms = 5 steps unscored after the go cue, 1 everywhere else
    expected = np.ones(batch.n_steps)
    expected[go : go + 5] = 0
    np.testing.assert_array_equal(batch.weights[:, 0, 0], expected)
    np.testing.assert_array_equal(batch.weights[:, 0, 1], expected)


def test_linear_and_discrete_encodings() -> None:
    linear = _one_trial(tasks.make(NAME, "linear", add_noise=False), -0.3)
    stim = linear.epoch_mask("stimulus")[:, 0]
    np.testing.assert_allclose(linear.inputs[:, 0, 1], -0.3 * stim, atol=1e-7)
    np.testing.assert_allclose(
        linear.targets[:, 0, 0], -0.3 * linear.epoch_mask("response")[:, 0], atol=1e-7
    )
    discrete = _one_trial(tasks.make(NAME, "discrete", add_noise=False), 5.0)
    stim = discrete.epoch_mask("stimulus")[:, 0]
    np.testing.assert_array_equal(discrete.inputs[stim, 0, 1:], np.tile(np.eye(8)[5], (45, 1)))
    assert not discrete.inputs[~stim, 0, 1:].any()
    response = discrete.epoch_mask("response")[:, 0]
    np.testing.assert_array_equal(discrete.targets[response, 0], np.tile(np.eye(8)[5], (25, 1)))
    assert not discrete.targets[~response, 0].any()


def test_angle_metric() -> None:
    task = tasks.make(NAME)
    batch = task.generate(32, seed=2)
    target = batch.targets.astype(np.float64)
    np.testing.assert_allclose(task.performance(target, batch), 1.0)
    np.testing.assert_allclose(task.performance(3 * target, batch), 1.0)  # angle only
    rotate = np.stack([-target[..., 1], target[..., 0]], axis=2)  # +90 deg
    np.testing.assert_allclose(task.performance(rotate, batch), 0.5, atol=1e-6)
    np.testing.assert_allclose(task.performance(-target, batch), 0.0, atol=1e-6)
    # the grace steps do not count: anything there leaves the score at 1
    grace = (batch.weights[..., :1] == 0) & batch.epoch_mask("response")[..., None]
    np.testing.assert_allclose(task.performance(np.where(grace, -target, target), batch), 1.0)


def test_value_and_state_metrics() -> None:
    linear = tasks.make(NAME, "linear")
    batch = linear.generate(16, seed=3)
    response = batch.epoch_mask("response")[..., None]
    np.testing.assert_allclose(linear.performance(batch.targets + 0.5 * response, batch), 0.75)
    np.testing.assert_allclose(linear.performance(batch.targets + 3.0 * response, batch), 0.0)
    discrete = tasks.make(NAME, "discrete")
    batch = discrete.generate(64, seed=4)
    np.testing.assert_array_equal(discrete.performance(batch.targets, batch), 1.0)
    shifted = np.roll(batch.targets, 1, axis=2)
    np.testing.assert_array_equal(discrete.performance(shifted, batch), 0.0)


def test_test_grids() -> None:
    grid = tasks.make(NAME).test_conditions()
    np.testing.assert_allclose(grid["stimulus_value"], 2 * np.pi * np.arange(16) / 16)
    np.testing.assert_array_equal(grid["delay_steps"], 45)  # E U(200, 1600) = 900 ms
    np.testing.assert_array_equal(grid["fixation_steps"], 25)
    linear = tasks.make(NAME, "linear", test_points=5).test_conditions()
    np.testing.assert_allclose(linear["stimulus_value"], [-1, -0.5, 0, 0.5, 1])
    discrete = tasks.make(NAME, "discrete", n_states=4).test_conditions()
    np.testing.assert_array_equal(discrete["stimulus_value"], [0, 1, 2, 3])


def test_long_version_and_bad_parameters() -> None:
    delay = tasks.make(NAME, "long").sample_conditions(np.random.default_rng(5), 2000)
    assert delay["delay_steps"].min() >= 50 and delay["delay_steps"].max() <= 250
    with pytest.raises(InvalidParameterError, match="'response_grace_ms'"):
        tasks.make(NAME, response_grace_ms=300.0)  # the shortest response is 300 ms
    with pytest.raises(InvalidParameterError, match="'stimulus'"):
        tasks.make(NAME, stimulus="spherical")
    with pytest.raises(InvalidParameterError, match="'n_states'"):
        tasks.make(NAME, n_states=1)
