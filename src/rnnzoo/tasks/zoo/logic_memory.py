"""Boolean functions of two remembered pulses: AND, OR and XOR memory (after Jarne & Laje 2023)."""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out, window
from rnnzoo.tasks._metrics import choice_correct
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Fixed, Uniform

_SOURCE = (
    "Jarne C. & Laje R. (2023) Exploring weight initialization, diversity of solutions, and "
    "degradation in recurrent neural networks trained for temporal and decision-making tasks. "
    "Journal of Computational Neuroscience 51:407-431 (the AND, OR and XOR tasks on two input "
    "pulses, there presented together and answered at once). rnnzoo's adaptation: a delay and a "
    "go cue make it a memory task, the answer is given on two choice channels, and the pulse "
    "timing, delays and versions are rnnzoo's."
)


def _definition(rule: str) -> str:
    """The card definition shared by the logic-memory tasks, for the Boolean ``rule``."""
    return (
        "Inputs: fixation, a, b. Outputs: false, true. Bits A and B are drawn independently, each "
        "true with probability p_true. Bit value v is shown as a pulse of height +pulse_amplitude "
        "(true) or -pulse_amplitude (false) lasting input_duration_ms on its channel (a or b); the "
        "channels are 0 elsewhere. Epochs, laid end to end: fixation (input_start_ms, the onset of "
        "pulse A), stimulus (from A's onset to the end of the later pulse: b_offset_ms + "
        "input_duration_ms), delay (delay_ms, may be 0) and response (response_ms); pulse B starts "
        "b_offset_ms after A's onset (0 = simultaneous). Extra epochs pulse_a and pulse_b mark the "
        "two pulses. Each duration is drawn once per trial in ms and rounded to steps by floor(d / "
        "dt_ms + 1/2). The fixation input is 1 from trial start until the response epoch starts "
        "(the go cue) and 0 during it. Correct choice: " + rule + " (0 = false, 1 = true). "
        "Targets: 0 before the response epoch; during it 1 on the correct choice channel and 0 on "
        "the other. Weights: 1 on every step of the trial except the first response_grace_ms of "
        "the response epoch (0 on all outputs). Metric accuracy: a trial is correct when the "
        "argmax of the outputs averaged over the scored response steps is the correct choice. "
        "Conditions: a, b (0/1), fixation_steps, input_steps, b_offset_steps, delay_steps, "
        "response_steps and, recomputed from a and b by build, choice. Test grid: the 4 (A, B) "
        "combinations (00, 01, 10, 11) with every duration at its rounded expected value."
    )


class LogicMemoryParams(TaskParams):
    """Parameters of the logic-memory tasks; see the task cards."""

    input_start_ms: Duration = ms_field(
        Fixed(ms=200.0), "fixation epoch: onset of pulse A after trial start"
    )
    input_duration_ms: float = ms_field(100.0, "duration of each pulse")
    b_offset_ms: Duration = ms_field(
        Fixed(ms=0.0),
        "onset of pulse B after the onset of pulse A (0 = simultaneous)",
        allow_zero=True,
    )
    delay_ms: Duration = ms_field(
        Fixed(ms=500.0), "delay from the end of the later pulse to the go cue", allow_zero=True
    )
    response_ms: float = ms_field(500.0, "response epoch (fixation input off)")
    response_grace_ms: float = ms_field(
        100.0, "first part of the response epoch that is not scored (weight 0)", allow_zero=True
    )
    p_true: float = Field(
        0.5,
        ge=0,
        le=1,
        description="probability that each bit (A, B) is true",
        json_schema_extra={"unit": "probability"},
    )
    pulse_amplitude: float = Field(
        1.0,
        gt=0,
        le=100,
        description="pulse height (+ for true, - for false)",
        json_schema_extra={"unit": "a.u."},
    )

    @model_validator(mode="after")
    def _consistent(self) -> LogicMemoryParams:
        self.check_grace_leaves_scored_steps()
        return self


_VERSIONS: dict[str, Version] = {
    "vanilla": Version(
        "simultaneous 100 ms pulses at 200 ms, 500 ms delay, mild white input noise"
    ),
    "realistic": Version(
        "jittered pulse onset (100-300 ms) and delay (300-700 ms), correlated (OU, 20 ms) noise "
        "of std 0.1",
        {
            "input_start_ms": Uniform(low_ms=100.0, high_ms=300.0),
            "delay_ms": Uniform(low_ms=300.0, high_ms=700.0),
            "noise_scale": 0.1,
            "noise_decay_ms": 20.0,
        },
    ),
    "long": Version(
        "sequential pulses (B 300 ms after A) and a 2-4 s delay",
        {"b_offset_ms": Fixed(ms=300.0), "delay_ms": Uniform(low_ms=2000.0, high_ms=4000.0)},
    ),
}


