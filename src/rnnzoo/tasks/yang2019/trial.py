"""Painting Yang et al. (2019) trials: inputs, targets and the cost mask, all tasks alike.

A trial is described by step indices per trial (B,): ``start`` (end of any warm-up), ``go``
(the go cue), ``length``, the step where the fixation input goes off, the stimuli and the
response angle (NaN on trials that must end in fixation). Nothing loops over time steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnzoo.tasks._build import canvas, fill_epoch, window
from rnnzoo.tasks.yang2019.encoding import (
    N_RING,
    OUTPUT_NAMES,
    RING1,
    RING2,
    TARGET_BASELINE,
    bump,
)
from rnnzoo.tasks.yang2019.params import YangParams


@dataclass(frozen=True)
class Stimulus:
    """One stimulus, per trial: modality (1 or 2), angle (rad), strength, [start, stop) steps."""

    modality: np.ndarray
    angle: np.ndarray
    strength: np.ndarray
    start: np.ndarray
    stop: np.ndarray


@dataclass(frozen=True)
class Timeline:
    """Per-trial step indices (B,) of one batch."""

    start: np.ndarray
    go: np.ndarray
    length: np.ndarray
    fixation_off: np.ndarray

    @property
    def n_steps(self) -> int:
        """T, the longest trial."""
        return int(self.length.max())


def paint_inputs(
    timeline: Timeline, rule_unit: int, n_inputs: int, stimuli: list[Stimulus]
) -> np.ndarray:
    """Inputs (T, B, n_inputs): fixation 1 on [start, fixation_off), stimuli on their ring
    (strength * bump), rule unit 1 on every step of the trial (warm-up included)."""
    n_steps, zero = timeline.n_steps, np.zeros_like(timeline.start)
    inputs = canvas(n_steps, len(zero), n_inputs)
    inputs[:, :, 0] = window(n_steps, timeline.start, timeline.fixation_off)
    for stim in stimuli:
        if not stim.strength.any():
            continue
        code = stim.strength[:, None] * bump(stim.angle)
        if np.all(stim.modality == stim.modality[0]):  # one ring for the whole batch
            ring = RING1 if stim.modality[0] == 1 else RING2
            fill_epoch(inputs[:, :, ring], stim.start, stim.stop, code)
        else:
            both = np.concatenate([code * (stim.modality == m)[:, None] for m in (1, 2)], axis=1)
            fill_epoch(inputs[:, :, RING1.start : RING2.stop], stim.start, stim.stop, both)
    inputs[:, :, rule_unit] = window(n_steps, zero, timeline.length)
    return inputs


def paint_targets(
    timeline: Timeline, response_angle: np.ndarray, fixation_target: float
) -> np.ndarray:
    """Targets (T, B, 33): every output at the 0.05 baseline; the fixation output at
    ``fixation_target`` from ``start`` to the go cue (to the end on fixate trials, where
    ``response_angle`` is NaN); after the go cue the ring adds 0.8 * bump(response angle)."""
    n_steps = timeline.n_steps
    fixate = np.isnan(response_angle)
    targets = np.full((n_steps, len(fixate), len(OUTPUT_NAMES)), TARGET_BASELINE, np.float32)
    holding = window(n_steps, timeline.start, np.where(fixate, timeline.length, timeline.go))
    targets[:, :, 0] = np.where(holding, fixation_target, TARGET_BASELINE)
    code = bump(np.where(fixate, 0.0, response_angle)) * ~fixate[:, None]
    fill_epoch(targets[:, :, 1 : 1 + N_RING], timeline.go, timeline.length, code)
    return targets


def cost_mask(timeline: Timeline, params: YangParams) -> np.ndarray:
    """Loss weights (T, B, 33) from the cost mask m (same on every output except fixation):
    m = 0 on the warm-up and the first ``mask_start_ms`` of the trial, 1 from there to the go
    cue, 0 for ``response_grace_ms`` after it, ``response_weight`` to the end; the fixation
    column is multiplied by ``fixation_output_weight``. Weights are m^2 when the mask is inside
    the square (the original loss mean((m (y - z))^2)), else m."""
    n_steps = timeline.n_steps
    scored_from = timeline.start + int(params.steps(params.mask_start_ms))
    check = timeline.go + int(params.steps(params.response_grace_ms))
    mask = window(n_steps, scored_from, timeline.go).astype(np.float32)
    mask += np.float32(params.response_weight) * window(n_steps, check, timeline.length)
    fixation = mask * np.float32(params.fixation_output_weight)
    if params.mask_inside_square:
        mask, fixation = mask * mask, fixation * fixation
    weights = np.empty((n_steps, len(mask[0]), len(OUTPUT_NAMES)), dtype=np.float32)
    weights[:] = mask[:, :, None]
    weights[:, :, 0] = fixation
    return weights
