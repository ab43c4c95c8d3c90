"""Delayed match-to-sample and match-to-rotated-sample: encodings, statistics, labels, metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks


def _bump(direction: int, n_stimuli: int, n_ring: int, width_deg: float, peak: float) -> np.ndarray:
    """Independent re-implementation of the card's ring code."""
    theta = 2 * math.pi * direction / n_stimuli
    out = np.zeros(n_ring)
    for i in range(n_ring):
        d = (theta - 2 * math.pi * i / n_ring + math.pi) % (2 * math.pi) - math.pi
        out[i] = peak * math.exp(-(d**2) / (2 * math.radians(width_deg) ** 2))
    return out


def _four_sigma(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n)


# ---- delayed match-to-sample ------------------------------------------------------------------


def test_channels_and_aliases() -> None:
    task = tasks.make("delayed_match_to_sample")
    assert type(task) is type(tasks.make("delayed_match_to_sample"))
    assert task.input_names == ("fixation", *(f"ring_{i}" for i in range(16)))
    assert task.output_names == ("match", "non_match")
    assert list(task.versions) == ["vanilla", "realistic", "long"]


def test_epoch_durations_follow_the_rounding_rule() -> None:
    # dt 20 ms: 310 -> 15.5 -> 16, 510 -> 25.5 -> 26, 990 -> 49.5 -> 50, 250 -> 12.5 -> 13
    task = tasks.make(
        "delayed_match_to_sample",
        dt_ms=20.0,
        input_start_ms=310.0,
        input_duration_ms=510.0,
        delay_ms=990.0,
        test_ms=250.0,
        response_ms=430.0,
        response_grace_ms=30.0,
    )
    batch = task.generate(4, seed=3)
    expected = {"fixation": 16, "sample": 26, "delay": 50, "test": 13, "response": 22}
    start = np.zeros(4, dtype=np.int64)
    for name, n in expected.items():
        np.testing.assert_array_equal(batch.epochs[name][:, 0], start)
        np.testing.assert_array_equal(batch.epochs[name][:, 1], start + n)
        start = start + n
    np.testing.assert_array_equal(batch.lengths, start)
    assert batch.n_steps == sum(expected.values())
    # grace 30 ms -> 1.5 -> 2 steps unscored at the start of the response
    r0 = int(batch.epochs["response"][0, 0])
    np.testing.assert_array_equal(batch.weights[r0 : r0 + 2], 0)
    np.testing.assert_array_equal(batch.weights[:r0], 1)
    np.testing.assert_array_equal(batch.weights[r0 + 2 :], 1)


@pytest.mark.parametrize("name", ["delayed_match_to_sample", "dmrs"])
def test_inputs_are_the_exact_ring_codes(name: str) -> None:
    task = tasks.make(name, n_stimuli=8, n_ring=12, ring_width_deg=30.0, stimulus_amplitude=0.7)
    batch = task.generate_test()
    cond = batch.conditions
    for b in range(batch.batch_size):
        masks = {e: batch.epoch_mask(e)[:, b] for e in batch.epochs}
        ring = batch.inputs[: batch.lengths[b], b, 1:]
        sample = _bump(int(cond["sample"][b]), 8, 12, 30.0, 0.7)
        test = _bump(int(cond["test"][b]), 8, 12, 30.0, 0.7)
        for epoch, code in (("sample", sample), ("test", test)):
            shown = batch.inputs[masks[epoch], b, 1:]
            assert len(shown) == task.params.steps(500.0)
            np.testing.assert_allclose(shown, np.tile(code, (len(shown), 1)), atol=1e-6)
        silent = (masks["fixation"] | masks["delay"] | masks["response"])[: batch.lengths[b]]
        np.testing.assert_array_equal(ring[silent], 0)
        fixation = batch.inputs[: batch.lengths[b], b, 0]
        np.testing.assert_array_equal(fixation, ~masks["response"][: batch.lengths[b]])


def test_match_proportion_and_non_match_draws() -> None:
    n = 40_000
    for p_match in (0.5, 0.2):
        task = tasks.make("delayed_match_to_sample", p_match=p_match)
        cond = task.sample_conditions(np.random.default_rng(11), n)
        match = cond["test"] == cond["sample"]
        assert abs(match.mean() - p_match) < _four_sigma(p_match, n)
        # sample uniform over the 8 directions
        counts = np.bincount(cond["sample"], minlength=8) / n
        assert np.all(np.abs(counts - 1 / 8) < _four_sigma(1 / 8, n))
        # a non-match test is uniform over the 7 other directions and never the sample
        offset = (cond["test"] - cond["sample"])[~match] % 8
        m = len(offset)
        assert offset.min() >= 1
        freq = np.bincount(offset, minlength=8)[1:] / m
        assert np.all(np.abs(freq - 1 / 7) < _four_sigma(1 / 7, m))


def test_p_match_extremes() -> None:
    rng = np.random.default_rng(0)
    always = tasks.make("delayed_match_to_sample", p_match=1.0).sample_conditions(rng, 500)
    never = tasks.make("delayed_match_to_sample", p_match=0.0).sample_conditions(rng, 500)
    np.testing.assert_array_equal(always["test"], always["sample"])
    assert np.all(never["test"] != never["sample"])


def test_targets_and_labels() -> None:
    task = tasks.make("delayed_match_to_sample")
    batch = task.generate_test()
    match = batch.conditions["test"] == batch.conditions["sample"]
    response = batch.epoch_mask("response")
    expected = np.zeros_like(batch.targets)
    expected[:, :, 0] = response & match[None, :]
    expected[:, :, 1] = response & ~match[None, :]
    np.testing.assert_array_equal(batch.targets, expected)
    np.testing.assert_array_equal(task.correct_choice(batch.conditions), np.where(match, 0, 1))


