"""Rule reversal (seed 002 section 4.1): switch law, feedback, trial-start markers, weights, metric."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

NAME = "rule_reversal"
TRIAL_EPOCHS = ("stimulus", "response", "feedback", "wait")


def _binomial_ok(count: int, n: int, p: float, n_sd: float = 4.5) -> bool:
    return abs(count - n * p) <= n_sd * math.sqrt(n * p * (1 - p))


def test_channels_versions_and_alias() -> None:
    task = tasks.make("rule_based_association")
    assert task.name == NAME
    assert task.input_names == (
        "stimulus_1",
        "stimulus_2",
        "feedback_positive",
        "feedback_negative",
    )
    assert task.output_names == ("response_1", "response_2")
    assert list(task.versions) == ["vanilla", "realistic", "long", "evaluation"]
    assert task.params.dt_ms == 5.0 and task.params.n_trials == 5


def test_trial_layout_and_start_markers() -> None:
    # evaluation: 1000 ms warm-up (200 steps) then 4 epochs of exactly 500 ms (100 steps) per trial
    batch = tasks.make(NAME, "evaluation").generate(3, seed=0)
    starts = batch.conditions["trial_start_steps"]
    np.testing.assert_array_equal(starts, np.tile(200 + 400 * np.arange(5), (3, 1)))
    np.testing.assert_array_equal(batch.epochs["warmup"], [[0, 200]] * 3)
    for k in range(5):
        for j, epoch in enumerate(TRIAL_EPOCHS):
            first = 200 + 400 * k + 100 * j
            np.testing.assert_array_equal(batch.epochs[f"{epoch}_{k}"], [[first, first + 100]] * 3)
        np.testing.assert_array_equal(batch.epochs[f"trial_{k}"][:, 0], starts[:, k])
    np.testing.assert_array_equal(batch.lengths, 2200)


def test_markers_are_consistent_with_jittered_epochs() -> None:
    batch = tasks.make(NAME).generate(50, seed=1)
    starts = batch.conditions["trial_start_steps"]
    for k in range(5):
        np.testing.assert_array_equal(starts[:, k], batch.epochs[f"stimulus_{k}"][:, 0])
        np.testing.assert_array_equal(starts[:, k], batch.epochs[f"trial_{k}"][:, 0])
        end = batch.epochs[f"wait_{k}"][:, 1]
        np.testing.assert_array_equal(batch.epochs[f"trial_{k}"][:, 1], end)
        following = starts[:, k + 1] if k < 4 else batch.lengths
        np.testing.assert_array_equal(end, following)
        span = sum(batch.conditions[f"{e}_steps"][:, k] for e in TRIAL_EPOCHS)
        np.testing.assert_array_equal(end - starts[:, k], span)
    np.testing.assert_array_equal(starts[:, 0], batch.conditions["warmup_steps"])


def test_epoch_jitter_is_500_plus_minus_100_ms() -> None:
    # U(400, 600) ms at 5 ms: steps 80..120, the two ends half as likely as the rest
    n_seq = 4000
    cond = tasks.make(NAME).sample_conditions(np.random.default_rng(2), n_seq)
    np.testing.assert_array_equal(cond["warmup_steps"], 200)
    for epoch in TRIAL_EPOCHS:
        steps = cond[f"{epoch}_steps"].ravel()
        n = len(steps)
        assert steps.min() == 80 and steps.max() == 120
        assert _binomial_ok(int((steps == 80).sum()), n, 1 / 80)
        assert _binomial_ok(int((steps == 120).sum()), n, 1 / 80)
        assert _binomial_ok(int((steps == 100).sum()), n, 1 / 40)
    # drawn independently per trial: no correlation between consecutive trials' stimuli
    s = cond["stimulus_steps"]
    assert abs(np.corrcoef(s[:, 0], s[:, 1])[0, 1]) < 4.5 / math.sqrt(n_seq)


def test_switch_law_of_the_paper_code() -> None:
    n = 40_000
    cond = tasks.make(NAME).sample_conditions(np.random.default_rng(3), n)
    switch, rule = cond["switch"], cond["rule"]
    assert not switch[:, [2, 4]].any()  # reversals only before trials 0, 1 and 3
    patterns = np.bincount(4 * switch[:, 0] + 2 * switch[:, 1] + switch[:, 3], minlength=8)
    assert all(_binomial_ok(c, n, 1 / 8) for c in patterns)  # independent, p = 1/2 each
    # blocks {0}, {1, 2}, {3, 4} keep one rule, and every block rule is uniform
    np.testing.assert_array_equal(rule[:, 1], rule[:, 2])
    np.testing.assert_array_equal(rule[:, 3], rule[:, 4])
    blocks = np.bincount(4 * rule[:, 0] + 2 * rule[:, 1] + rule[:, 3], minlength=8)
    assert all(_binomial_ok(c, n, 1 / 8) for c in blocks)
    assert _binomial_ok(int(cond["stimulus"].sum()), cond["stimulus"].size, 0.5)


def test_custom_switch_law() -> None:
    n = 20_000
    task = tasks.make(NAME, n_trials=3, switch_trials=(2,), p_switch=0.2)
    cond = task.sample_conditions(np.random.default_rng(4), n)
    assert cond["switch"].shape == (n, 3) and cond["trial_start_steps"].shape == (n, 3)
    assert not cond["switch"][:, :2].any()
    assert _binomial_ok(int(cond["switch"][:, 2].sum()), n, 0.2)
    np.testing.assert_array_equal(cond["rule"][:, :2], 0)


def test_choices_and_feedback_follow_the_rules() -> None:
    cond = tasks.make(NAME).sample_conditions(np.random.default_rng(5), 2000)
    s, rule, switch = cond["stimulus"], cond["rule"], cond["switch"]
    previous = np.concatenate([np.zeros((2000, 1), int), rule[:, :-1]], axis=1)
    # rule 0: stimulus i -> response i; rule 1: reversed
    np.testing.assert_array_equal(cond["correct_choice"], np.where(rule == 0, s, 1 - s))
    np.testing.assert_array_equal(cond["expected_choice"], np.where(previous == 0, s, 1 - s))
    np.testing.assert_array_equal(cond["expected_choice"] != cond["correct_choice"], switch == 1)
    np.testing.assert_array_equal(cond["feedback"], 1 - switch)


def test_inputs_targets_and_weights() -> None:
    task = tasks.make(NAME, "evaluation")
    grid = task.test_conditions()
    cond = {k: v[:1] for k, v in grid.items()}
    cond["stimulus"] = np.array([[0, 1, 1, 0, 1]])
    cond["switch"] = np.array([[1, 0, 0, 1, 0]])  # rules 1, 1, 1, 0, 0
    batch = task.from_conditions(cond)
    x, y, w = batch.inputs[:, 0], batch.targets[:, 0], batch.weights[:, 0]
    expected_choice = [0, 0, 0, 1, 1]  # previous rules 0, 1, 1, 1, 0
    feedback_channel = [3, 2, 2, 3, 2]  # negative on reversal trials
    np.testing.assert_array_equal(batch.conditions["expected_choice"][0], expected_choice)
    assert not x[:200].any() and not y[:200].any() and not w[:200].any()  # warm-up
    for k in range(5):
        base = 200 + 400 * k
        stim, resp, feed, wait = (slice(base + 100 * j, base + 100 * (j + 1)) for j in range(4))
        np.testing.assert_array_equal(x[stim], np.tile(np.eye(4)[cond["stimulus"][0, k]], (100, 1)))
        np.testing.assert_array_equal(x[feed], np.tile(np.eye(4)[feedback_channel[k]], (100, 1)))
        assert not x[resp].any() and not x[wait].any()
        np.testing.assert_array_equal(y[resp], np.tile(np.eye(2)[expected_choice[k]], (100, 1)))
        for silent in (stim, feed, wait):
            assert not y[silent].any() and not w[silent].any()
        # the first 100 ms (20 steps) of the response are not scored
        np.testing.assert_array_equal(w[resp][:20], 0)
        np.testing.assert_array_equal(w[resp][20:], 1)


def test_metric_on_constructed_outputs() -> None:
    task = tasks.make(NAME)
    batch = task.generate(64, seed=6)
    np.testing.assert_array_equal(task.performance(batch.targets, batch), 1.0)
    np.testing.assert_array_equal(task.performance(batch.targets[..., ::-1], batch), 0.0)
    # answering with the current (hidden) rule is wrong exactly on the reversal trials
    correct = np.zeros_like(batch.targets)
    for k in range(5):
        resp = batch.epoch_mask(f"response_{k}")
        choice = np.eye(2)[batch.conditions["correct_choice"][:, k]]
        correct += resp[:, :, None] * choice[None]
    switches = batch.conditions["switch"].sum(axis=1)
    assert switches.min() == 0 and switches.max() == 3
    np.testing.assert_allclose(task.performance(correct, batch), 1 - switches / 5)
    # a wrong answer on the grace steps is ignored; half of one trial's scored steps wrong
    outputs = batch.targets.copy()
    grace = (batch.weights[..., 0] == 0)[..., None] & (batch.targets.sum(axis=2) > 0)[..., None]
    outputs = np.where(grace, outputs[..., ::-1], outputs)
    start, stop = batch.epochs["response_2"][0]
    middle = (start + 20 + stop) // 2
    outputs[start + 20 : middle, 0] = outputs[start + 20 : middle, 0, ::-1]
    score = task.performance(outputs, batch)
    np.testing.assert_array_equal(score[1:], 1.0)
    scored = stop - start - 20
    assert score[0] == pytest.approx(1 - (middle - start - 20) / scored / 5)


def test_test_grid_covers_every_reversal_pattern() -> None:
    task = tasks.make(NAME, test_repeats=3)
    grid = task.test_conditions()
    assert grid["switch"].shape == (24, 5)
    patterns = [tuple(row) for row in grid["switch"][:, [0, 1, 3]]]
    assert patterns == [p for p in itertools.product((0, 1), repeat=3) for _ in range(3)]
    np.testing.assert_array_equal(grid["response_steps"], 100)
    assert task.generate_test().equals(task.generate_test())
    long = tasks.make(NAME, "long", test_repeats=1).test_conditions()
    assert long["switch"].shape == (32, 10)


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [
        ({"switch_trials": (3, 1)}, "switch_trials"),
        ({"switch_trials": (0, 5)}, "switch_trials"),
        ({"switch_trials": (1, 1)}, "switch_trials"),
        ({"n_trials": 0}, "n_trials"),
        ({"p_switch": 1.5}, "p_switch"),
        ({"response_grace_ms": 400.0}, "response_grace_ms"),
    ],
)
def test_invalid_parameters_are_named(overrides: dict, parameter: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{parameter}'"):
        tasks.make(NAME, **overrides)


def test_empty_wait_epochs_keep_trials_back_to_back() -> None:
    task = tasks.make(NAME, "evaluation", wait_ms=0.0, add_noise=False)
    batch = task.generate(2, seed=7)
    np.testing.assert_array_equal(
        batch.conditions["trial_start_steps"][0], 200 + 300 * np.arange(5)
    )
    x = batch.inputs[:, 0]
    for k in range(5):
        base = 200 + 300 * k
        assert x[base : base + 100, :2].sum(axis=1).tolist() == [1.0] * 100  # stimulus
        assert not x[base + 100 : base + 200].any()  # response
        assert x[base + 200 : base + 300, 2:].sum(axis=1).tolist() == [1.0] * 100  # feedback
        assert batch.weights[base + 120 : base + 200, 0].all()
    assert batch.lengths.tolist() == [1700, 1700]
