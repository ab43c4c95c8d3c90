"""Yang et al. 2019 suite: cost mask (loss weights) per epoch, targets of no-go trials, metric."""

from __future__ import annotations

import numpy as np
import pytest

from rnnzoo import tasks

RULES = ["fdgo", "reactanti", "delaygo", "dm2", "contextdelaydm1", "dmsnogo", "dmcgo"]


def _batch(rule: str, version: str = "vanilla", **overrides):
    return tasks.make(rule, version, add_noise=False, shared_timing=False, **overrides).generate(
        8, seed=9
    )


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(
    ("inside", "pre", "post", "fix_pre", "fix_post"),
    [(True, 1.0, 25.0, 4.0, 100.0), (False, 1.0, 5.0, 2.0, 10.0)],
)
def test_cost_mask_values_per_epoch(rule, inside, pre, post, fix_pre, fix_post) -> None:
    batch = _batch(rule, mask_inside_square=inside)
    for b in range(batch.batch_size):
        go, end = batch.epochs["go1"][b]
        w = batch.weights[:end, b]
        first, grace = 5, 5  # 100 ms at dt 20 ms
        np.testing.assert_array_equal(w[:first], 0)
        np.testing.assert_array_equal(w[first:go, 1:], pre)
        np.testing.assert_array_equal(w[first:go, 0], fix_pre)
        np.testing.assert_array_equal(w[go : go + grace], 0)
        np.testing.assert_array_equal(w[go + grace :, 1:], post)
        np.testing.assert_array_equal(w[go + grace :, 0], fix_post)
        assert not batch.weights[end:, b].any()


def test_cost_mask_parameters_and_soo2023() -> None:
    batch = _batch("fdgo", mask_start_ms=60, response_grace_ms=40, response_weight=3.0,
                   fixation_output_weight=1.5)  # fmt: skip
    go, end = batch.epochs["go1"][0]
    w = batch.weights[:, 0]
    np.testing.assert_array_equal(w[:3], 0)
    np.testing.assert_array_equal(w[3:go, 1:], 1.0)
    np.testing.assert_array_equal(w[3:go, 0], 1.5**2)
    np.testing.assert_array_equal(w[go : go + 2], 0)
    np.testing.assert_array_equal(w[go + 2 : end, 1:], 9.0)
    np.testing.assert_array_equal(w[go + 2 : end, 0], (1.5 * 3.0) ** 2)
    soo = _batch("delaygo", "soo2023")  # warm-up 200 steps, then 40 unscored steps; weights 1
    go, end = soo.epochs["go1"][0]
    w = soo.weights[:end, 0]
    np.testing.assert_array_equal(w[:240], 0)
    np.testing.assert_array_equal(w[240:go], 1)
    np.testing.assert_array_equal(w[go : go + 40], 0)
    np.testing.assert_array_equal(w[go + 40 :], 1)


@pytest.mark.parametrize("rule", ["dmsgo", "dmsnogo", "dmcgo", "dmcnogo"])
def test_fixate_trials_hold_the_fixation_target_to_the_end(rule: str) -> None:
    batch = _batch(rule)
    fixate = np.isnan(batch.conditions["response_loc"])
    assert fixate.any() and (~fixate).any()
    for b in range(batch.batch_size):
        go, end = batch.epochs["go1"][b]
        t = batch.targets[:end, b]
        if fixate[b]:
            np.testing.assert_allclose(t[:, 0], 0.8)
            np.testing.assert_allclose(t[:, 1:], 0.05)
        else:
            np.testing.assert_allclose(t[:go, 0], 0.8)
            np.testing.assert_allclose(t[go:, 0], 0.05)
            assert t[go:, 1:].max() == pytest.approx(0.85, abs=0.02)


# ---- the performance rule ------------------------------------------------------------------


def _outputs(batch, angle: np.ndarray, fixation: np.ndarray) -> np.ndarray:
    """Outputs equal to garbage everywhere except the last step of each trial, where the fixation
    output is ``fixation`` and the ring a clean bump at ``angle``."""
    rng = np.random.default_rng(0)
    out = rng.uniform(0, 1, size=batch.targets.shape)
    pref = 2 * np.pi * np.arange(32) / 32
    last = batch.lengths - 1
    for b in range(batch.batch_size):
        d = np.angle(np.exp(1j * (pref - angle[b])))
        out[last[b], b, 1:] = 0.05 + 0.8 * np.exp(-0.5 * (d / (np.pi / 8)) ** 2)
        out[last[b], b, 0] = fixation[b]
    return out


