"""Marked-input (adding) problem: marks, positions, target, epochs, tolerance metric, test grid."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks


def _four_sigma(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


def test_channels_aliases_and_versions() -> None:
    task = tasks.make("adding_problem")
    assert type(task) is type(tasks.make("marked_input"))
    assert task.input_names == ("fixation", "value", "marker")
    assert task.output_names == ("sum",)
    assert list(task.versions) == ["vanilla", "realistic", "long"]
    long = tasks.make("marked_input", "long").params
    assert (long.n_points, long.first_mark_within) == (100, 10)


def test_inputs_targets_weights_and_epochs() -> None:
    # dt 20 ms: start 30 -> 2 steps, values 50 -> 3 steps, response 310 -> 16, grace 90 -> 5
    task = tasks.make(
        "marked_input",
        dt_ms=20.0,
        input_start_ms=30.0,
        n_points=8,
        n_marks=3,
        response_ms=310.0,
        response_grace_ms=90.0,
        delay_ms="uniform(0, 400)",
        add_noise=False,
    )
    batch = task.generate(6, seed=11)
    c = batch.conditions
    delay = c["delay_steps"]
    assert delay.min() >= 0 and delay.max() <= 20
    start, point, response, grace = 2, 3, 16, 5
    for b in range(6):
        go = start + 8 * point + delay[b]
        assert tuple(batch.epochs["response"][b]) == (go, go + response)
        assert batch.lengths[b] == go + response
        x = c["values"][b]
        marker = np.zeros(8)
        marker[c["marked"][b]] = 1
        expected_value = np.zeros(batch.lengths[b])
        expected_value[start : start + 8 * point] = np.repeat(x, point)
        expected_marker = np.zeros(batch.lengths[b])
        expected_marker[start : start + 8 * point] = np.repeat(marker, point)
        n = batch.lengths[b]
        np.testing.assert_array_equal(batch.inputs[:n, b, 0], np.arange(n) < go)  # go cue
        np.testing.assert_allclose(batch.inputs[:n, b, 1], expected_value, atol=1e-7)
        np.testing.assert_array_equal(batch.inputs[:n, b, 2], expected_marker)
        target = x[c["marked"][b]].sum()
        np.testing.assert_allclose(
            batch.targets[:n, b, 0], np.where(np.arange(n) >= go, target, 0), atol=1e-6
        )
        np.testing.assert_array_equal(
            batch.weights[:n, b, 0], ~((np.arange(n) >= go) & (np.arange(n) < go + grace))
        )


def test_exactly_n_marks_distinct_sorted_marks() -> None:
    task = tasks.make("marked_input", n_points=12, n_marks=4, add_noise=False)
    batch = task.generate(64, seed=2)
    marked = batch.conditions["marked"]
    assert marked.shape == (64, 4)
    assert np.all(np.diff(marked, axis=1) > 0) and marked.min() >= 0 and marked.max() < 12
    point = 5
    np.testing.assert_array_equal(batch.inputs[:, :, 2].sum(axis=0), 4 * point)


def test_mark_positions_are_uniform() -> None:
    task = tasks.make("marked_input")  # 2 marks among 20 points
    n = 20000
    marked = task.sample_conditions(np.random.default_rng(0), n)["marked"]
    counts = np.bincount(marked.ravel(), minlength=20) / n
    assert np.all(np.abs(counts - 0.1) < _four_sigma(0.1, n))
    # the pair is uniform over the C(20, 2) subsets: both marks in the first half with 45/190
    both_early = float((marked[:, 1] < 10).mean())
    assert abs(both_early - 45 / 190) < _four_sigma(45 / 190, n)
    # values uniform on [value_low, value_high] = [0, 1]
    values = task.sample_conditions(np.random.default_rng(1), 2000)["values"]
    assert values.min() >= 0 and values.max() <= 1
    assert abs(values.mean() - 0.5) < 4 * math.sqrt(1 / 12 / values.size)


def test_first_mark_within_restricts_one_mark() -> None:
    task = tasks.make("marked_input", n_points=20, n_marks=3, first_mark_within=5)
    n = 20000
    marked = task.sample_conditions(np.random.default_rng(4), n)["marked"]
    assert np.all(marked[:, 0] < 5)
    # one mark uniform on 0..4, the other two uniform among the 19 remaining points
    other = 2 / 19
    p_early = 1 / 5 + (1 - 1 / 5) * other
    counts = np.bincount(marked.ravel(), minlength=20) / n
    assert np.all(np.abs(counts[:5] - p_early) < _four_sigma(p_early, n))
    assert np.all(np.abs(counts[5:] - other) < _four_sigma(other, n))


def test_reduction_mean_and_value_range() -> None:
    task = tasks.make(
        "marked_input", reduction="mean", n_marks=3, value_low=-1.0, value_high=1.0, add_noise=False
    )
    batch = task.generate(8, seed=3)
    c = batch.conditions
    expected = np.take_along_axis(c["values"], c["marked"], axis=1).mean(axis=1)
    np.testing.assert_allclose(task.target_value(c), expected)
    go = batch.epochs["response"][:, 0]
    np.testing.assert_allclose(batch.targets[go, np.arange(8), 0], expected, atol=1e-6)
    assert c["values"].min() < 0


def test_metric_tolerance_rule() -> None:
    task = tasks.make("marked_input", add_noise=False)
    batch = task.generate(16, seed=6)
    target = task.target_value(batch.conditions)
    response = batch.epoch_mask("response")[:, :, None]
    scored = response & (batch.weights > 0)
    grace = response & (batch.weights == 0)

    def answer(offset: float) -> np.ndarray:
        out = np.where(response, target[None, :, None] + offset, 0.0)
        return np.where(grace, 50.0, out)  # the unscored grace steps do not count

    np.testing.assert_array_equal(task.performance(batch.targets, batch), 1.0)
    np.testing.assert_array_equal(task.performance(answer(0.039), batch), 1.0)
    np.testing.assert_array_equal(task.performance(answer(-0.039), batch), 1.0)
    np.testing.assert_array_equal(task.performance(answer(0.041), batch), 0.0)
    np.testing.assert_array_equal(task.performance(answer(-0.041), batch), 0.0)
    # the mean over the scored steps is what counts: +-0.1 alternating averages to the target
    wiggle = np.where(scored, (np.arange(batch.n_steps) % 2 * 0.2 - 0.1)[:, None, None], 0.0)
    even = (scored.sum(axis=0)[:, 0] % 2) == 0
    assert np.all(task.performance(batch.targets + wiggle, batch)[even] == 1.0)
    loose = tasks.make("marked_input", tolerance=0.05, add_noise=False)
    np.testing.assert_array_equal(loose.performance(answer(0.041), batch), 1.0)


def test_test_grid_covers_every_anchor_pair_once() -> None:
    task = tasks.make("marked_input", add_noise=False)
    grid = task.test_conditions()
    anchors = task.test_anchors()
    np.testing.assert_array_equal(anchors, [0, 2, 4, 6, 8, 11, 13, 15, 17, 19])
    assert [tuple(m) for m in grid["marked"]] == list(combinations(anchors, 2))
    assert grid["values"].shape == (45, 20)
    np.testing.assert_array_equal(grid["values"], task.test_conditions()["values"])
    np.testing.assert_array_equal(grid["delay_steps"], 0)
    realistic = tasks.make("marked_input", "realistic").test_conditions()
    np.testing.assert_array_equal(realistic["delay_steps"], 25)  # expected 250 ms


def test_test_grid_with_first_mark_within() -> None:
    task = tasks.make("marked_input", "long")
    grid = task.test_conditions()
    anchors = task.test_anchors()
    np.testing.assert_array_equal(anchors, [0, 2, 5, 7, 9, 10, 32, 55, 77, 99])  # 4.5, 54.5 up
    pairs = [p for p in combinations(anchors, 2) if p[0] < 10]
    assert [tuple(m) for m in grid["marked"]] == pairs
    assert len(pairs) == 35
    # few points after the restricted range: the anchors still allow n_marks-combinations
    small = tasks.make("marked_input", n_points=12, n_marks=10, first_mark_within=10)
    assert len(small.test_anchors()) == 10 and len(small.test_conditions()["marked"]) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_marks": 21}, "'n_marks' must be <= n_points=20"),
        ({"first_mark_within": 21}, "'first_mark_within' must be <= n_points=20"),
        ({"value_low": 1.0}, "'value_high' must be > value_low=1"),
        ({"response_grace_ms": 300.0}, "'response_grace_ms' must leave at least one scored step"),
        ({"reduction": "max"}, "'reduction'"),
    ],
)
def test_invalid_parameters_name_themselves(overrides: dict, message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        tasks.make("marked_input", **overrides)
