"""K-choice serial reaction time task: locations, sub-trial timing, encoding, scoring, grid."""

from __future__ import annotations

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

NAME = "serial_reaction_time"


def test_aliases_and_channels() -> None:
    for alias in ("5csrtt", "k_choice_serial_reaction_time"):
        assert tasks.make(alias).name == NAME
    task = tasks.make(NAME, n_choices=3)
    assert task.input_names == ("fixation", "light_0", "light_1", "light_2")
    assert task.output_names == ("poke_0", "poke_1", "poke_2")


def test_locations_are_uniform_and_independent() -> None:
    task = tasks.make(NAME)
    c = task.sample_conditions(np.random.default_rng(0), 4000)
    loc = c["location"]
    assert loc.shape == (4000, 4)
    n, p = loc.size, 1 / 5
    for k in range(5):
        assert abs(np.sum(loc == k) - n * p) <= 4.5 * np.sqrt(n * p * (1 - p))
    repeat = np.mean(loc[:, 1:] == loc[:, :-1])  # independent draws: P(repeat) = 1/K
    assert abs(repeat - p) <= 4.5 * np.sqrt(p * (1 - p) / loc[:, 1:].size)


def test_sub_trial_timing_vanilla() -> None:
    # 1000 ms ITI, 500 ms light, 0 delay, 1000 ms hold at dt 10 ms: 250 steps per sub-trial
    batch = tasks.make(NAME).generate(3, seed=0)
    assert list(batch.epochs) == [
        f"{e}_{i}" for i in range(4) for e in ("iti", "light", "delay", "hold")
    ]
    for i in range(4):
        s = 250 * i
        np.testing.assert_array_equal(batch.epochs[f"iti_{i}"], [[s, s + 100]] * 3)
        np.testing.assert_array_equal(batch.epochs[f"light_{i}"], [[s + 100, s + 150]] * 3)
        np.testing.assert_array_equal(batch.epochs[f"delay_{i}"], [[s + 150, s + 150]] * 3)
        np.testing.assert_array_equal(batch.epochs[f"hold_{i}"], [[s + 150, s + 250]] * 3)
    np.testing.assert_array_equal(batch.lengths, 1000)


def test_sub_trial_timing_with_jitter_and_rounding() -> None:
    task = tasks.make(NAME, "realistic", dt_ms=7.0)
    c = task.sample_conditions(np.random.default_rng(1), 200)
    # ITI uniform(700, 1300) ms -> 100..186 steps; light 300 ms -> 42.9 -> 43; hold 1000 -> 143
    assert c["iti_steps"].min() >= 100 and c["iti_steps"].max() <= 186
    assert len(np.unique(c["iti_steps"])) > 20
    assert np.all(c["light_steps"] == 43) and np.all(c["hold_steps"] == 143)
    batch = task.build(c)
    per_sub = c["iti_steps"] + c["light_steps"] + c["delay_steps"] + c["hold_steps"]
    np.testing.assert_array_equal(batch.lengths, per_sub.sum(axis=1))
    np.testing.assert_array_equal(np.diff(batch.epochs["hold_2"], axis=1)[:, 0], 143)
    c = tasks.make(NAME, "long").sample_conditions(np.random.default_rng(2), 500)
    assert c["delay_steps"].min() >= 100 and c["delay_steps"].max() <= 200


def test_inputs_targets_and_weights() -> None:
    task = tasks.make(NAME, "long")
    batch = task.build(task.sample_conditions(np.random.default_rng(3), 8))  # noise-free
    loc = batch.conditions["location"]
    for b in range(8):
        expected_fix = np.zeros(batch.n_steps)
        expected_fix[: batch.lengths[b]] = 1
        for i in range(4):
            l0, l1 = batch.epochs[f"light_{i}"][b]
            h0, h1 = batch.epochs[f"hold_{i}"][b]
            expected_fix[h0:h1] = 0
            lights = batch.inputs[l0:l1, b, 1:]
            np.testing.assert_array_equal(lights, np.tile(np.eye(5)[loc[b, i]], (l1 - l0, 1)))
            np.testing.assert_array_equal(
                batch.targets[h0:h1, b], np.tile(np.eye(5)[loc[b, i]], (h1 - h0, 1))
            )
            np.testing.assert_array_equal(batch.weights[h0 : h0 + 10, b], 0.0)
            np.testing.assert_array_equal(batch.weights[h0 + 10 : h1, b], 1.0)
            i0 = batch.epochs[f"iti_{i}"][b, 0]
            assert not batch.targets[i0:h0, b].any()
            assert np.all(batch.weights[i0:h0, b] == 1.0)
        np.testing.assert_array_equal(batch.inputs[:, b, 0], expected_fix)
        # each light epoch is the only time any light is on
        assert batch.inputs[:, b, 1:].sum() == sum(
            np.diff(batch.epochs[f"light_{i}"][b])[0] for i in range(4)
        )


