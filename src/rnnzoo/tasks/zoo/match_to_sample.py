"""Delayed match-to-sample (Miller et al. 1996) and its mental-rotation variant.

Both tasks share one trial structure (fixation, sample, delay, test, response) and one ring code
of directions; they differ only in which test counts as a match (the sample itself, or the
sample rotated by ``rotation_deg``) and in how non-match tests are drawn.
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, fill_epoch, lay_out, ring_code, window
from rnnzoo.tasks._metrics import choice_correct
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform

_TOL = 1e-9

_REALISTIC = {
    "input_start_ms": Uniform(low_ms=200, high_ms=500),
    "delay_ms": Uniform(low_ms=800, high_ms=1200),
    "noise_scale": 0.1,
    "noise_decay_ms": 20.0,
}
_LONG = {"delay_ms": Uniform(low_ms=3000, high_ms=5000)}

_METRIC = Metric(
    "accuracy",
    "fraction of trials whose response-epoch outputs, averaged over the scored steps, are largest "
    "on the correct channel (match or non_match)",
    criterion=0.9,
)


class MatchToSampleParams(TaskParams):
    """Parameters of the delayed match-to-sample task; see the task card."""

    n_stimuli: int = Field(
        8,
        ge=2,
        le=64,
        description="number of stimulus directions 2*pi*k/n_stimuli",
        json_schema_extra={"unit": "directions"},
    )
    n_ring: int = Field(
        16,
        ge=2,
        le=256,
        description="number of ring input units (preferred angles 2*pi*i/n_ring)",
        json_schema_extra={"unit": "units"},
    )
    ring_width_deg: float = Field(
        22.5,
        gt=0,
        le=360,
        description="standard deviation of the Gaussian ring bump",
        json_schema_extra={"unit": "deg"},
    )
    stimulus_amplitude: float = Field(
        1.0, gt=0, le=100, description="peak of the ring bump", json_schema_extra={"unit": "a.u."}
    )
    p_match: float = Field(
        0.5,
        ge=0,
        le=1,
        description="probability that the test is a match",
        json_schema_extra={"unit": "1"},
    )
    input_start_ms: Duration = ms_field(300.0, "fixation before the sample (onset of the sample)")
    input_duration_ms: float = ms_field(500.0, "sample duration")
    delay_ms: Duration = ms_field(
        1000.0, "delay between sample offset and test onset", allow_zero=True
    )
    test_ms: float = ms_field(500.0, "test stimulus duration")
    response_ms: float = ms_field(500.0, "response epoch (fixation input off, choice reported)")
    response_grace_ms: float = ms_field(
        100.0, "first part of the response epoch left unscored (weight 0)", allow_zero=True
    )

    @model_validator(mode="after")
    def _response_is_scored(self) -> MatchToSampleParams:
        self.check_grace_leaves_scored_steps()
        return self


class RotatedMatchToSampleParams(MatchToSampleParams):
    """Parameters of the delayed match-to-rotated-sample task; see the task card."""

    rotation_deg: float = Field(
        90.0,
        gt=0,
        lt=360,
        description="counter-clockwise rotation of the sample that defines a match "
        "(a multiple of 360/n_stimuli)",
        json_schema_extra={"unit": "deg"},
    )
    p_lure: float = Field(
        0.25,
        ge=0,
        le=1,
        description="probability that a non-match test is the unrotated sample itself",
        json_schema_extra={"unit": "1"},
    )

    @model_validator(mode="after")
    def _rotation_on_the_grid(self) -> RotatedMatchToSampleParams:
        spacing = 360.0 / self.n_stimuli
        k = self.rotation_deg / spacing
        if abs(k - round(k)) > _TOL * max(1.0, k):
            raise ValueError(
                f"'rotation_deg' must be a multiple of 360/n_stimuli = {spacing:g} deg; "
                f"got {self.rotation_deg:g}"
            )
        if self.n_stimuli == 2 and self.p_lure < 1:
            raise ValueError(
                "'p_lure' must be 1 when n_stimuli = 2 (the sample itself is the only non-match "
                f"test); got {self.p_lure:g}"
            )
        return self


class _MatchToSample(Task):
    """Shared trial structure of the match-to-sample tasks (not registered)."""

    metric = _METRIC

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("fixation", *(f"ring_{i}" for i in range(self.params.n_ring)))

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("match", "non_match")

    def _rotation_steps(self) -> int:
        """The rotation that defines a match, in units of 360/n_stimuli (0 for plain DMS)."""
        return 0

    def _draw_tests(self, rng: np.random.Generator, sample: np.ndarray) -> np.ndarray:
        """Test direction indices (B,) given the sample indices."""
        raise NotImplementedError

    def correct_choice(self, conditions: dict[str, np.ndarray]) -> np.ndarray:
        """Index of the correct output (B,): 0 = match, 1 = non_match."""
        p = self.params
        rotated = (np.asarray(conditions["sample"]) + self._rotation_steps()) % p.n_stimuli
        return np.where(np.asarray(conditions["test"]) == rotated, 0, 1).astype(np.int64)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        fixation = p.steps(p.input_start_ms.sample(rng, batch_size))
        delay = p.steps(p.delay_ms.sample(rng, batch_size))
        sample = rng.integers(p.n_stimuli, size=batch_size)
        return {
            "fixation_steps": fixation,
            "delay_steps": delay,
            "sample": sample,
            "test": self._draw_tests(rng, sample),
        }

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        sample = np.asarray(conditions["sample"], dtype=np.int64)
        test = np.asarray(conditions["test"], dtype=np.int64)
        batch_size = sample.shape[0]

        def fixed(ms: float) -> np.ndarray:
            return np.full(batch_size, int(p.steps(ms)), dtype=np.int64)

        epochs, lengths = lay_out(
            {
                "fixation": conditions["fixation_steps"],
                "sample": fixed(p.input_duration_ms),
                "delay": conditions["delay_steps"],
                "test": fixed(p.test_ms),
                "response": fixed(p.response_ms),
            }
        )
        n_steps = int(lengths.max())
        width = math.radians(p.ring_width_deg)

        inputs = canvas(n_steps, batch_size, self.n_inputs)
        response_start = epochs["response"][:, 0]
        inputs[:, :, 0] = window(n_steps, np.zeros(batch_size, np.int64), response_start)
        for epoch, direction in (("sample", sample), ("test", test)):
            code = ring_code(
                2 * np.pi * direction / p.n_stimuli, p.n_ring, width, p.stimulus_amplitude
            )
            fill_epoch(inputs[:, :, 1:], *epochs[epoch].T, code)

        correct = np.eye(self.n_outputs, dtype=np.float32)[self.correct_choice(conditions)]
        targets = window(n_steps, *epochs["response"].T)[:, :, None] * correct[None, :, :]
        grace = window(n_steps, response_start, response_start + int(p.steps(p.response_grace_ms)))
        weights = np.broadcast_to(~grace[:, :, None], targets.shape)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        pairs = np.array(list(itertools.product(range(p.n_stimuli), repeat=2)), dtype=np.int64)
        n = len(pairs)
        return {
            "fixation_steps": np.full(
                n, int(p.steps(p.input_start_ms.expected_ms)), dtype=np.int64
            ),
            "delay_steps": np.full(n, int(p.steps(p.delay_ms.expected_ms)), dtype=np.int64),
            "sample": pairs[:, 0],
            "test": pairs[:, 1],
        }

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights[:, :, 0] > 0)
        return choice_correct(outputs, scored, self.correct_choice(batch.conditions))


_COMMON_DEFINITION = (
    "Directions theta_k = 2*pi*k/n_stimuli (k = 0..n_stimuli-1) are shown on n_ring input units "
    "ring_i (preferred angle 2*pi*i/n_ring) as stimulus_amplitude * exp(-d^2 / (2 w^2)), d the "
    "circular distance to the preferred angle and w = ring_width_deg in radians. Inputs: "
    "fixation, ring_0..ring_{n_ring-1}. Epochs, laid end to end (each duration rounded to steps "
    "by round half up): fixation (input_start_ms, drawn per trial), sample (input_duration_ms), "
    "delay (delay_ms, drawn per trial, may be 0), test (test_ms), response (response_ms). The "
    "fixation input is 1 from trial start until the response epoch starts (the go cue) and 0 "
    "during it; the ring shows the sample direction during the sample epoch, the test direction "
    "during the test epoch and is 0 otherwise. Outputs: match, non_match. Targets are 0 before "
    "the response epoch and during it one-hot (value 1) on the correct choice. Weights are 1 on "
    "every trial step except the first response_grace_ms of the response epoch (0). Metric "
    "accuracy: argmax over outputs of their mean over the scored response steps equals the "
    "correct choice (criterion 0.9). Conditions: fixation_steps, delay_steps, sample and test "
    "(direction indices k). "
)


@register
class DelayedMatchToSample(_MatchToSample):
    name = "delayed_match_to_sample"
    aliases = ("match_to_sample",)
    title = "Delayed match-to-sample"
    summary = (
        "Visual working memory: a sample direction is held through a delay and compared with a "
        "test direction; the network reports whether the test matches the sample. Prefrontal "
        "neurons of the macaque hold the sample across the delay and signal the match."
    )
    source = (
        "Miller E.K., Erickson C.A. & Desimone R. (1996) Neural mechanisms of visual working "
        "memory in prefrontal cortex of the macaque. Journal of Neuroscience 16(16):5154-5167. "
        "Ring input code (Gaussian bumps of width 22.5 deg) after Yang G.R., Joglekar M.R., Song "
        "H.F., Newsome W.T. & Wang X.-J. (2019) Task representations in neural networks trained "
        "to perform many cognitive tasks. Nature Neuroscience 22:297-306."
    )
    definition = _COMMON_DEFINITION + (
        "Draws per trial: sample k uniform on 0..n_stimuli-1; with probability p_match the test "
        "equals the sample (match, correct output 0 = match), otherwise the test is (k + o) mod "
        "n_stimuli with o uniform on 1..n_stimuli-1, i.e. uniform over the other directions "
        "(non-match, correct output 1 = non_match). Test grid: every ordered (sample, test) pair "
        "of directions (n_stimuli^2 trials, sample-major), fixation and delay at the steps of "
        "their expected durations."
    )
    Params = MatchToSampleParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "8 directions on a 16-unit ring; fixation 300, sample 500, delay 1000, "
            "test 500, response 500 ms; mild white input noise"
        ),
        "realistic": Version(
            "fixation U(200, 500) and delay U(800, 1200) ms jitter, correlated "
            "(OU, 20 ms) input noise of std 0.1",
            _REALISTIC,
        ),
        "long": Version("delay U(3000, 5000) ms: the sample is held for seconds", _LONG),
    }

    def _draw_tests(self, rng: np.random.Generator, sample: np.ndarray) -> np.ndarray:
        n = self.params.n_stimuli
        match = rng.uniform(size=sample.shape[0]) < self.params.p_match
        offset = rng.integers(1, n, size=sample.shape[0])
        return np.where(match, sample, (sample + offset) % n)


@register
class DelayedMatchToRotatedSample(_MatchToSample):
    name = "delayed_match_to_rotated_sample"
    aliases = ("dmrs",)
    title = "Delayed match-to-rotated-sample"
    summary = (
        "Working memory with a mental transformation: the test matches when it equals the sample "
        "rotated by a fixed angle, so the remembered direction must be rotated during the delay. "
        "Non-match tests include the unrotated sample itself as a lure."
    )
    source = (
        "Georgopoulos A.P., Lurito J.T., Petrides M., Schwartz A.B. & Massey J.T. (1989) Mental "
        "rotation of the neuronal population vector. Science 243:234-236 (mental rotation), "
        "combined with the delayed match-to-sample structure of Miller E.K., Erickson C.A. & "
        "Desimone R. (1996) Neural mechanisms of visual working memory in prefrontal cortex of the "
        "macaque. Journal of Neuroscience 16(16):5154-5167."
    )
    definition = _COMMON_DEFINITION + (
        "The match direction is the sample rotated counter-clockwise by rotation_deg (a multiple "
        "of 360/n_stimuli, 0 < rotation_deg < 360): index r = (k + rotation_deg * n_stimuli / 360) "
        "mod n_stimuli. Draws per trial: sample k uniform on 0..n_stimuli-1; with probability "
        "p_match the test is r (match, correct output 0 = match); otherwise (non-match, correct "
        "output 1 = non_match) the test is the unrotated sample k itself with probability p_lure "
        "(the lure) and else uniform over the n_stimuli-2 directions other than k and r (so a "
        "trial is a lure with overall probability (1 - p_match) * p_lure). Test grid: every "
        "ordered (sample, test) pair of directions (n_stimuli^2 trials, sample-major), fixation "
        "and delay at the steps of their expected durations."
    )
    Params = RotatedMatchToSampleParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "rotation 90 deg, lures in 1/4 of non-match trials; 8 directions, "
            "16-unit ring, DMS timing, mild white input noise"
        ),
        "realistic": Version(
            "fixation U(200, 500) and delay U(800, 1200) ms jitter, correlated "
            "(OU, 20 ms) input noise of std 0.1",
            _REALISTIC,
        ),
        "long": Version("delay U(3000, 5000) ms: the rotated sample is held for seconds", _LONG),
    }

    def _rotation_steps(self) -> int:
        p = self.params
        return round(p.rotation_deg * p.n_stimuli / 360.0) % p.n_stimuli

    def _draw_tests(self, rng: np.random.Generator, sample: np.ndarray) -> np.ndarray:
        p = self.params
        n, batch_size, rot = p.n_stimuli, sample.shape[0], self._rotation_steps()
        match = rng.uniform(size=batch_size) < p.p_match
        lure = rng.uniform(size=batch_size) < p.p_lure
        others = np.array([o for o in range(1, n) if o != rot], dtype=np.int64)  # not 0, not rot
        pick = rng.integers(max(len(others), 1), size=batch_size)
        other = (sample + others[pick]) % n if len(others) else sample
        return np.where(match, (sample + rot) % n, np.where(lure, sample, other))
