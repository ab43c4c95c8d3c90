"""Seed 004 B.3 PDM, CDM and MDM: timing, signal draws, noise, encodings, weights, metric."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

B3_SIGNALS = {-0.4, -0.2, -0.1, 0.1, 0.2, 0.4}

# tiny epochs (1 step each at dt 10) keep the per-step noise draws small in statistics tests
_TINY_CDM = {
    "input_start_ms": 10.0,
    "context_ms": 10.0,
    "input_duration_ms": 10.0,
    "context_2_ms": 10.0,
    "decision_ms": 10.0,
}


def _binomial_ok(count: int, n: int, p: float, n_sd: float = 4.5) -> bool:
    return abs(count - n * p) <= n_sd * math.sqrt(n * p * (1 - p))


def _epochs_of(batch, names):
    return {name: batch.epochs[name][0].tolist() for name in names}


def test_names_aliases_and_channels() -> None:
    for alias, name, inputs in (
        ("pdm", "perceptual_decision_making", ("signal",)),
        ("cdm", "contextual_decision_making", ("signal_1", "signal_2", "cue_1", "cue_2")),
        ("mdm", "multisensory_decision_making", ("signal_1", "signal_2", "cue_1", "cue_2")),
    ):
        task = tasks.make(alias)
        assert task.name == name
        assert task.input_names == inputs
        assert task.output_names == ("choice",)
        assert list(task.versions)[:3] == ["vanilla", "realistic", "long"]
        assert "appendix B.3" in task.card().source and "Dubreuil" in task.card().source


def test_pdm_epochs_are_b3_to_the_step() -> None:
    # B.3: fixation 100, stimulus 800, delay 100, decision 20 ms; at dt 10 ms: 10/80/10/2 steps
    batch = tasks.make("pdm").generate(3, seed=0)
    assert _epochs_of(batch, ["fixation", "stimulus", "delay", "decision"]) == {
        "fixation": [0, 10],
        "stimulus": [10, 90],
        "delay": [90, 100],
        "decision": [100, 102],
    }
    np.testing.assert_array_equal(batch.lengths, 102)


def test_cdm_epochs_are_b3_to_the_step_and_round_half_up() -> None:
    # B.3: fixation 100, context 350, stimulus 800, second context 500, decision 20 ms
    names = ["fixation", "context", "stimulus", "context_2", "decision"]
    batch = tasks.make("cdm").generate(3, seed=0)
    assert _epochs_of(batch, names) == {
        "fixation": [0, 10],
        "context": [10, 45],
        "stimulus": [45, 125],
        "context_2": [125, 175],
        "decision": [175, 177],
    }
    # at Dubreuil et al.'s 20 ms, 350 ms = 17.5 steps rounds up to 18
    coarse = tasks.make("mdm", dt_ms=20.0).generate(2, seed=0)
    assert _epochs_of(coarse, names) == {
        "fixation": [0, 5],
        "context": [5, 23],
        "stimulus": [23, 63],
        "context_2": [63, 88],
        "decision": [88, 89],
    }


def test_pdm_signal_is_uniform_on_the_b3_set() -> None:
    n = 12_000
    cond = tasks.make("pdm", input_duration_ms=10.0).sample_conditions(np.random.default_rng(1), n)
    values, counts = np.unique(cond["signal"], return_counts=True)
    assert set(values.tolist()) == B3_SIGNALS
    assert all(_binomial_ok(c, n, 1 / 6) for c in counts), counts


def test_pdm_noise_is_gaussian_std_01_on_every_step() -> None:
    task = tasks.make("pdm")
    cond = task.sample_conditions(np.random.default_rng(2), 400)
    assert cond["signal_noise"].shape == (400, 102, 1)  # the whole (fixed-length) trial
    batch = task.build(cond)
    stim = batch.epoch_mask("stimulus")
    residual = batch.inputs[:, :, 0] - stim * cond["signal"][None, :]
    np.testing.assert_allclose(residual, 0.1 * cond["signal_noise"][:, :, 0].T, atol=1e-6)
    n = residual.size  # 40 800 draws: std within 2 % of 0.1, mean within 4.5 sd of 0
    assert abs(residual.std() - 0.1) < 0.002
    assert abs(residual.mean()) < 4.5 * 0.1 / math.sqrt(n)


def test_pdm_inputs_targets_and_weights_at_chosen_signals() -> None:
    task = tasks.make("pdm")
    grid = task.test_conditions()
    cond = {k: v[:2] for k, v in grid.items()}
    cond["signal"] = np.array([0.2, -0.1])
    cond["signal_noise"] = np.zeros_like(cond["signal_noise"])
    batch = task.from_conditions(cond)
    t = np.arange(102)
    stim = (t >= 10) & (t < 90)
    decision = t >= 100
    np.testing.assert_allclose(batch.inputs[:, 0, 0], 0.2 * stim, atol=1e-7)
    np.testing.assert_allclose(batch.inputs[:, 1, 0], -0.1 * stim, atol=1e-7)
    np.testing.assert_array_equal(batch.targets[:, 0, 0], 1.0 * decision)
    np.testing.assert_array_equal(batch.targets[:, 1, 0], -1.0 * decision)
    np.testing.assert_array_equal(batch.weights[:, :, 0], np.stack([decision, decision], 1))


def test_sign_metric_on_constructed_outputs() -> None:
    task = tasks.make("pdm")
    batch = task.generate(64, seed=3)
    target = batch.targets
    np.testing.assert_array_equal(task.performance(target, batch), 1.0)
    np.testing.assert_array_equal(task.performance(-target, batch), 0.0)
    np.testing.assert_array_equal(task.performance(0.01 * target, batch), 1.0)  # sign only
    # the right sign outside the decision epoch does not count
    outside = np.where(batch.weights > 0, -target, np.sign(target.sum(axis=0, keepdims=True)))
    np.testing.assert_array_equal(task.performance(outside, batch), 0.0)
    # the mean over the two decision steps decides: (+3, -1) reads +1
    mixed = np.zeros_like(target)
    sign = target[100, :, 0]
    mixed[100, :, 0], mixed[101, :, 0] = 3 * sign, -sign
    np.testing.assert_array_equal(task.performance(mixed, batch), 1.0)
    mixed[101, :, 0] = -4 * sign
    np.testing.assert_array_equal(task.performance(mixed, batch), 0.0)


def test_pdm_psychometric_grid() -> None:
    task = tasks.make("pdm", test_repeats=3)
    grid = task.test_conditions()
    np.testing.assert_array_equal(grid["signal"], np.repeat(task.params.signals, 3))
    np.testing.assert_array_equal(grid["stimulus_steps"], 80)
    batch = task.generate_test()
    assert batch.equals(task.generate_test())
    np.testing.assert_array_equal(batch.targets[101, :, 0], np.sign(grid["signal"]))


def test_cdm_draws_contexts_and_signals_independently() -> None:
    n = 36_000
    cond = tasks.make("cdm", **_TINY_CDM).sample_conditions(np.random.default_rng(4), n)
    assert set(np.unique(cond["signals"]).tolist()) == B3_SIGNALS
    pairs = {}
    for key in zip(cond["signals"][:, 0], cond["signals"][:, 1], strict=True):
        pairs[key] = pairs.get(key, 0) + 1
    assert len(pairs) == 36
    assert all(_binomial_ok(c, n, 1 / 36) for c in pairs.values())
    assert _binomial_ok(int(cond["context"].sum()), n, 0.5)
    # context independent of the signal pair: P(context 1 | s_1 > 0) = 1/2
    positive = cond["signals"][:, 0] > 0
    assert _binomial_ok(int(cond["context"][positive].sum()), int(positive.sum()), 0.5)


def test_cdm_cues_signals_targets_and_weights() -> None:
    task = tasks.make("cdm")
    grid = task.test_conditions()
    cond = {k: v[:2] for k, v in grid.items()}
    cond["signals"] = np.array([[0.4, -0.1], [0.4, -0.1]])
    cond["context"] = np.array([0, 1])
    batch = task.from_conditions(cond)  # noise kept: the cues must still be exact
    t = np.arange(177)
    cue_on = (t >= 10) & (t < 175)  # context, stimulus and second context epochs
    stim = (t >= 45) & (t < 125)
    np.testing.assert_allclose(batch.inputs[:, 0, 2], 0.1 * cue_on, atol=1e-7)
    np.testing.assert_array_equal(batch.inputs[:, 0, 3], 0.0)
    np.testing.assert_array_equal(batch.inputs[:, 1, 2], 0.0)
    np.testing.assert_allclose(batch.inputs[:, 1, 3], 0.1 * cue_on, atol=1e-7)
    noise = 0.1 * cond["signal_noise"][:, :177, :].transpose(1, 0, 2)
    expected = stim[:, None, None] * cond["signals"][None] + noise
    np.testing.assert_allclose(batch.inputs[:, :, :2], expected, atol=1e-6)
    # context 0 reports sign(+0.4) = +1, context 1 sign(-0.1) = -1, on the decision epoch only
    decision = t >= 175
    np.testing.assert_array_equal(batch.targets[:, 0, 0], 1.0 * decision)
    np.testing.assert_array_equal(batch.targets[:, 1, 0], -1.0 * decision)
    np.testing.assert_array_equal(batch.weights[:, 0, 0], 1.0 * decision)


def test_cdm_targets_follow_the_cued_signal_over_a_batch() -> None:
    task = tasks.make("cdm")
    batch = task.generate(200, seed=5)
    signals, context = batch.conditions["signals"], batch.conditions["context"]
    cued = signals[np.arange(200), context]
    np.testing.assert_array_equal(batch.targets[176, :, 0], np.sign(cued))
    # the uncued signal disagrees on about half the trials, so it cannot be the rule
    assert 60 < int((np.sign(signals[:, 0]) != np.sign(signals[:, 1])).sum()) < 140


def test_cdm_grid_covers_every_pair_and_context() -> None:
    task = tasks.make("cdm", test_repeats=2)
    grid = task.test_conditions()
    rows = list(zip(grid["context"], grid["signals"][:, 0], grid["signals"][:, 1], strict=True))
    expected = [
        (c, a, b)
        for c in (0, 1)
        for a, b in itertools.product(task.params.signals, repeat=2)
        for _ in range(2)
    ]
    assert rows == expected


def test_mdm_signals_share_their_sign_and_magnitudes_are_uniform() -> None:
    n = 36_000
    cond = tasks.make("mdm", **_TINY_CDM).sample_conditions(np.random.default_rng(6), n)
    s = cond["signals"]
    assert np.all(np.sign(s[:, 0]) == np.sign(s[:, 1]))
    positive = s[:, 0] > 0
    assert _binomial_ok(int(positive.sum()), n, 0.5)
    for sign_rows in (positive, ~positive):
        m = int(sign_rows.sum())
        cells = {}
        for key in zip(np.abs(s[sign_rows, 0]), np.abs(s[sign_rows, 1]), strict=True):
            cells[key] = cells.get(key, 0) + 1
        assert set(cells) == set(itertools.product((0.1, 0.2, 0.4), repeat=2))
        assert all(_binomial_ok(c, m, 1 / 9) for c in cells.values())
    assert _binomial_ok(int(cond["context"].sum()), n, 0.5)


def test_mdm_grid_and_targets() -> None:
    task = tasks.make("mdm", test_repeats=1)
    batch = task.generate_test()
    s = batch.conditions["signals"]
    assert batch.batch_size == 2 * 18
    assert np.all(np.sign(s[:, 0]) == np.sign(s[:, 1]))
    np.testing.assert_array_equal(batch.targets[176, :, 0], np.sign(s[:, 0]))


def test_versions() -> None:
    long = tasks.make("cdm", "long").sample_conditions(np.random.default_rng(7), 3000)
    assert long["context_2_steps"].min() >= 100 and long["context_2_steps"].max() <= 300
    realistic = tasks.make("pdm", "realistic").sample_conditions(np.random.default_rng(7), 3000)
    for key in ("fixation_steps", "delay_steps"):
        assert realistic[key].min() == 10 and realistic[key].max() == 30
        assert abs(realistic[key].mean() - 20) < 4.5 * (20 / math.sqrt(12)) / math.sqrt(3000)
    assert tasks.make("pdm", "realistic").params.noise_decay_ms == 20.0
    assert tasks.make("pdm").params.noise_scale == 0.0  # B.3: only the signal noise


@pytest.mark.parametrize(
    ("name", "overrides", "parameter"),
    [
        ("pdm", {"signals": (0.1, 0.0)}, "signals"),
        ("pdm", {"signals": (0.1, 0.1)}, "signals"),
        ("cdm", {"cue_amplitude": 0.0}, "cue_amplitude"),
        ("mdm", {"signals": (0.1, 0.2)}, "signals"),
        ("pdm", {"decision_ms": 0.0}, "decision_ms"),
        ("cdm", {"signal_noise_std": -0.1}, "signal_noise_std"),
    ],
)
def test_invalid_parameters_are_named(name: str, overrides: dict, parameter: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"'{parameter}'"):
        tasks.make(name, **overrides)


def test_short_noise_draws_are_rejected() -> None:
    task = tasks.make("pdm")
    cond = task.test_conditions()
    cond["signal_noise"] = cond["signal_noise"][:, :50]
    with pytest.raises(InvalidParameterError, match="'signal_noise'"):
        task.from_conditions(cond)


def test_zero_signal_probe_has_target_zero_and_a_tie_band() -> None:
    task = tasks.make("pdm")
    cond = {k: v[:2] for k, v in task.test_conditions().items()}
    cond["signal"] = np.array([0.0, 0.0])
    batch = task.from_conditions(cond)
    assert not batch.targets.any()
    outputs = (batch.weights > 0) * np.array([0.4, -0.6])[None, :, None]
    np.testing.assert_array_equal(task.performance(outputs, batch), [1.0, 0.0])
