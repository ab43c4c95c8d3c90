"""Sine-wave generator: cue encoding, target waveform and frequency, weights, draws, metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks


def test_channels_aliases_and_versions() -> None:
    task = tasks.make("sine_wave_generator")
    assert type(task) is type(tasks.make("sine_generator"))
    assert task.input_names == ("frequency_cue",)
    assert task.output_names == ("sine",)
    assert list(task.versions) == ["vanilla", "realistic", "long"]
    assert tasks.make("sine_generator", "realistic").params.interpolate
    long = tasks.make("sine_generator", "long").params
    assert (long.trial_ms, long.freq_min_hz, long.freq_max_hz) == (6000.0, 0.5, 2.0)


def test_grid_frequencies_and_cue_levels_are_exact() -> None:
    task = tasks.make("sine_generator", input_start_ms=200.0, add_noise=False)
    batch = task.generate_test()
    n = 11
    f = batch.conditions["frequency_hz"]
    np.testing.assert_allclose(f, 1.0 + 0.4 * np.arange(n), rtol=1e-15)
    onset = 20
    levels = (np.arange(n) / n + 0.25).astype(np.float32)  # Sussillo & Barak's j / n + 0.25
    np.testing.assert_array_equal(batch.inputs[:onset, :, 0], 0)
    cue = batch.inputs[onset:, :, 0]
    np.testing.assert_allclose(cue, np.broadcast_to(levels, cue.shape), rtol=0, atol=1e-7)


def test_target_waveform_and_weights() -> None:
    # dt 20 ms: onset 110 -> 5.5 -> 6 steps, settle 90 -> 4.5 -> 5 steps, trial 1000 -> 50 steps
    task = tasks.make(
        "sine_generator",
        dt_ms=20.0,
        input_start_ms=110.0,
        settle_ms=90.0,
        trial_ms=1000.0,
        amplitude=2.0,
        add_noise=False,
    )
    batch = task.generate(5, seed=4)
    onset, settle, total = 6, 5, 50
    assert batch.n_steps == total
    bounds = {
        "baseline": [0, onset],
        "settle": [onset, onset + settle],
        "generate": [onset + settle, total],
    }
    for name, expected in bounds.items():
        np.testing.assert_array_equal(batch.epochs[name], np.tile(expected, (5, 1)))
    k = np.arange(total)
    for b, f in enumerate(batch.conditions["frequency_hz"]):
        expected = 2.0 * np.sin(2 * math.pi * f * (k - onset) * 0.020)
        expected[: onset + settle] = 0.0
        np.testing.assert_allclose(batch.targets[:, b, 0], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(batch.weights[: onset + settle], 0)
    np.testing.assert_array_equal(batch.weights[onset + settle :], 1)


def test_fft_recovers_the_frequency_exactly() -> None:
    # 2 s at 10 ms: the FFT bins are 0.5 Hz apart, so every f_j = 1 + 0.5 j is a bin centre
    task = tasks.make("sine_generator", n_frequencies=9, add_noise=False)
    batch = task.generate_test()
    spectrum = np.abs(np.fft.rfft(batch.targets[:, :, 0].astype(np.float64), axis=0))
    freqs = np.fft.rfftfreq(batch.n_steps, d=0.010)
    np.testing.assert_array_equal(freqs[spectrum.argmax(axis=0)], 1.0 + 0.5 * np.arange(9))


def test_zero_crossings_match_the_period() -> None:
    task = tasks.make("sine_generator", "long", add_noise=False)
    batch = task.generate_test()
    y = batch.targets[1:, :, 0].astype(np.float64)  # skip the exact zero at the onset
    rising = (y[:-1] < 0) & (y[1:] >= 0)
    for b, f in enumerate(batch.conditions["frequency_hz"]):
        times = np.flatnonzero(rising[:, b]) * 0.010
        np.testing.assert_allclose(np.diff(times), 1.0 / f, atol=0.0101)
        assert len(times) == math.floor(6.0 * f - 1e-9)  # upward crossings after t = 0


def test_grid_draws_are_uniform_over_the_frequencies() -> None:
    task = tasks.make("sine_generator")
    n_trials = 22000
    f = task.sample_conditions(np.random.default_rng(3), n_trials)["frequency_hz"]
    grid = task.frequencies_hz()
    assert np.isin(f, grid).all()
    counts = np.array([(f == g).sum() for g in grid])
    p = 1 / 11
    assert np.all(np.abs(counts / n_trials - p) < 4 * math.sqrt(p * (1 - p) / n_trials))


def test_interpolation_draws_continuously_with_the_same_linear_cue() -> None:
    task = tasks.make("sine_generator", interpolate=True, add_noise=False)
    n_trials = 4000
    f = task.sample_conditions(np.random.default_rng(8), n_trials)["frequency_hz"]
    assert f.min() >= 1.0 and f.max() <= 5.0
    assert np.unique(f).size == n_trials
    sd = 4.0 / math.sqrt(12)
    assert abs(f.mean() - 3.0) < 4 * sd / math.sqrt(n_trials)
    batch = task.generate(16, seed=1)
    f = batch.conditions["frequency_hz"]
    np.testing.assert_allclose(batch.inputs[0, :, 0], 0.25 + (f - 1.0) / 4.0 * 10 / 11, atol=1e-6)


def test_metric_rejects_the_wrong_frequency() -> None:
    task = tasks.make("sine_generator", add_noise=False)
    batch = task.generate_test()
    np.testing.assert_allclose(task.performance(batch.targets, batch), 1.0)
    assert np.all(task.performance(np.zeros_like(batch.targets), batch) <= 1e-9)
    shifted = np.roll(batch.targets, 1, axis=1)  # each trial gets its neighbour's frequency
    assert np.all(task.performance(shifted, batch) < 0.5)


def test_cross_checks_name_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="'freq_max_hz' must be > freq_min_hz=5"):
        tasks.make("sine_generator", freq_min_hz=5.0, freq_max_hz=5.0)
    with pytest.raises(InvalidParameterError, match="'freq_max_hz' must equal freq_min_hz=1"):
        tasks.make("sine_generator", n_frequencies=1)
    with pytest.raises(InvalidParameterError, match="'freq_max_hz' must be below the Nyquist"):
        tasks.make("sine_generator", dt_ms=100.0)
    with pytest.raises(InvalidParameterError, match="'trial_ms' must leave scored steps"):
        tasks.make("sine_generator", input_start_ms=1000.0, settle_ms=1000.0)
    single = tasks.make("sine_generator", n_frequencies=1, freq_max_hz=1.0)
    np.testing.assert_array_equal(single.cue_level(single.frequencies_hz()), [0.25])
