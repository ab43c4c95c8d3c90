"""Psychometric curves: the fraction of each choice as a function of one condition of a
task's deterministic test (psychometric) grid, e.g. P(choice +1) against the signal of the
perceptual decision task, or against the coherence of a Yang et al. decision task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnzoo.analysis.network import simulate, single_network
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.tasks.batch import TrialBatch


@dataclass(frozen=True)
class PsychometricCurve:
    """choice_fraction (V, C): for each of the V sorted values of ``condition``, the fraction
    of trials whose choice is each of the C choices, decoded as the task's metric reads them
    (`decode_choices`: for most tasks one choice per output channel, by the argmax of the mean
    output over scored steps, and a single output channel gives C = 1, the fraction with a
    positive mean; for the Yang et al. tasks fixation, each stimulus direction and other, from
    the last step); performance (V,) the task metric's mean; n_trials (V,)."""

    condition: str
    values: np.ndarray
    choices: tuple[str, ...]
    choice_fraction: np.ndarray
    performance: np.ndarray
    n_trials: np.ndarray

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable curve."""
        return {
            "condition": self.condition,
            "values": self.values.tolist(),
            "choices": list(self.choices),
            "choice_fraction": self.choice_fraction.tolist(),
            "performance": self.performance.tolist(),
            "n_trials": self.n_trials.tolist(),
        }


def trial_choices(outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
    """(B, C) one-hot choice per trial from outputs (T, B, O): the argmax over channels of the
    mean output over each trial's scored steps (weights > 0); with one channel, the sign of
    that mean (1 = positive).  A trial with no scored step uses all of its steps."""
    scored = (batch.weights > 0).any(axis=2)  # (T, B)
    mask = np.where(scored.any(axis=0)[None, :], scored, batch.valid)[..., None]
    mean = (outputs * mask).sum(axis=0) / mask.sum(axis=0)
    if outputs.shape[2] == 1:
        return (mean > 0).astype(np.float64)
    return np.eye(outputs.shape[2])[mean.argmax(axis=1)]


def decode_choices(
    task: Any, outputs: np.ndarray, batch: TrialBatch
) -> tuple[tuple[str, ...], np.ndarray]:
    """(choice names, one-hot (B, C)) the way ``task``'s metric reads outputs (T, B, O): the
    task's own ``decode_choices`` where it has one (the Yang et al. tasks: fixation, a
    stimulus direction or other, from the population vector at the last step), else
    `trial_choices` (one choice per output channel)."""
    if hasattr(task, "decode_choices"):
        return task.decode_choices(outputs, batch)
    names = ("positive",) if outputs.shape[2] == 1 else tuple(batch.output_names)
    return names, trial_choices(outputs, batch)


def psychometric_curve(
    net: Network,
    task: Any,
    condition: str,
    *,
    column: int | None = None,
    batch: TrialBatch | None = None,
    member: int | None = None,
) -> PsychometricCurve:
    """The psychometric curve of ``net`` (or ensemble ``member``) on ``task`` over
    ``condition`` (a key of the batch's conditions; ``column`` picks one column of a (B, k)
    condition), run noise-free on ``batch`` (the task's test grid when None)."""
    net = single_network(net, member)
    batch = task.generate_test() if batch is None else batch
    outputs = simulate(net, batch.inputs).outputs
    return curve_from_outputs(outputs, task, batch, condition, column=column)


def curve_from_outputs(
    outputs: np.ndarray,
    task: Any,
    batch: TrialBatch,
    condition: str,
    *,
    column: int | None = None,
) -> PsychometricCurve:
    """The psychometric curve of network outputs (T, B, O) on ``batch`` of ``task``."""
    if condition not in batch.conditions:
        raise InvalidParameterError(
            f"'condition' must be one of {sorted(batch.conditions)}; got {condition!r}"
        )
    values = np.asarray(batch.conditions[condition])
    if column is not None:
        if values.ndim != 2 or not 0 <= column < values.shape[1]:
            raise InvalidParameterError(
                f"'column' {column} does not index condition {condition!r} of shape {values.shape}"
            )
        values = values[:, column]
    if values.ndim != 1:
        raise InvalidParameterError(
            f"condition {condition!r} has shape {values.shape}; give 'column' to pick one column"
        )
    names, choices = decode_choices(task, outputs, batch)
    score = task.performance(outputs, batch)
    levels = np.unique(values)
    rows = [values == v for v in levels]
    return PsychometricCurve(
        condition=condition,
        values=levels.astype(np.float64),
        choices=names,
        choice_fraction=np.array([choices[r].mean(axis=0) for r in rows]),
        performance=np.array([score[r].mean() for r in rows]),
        n_trials=np.array([int(r.sum()) for r in rows]),
    )
