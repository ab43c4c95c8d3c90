"""K-point moving average: stream, targets against np.convolve, weights, metric, test grid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks


def test_channels_aliases_and_versions() -> None:
    task = tasks.make("k_point_moving_average")
    assert type(task) is type(tasks.make("moving_average"))
    assert task.input_names == ("value",)
    assert task.output_names == ("average",)
    assert list(task.versions) == ["vanilla", "realistic", "long"]
    long = tasks.make("moving_average", "long").params
    assert (long.window, long.n_points) == (10, 100)
    realistic = tasks.make("moving_average", "realistic").params
    assert (realistic.noise_scale, realistic.noise_decay_ms) == (0.1, 20.0)


@pytest.mark.parametrize("window", [1, 3, 7])
def test_targets_equal_a_direct_convolution(window: int) -> None:
    # dt 20 ms: each value 50 ms -> 2.5 -> 3 steps; silent 30 ms -> 1.5 -> 2 steps
    task = tasks.make(
        "moving_average",
        dt_ms=20.0,
        input_start_ms=30.0,
        window=window,
        n_points=12,
        add_noise=False,
    )
    batch = task.generate(6, seed=5)
    start, point = 2, 3
    for b in range(batch.batch_size):
        x = batch.conditions["values"][b]
        y = np.convolve(x, np.ones(window) / window, mode="valid")  # points K-1..N-1
        expected_in = np.concatenate([np.zeros(start), np.repeat(x, point)])
        expected_out = np.concatenate([np.zeros(start + (window - 1) * point), np.repeat(y, point)])
        np.testing.assert_allclose(batch.inputs[:, b, 0], expected_in, rtol=0, atol=1e-6)
        np.testing.assert_allclose(batch.targets[:, b, 0], expected_out, rtol=0, atol=1e-6)
    assert batch.n_steps == start + 12 * point


def test_weights_and_epochs() -> None:
    task = tasks.make("moving_average", dt_ms=20.0, input_start_ms=30.0, window=4, n_points=10)
    batch = task.generate(3, seed=0)
    start, point = 2, 3
    expected = {
        "baseline": (0, start),
        "warmup": (start, start + 3 * point),
        "scored": (start + 3 * point, start + 10 * point),
    }
    for name, bounds in expected.items():
        np.testing.assert_array_equal(batch.epochs[name], np.tile(bounds, (3, 1)))
    w = batch.weights[:, :, 0]
    np.testing.assert_array_equal(w[: start + 3 * point], 0)  # before K points have been shown
    np.testing.assert_array_equal(w[start + 3 * point :], 1)
    np.testing.assert_array_equal(batch.targets[: start + 3 * point], 0)


def test_values_are_uniform_on_the_range() -> None:
    task = tasks.make("moving_average", value_range=2.0, n_points=100)
    values = task.sample_conditions(np.random.default_rng(1), 400)["values"]
    assert values.shape == (400, 100)
    assert values.min() >= -2.0 and values.max() <= 2.0
    n = values.size
    sd = 2.0 / math.sqrt(3)  # std of U(-2, 2)
    assert abs(values.mean()) < 4 * sd / math.sqrt(n)
    # variance of U(-a, a) is a^2 / 3; std of the sample variance ~ sqrt(4/45) a^2 / sqrt(n)
    assert abs(values.var() - 4.0 / 3) < 4 * math.sqrt(4 / 45) * 4.0 / math.sqrt(n)
    # independent draws: neighbouring values are uncorrelated
    r = np.corrcoef(values[:, :-1].ravel(), values[:, 1:].ravel())[0, 1]
    assert abs(r) < 4 / math.sqrt(n)


def test_metric_r2() -> None:
    task = tasks.make("moving_average", add_noise=False)
    batch = task.generate(32, seed=2)
    np.testing.assert_allclose(task.performance(batch.targets, batch), 1.0)
    zero = task.performance(np.zeros_like(batch.targets), batch)
    assert np.all(zero <= 1e-9)  # sum y^2 >= sum (y - mean y)^2
    # echoing the current input (no memory) explains only part of the 3-point average
    echo = batch.inputs.copy()
    assert np.all(task.performance(echo, batch) < 0.9)


def test_test_grid_streams_step_and_impulse() -> None:
    task = tasks.make(
        "moving_average", window=4, n_points=20, test_trials=5, value_range=0.5, add_noise=False
    )
    conditions = task.test_conditions()
    values = conditions["values"]
    assert values.shape == (7, 20)
    np.testing.assert_array_equal(values, task.test_conditions()["values"])
    assert np.abs(values[:5]).max() <= 0.5 and np.unique(values[:5]).size == 100
    np.testing.assert_array_equal(values[5], np.where(np.arange(20) >= 10, 0.5, 0.0))
    np.testing.assert_array_equal(values[6], np.where(np.arange(20) == 10, 0.5, 0.0))

    per_point = task.moving_average(values)
    step = np.array([0.0] * 10 + [0.125, 0.25, 0.375] + [0.5] * 7)  # ramps up over K points
    impulse = np.array([0.0] * 10 + [0.125] * 4 + [0.0] * 6)  # lasts exactly K points
    np.testing.assert_allclose(per_point[5], step)
    np.testing.assert_allclose(per_point[6], impulse)
    batch = task.generate_test()
    point = 5
    np.testing.assert_allclose(batch.targets[::point, 6, 0], impulse, atol=1e-7)


def test_window_must_fit_in_the_stream() -> None:
    with pytest.raises(InvalidParameterError, match="'window' must be <= n_points=5"):
        tasks.make("moving_average", window=6, n_points=5)
    tasks.make("moving_average", window=5, n_points=5)  # one scored point is enough
