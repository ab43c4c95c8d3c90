"""What the visual cognitive tasks of seed 004 Fig. 5 share: procedurally drawn images held
once per trial (`TrialBatch.stimuli`), the zoo's decision conventions, and disc rendering.

Inputs: the presentation of each frame (frame_1..frame_K, the first K inputs; 1 while the
frame is on screen) and ``fixation`` (1 until the response epoch: the go cue).  Outputs: one
channel per choice, targets 0 before the response and one-hot during it; weights 1 on every
trial step except the first ``response_grace_ms`` of the response; the metric is the argmax of
the outputs averaged over the scored response steps (the zoo's decision accuracy).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from rnnzoo.tasks._build import lay_out, window
from rnnzoo.tasks._metrics import choice_correct
from rnnzoo.tasks.base import Task
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field


class VisualParams(TaskParams):
    """Parameters every Fig. 5 task has (image size, response epoch)."""

    noise_scale: float = Field(
        0.0,
        ge=0,
        le=10,
        description="std of the noise on the presentation and fixation inputs (pixel noise is "
        "the network's pixel_noise option)",
        json_schema_extra={"unit": "a.u."},
    )
    image_size: int = Field(
        16,
        ge=8,
        le=224,
        description="side of the square images",
        json_schema_extra={"unit": "pixels"},
    )
    response_ms: float = ms_field(300.0, "response epoch (fixation input off, choice reported)")
    response_grace_ms: float = ms_field(
        100.0, "first part of the response epoch left unscored (weight 0)", allow_zero=True
    )


def render_discs(size: int, x: np.ndarray, y: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Anti-aliased white discs on black: centres x, y and radii (..., D) in pixels (radius 0 =
    no disc) -> float32 images (..., size, size), intensity clip(r + 1/2 - distance, 0, 1) of
    the nearest disc."""
    grid = np.arange(size, dtype=np.float64) + 0.5
    out = np.zeros((*x.shape[:-1], size, size), dtype=np.float64)
    for d in range(x.shape[-1]):
        dx = grid[None, :] - x[..., d, None, None]
        dy = grid[:, None] - y[..., d, None, None]
        r = radius[..., d, None, None]
        inside = np.clip(r + 0.5 - np.sqrt(dx**2 + dy**2), 0.0, 1.0) * (r > 0)
        np.maximum(out, inside, out=out)
    return out.astype(np.float32)


class VisualDecisionTask(Task):
    """Epochs laid end to end; the frames shown during epoch ``stimulus_epoch``, ``frame_steps``
    steps each; a choice reported on the 'response' epoch.  Subclasses declare the epochs, the
    choices, ``n_frames`` and the images."""

    epoch_fields: ClassVar[tuple[tuple[str, str], ...]]
    stimulus_epoch: ClassVar[str] = "stimulus"

    @property
    def n_frames(self) -> int:
        return 1

    @property
    def choice_names(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def input_names(self) -> tuple[str, ...]:
        return (*(f"frame_{k + 1}" for k in range(self.n_frames)), "fixation")

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.choice_names

    @property
    def stimulus_shape(self) -> tuple[int, int, int, int]:
        return (self.n_frames, 1, self.params.image_size, self.params.image_size)

    def _sample_epochs(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        return {
            f"{epoch}_steps": p.steps(getattr(p, name).sample(rng, batch_size))
            if hasattr(getattr(p, name), "sample")
            else np.full(batch_size, int(p.steps(getattr(p, name))), dtype=np.int64)
            for epoch, name in self.epoch_fields
        }

    def _expected_epochs(self, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        out = {}
        for epoch, name in self.epoch_fields:
            value = getattr(p, name)
            ms = value.expected_ms if hasattr(value, "expected_ms") else value
            out[f"{epoch}_steps"] = np.full(batch_size, int(p.steps(ms)), dtype=np.int64)
        return out

    def _frame_steps(self, stimulus_steps: np.ndarray) -> np.ndarray:
        """Steps each frame stays on screen (B,)."""
        return np.maximum(np.asarray(stimulus_steps) // self.n_frames, 1)

    def _decision_batch(
        self, conditions: dict[str, np.ndarray], choice: np.ndarray, stimuli: np.ndarray
    ) -> TrialBatch:
        """The batch of trials whose correct choice index is ``choice`` (B,)."""
        p = self.params
        epochs, lengths = lay_out(
            {epoch: conditions[f"{epoch}_steps"] for epoch, _ in self.epoch_fields}
        )
        n_steps, batch_size = int(lengths.max()), len(lengths)
        n_frames = self.n_frames
        inputs = np.zeros((n_steps, batch_size, n_frames + 1), dtype=np.float32)
        start = epochs[self.stimulus_epoch][:, 0]
        frame = self._frame_steps(conditions[f"{self.stimulus_epoch}_steps"])
        for k in range(n_frames):
            stop = np.where(
                k == n_frames - 1, epochs[self.stimulus_epoch][:, 1], start + (k + 1) * frame
            )
            inputs[:, :, k] = window(n_steps, start + k * frame, stop)
        response = epochs["response"]
        inputs[:, :, -1] = window(n_steps, np.zeros(batch_size, dtype=np.int64), response[:, 0])
        targets = np.zeros((n_steps, batch_size, len(self.choice_names)), dtype=np.float32)
        in_response = window(n_steps, *response.T)
        targets[:, np.arange(batch_size), choice] = in_response
        grace = window(n_steps, response[:, 0], response[:, 0] + int(p.steps(p.response_grace_ms)))
        weights = np.broadcast_to((~grace)[:, :, None], targets.shape).astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions, stimuli=stimuli)

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights[:, :, 0] > 0)
        return choice_correct(outputs, scored, _correct_choice(batch))


def _correct_choice(batch: TrialBatch) -> np.ndarray:
    """The correct choice index (B,): the one-hot target of the response epoch."""
    response = batch.epoch_mask("response")
    return (batch.targets * response[:, :, None]).sum(axis=0).argmax(axis=-1)
