"""AND / OR / XOR memory: truth tables, pulse encoding, Bernoulli bits, timing, metric."""

from __future__ import annotations

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

TRUTH = {
    "and_memory": [0, 0, 0, 1],
    "or_memory": [0, 1, 1, 1],
    "xor_memory": [0, 1, 1, 0],
}
"""Correct choice for (A, B) = 00, 01, 10, 11."""


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_truth_table_on_the_test_grid(name: str) -> None:
    task = tasks.make(name)
    assert task.input_names == ("fixation", "a", "b")
    assert task.output_names == ("false", "true")
    batch = task.generate_test()
    np.testing.assert_array_equal(batch.conditions["a"], [0, 0, 1, 1])
    np.testing.assert_array_equal(batch.conditions["b"], [0, 1, 0, 1])
    np.testing.assert_array_equal(batch.conditions["choice"], TRUTH[name])
    go, end = batch.epochs["response"][0]
    for row, answer in enumerate(TRUTH[name]):
        np.testing.assert_array_equal(batch.targets[go:end, row, answer], 1.0)
        np.testing.assert_array_equal(batch.targets[go:end, row, 1 - answer], 0.0)
        assert not batch.targets[:go, row].any()
    assert np.all(task.performance(batch.targets, batch) == 1.0)


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_truth_table_on_random_trials(name: str) -> None:
    task = tasks.make(name, "realistic")
    c = task.sample_conditions(np.random.default_rng(0), 400)
    expected = np.asarray(TRUTH[name])[2 * c["a"] + c["b"]]
    np.testing.assert_array_equal(c["choice"], expected)
    edited = {**c, "choice": 1 - c["choice"]}  # choice is derived: build recomputes it
    np.testing.assert_array_equal(task.from_conditions(edited).conditions["choice"], expected)


def test_bits_are_independent_bernoulli() -> None:
    n, p = 20000, 0.3
    task = tasks.make("xor_memory", p_true=p)
    c = task.sample_conditions(np.random.default_rng(1), n)
    for key in ("a", "b"):
        assert set(np.unique(c[key])) == {0, 1}
        assert abs(c[key].mean() - p) <= 4.5 * np.sqrt(p * (1 - p) / n)
    both = np.mean(c["a"] & c["b"])
    assert abs(both - p * p) <= 4.5 * np.sqrt(p * p * (1 - p * p) / n)


def test_pulse_encoding_and_fixation() -> None:
    task = tasks.make("and_memory", "long", pulse_amplitude=0.7)
    batch = task.generate_test()
    t = np.arange(batch.n_steps)
    for row in range(4):
        for ch, key in ((1, "a"), (2, "b")):
            start, stop = batch.epochs[f"pulse_{key}"][row]
            sign = 1.0 if batch.conditions[key][row] else -1.0
            expected = np.where((t >= start) & (t < stop), np.float32(0.7 * sign), 0.0)
            np.testing.assert_array_equal(batch.inputs[:, row, ch], expected)
        go = batch.epochs["response"][row, 0]
        np.testing.assert_array_equal(batch.inputs[:, row, 0], (t < go).astype(np.float32))


def test_vanilla_timing() -> None:
    batch = tasks.make("or_memory").generate(8, seed=0)
    expected = {
        "fixation": [0, 20],
        "pulse_a": [20, 30],
        "pulse_b": [20, 30],  # simultaneous, as in Jarne & Laje
        "stimulus": [20, 30],
        "delay": [30, 80],
        "response": [80, 130],
    }
    for name, bounds in expected.items():
        np.testing.assert_array_equal(batch.epochs[name], [bounds] * 8)
    np.testing.assert_array_equal(batch.weights[80:90], 0.0)
    np.testing.assert_array_equal(batch.weights[90:130], 1.0)
    np.testing.assert_array_equal(batch.weights[:80], 1.0)


def test_rounding_rule_at_an_odd_dt() -> None:
    # dt 3 ms: 200 -> 66.7 -> 67, 100 -> 33.3 -> 33, 500 -> 166.7 -> 167, 300 -> 100
    task = tasks.make("and_memory", dt_ms=3.0, b_offset_ms=300.0)
    batch = task.generate(2, seed=0)
    np.testing.assert_array_equal(batch.epochs["pulse_a"], [[67, 100]] * 2)
    np.testing.assert_array_equal(batch.epochs["pulse_b"], [[167, 200]] * 2)
    np.testing.assert_array_equal(batch.epochs["delay"], [[200, 367]] * 2)
    np.testing.assert_array_equal(batch.epochs["response"], [[367, 534]] * 2)
    assert (batch.weights[367:400] == 0).all() and (batch.weights[400:534] == 1).all()


def test_long_and_realistic_timing() -> None:
    c = tasks.make("xor_memory", "long").sample_conditions(np.random.default_rng(2), 1000)
    assert np.all(c["b_offset_steps"] == 30)
    assert c["delay_steps"].min() >= 200 and c["delay_steps"].max() <= 400
    c = tasks.make("xor_memory", "realistic").sample_conditions(np.random.default_rng(3), 1000)
    assert c["fixation_steps"].min() >= 10 and c["fixation_steps"].max() <= 30
    assert c["delay_steps"].min() >= 30 and c["delay_steps"].max() <= 70
    assert len(np.unique(c["fixation_steps"])) > 10


def test_metric_rejects_the_wrong_answer() -> None:
    task = tasks.make("xor_memory")
    batch = task.generate(64, seed=4)
    assert np.all(task.performance(batch.targets, batch) == 1.0)
    assert np.all(task.performance(batch.targets[..., ::-1], batch) == 0.0)
    # answering A OR B instead of A XOR B is wrong exactly on (1, 1)
    c = batch.conditions
    scores = task.performance(tasks.make("or_memory").build(c).targets, batch)
    np.testing.assert_array_equal(scores, 1.0 - (c["a"] & c["b"]))


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"p_true": 1.5}, "p_true"),
        ({"pulse_amplitude": 0.0}, "pulse_amplitude"),
        ({"response_grace_ms": 500.0}, "response_grace_ms"),
        ({"b_offset_ms": -10.0}, "b_offset_ms"),
        ({"input_duration_ms": 0.0}, "input_duration_ms"),
        ({"input_start_ms": 2.0}, "input_start_ms"),
    ],
)
def test_invalid_parameters_are_named(overrides: dict, name: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{name}'"):
        tasks.make("and_memory", **overrides)
