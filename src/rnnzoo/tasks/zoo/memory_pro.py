"""Memory-pro delayed response (seed 004 appendix B.4; Driscoll, Shenoy & Sussillo 2024).

A stimulus is shown, held through a delay, and reproduced after the go cue. The stimulus is a
circular variable (trained networks form a ring attractor), a continuous linear variable (a line
attractor) or one of ``n_states`` discrete states (point attractors).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out, window
from rnnzoo.tasks._metrics import choice_correct, mean_in_window
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform

_METRICS = {
    "circular": Metric(
        "angle_score",
        "1 - |e| / pi, e the angle between the reported direction atan2(mean sin, mean cos) "
        "over the scored response steps and the stimulus angle (1 exact, 0 opposite)",
        criterion=0.95,
    ),
    "linear": Metric(
        "value_score",
        "max(0, 1 - |e| / 2), e the difference between the mean output over the scored "
        "response steps and the stimulus value in [-1, 1] (1 exact, 0 off by the full range)",
        criterion=0.95,
    ),
    "discrete": Metric(
        "accuracy",
        "argmax of the outputs averaged over the scored response steps is the stimulus state",
        criterion=0.95,
    ),
}

_EPOCHS = (
    ("fixation", "input_start_ms"),
    ("stimulus", "input_duration_ms"),
    ("delay", "delay_ms"),
    ("response", "response_ms"),
)


class MemoryProParams(TaskParams):
    """Parameters of the memory-pro delayed response; see the task card."""

    dt_ms: float = Field(
        20.0,
        gt=0,
        le=100,
        description="sampling period (Driscoll et al. 2024 simulate at 20 ms)",
        json_schema_extra={"unit": "ms"},
    )
    stimulus: Literal["circular", "linear", "discrete"] = Field(
        "circular",
        description="stimulus variable: circular (angle), linear (value in [-1, 1]) or discrete",
    )
    n_states: int = Field(
        8,
        ge=2,
        le=64,
        description="number of discrete states (stimulus = discrete)",
        json_schema_extra={"unit": "states"},
    )
    input_start_ms: Duration = ms_field(
        Uniform(low_ms=300, high_ms=700), "fixation epoch before the stimulus"
    )
    input_duration_ms: Duration = ms_field(Uniform(low_ms=200, high_ms=1600), "stimulus epoch")
    delay_ms: Duration = ms_field(
        Uniform(low_ms=200, high_ms=1600), "delay (memory) epoch", allow_zero=True
    )
    response_ms: Duration = ms_field(
        Uniform(low_ms=300, high_ms=700), "response epoch (fixation input off)"
    )
    response_grace_ms: float = ms_field(
        100.0, "first part of the response epoch left unscored (weight 0)", allow_zero=True
    )
    test_points: int = Field(
        16,
        ge=2,
        le=1000,
        description="angles (circular) or values (linear) in the test grid",
        json_schema_extra={"unit": "points"},
    )

    @model_validator(mode="after")
    def _response_is_scored(self) -> MemoryProParams:
        self.check_grace_leaves_scored_steps()
        return self


@register
class MemoryPro(Task):
    name = "memory_pro"
    aliases = ("memory_pro_delayed_response",)
    title = "Memory-pro delayed response"
    summary = (
        "A stimulus is shown, removed for a random delay, and reproduced after the fixation cue "
        "goes off. Random epoch durations promote attractors: a circular stimulus yields a ring "
        "attractor, a linear one a line attractor and eight discrete states eight point "
        "attractors, which the response epoch rotates onto the output axes."
    )
    source = (
        "Soo W.W.M., Battista A., Radmard P. & Wang X.-J. (2024) Recurrent neural network "
        "dynamical systems for biological vision. NeurIPS 2024 (rnnzoo seed 004), appendix B.4 "
        "'Attractor formation' and Figure S3: fixation 300-700 ms, stimulus 200-1600 ms, delay "
        "200-1600 ms, response 300-700 ms (random durations); circular, linear or 8-state "
        "stimulus; the response reproduces the stimulus. The task is the MemoryPro task of "
        "Driscoll L.N., Shenoy K. & Sussillo D. (2024) Flexible multitask computation in "
        "recurrent networks utilizes shared dynamical motifs. Nature Neuroscience (2024), "
        "simulated there at 20 ms steps. rnnzoo's choices where B.4 is silent: uniform laws on "
        "those ranges, the (cos, sin) code of the angle (as in Driscoll et al.'s tasks), one-hot "
        "states, the value range [-1, 1], the 100 ms unscored start of the response, the input "
        "noise and the metrics."
    )
    definition = (
        "Epochs, laid end to end, each drawn per trial from its uniform law and rounded to steps "
        "by floor(ms / dt_ms + 1/2): fixation (input_start_ms), stimulus (input_duration_ms), "
        "delay (delay_ms), response (response_ms). Input fixation is 1 from trial start until "
        "the response epoch starts (the go cue) and 0 during it. Stimulus channels are on during "
        "the stimulus epoch only; targets are 0 before the response epoch and during it equal "
        "the stimulus code. Weights: 1 on every trial step except the first response_grace_ms of "
        "the response epoch (0). Input noise: the zoo's white noise of std noise_scale (0.05) on "
        "every input channel (B.4 gives none). By stimulus kind: circular: angle theta uniform on [0, 2 pi), "
        "inputs stimulus_cos = cos theta, stimulus_sin = sin theta, outputs response_cos, "
        "response_sin; metric angle_score = 1 - |e| / pi, e the wrapped difference between "
        "atan2(mean response_sin, mean response_cos) over the scored response steps and theta. "
        "linear: value x uniform on [-1, 1], input stimulus = x, output response; metric "
        "value_score = max(0, 1 - |mean response - x| / 2). discrete: state k uniform on "
        "0..n_states-1, inputs state_0.. one-hot (1 on state_k), outputs response_0.. one-hot; "
        "metric accuracy = argmax of the mean outputs over the scored response steps is k. "
        "Conditions: stimulus_value (theta in rad, x, or k as a float) and "
        "{fixation,stimulus,delay,response}_steps. Test grid: test_points angles 2 pi j / "
        "test_points, or test_points values evenly spaced on [-1, 1], or every state once; "
        "epochs at the steps of their expected durations."
    )
    Params = MemoryProParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004 B.4 with a circular stimulus (ring attractor): random epochs 300-700, "
            "200-1600, 200-1600, 300-700 ms at 20 ms steps, mild white input noise"
        ),
        "realistic": Version(
            "correlated (OU, 20 ms) input noise of std 0.1",
            {"noise_scale": 0.1, "noise_decay_ms": 20.0},
        ),
        "long": Version(
            "delay U(1000, 5000) ms: the stimulus is held for seconds",
            {"delay_ms": Uniform(low_ms=1000, high_ms=5000)},
        ),
        "linear": Version(
            "seed 004 B.4 with a continuous linear stimulus (line attractor)",
            {"stimulus": "linear"},
        ),
        "discrete": Version(
            "seed 004 B.4 with 8 discrete states (point attractors)", {"stimulus": "discrete"}
        ),
    }

    @property
    def metric(self) -> Metric:  # type: ignore[override]
        """The metric of this stimulus kind."""
        return _METRICS[self.params.stimulus]

    @property
    def input_names(self) -> tuple[str, ...]:
        kind = self.params.stimulus
        if kind == "circular":
            return ("fixation", "stimulus_cos", "stimulus_sin")
        if kind == "linear":
            return ("fixation", "stimulus")
        return ("fixation", *(f"state_{k}" for k in range(self.params.n_states)))

    @property
    def output_names(self) -> tuple[str, ...]:
        kind = self.params.stimulus
        if kind == "circular":
            return ("response_cos", "response_sin")
        if kind == "linear":
            return ("response",)
        return tuple(f"response_{k}" for k in range(self.params.n_states))

    def stimulus_code(self, value: np.ndarray) -> np.ndarray:
        """Input (and target) code (B, C) of stimulus values (B,)."""
        value = np.asarray(value, dtype=np.float64)
        kind = self.params.stimulus
        if kind == "circular":
            return np.stack([np.cos(value), np.sin(value)], axis=1)
        if kind == "linear":
            return value[:, None]
        return np.eye(self.params.n_states)[value.astype(np.int64)]

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        conditions = {
            f"{epoch}_steps": p.steps(getattr(p, field).sample(rng, batch_size))
            for epoch, field in _EPOCHS
        }
        if p.stimulus == "circular":
            value = rng.uniform(0.0, 2 * np.pi, size=batch_size)
        elif p.stimulus == "linear":
            value = rng.uniform(-1.0, 1.0, size=batch_size)
        else:
            value = rng.integers(p.n_states, size=batch_size).astype(np.float64)
        conditions["stimulus_value"] = value
        return conditions

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        epochs, lengths = lay_out({epoch: conditions[f"{epoch}_steps"] for epoch, _ in _EPOCHS})
        n_steps, batch_size = int(lengths.max()), len(lengths)
        code = self.stimulus_code(conditions["stimulus_value"])  # (B, C)
        go = epochs["response"][:, 0]

        inputs = canvas(n_steps, batch_size, self.n_inputs)
        inputs[:, :, 0] = window(n_steps, np.zeros_like(go), go)
        inputs[:, :, 1:] = window(n_steps, *epochs["stimulus"].T)[:, :, None] * code[None]
        targets = window(n_steps, *epochs["response"].T)[:, :, None] * code[None]
        grace = window(n_steps, go, go + int(p.steps(p.response_grace_ms)))
        weights = np.broadcast_to(~grace[:, :, None], targets.shape)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        if p.stimulus == "circular":
            value = 2 * np.pi * np.arange(p.test_points) / p.test_points
        elif p.stimulus == "linear":
            value = np.linspace(-1.0, 1.0, p.test_points)
        else:
            value = np.arange(p.n_states, dtype=np.float64)
        conditions = {
            f"{epoch}_steps": np.full(
                len(value), int(p.steps(getattr(p, field).expected_ms)), dtype=np.int64
            )
            for epoch, field in _EPOCHS
        }
        conditions["stimulus_value"] = value
        return conditions

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights[:, :, 0] > 0)
        kind = self.params.stimulus
        if kind == "discrete":
            state = np.asarray(batch.conditions["stimulus_value"]).astype(np.int64)
            return choice_correct(outputs, scored, state)
        reported = mean_in_window(outputs, scored)
        target = mean_in_window(batch.targets.astype(np.float64), scored)  # the float32 code
        if kind == "linear":
            return np.maximum(0.0, 1.0 - np.abs(reported[:, 0] - target[:, 0]) / 2.0)
        angles = np.arctan2(reported[:, 1], reported[:, 0]) - np.arctan2(target[:, 1], target[:, 0])
        return 1.0 - np.abs(np.angle(np.exp(1j * angles))) / np.pi
