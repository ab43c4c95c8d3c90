"""N-bit flip-flop: targets are the sign of the last pulse, the card's numbers hold."""

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks


def reference_targets(inputs: np.ndarray, delay: int) -> np.ndarray:
    """Independent slow reference: scan each channel for pulse onsets, hold the last sign."""
    n_steps, batch_size, n_bits = inputs.shape
    out = np.zeros_like(inputs)
    for b in range(batch_size):
        for i in range(n_bits):
            x = inputs[:, b, i]
            state, pending = 0.0, []
            for t in range(n_steps):
                if x[t] != 0 and (t == 0 or x[t - 1] == 0):
                    pending.append((t + delay, np.sign(x[t])))
                while pending and pending[0][0] <= t:
                    state = pending.pop(0)[1]
                out[t, b, i] = state
    return out


@pytest.mark.parametrize("version", ["vanilla", "long", "jarne2020"])
def test_targets_hold_the_sign_of_the_last_pulse(version):
    task = tasks.make("flipflop", version, add_noise=False)
    batch = task.generate(32, 11)
    delay = int(task.params.steps(task.params.response_delay_ms))
    assert np.array_equal(batch.targets, reference_targets(batch.inputs, delay))


def test_pulse_statistics_match_the_card():
    task = tasks.make("flipflop", add_noise=False)
    p = task.params
    cond = task.generate(2000, 5).conditions
    onsets, signs = cond["onset_steps"], cond["sign"]
    present = onsets >= 0
    assert onsets[present].max() <= p.steps(p.input_end_ms)  # onset < input_end_ms before rounding
    first = onsets[:, :, 0] * p.dt_ms
    assert first.min() >= 50 - 5 and first.max() <= 500 + 5
    assert abs(first.mean() - 275) < 4 * 130 / np.sqrt(first.size)
    # intervals: a long window, so that dropping onsets past input_end_ms hardly biases them
    long = tasks.make("flipflop", add_noise=False, trial_ms=100_000, input_end_ms=99_000)
    onsets = long.generate(100, 6).conditions["onset_steps"]
    gaps = np.diff(np.where(onsets >= 0, onsets, np.nan), axis=2) * p.dt_ms
    gaps = gaps[np.isfinite(gaps)]
    assert gaps.min() >= 150 - 10 and gaps.max() <= 1200 + 10
    assert abs(gaps.mean() - p.interval_ms.expected_ms) < 4 * gaps.std() / np.sqrt(gaps.size) + 2
    plus = (signs[present] == 1).mean()
    assert abs(plus - 0.5) < 4 * 0.5 / np.sqrt(present.sum())


def test_jarne2020_reference_numbers():
    task = tasks.make("flipflop", "jarne2020", add_noise=False)
    batch = task.generate(3000, 0)
    assert batch.n_steps == 340 and batch.dt_ms == 1.0 and task.n_inputs == 3
    onsets, signs = batch.conditions["onset_steps"], batch.conditions["sign"]
    assert onsets.shape[2] == 3
    assert onsets[:, :, 0].min() >= 10 and onsets[:, :, 0].max() <= 99
    null_first = (signs[:, :, 0] == 0).mean()
    assert abs(null_first - 1 / 3) < 4 * np.sqrt(2 / 9 / signs[:, :, 0].size)
    widths = (np.abs(batch.inputs) > 0).sum(axis=0)
    pulse_steps = np.where((onsets >= 0) & (signs != 0), np.minimum(20, 340 - onsets), 0)
    assert np.array_equal(
        widths, pulse_steps.sum(axis=2)
    )  # 20 ms pulses, cut only by the trial end


def test_blind_window_is_not_scored():
    task = tasks.make("flipflop", add_noise=False, blind_ms=50)
    batch = task.generate(16, 2)
    onset = batch.conditions["onset_steps"][0, 0, 0]
    assert batch.weights[onset : onset + 5, 0, 0].sum() == 0
    assert batch.weights[onset + 5, 0, 0] == 1


def test_test_grid_covers_every_transition_once():
    task = tasks.make("flipflop", n_bits=3)
    grid = task.generate_test()
    final = grid.targets[-1]  # (B, N)
    start = grid.targets[grid.conditions["onset_steps"][0, 0, 1] - 1]
    pairs = {
        (tuple(a), tuple(b)) for a, b in zip(start.astype(int), final.astype(int), strict=True)
    }
    assert grid.batch_size == 64 and len(pairs) == 64


def test_metric_rejects_wrong_outputs():
    task = tasks.make("flipflop", add_noise=False)
    batch = task.generate(16, 0)
    assert np.all(task.performance(batch.targets, batch) == 1)
    assert np.all(task.performance(-batch.targets, batch) < 0.5)
    hesitant = np.where(batch.targets == 0, 0.9, batch.targets)
    assert np.all(task.performance(hesitant, batch) < 1)


def test_cross_field_checks():
    with pytest.raises(InvalidParameterError, match="'input_end_ms' must be <= trial_ms=2000"):
        tasks.make("flipflop", input_end_ms=3000)
    with pytest.raises(InvalidParameterError, match="'interval_ms' must be >= input_duration_ms"):
        tasks.make("flipflop", interval_ms=40)
