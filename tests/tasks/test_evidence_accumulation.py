"""Poisson clicks accumulation: rates, click trains, correct side, timing, metric, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

NAME = "evidence_accumulation"


def _within(observed: float, expected: float, sd: float, n_sd: float = 4.5) -> bool:
    return abs(observed - expected) <= n_sd * sd


def test_alias_and_channels() -> None:
    task = tasks.make("poisson_clicks")
    assert task.name == NAME
    assert task.input_names == ("fixation", "click_left", "click_right")
    assert task.output_names == ("choose_left", "choose_right")
    assert [v for v in task.versions] == ["vanilla", "realistic", "long"]


def test_rates_sum_to_total_and_have_the_drawn_log_ratio() -> None:
    task = tasks.make(NAME, total_rate_hz=30.0)
    c = task.sample_conditions(np.random.default_rng(0), 500)
    np.testing.assert_allclose(c["rate_left_hz"] + c["rate_right_hz"], 30.0)
    np.testing.assert_allclose(np.log(c["rate_right_hz"] / c["rate_left_hz"]), c["log_ratio"])
    assert set(np.unique(c["log_ratio"])) <= set(task.params.log_ratios)


def test_log_ratio_is_uniform_over_the_grid() -> None:
    task = tasks.make(NAME)
    n = 8000
    c = task.sample_conditions(np.random.default_rng(1), n)
    grid = task.params.log_ratios
    p = 1 / len(grid)
    sd = np.sqrt(n * p * (1 - p))
    for g in grid:
        assert _within(np.sum(c["log_ratio"] == g), n * p, sd)


def test_empirical_click_rates_match_the_generative_rates() -> None:
    # vanilla: 1 s of clicks per trial, so the count per trial estimates the rate in Hz
    task = tasks.make(NAME)
    n = 4000
    c = task.sample_conditions(np.random.default_rng(2), n)
    seconds = c["stimulus_steps"] * task.params.dt_ms / 1000
    assert np.all(seconds == 1.0)
    for g in task.params.log_ratios:
        rows = c["log_ratio"] == g
        for side in ("left", "right"):
            expected = c[f"rate_{side}_hz"][rows][0] * rows.sum()  # Poisson: var = mean
            observed = c[f"n_{side}"][rows].sum()
            assert _within(observed, expected, np.sqrt(expected)), (g, side, observed, expected)
    # several clicks can share a step, and per-step counts are Poisson (variance = mean)
    lam = c["rate_right_hz"][:, None] * task.params.dt_ms / 1000
    counts = c["clicks_right"]
    assert counts.max() >= 2
    resid = ((counts - lam) ** 2 - lam).mean()  # E[(X - lam)^2] = lam
    assert abs(resid) < 0.02


def test_click_trains_end_with_the_stimulus_and_counts_match() -> None:
    task = tasks.make(NAME, "realistic")
    c = task.sample_conditions(np.random.default_rng(3), 300)
    width = c["clicks_left"].shape[1]
    assert width == 100  # the longest possible stimulus: 1000 ms at dt 10 ms
    beyond = np.arange(width)[None, :] >= c["stimulus_steps"][:, None]
    assert not c["clicks_left"][beyond].any() and not c["clicks_right"][beyond].any()
    np.testing.assert_array_equal(c["n_left"], c["clicks_left"].sum(axis=1))
    np.testing.assert_array_equal(c["n_right"], c["clicks_right"].sum(axis=1))
    assert c["stimulus_steps"].min() >= 10 and c["stimulus_steps"].max() <= 100


def test_correct_side_has_more_clicks_and_ties_go_to_the_higher_rate() -> None:
    task = tasks.make(NAME)
    c = task.sample_conditions(np.random.default_rng(4), 2000)
    more = np.where(c["n_right"] > c["n_left"], 1, 0)
    tie = c["n_right"] == c["n_left"]
    assert tie.any()
    np.testing.assert_array_equal(c["choice"][~tie], more[~tie])
    np.testing.assert_array_equal(c["choice"][tie], (c["log_ratio"][tie] > 0).astype(int))


def test_build_recomputes_choice_from_edited_trains() -> None:
    task = tasks.make(NAME)
    c = task.test_conditions()
    c["clicks_left"][:] = 0
    c["clicks_right"][:] = 0
    c["clicks_left"][:, 3] = 2  # 2 clicks left, 1 right everywhere
    c["clicks_right"][:, 7] = 1
    batch = task.from_conditions(c)
    assert np.all(batch.conditions["choice"] == 0)
    assert np.all(batch.conditions["n_left"] == 2) and np.all(batch.conditions["n_right"] == 1)
    c["clicks_right"][:, 8] = 1  # now a tie: the side with the higher rate wins
    batch = task.from_conditions(c)
    np.testing.assert_array_equal(batch.conditions["choice"], (c["log_ratio"] > 0).astype(int))


def test_inputs_targets_and_weights() -> None:
    task = tasks.make(NAME, "long", click_amplitude=2.5)
    c = task.sample_conditions(np.random.default_rng(5), 16)
    batch = task.build(c)
    t = np.arange(batch.n_steps)
    for b in range(16):
        s0, s1 = batch.epochs["stimulus"][b]
        go, end = batch.epochs["response"][b]
        assert end == batch.lengths[b]
        np.testing.assert_array_equal(
            batch.inputs[:, b, 0], (t < go).astype(np.float32) * (t < end)
        )
        for ch, key in ((1, "clicks_left"), (2, "clicks_right")):
            np.testing.assert_array_equal(batch.inputs[s0:s1, b, ch], 2.5 * c[key][b, : s1 - s0])
            assert not batch.inputs[:s0, b, ch].any() and not batch.inputs[s1:, b, ch].any()
        assert not batch.targets[:go, b].any()
        one_hot = np.eye(2)[c["choice"][b]]
        np.testing.assert_array_equal(batch.targets[go:end, b], np.tile(one_hot, (end - go, 1)))
        np.testing.assert_array_equal(batch.weights[:go, b], 1.0)
        np.testing.assert_array_equal(batch.weights[go : go + 10, b], 0.0)  # 100 ms grace
        np.testing.assert_array_equal(batch.weights[go + 10 : end, b], 1.0)


def test_epoch_lengths_follow_the_rounding_rule() -> None:
    # dt 7 ms: 500 -> 71.4 -> 71, 1000 -> 142.9 -> 143, 500 -> 71, grace 100 -> 14.3 -> 14
    task = tasks.make(NAME, dt_ms=7.0)
    batch = task.generate(4, seed=0)
    np.testing.assert_array_equal(batch.epochs["fixation"], [[0, 71]] * 4)
    np.testing.assert_array_equal(batch.epochs["stimulus"], [[71, 214]] * 4)
    np.testing.assert_array_equal(batch.epochs["delay"], [[214, 214]] * 4)
    np.testing.assert_array_equal(batch.epochs["response"], [[214, 285]] * 4)
    assert batch.conditions["clicks_left"].shape == (4, 143)
    assert (batch.weights[214:228] == 0).all() and (batch.weights[228:285] == 1).all()


def test_long_version_delay() -> None:
    task = tasks.make(NAME, "long")
    c = task.sample_conditions(np.random.default_rng(6), 2000)
    assert c["delay_steps"].min() >= 100 and c["delay_steps"].max() <= 300
    assert abs(c["delay_steps"].mean() - 200) < 4.5 * (200 / np.sqrt(12)) / np.sqrt(2000)


def test_test_grid() -> None:
    task = tasks.make(NAME, "realistic", test_repeats=3)
    c = task.test_conditions()
    grid = task.params.log_ratios
    np.testing.assert_array_equal(c["log_ratio"], np.repeat(grid, 3))
    assert np.all(c["stimulus_steps"] == 55)  # expected 550 ms of uniform(100, 1000)
    assert c["clicks_left"].shape == (len(grid) * 3, 55)
    again = task.test_conditions()
    for key in c:
        np.testing.assert_array_equal(c[key], again[key])
    batch = task.generate_test()
    assert batch.batch_size == 24
    assert np.all(task.performance(batch.targets, batch) == 1.0)


def test_metric_rejects_the_opposite_choice() -> None:
    task = tasks.make(NAME)
    batch = task.generate(64, seed=1)
    assert np.all(task.performance(batch.targets, batch) == 1.0)
    assert np.all(task.performance(batch.targets[..., ::-1], batch) == 0.0)
    # only the scored response steps count: wrong outputs in the grace period are ignored
    outputs = batch.targets.copy()
    go = batch.epochs["response"][:, 0]
    for b in range(batch.batch_size):
        outputs[go[b] : go[b] + 10, b] = outputs[go[b] : go[b] + 10, b, ::-1] * 100
    assert np.all(task.performance(outputs, batch) == 1.0)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"log_ratios": (-1.0, 0.0, 1.0)}, "log_ratios"),
        ({"log_ratios": (1.0, 1.0)}, "log_ratios"),
        ({"log_ratios": ()}, "log_ratios"),
        ({"log_ratios": (20.0,)}, "log_ratios"),
        ({"total_rate_hz": 0.0}, "total_rate_hz"),
        ({"click_amplitude": -1.0}, "click_amplitude"),
        ({"test_repeats": 0}, "test_repeats"),
        ({"response_grace_ms": 500.0}, "response_grace_ms"),
        ({"input_duration_ms": 0.0}, "input_duration_ms"),
        ({"delay_ms": -5.0}, "delay_ms"),
    ],
)
def test_invalid_parameters_are_named(overrides: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{name}'"):
        tasks.make(NAME, **overrides)
