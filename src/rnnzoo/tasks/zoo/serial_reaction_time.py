"""K-choice serial reaction time task (the rodent 5-CSRTT; Carli et al. 1983, Robbins 2002)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Fixed, Uniform

_PHASES = ("iti", "light", "delay", "hold")
"""The epochs of one sub-trial, in order; epoch names are f"{phase}_{i}"."""


class SerialReactionTimeParams(TaskParams):
    """Parameters of the K-choice serial reaction time task; see the task card."""

    n_choices: int = Field(
        5,
        ge=2,
        le=12,
        description="number K of light/poke locations",
        json_schema_extra={"unit": "locations"},
    )
    n_trials: int = Field(
        4,
        ge=1,
        le=50,
        description="sub-trials per sequence",
        json_schema_extra={"unit": "sub-trials"},
    )
    iti_ms: Duration = ms_field(Fixed(ms=1000.0), "inter-trial interval before each light")
    input_duration_ms: Duration = ms_field(Fixed(ms=500.0), "stimulus duration (light on)")
    delay_ms: Duration = ms_field(
        Fixed(ms=0.0), "delay from light offset to the limited hold", allow_zero=True
    )
    hold_ms: float = ms_field(1000.0, "limited hold: the response window after the go cue")
    response_grace_ms: float = ms_field(
        100.0, "first part of each hold window that is not scored (weight 0)", allow_zero=True
    )

    @model_validator(mode="after")
    def _consistent(self) -> SerialReactionTimeParams:
        self.check_grace_leaves_scored_steps("hold_ms")
        return self


def _step_phase(
    epochs: dict[str, np.ndarray], n_trials: int, n_steps: int
) -> dict[str, np.ndarray]:
    """Per step (T, B): the sub-trial index and boolean masks of the light and hold phases.

    Built from +1/-1 events at epoch boundaries and a cumulative sum over time (no loop over
    steps or trials). Steps after the last hold window belong to the last sub-trial.
    """
    batch_size = next(iter(epochs.values())).shape[0]
    column = np.broadcast_to(np.arange(batch_size), (n_trials, batch_size))

    def starts_stops(phase: str) -> tuple[np.ndarray, np.ndarray]:
        bounds = np.stack([epochs[f"{phase}_{i}"] for i in range(n_trials)])  # (N, B, 2)
        return bounds[..., 0], bounds[..., 1]

    def cumulate(plus: np.ndarray, minus: np.ndarray | None = None) -> np.ndarray:
        events = np.zeros((n_steps + 1, batch_size), dtype=np.int64)
        np.add.at(events, (plus, column), 1)
        if minus is not None:
            np.add.at(events, (minus, column), -1)
        return np.cumsum(events, axis=0)[:n_steps]

    iti_start, _ = starts_stops("iti")
    light_start, light_stop = starts_stops("light")
    hold_start, hold_stop = starts_stops("hold")
    return {
        "subtrial": np.maximum(cumulate(iti_start) - 1, 0),
        "light": cumulate(light_start, light_stop) > 0,
        "hold": cumulate(hold_start, hold_stop) > 0,
    }


@register
class SerialReactionTime(Task):
    name = "serial_reaction_time"
    aliases = ("k_choice_serial_reaction_time", "5csrtt")
    title = "K-choice serial reaction time task (5-CSRTT)"
    summary = (
        "Visuospatial attention and impulse control: in each of a series of sub-trials the "
        "subject waits through an inter-trial interval, a brief light appears in one of K "
        "locations, and after the go cue it must poke the lit location within a limited hold. "
        "Responding before the go cue (a premature response) is an error, as is a wrong "
        "location."
    )
    source = (
        "Carli M., Robbins T.W., Evenden J.L. & Everitt B.J. (1983) Effects of lesions to "
        "ascending noradrenergic neurones on performance of a 5-choice serial reaction task in "
        "rats; implications for theories of dorsal noradrenergic bundle function based on "
        "selective attention and arousal. Behavioural Brain Research 9(3):361-380. Robbins T.W. "
        "(2002) The 5-choice serial reaction time task: behavioural pharmacology and functional "
        "neurochemistry. Psychopharmacology 163(3-4):362-380. rnnzoo's adaptation: the protocol's "
        "5 s ITI and 5 s limited hold are shortened (1 s each in the vanilla version), and the "
        "hold window starts at a go cue after the light (and optional delay) instead of at light "
        "onset, so every sub-trial has a fixed response window."
    )
    definition = (
        "One sequence = n_trials consecutive sub-trials. Inputs: fixation (the wait signal), "
        "light_0 .. light_{K-1}; outputs: poke_0 .. poke_{K-1}, K = n_choices. Sub-trial i has "
        "four epochs laid end to end, iti_i (iti_ms), light_i (input_duration_ms), delay_i "
        "(delay_ms, may be 0) and hold_i (hold_ms), and the sequence is iti_0, light_0, delay_0, "
        "hold_0, iti_1, ...; each duration is drawn independently per sub-trial in ms and rounded "
        "to steps by floor(d / dt_ms + 1/2). The lit location of each sub-trial is drawn "
        "uniformly from 0..K-1, independently. The fixation input is 1 during every ITI, light "
        "and delay epoch and 0 during every hold window (the go cue convention); light_k is 1 "
        "during light_i when location k is lit, else 0. Targets: 0 during ITI, light and delay "
        "epochs (a premature response is an error); during hold_i 1 on poke_{location_i} and 0 "
        "on the other outputs. Weights: 1 on every step except the first response_grace_ms of "
        "each hold window (0 on all outputs). Metric accuracy (per sequence): the fraction of "
        "sub-trials that are correct; sub-trial i is correct when (1) no premature response: "
        "every output's mean over the steps of iti_i, light_i and delay_i is < 0.5, and (2) the "
        "argmax over outputs of the mean output over the scored (weight > 0) steps of hold_i is "
        "location_i. Conditions, each (B, n_trials): location, iti_steps, light_steps, "
        "delay_steps, hold_steps. Test grid: K^2 sequences, row r*K + s (r, s in 0..K-1) lights "
        "location (r + s*i) mod K in sub-trial i, so every (sub-trial, location) pair occurs K "
        "times and every ordered pair of consecutive locations (repeats included) once at every "
        "sub-trial position; durations at their rounded expected values."
    )
    Params = SerialReactionTimeParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "5 locations, 4 sub-trials of 1 s ITI, 500 ms light, 1 s hold; mild white input noise"
        ),
        "realistic": Version(
            "jittered ITI (700-1300 ms), 300 ms light, correlated (OU, 20 ms) noise of std 0.1",
            {
                "iti_ms": Uniform(low_ms=700.0, high_ms=1300.0),
                "input_duration_ms": Fixed(ms=300.0),
                "noise_scale": 0.1,
                "noise_decay_ms": 20.0,
            },
        ),
        "long": Version(
            "a 1-2 s delay between light offset and the hold window: attention plus memory",
            {"delay_ms": Uniform(low_ms=1000.0, high_ms=2000.0)},
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of sub-trials with no premature response (every output's mean over ITI, light "
        "and delay < 0.5) and the lit location as argmax of the mean output over the scored hold "
        "steps",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("fixation", *(f"light_{k}" for k in range(self.params.n_choices)))

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(f"poke_{k}" for k in range(self.params.n_choices))

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        shape = (batch_size, p.n_trials)
        size = batch_size * p.n_trials
        return {
            "location": rng.integers(p.n_choices, size=shape),
            "iti_steps": p.steps(p.iti_ms.sample(rng, size)).reshape(shape),
            "light_steps": p.steps(p.input_duration_ms.sample(rng, size)).reshape(shape),
            "delay_steps": p.steps(p.delay_ms.sample(rng, size)).reshape(shape),
            "hold_steps": np.full(shape, p.steps(p.hold_ms)),
        }

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        location = np.asarray(conditions["location"], dtype=np.int64)
        batch_size, n_trials = location.shape
        epochs, lengths = lay_out(
            {
                f"{phase}_{i}": np.asarray(conditions[f"{phase}_steps"])[:, i]
                for i in range(n_trials)
                for phase in _PHASES
            }
        )
        n_steps, k = int(lengths.max()), p.n_choices
        phase = _step_phase(epochs, n_trials, n_steps)
        lit = np.take_along_axis(location.T, phase["subtrial"], axis=0)  # (T, B)
        lit_one_hot = lit[:, :, None] == np.arange(k)  # (T, B, K)

        inputs = canvas(n_steps, batch_size, 1 + k)
        inputs[:, :, 0] = ~phase["hold"]
        inputs[:, :, 1:] = lit_one_hot & phase["light"][:, :, None]
        targets = (lit_one_hot & phase["hold"][:, :, None]).astype(np.float32)

        hold_start = np.stack([epochs[f"hold_{i}"][:, 0] for i in range(n_trials)])  # (N, B)
        grace_stop = np.minimum(
            hold_start + p.steps(p.response_grace_ms),
            np.stack([epochs[f"hold_{i}"][:, 1] for i in range(n_trials)]),
        )
        grace = np.zeros((n_steps + 1, batch_size), dtype=np.int64)
        column = np.broadcast_to(np.arange(batch_size), hold_start.shape)
        np.add.at(grace, (hold_start, column), 1)
        np.add.at(grace, (grace_stop, column), -1)
        in_grace = np.cumsum(grace, axis=0)[:n_steps] > 0
        weights = np.broadcast_to(~in_grace[:, :, None], targets.shape).astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        k, n = p.n_choices, p.n_trials
        row, shift = np.divmod(np.arange(k * k), k)
        shape = (k * k, n)
        return {
            "location": (row[:, None] + shift[:, None] * np.arange(n)[None, :]) % k,
            "iti_steps": np.full(shape, p.steps(p.iti_ms.expected_ms)),
            "light_steps": np.full(shape, p.steps(p.input_duration_ms.expected_ms)),
            "delay_steps": np.full(shape, p.steps(p.delay_ms.expected_ms)),
            "hold_steps": np.full(shape, p.steps(p.hold_ms)),
        }

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        location = batch.conditions["location"]
        batch_size, n_trials = location.shape
        phase = _step_phase(batch.epochs, n_trials, batch.n_steps)
        waiting = batch.valid & ~phase["hold"]
        scored_hold = phase["hold"] & (batch.weights.sum(axis=2) > 0)
        slot = np.arange(batch_size)[None, :] * n_trials + phase["subtrial"]  # (T, B)

        def mean_per_subtrial(mask: np.ndarray) -> np.ndarray:
            """Mean of each output over the masked steps of each sub-trial -> (B, N, O)."""
            index = slot[mask]
            count = np.bincount(index, minlength=batch_size * n_trials)
            sums = np.stack(
                [
                    np.bincount(index, weights=outputs[..., o][mask], minlength=count.size)
                    for o in range(outputs.shape[2])
                ],
                axis=1,
            )
            return (sums / np.maximum(count, 1)[:, None]).reshape(batch_size, n_trials, -1)

        patient = (mean_per_subtrial(waiting) < 0.5).all(axis=2)
        chosen = np.argmax(mean_per_subtrial(scored_hold), axis=2) == location
        return (patient & chosen).mean(axis=1)
