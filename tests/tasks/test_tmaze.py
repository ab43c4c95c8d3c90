"""T-maze (Bakker 2002): observation code, corridor lengths, targets, metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

SIGN = {0: (0, 1, 1), 1: (1, 1, 0)}
CORRIDOR = (1, 0, 1)
JUNCTION = (0, 1, 0)


def test_channels_aliases_versions() -> None:
    task = tasks.make("t_maze")
    assert task.name == "tmaze"
    assert task.input_names == ("obs_0", "obs_1", "obs_2")
    assert task.output_names == ("left", "right")
    assert list(task.versions) == ["vanilla", "realistic", "long"]
    assert tasks.make("tmaze", "long").params.corridor_length == 50


def test_observation_code_exact_per_epoch() -> None:
    # dt 20: start 50 ms -> 2.5 -> 3 steps, position 30 ms -> 1.5 -> 2 steps, response 410 -> 21
    task = tasks.make(
        "tmaze",
        dt_ms=20.0,
        input_duration_ms=50.0,
        position_ms=30.0,
        response_ms=410.0,
        corridor_length=6,
        corridor_length_jitter=2,
    )
    cond = {"side": np.array([0, 1, 1, 0]), "corridor_length": np.array([4, 4, 6, 8])}
    batch = task.from_conditions(cond)
    for b in range(4):
        n_corr = 2 * int(cond["corridor_length"][b])
        expected = np.array(
            [SIGN[int(cond["side"][b])]] * 3 + [CORRIDOR] * n_corr + [JUNCTION] * 21,
            dtype=np.float32,
        )
        length = 3 + n_corr + 21
        assert batch.lengths[b] == length
        np.testing.assert_array_equal(batch.inputs[:length, b], expected)
        np.testing.assert_array_equal(batch.inputs[length:, b], 0)
        np.testing.assert_array_equal(batch.epochs["start"][b], [0, 3])
        np.testing.assert_array_equal(batch.epochs["corridor"][b], [3, 3 + n_corr])
        np.testing.assert_array_equal(batch.epochs["response"][b], [3 + n_corr, length])


def test_targets_and_weights() -> None:
    task = tasks.make("tmaze", response_grace_ms=120.0)  # 12 unscored steps at dt 10
    batch = task.generate_test()
    response = batch.epoch_mask("response")
    side = batch.conditions["side"]
    np.testing.assert_array_equal(batch.targets[:, :, 0], response & (side == 0)[None, :])
    np.testing.assert_array_equal(batch.targets[:, :, 1], response & (side == 1)[None, :])
    r0 = batch.epochs["response"][:, 0]
    t = np.arange(batch.n_steps)[:, None]
    scored = (t < batch.lengths[None, :]) & ~((t >= r0) & (t < r0 + 12))
    for o in range(2):
        np.testing.assert_array_equal(batch.weights[:, :, o], scored)


def test_side_and_length_draws() -> None:
    n = 40_000
    task = tasks.make("tmaze", corridor_length=10, corridor_length_jitter=3)
    cond = task.sample_conditions(np.random.default_rng(4), n)
    assert abs(cond["side"].mean() - 0.5) < 4 * math.sqrt(0.25 / n)
    lengths = cond["corridor_length"]
    assert lengths.min() == 7 and lengths.max() == 13
    freq = np.bincount(lengths, minlength=14)[7:] / n
    assert np.all(np.abs(freq - 1 / 7) < 4 * math.sqrt((1 / 7) * (6 / 7) / n))
    fixed = tasks.make("tmaze").sample_conditions(np.random.default_rng(4), 100)
    np.testing.assert_array_equal(fixed["corridor_length"], 10)


def test_trial_length_follows_corridor_length() -> None:
    task = tasks.make("tmaze", "realistic")
    batch = task.generate(64, seed=9)
    expected = 10 + 10 * batch.conditions["corridor_length"] + 50
    np.testing.assert_array_equal(batch.lengths, expected)
    long = tasks.make("tmaze", "long").generate_test()
    corridor = long.epochs["corridor"]
    np.testing.assert_array_equal(corridor[:, 1] - corridor[:, 0], 500)


def test_test_grid() -> None:
    grid = tasks.make("tmaze").test_conditions()
    np.testing.assert_array_equal(grid["side"], [0, 1])
    np.testing.assert_array_equal(grid["corridor_length"], [10, 10])
    grid = tasks.make("tmaze", "realistic").test_conditions()
    pairs = list(zip(grid["side"].tolist(), grid["corridor_length"].tolist(), strict=True))
    assert pairs == [(0, 7), (0, 10), (0, 13), (1, 7), (1, 10), (1, 13)]


def test_metric_rejects_the_wrong_side() -> None:
    task = tasks.make("tmaze", "realistic")
    batch = task.generate_test()
    np.testing.assert_array_equal(task.performance(batch.targets, batch), 1.0)
    np.testing.assert_array_equal(task.performance(batch.targets[:, :, ::-1], batch), 0.0)
    # turning correctly only during the unscored grace steps does not count
    grace = batch.epoch_mask("response") & (batch.weights[:, :, 0] == 0)
    late = np.where(grace[:, :, None], batch.targets, batch.targets[:, :, ::-1])
    np.testing.assert_array_equal(task.performance(late, batch), 0.0)


def test_invalid_parameters_are_named() -> None:
    with pytest.raises(InvalidParameterError, match="'corridor_length_jitter'"):
        tasks.make("tmaze", corridor_length=5, corridor_length_jitter=5)
    with pytest.raises(InvalidParameterError, match="'response_grace_ms'"):
        tasks.make("tmaze", response_ms=100.0, response_grace_ms=100.0)
    with pytest.raises(InvalidParameterError, match="'corridor_length'"):
        tasks.make("tmaze", corridor_length=0)