def test_realistic_timing_and_test_grid() -> None:
    task = tasks.make("delayed_match_to_sample", "realistic")
    cond = task.sample_conditions(np.random.default_rng(5), 5000)
    assert cond["fixation_steps"].min() >= 20 and cond["fixation_steps"].max() <= 50
    assert cond["delay_steps"].min() >= 80 and cond["delay_steps"].max() <= 120
    assert len(np.unique(cond["delay_steps"])) > 30
    grid = task.test_conditions()
    np.testing.assert_array_equal(grid["fixation_steps"], 35)  # E U(200, 500) = 350 ms
    np.testing.assert_array_equal(grid["delay_steps"], 100)
    pairs = set(zip(grid["sample"].tolist(), grid["test"].tolist(), strict=True))
    assert pairs == {(s, t) for s in range(8) for t in range(8)}
    assert len(grid["sample"]) == 64
    long = tasks.make("delayed_match_to_sample", "long").sample_conditions(
        np.random.default_rng(5), 2000
    )
    assert long["delay_steps"].min() >= 300 and long["delay_steps"].max() <= 500


@pytest.mark.parametrize("name", ["delayed_match_to_sample", "dmrs"])
def test_metric_rejects_wrong_choices(name: str) -> None:
    task = tasks.make(name)
    batch = task.generate_test()
    np.testing.assert_array_equal(task.performance(batch.targets, batch), 1.0)
    swapped = batch.targets[:, :, ::-1]
    np.testing.assert_array_equal(task.performance(swapped, batch), 0.0)
    # a correct answer only during the unscored grace steps does not count
    grace = batch.epoch_mask("response") & (batch.weights[:, :, 0] == 0)
    late = np.where(grace[:, :, None], batch.targets, swapped)
    np.testing.assert_array_equal(task.performance(late, batch), 0.0)


def test_invalid_grace_names_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="'response_grace_ms'"):
        tasks.make("delayed_match_to_sample", response_ms=200.0, response_grace_ms=200.0)
    with pytest.raises(InvalidParameterError, match="'p_match'"):
        tasks.make("delayed_match_to_sample", p_match=1.5)


# ---- delayed match-to-rotated-sample ----------------------------------------------------------


def test_rotation_must_lie_on_the_stimulus_grid() -> None:
    with pytest.raises(InvalidParameterError, match="'rotation_deg'"):
        tasks.make("dmrs", rotation_deg=30.0)
    with pytest.raises(InvalidParameterError, match="'rotation_deg'"):
        tasks.make("dmrs", n_stimuli=6)  # 90 deg is not a multiple of 60 deg
    with pytest.raises(InvalidParameterError, match="'rotation_deg'"):
        tasks.make("dmrs", rotation_deg=360.0)
    with pytest.raises(InvalidParameterError, match="'p_lure'"):
        tasks.make("dmrs", n_stimuli=2, rotation_deg=180.0)
    tasks.make("dmrs", n_stimuli=6, rotation_deg=120.0)
    tasks.make("dmrs", n_stimuli=2, rotation_deg=180.0, p_lure=1.0)


def test_rotated_draws() -> None:
    n = 40_000
    task = tasks.make("dmrs")  # 8 directions, 90 deg = 2 steps, p_match 0.5, p_lure 0.25
    assert tasks.make("dmrs").params.rotation_deg == 90.0
    cond = task.sample_conditions(np.random.default_rng(7), n)
    offset = (cond["test"] - cond["sample"]) % 8
    match = offset == 2
    assert abs(match.mean() - 0.5) < _four_sigma(0.5, n)
    lure = offset[~match] == 0
    m = len(lure)
    assert abs(lure.mean() - 0.25) < _four_sigma(0.25, m)
    rest = offset[~match][~lure]
    assert set(np.unique(rest).tolist()) == {1, 3, 4, 5, 6, 7}
    freq = np.bincount(rest, minlength=8)[[1, 3, 4, 5, 6, 7]] / len(rest)
    assert np.all(np.abs(freq - 1 / 6) < _four_sigma(1 / 6, len(rest)))


def test_rotated_labels_and_lures() -> None:
    task = tasks.make("dmrs", rotation_deg=135.0)  # 3 steps of 45 deg
    batch = task.generate_test()
    sample, test = batch.conditions["sample"], batch.conditions["test"]
    correct = task.correct_choice(batch.conditions)
    np.testing.assert_array_equal(correct == 0, test == (sample + 3) % 8)
    assert np.all(correct[test == sample] == 1)  # the unrotated sample is a non-match (lure)
    assert (correct == 0).sum() == 8 and len(correct) == 64
    response = batch.epoch_mask("response")
    np.testing.assert_array_equal(batch.targets[:, :, 0], response & (correct == 0)[None, :])
    np.testing.assert_array_equal(batch.targets[:, :, 1], response & (correct == 1)[None, :])
    # all lures, no other non-match
    only_lures = tasks.make("dmrs", p_lure=1.0, p_match=0.0)
    cond = only_lures.sample_conditions(np.random.default_rng(1), 300)
    np.testing.assert_array_equal(cond["test"], cond["sample"])


def test_two_directions_half_turn() -> None:
    task = tasks.make("dmrs", n_stimuli=2, rotation_deg=180.0, p_lure=1.0)
    cond = task.sample_conditions(np.random.default_rng(2), 1000)
    match = cond["test"] != cond["sample"]
    np.testing.assert_array_equal(task.correct_choice(cond), np.where(match, 0, 1))
