"""N-bit flip-flop (Sussillo & Barak 2013; Jarne 2020's 3-bit set-up as a reference version)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, TruncExp, Uniform


class FlipFlopParams(TaskParams):
    """Parameters of the N-bit flip-flop; see the task card."""

    n_bits: int = Field(
        3, ge=1, le=16, description="number of independent bits (input = output channels)"
    )
    trial_ms: float = ms_field(2000.0, "trial duration")
    input_start_ms: Duration = ms_field(
        Uniform(low_ms=50, high_ms=500), "onset of the first pulse on each channel"
    )
    interval_ms: Duration = ms_field(
        TruncExp(mean_ms=400, min_ms=150, max_ms=1200),
        "onset-to-onset interval between pulses on a channel",
    )
    input_end_ms: float = ms_field(1800.0, "no pulse starts at or after this time")
    input_duration_ms: float = ms_field(50.0, "pulse duration")
    pulse_amplitude: float = Field(
        1.0,
        gt=0,
        le=100,
        description="pulse height (set +a, reset -a)",
        json_schema_extra={"unit": "a.u."},
    )
    max_pulses: int = Field(100, ge=1, le=1000, description="most pulses per channel and trial")
    first_pulse_null_prob: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="probability that a channel's first pulse has amplitude 0 (is absent)",
    )
    response_delay_ms: float = ms_field(
        0.0, "delay from pulse onset to the change of the target", allow_zero=True
    )
    blind_ms: float = ms_field(
        50.0, "after each target change, steps not scored (weight 0)", allow_zero=True
    )

    @model_validator(mode="after")
    def _fits_in_trial(self) -> FlipFlopParams:
        if self.input_end_ms > self.trial_ms:
            raise ValueError(
                f"'input_end_ms' must be <= trial_ms={self.trial_ms:g}; got {self.input_end_ms:g}"
            )
        if self.input_start_ms.lowest_ms >= self.input_end_ms:
            raise ValueError(
                f"'input_start_ms' must allow onsets before input_end_ms={self.input_end_ms:g}; "
                f"got {self.input_start_ms}"
            )
        if self.interval_ms.lowest_ms < self.input_duration_ms:
            raise ValueError(
                f"'interval_ms' must be >= input_duration_ms={self.input_duration_ms:g} so pulses on one "
                f"channel never overlap; got {self.interval_ms}"
            )
        return self


def _running_sum(
    shape: tuple[int, int, int],
    steps: list[np.ndarray],
    values: list[np.ndarray],
    keep: list[np.ndarray],
) -> np.ndarray:
    """(T, B, N) float32 running sum over time of ``values`` added at ``steps`` (each (B, N,
    K); entries where ``keep`` is False or at steps >= T are ignored)."""
    n_steps, batch_size, n_bits = shape
    cell = np.arange(batch_size * n_bits).reshape(batch_size, n_bits, 1)
    index, weight = [], []
    for step, value, mask in zip(steps, values, keep, strict=True):
        mask = mask & (step >= 0) & (step < n_steps)
        index.append((step * (batch_size * n_bits) + cell)[mask])
        weight.append(value[mask].astype(np.float64))
    changes = np.bincount(
        np.concatenate(index), np.concatenate(weight), minlength=n_steps * batch_size * n_bits
    )
    return np.cumsum(changes.reshape(shape), axis=0).astype(np.float32)


def _previous_scored_sign(signs: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """(B, N, K): the sign of the latest scored pulse before each pulse (0 before the first)."""
    last = np.where(scored, signs, 0).astype(np.float32)
    previous = np.zeros_like(last)
    for k in range(1, signs.shape[2]):  # K is small (pulses per channel)
        previous[..., k] = np.where(scored[..., k - 1], last[..., k - 1], previous[..., k - 1])
    return previous


@register
class FlipFlop(Task):
    name = "flipflop"
    aliases = ("nbit_flipflop", "flip_flop")
    title = "N-bit flip-flop"
    summary = (
        "Working memory of N independent binary variables: each channel receives brief set (+) and "
        "reset (-) pulses at random times and the matching output must hold the sign of the last "
        "pulse. Its trained networks show 2^N stable fixed points (a cube for N = 3)."
    )
    source = (
        "Sussillo D. & Barak O. (2013) Opening the black box: low-dimensional dynamics in "
        "high-dimensional recurrent neural networks. Neural Computation 25(3):626-649. "
        "Reference version 'jarne2020': Jarne C. (2020/2023) What you need to know to train recurrent "
        "neural networks to make Flip Flops memories and more, arXiv:2010.07858."
    )
    definition = (
        "Inputs pulse_i, outputs state_i (i < n_bits). On each channel pulse onsets form a renewal "
        "process: the first onset is drawn from input_start_ms, each next onset adds a draw of "
        "interval_ms, onsets at or after input_end_ms are dropped, at most max_pulses are kept. A pulse "
        "lasts input_duration_ms with height +pulse_amplitude or -pulse_amplitude (sign fair coin); the "
        "first pulse is absent (height 0) with probability first_pulse_null_prob. Target state_i is 0 "
        "until the first response and afterwards the sign (+1/-1) of the latest pulse whose onset + "
        "response_delay_ms has passed. Weights are 1 on every step of the trial except blind_ms after "
        "each response time. Go cue: none (continuous task). Test grid: every ordered pair of states "
        "(s1, s2) when 2^n_bits <= 16, set by simultaneous pulses on all channels at the expected "
        "start and expected start + expected interval; otherwise each state set once from 0 (at most "
        "1024)."
    )
    Params = FlipFlopParams
    versions = {
        "vanilla": Version("3 bits, 10 ms steps, 2 s trials, mild white input noise"),
        "realistic": Version(
            "more frequent, more variable pulse intervals and correlated (OU, 20 ms) input noise of std 0.1",
            {
                "noise_scale": 0.1,
                "noise_decay_ms": 20.0,
                "interval_ms": TruncExp(mean_ms=300, min_ms=100, max_ms=1000),
            },
        ),
        "long": Version(
            "sparse pulses in 6 s trials: memories held for seconds",
            {
                "trial_ms": 6000.0,
                "input_end_ms": 5500.0,
                "interval_ms": TruncExp(mean_ms=1500, min_ms=500, max_ms=4000),
                "input_start_ms": Uniform(low_ms=50, high_ms=1000),
            },
        ),
        "jarne2020": Version(
            "Jarne's 3-bit set-up: 1 ms steps, 340 ms samples, 20 ms pulses, first onset U(10, 99) ms, "
            "then onsets 50 + U(1, 50) ms after the previous pulse ends, 3 pulses per channel (first "
            "absent with prob. 1/3), answer 20 ms after the pulse ends, noise 0.1 N(0, 1)",
            {
                "dt_ms": 1.0,
                "trial_ms": 340.0,
                "input_start_ms": Uniform(low_ms=10, high_ms=99),
                "interval_ms": Uniform(low_ms=71, high_ms=120),
                "input_end_ms": 340.0,
                "input_duration_ms": 20.0,
                "max_pulses": 3,
                "first_pulse_null_prob": 1 / 3,
                "response_delay_ms": 40.0,
                "blind_ms": 0.0,
                "noise_scale": 0.1,
            },
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of scored (step, bit) samples on the correct side: output > 0 when the target is "
        "+1, < 0 when -1, |output| < 0.5 when 0",
        criterion=0.95,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f"pulse_{i}" for i in range(self.params.n_bits))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f"state_{i}" for i in range(self.params.n_bits))

    def _max_pulses(self) -> int:
        p = self.params
        span = max(p.input_end_ms - p.input_start_ms.lowest_ms, 0.0)
        return int(min(p.max_pulses, math.floor(span / p.interval_ms.lowest_ms) + 1))

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        n, k = p.n_bits, self._max_pulses()
        first = p.input_start_ms.sample(rng, batch_size * n).reshape(batch_size, n, 1)
        gaps = p.interval_ms.sample(rng, batch_size * n * (k - 1)).reshape(batch_size, n, k - 1)
        onsets_ms = np.concatenate([first, first + np.cumsum(gaps, axis=2)], axis=2)
        signs = np.where(rng.uniform(size=(batch_size, n, k)) < 0.5, -1, 1).astype(np.int8)
        null_first = rng.uniform(size=(batch_size, n)) < p.first_pulse_null_prob
        signs[:, :, 0][null_first] = 0
        onsets = p.steps(onsets_ms)
        keep = onsets_ms < p.input_end_ms
        return {
            "onset_steps": np.where(keep, onsets, -1),
            "sign": np.where(keep, signs, 0).astype(np.int8),
        }

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        onsets, signs = conditions["onset_steps"], conditions["sign"].astype(np.float32)
        batch_size = onsets.shape[0]
        n_steps = int(p.steps(p.trial_ms))
        width, delay, blind = (
            int(p.steps(x)) for x in (p.input_duration_ms, p.response_delay_ms, p.blind_ms)
        )
        present = onsets >= 0  # (B, N, K)
        shape = (n_steps, batch_size, onsets.shape[1])
        # every array is a running sum over time of changes at event steps: O(T B N) work and
        # memory, never a (T, B, N, K) mask (210 ms per batch of 256 at dt = 1 ms)
        ends = np.where(present, onsets + width, -1)
        inputs = _running_sum(
            shape, [onsets, ends], [signs, -signs], [present, present]
        ) * np.float32(p.pulse_amplitude)

        scored = present & (signs != 0)  # absent first pulses (height 0) set no target
        response = onsets + delay
        previous = _previous_scored_sign(signs, scored)
        targets = _running_sum(shape, [response], [signs - previous], [scored])
        blinded = _running_sum(
            shape,
            [response, response + blind],
            [np.ones_like(signs), -np.ones_like(signs)],
            [scored, scored],
        )
        weights = (blinded <= 0).astype(np.float32)

        lengths = np.full(batch_size, n_steps, dtype=np.int64)
        epochs = {"trial": np.stack([np.zeros(batch_size, np.int64), lengths], axis=1)}
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        n = p.n_bits
        states = np.array(list(itertools.product((-1, 1), repeat=n)), dtype=np.int8)
        first = int(p.steps(p.input_start_ms.expected_ms))
        second = first + int(p.steps(p.interval_ms.expected_ms))
        if len(states) <= 16:
            pairs = [(a, b) for a in states for b in states]
            signs = np.array(
                [np.stack([a, b], axis=1) for a, b in pairs], dtype=np.int8
            )  # (B, N, 2)
            onsets = np.tile(np.array([first, second]), (len(pairs), n, 1))
        else:
            states = states[:1024]
            signs = states[:, :, None]
            onsets = np.full((len(states), n, 1), first)
        return {"onset_steps": onsets.astype(np.int64), "sign": signs}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        target = batch.targets
        correct = np.where(
            target > 0, outputs > 0, np.where(target < 0, outputs < 0, np.abs(outputs) < 0.5)
        )
        w = batch.weights
        return (w * correct).sum(axis=(0, 2)) / np.maximum(w.sum(axis=(0, 2)), 1e-12)