def test_premature_responses_are_errors() -> None:
    task = tasks.make(NAME)
    batch = task.generate(4, seed=4)
    assert np.all(task.performance(batch.targets, batch) == 1.0)
    outputs = batch.targets.copy()
    i0 = batch.epochs["iti_2"][0, 0]
    d1 = batch.epochs["delay_2"][0, 1]
    # a brief blip (mean over ITI + light + delay < 0.5) is tolerated ...
    outputs[i0, 0, 3] = 1.0
    np.testing.assert_array_equal(task.performance(outputs, batch), [1, 1, 1, 1])
    # ... a sustained response before the go cue fails that sub-trial only
    outputs[i0:d1, 0, 3] = 0.6
    np.testing.assert_array_equal(task.performance(outputs, batch), [0.75, 1, 1, 1])
    # responding during the light counts as premature too
    l0, l1 = batch.epochs["light_0"][1]
    outputs[batch.epochs["iti_0"][1, 0] : l1, 1, 0] = 0.0
    outputs[l0:l1, 1, 0] = 1.0  # 50 of 150 steps: mean 0.33 -> tolerated
    np.testing.assert_array_equal(task.performance(outputs, batch), [0.75, 1, 1, 1])
    outputs[batch.epochs["iti_0"][1, 1] - 30 : l1, 1, 0] = 1.0  # 80 of 150 steps: mean 0.53
    np.testing.assert_array_equal(task.performance(outputs, batch), [0.75, 0.75, 1, 1])


def test_wrong_location_and_grace_period() -> None:
    task = tasks.make(NAME)
    batch = task.generate(4, seed=5)
    loc = batch.conditions["location"]
    outputs = batch.targets.copy()
    h0, h1 = batch.epochs["hold_1"][2]
    wrong = (loc[2, 1] + 1) % 5
    outputs[h0:h1, 2] = np.eye(5)[wrong]
    np.testing.assert_array_equal(task.performance(outputs, batch), [1, 1, 0.75, 1])
    # wrong outputs only in the unscored first 100 ms of a hold window do not count
    outputs = batch.targets.copy()
    outputs[h0 : h0 + 10, 2] = np.eye(5)[wrong] * 100
    np.testing.assert_array_equal(task.performance(outputs, batch), [1, 1, 1, 1])
    # every choice shifted by one location scores 0
    assert np.all(task.performance(np.roll(batch.targets, 1, axis=2), batch) == 0.0)


def test_test_grid_covers_positions_locations_and_transitions() -> None:
    task = tasks.make(NAME, n_trials=6)
    c = task.test_conditions()
    k, n = 5, 6
    loc = c["location"]
    assert loc.shape == (k * k, n)
    for i in range(n):
        np.testing.assert_array_equal(np.bincount(loc[:, i], minlength=k), k)
    for i in range(n - 1):
        pairs = {(int(a), int(b)) for a, b in zip(loc[:, i], loc[:, i + 1], strict=True)}
        assert len(pairs) == k * k  # every ordered transition once per position
    assert np.all(c["iti_steps"] == 100) and np.all(c["light_steps"] == 50)
    batch = task.generate_test()
    assert np.all(task.performance(batch.targets, batch) == 1.0)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"n_choices": 1}, "n_choices"),
        ({"n_trials": 0}, "n_trials"),
        ({"response_grace_ms": 1000.0}, "response_grace_ms"),
        ({"iti_ms": 0.0}, "iti_ms"),
        ({"delay_ms": "uniform(-5, 10)"}, "delay_ms"),
        ({"hold_ms": 3.0}, "hold_ms"),
    ],
)
def test_invalid_parameters_are_named(overrides: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{name}'"):
        tasks.make(NAME, **overrides)