class _LogicMemory(Task):
    """Shared trial structure; subclasses set the Boolean function ``_gate``."""

    Params = LogicMemoryParams
    source = _SOURCE
    versions: ClassVar[dict[str, Version]] = _VERSIONS
    metric = Metric(
        "accuracy",
        "argmax of the outputs averaged over the scored response steps is the Boolean answer",
        criterion=0.9,
    )

    @staticmethod
    def _gate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The Boolean function of the two bits (B,) -> (B,) of 0/1."""
        raise NotImplementedError

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("fixation", "a", "b")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("false", "true")

    def _choice(self, conditions: dict[str, np.ndarray]) -> np.ndarray:
        a = np.asarray(conditions["a"]).astype(bool)
        b = np.asarray(conditions["b"]).astype(bool)
        return self._gate(a, b).astype(np.int64)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        conditions = {
            "a": (rng.random(batch_size) < p.p_true).astype(np.int64),
            "b": (rng.random(batch_size) < p.p_true).astype(np.int64),
            "fixation_steps": p.steps(p.input_start_ms.sample(rng, batch_size)),
            "input_steps": np.full(batch_size, p.steps(p.input_duration_ms)),
            "b_offset_steps": p.steps(p.b_offset_ms.sample(rng, batch_size)),
            "delay_steps": p.steps(p.delay_ms.sample(rng, batch_size)),
            "response_steps": np.full(batch_size, p.steps(p.response_ms)),
        }
        conditions["choice"] = self._choice(conditions)
        return conditions

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        conditions = {**conditions, "choice": self._choice(conditions)}
        width = np.asarray(conditions["input_steps"])
        offset = np.asarray(conditions["b_offset_steps"])
        epochs, lengths = lay_out(
            {
                "fixation": conditions["fixation_steps"],
                "stimulus": offset + width,
                "delay": conditions["delay_steps"],
                "response": conditions["response_steps"],
            }
        )
        a_on = epochs["stimulus"][:, 0]
        epochs["pulse_a"] = np.stack([a_on, a_on + width], axis=1)
        epochs["pulse_b"] = np.stack([a_on + offset, a_on + offset + width], axis=1)
        n_steps, batch_size = int(lengths.max()), len(lengths)
        go = epochs["response"][:, 0]

        inputs = canvas(n_steps, batch_size, 3)
        inputs[:, :, 0] = window(n_steps, np.zeros_like(go), go)
        for channel, key in ((1, "a"), (2, "b")):
            sign = 2.0 * np.asarray(conditions[key]) - 1.0
            pulse = window(n_steps, *epochs[f"pulse_{key}"].T)
            inputs[:, :, channel] = pulse * (p.pulse_amplitude * sign)[None, :]

        in_response = window(n_steps, go, epochs["response"][:, 1])
        one_hot = np.eye(2, dtype=np.float32)[conditions["choice"]]  # (B, 2)
        targets = in_response[:, :, None] * one_hot[None, :, :]
        grace = window(n_steps, go, go + p.steps(p.response_grace_ms))
        weights = np.broadcast_to(~grace[:, :, None], targets.shape).astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        bits = np.array(list(itertools.product((0, 1), repeat=2)), dtype=np.int64)
        n = len(bits)
        conditions = {
            "a": bits[:, 0],
            "b": bits[:, 1],
            "fixation_steps": np.full(n, p.steps(p.input_start_ms.expected_ms)),
            "input_steps": np.full(n, p.steps(p.input_duration_ms)),
            "b_offset_steps": np.full(n, p.steps(p.b_offset_ms.expected_ms)),
            "delay_steps": np.full(n, p.steps(p.delay_ms.expected_ms)),
            "response_steps": np.full(n, p.steps(p.response_ms)),
        }
        conditions["choice"] = self._choice(conditions)
        return conditions

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights.sum(axis=2) > 0)
        return choice_correct(outputs, scored, batch.conditions["choice"])


@register
class AndMemory(_LogicMemory):
    name = "and_memory"
    title = "AND memory"
    summary = (
        "Two binary pulses (A, B) are shown, then withheld through a delay; at the go cue the "
        "network reports A AND B. The simplest nonlinear, but linearly separable, function of "
        "two remembered bits."
    )
    definition = _definition("A AND B (true only when both bits are true)")

    @staticmethod
    def _gate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a & b


@register
class OrMemory(_LogicMemory):
    name = "or_memory"
    title = "OR memory"
    summary = (
        "Two binary pulses (A, B) are shown, then withheld through a delay; at the go cue the "
        "network reports A OR B (linearly separable, like AND)."
    )
    definition = _definition("A OR B (true when at least one bit is true)")

    @staticmethod
    def _gate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a | b


@register
class XorMemory(_LogicMemory):
    name = "xor_memory"
    title = "XOR memory"
    summary = (
        "Two binary pulses (A, B) are shown, then withheld through a delay; at the go cue the "
        "network reports A XOR B. Not linearly separable in the inputs: the network must build a "
        "nonlinear conjunction of the two remembered bits."
    )
    definition = _definition("A XOR B (true when exactly one bit is true)")

    @staticmethod
    def _gate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a ^ b