def test_metric_on_constructed_outputs() -> None:
    task = tasks.make("fdgo", add_noise=False, shared_timing=False)
    batch = task.generate(64, seed=3)
    target = batch.conditions["response_loc"]
    n = batch.batch_size
    low, high = np.full(n, 0.2), np.full(n, 0.7)
    assert np.all(task.performance(batch.targets, batch) == 1)
    assert np.all(task.performance(_outputs(batch, target, low), batch) == 1)
    assert np.all(task.performance(_outputs(batch, target + np.pi, low), batch) == 0)  # wrong angle
    assert np.all(task.performance(_outputs(batch, target, high), batch) == 0)  # still fixating
    # boundary: the read-out must lie strictly closer than 0.2 pi
    inside = _outputs(batch, target + 0.2 * np.pi - 1e-6, low)
    outside = _outputs(batch, target - 0.2 * np.pi - 1e-6, low)
    assert np.all(task.performance(inside, batch) == 1)
    assert np.all(task.performance(outside, batch) == 0)
    # the original's fixating = y_fix > 0.5: exactly 0.5 (a sigmoid at zero drive) and NaN
    # are released, so on-target response trials count as correct
    assert np.all(task.performance(_outputs(batch, target, np.full(n, 0.5)), batch) == 1)
    assert np.all(task.performance(_outputs(batch, target, np.full(n, np.nan)), batch) == 1)
    above = np.full(n, np.nextafter(0.5, 1.0))
    assert np.all(task.performance(_outputs(batch, target, above), batch) == 0)
    # a silent ring cannot be read out
    silent = _outputs(batch, target, low)
    silent[batch.lengths - 1, np.arange(n), 1:] = 0
    assert np.all(task.performance(silent, batch) == 0)


def test_metric_reads_the_last_step_of_each_trial_only() -> None:
    task = tasks.make("dm1", add_noise=False, shared_timing=False)
    batch = task.generate(32, seed=4)
    assert len(set(batch.lengths.tolist())) > 1  # padded trials
    outputs = batch.targets.copy()
    last = batch.lengths - 1
    everything_else = np.ones(outputs.shape[:2], dtype=bool)
    everything_else[last, np.arange(32)] = False
    outputs[everything_else] = -3.0
    assert np.all(task.performance(outputs, batch) == 1)
    wrong = batch.targets.copy()
    wrong[last, np.arange(32), 0] = 0.9  # breaks fixation release at the last step only
    assert np.all(task.performance(wrong, batch) == 0)


def test_metric_on_fixate_trials() -> None:
    task = tasks.make("dmsnogo", add_noise=False, shared_timing=False)
    batch = task.generate(200, seed=5)
    fixate = np.isnan(batch.conditions["response_loc"])
    assert 50 < fixate.sum() < 150
    target = np.where(fixate, 0.0, batch.conditions["response_loc"])
    hold = _outputs(batch, target, np.where(fixate, 0.51, 0.2))
    np.testing.assert_array_equal(task.performance(hold, batch), 1.0)
    broke = _outputs(batch, target, np.full(200, 0.2))  # releases fixation everywhere
    np.testing.assert_array_equal(task.performance(broke, batch), (~fixate).astype(float))
    # 0.5 and NaN are not fixating: fixate trials fail, response trials on target pass
    for tie in (0.5, np.nan):
        released = _outputs(batch, target, np.full(200, tie))
        np.testing.assert_array_equal(task.performance(released, batch), (~fixate).astype(float))
    # on a fixate trial the ring read-out does not matter
    anywhere = _outputs(batch, target + 2.0, np.where(fixate, 0.9, 0.2))
    np.testing.assert_array_equal(task.performance(anywhere, batch), fixate.astype(float))


def test_boundary_at_hand_computed_angles() -> None:
    task = tasks.make("fdgo", add_noise=False)
    angles = np.array([0.0, 0.0, 0.0, 0.0, 1.9 * np.pi])
    batch = task.from_conditions(task.psychometric_conditions(stim_loc=angles))
    read = np.array([0.19, 0.21, -0.19, 1.79, 0.05]) * np.pi  # last: 0.15 pi across the wrap
    outputs = _outputs(batch, np.mod(read, 2 * np.pi), np.full(5, 0.1))
    np.testing.assert_array_equal(task.performance(outputs, batch), [1, 0, 1, 0, 1])
