"""`TrialBatch`: one batch of trials, time-major, with everything needed to score and analyse it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.noise import InputNoise


@dataclass(frozen=True, eq=False)
class TrialBatch:
    """A batch of B trials of up to T steps, time-major.

    Attributes
    ----------
    inputs : float32 ndarray of shape (T, B, I); channel names in `input_names`.
    targets : float32 ndarray of shape (T, B, O); channel names in `output_names`.
    weights : float32 ndarray of shape (T, B, O); loss weight, 0 = not scored (padding is 0).
    lengths : int64 ndarray of shape (B,); steps at or after ``lengths[b]`` are padding.
    epochs : dict of str -> int64 ndarray of shape (B, 2), [start, stop) in steps; an empty
        epoch (0 ms) is [s, s]; an epoch a trial does not have at all (another task's epoch in
        a composition) is [-1, -1].
    conditions : dict of str -> ndarray with leading dimension B: every random draw that
        defines the trial (durations in steps, stimulus values, choices...).
    dt_ms : sampling period in ms.
    config : the task configuration that made the batch ({"task", "version", "params"}).
    stimuli : None, or float32 ndarray of shape (B, K, C, H, W): images held once per trial
        (never copied T times).  The first K input channels are then their presentation:
        ``inputs[t, b, k]`` is the contrast (0 = off, 1 = as stored) with which image k of
        trial b is shown at step t; networks that see images build their drive from both
        (`rnnzoo.models.cordsnet`).  The other input channels are ordinary inputs.
    input_noise : None, or the `InputNoise` still to be added to ``inputs`` (a batch generated
        with ``defer_noise=True``; ``inputs`` are then noise-free).
    """

    inputs: np.ndarray
    targets: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray
    epochs: dict[str, np.ndarray]
    conditions: dict[str, np.ndarray]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    dt_ms: float
    config: dict[str, Any] = field(default_factory=dict)
    stimuli: np.ndarray | None = None
    input_noise: InputNoise | None = None

    def __post_init__(self) -> None:
        n_steps, batch_size = self.inputs.shape[:2]
        if (
            self.targets.shape[:2] != (n_steps, batch_size)
            or self.weights.shape != self.targets.shape
        ):
            raise ValueError(
                f"inconsistent batch shapes: inputs {self.inputs.shape}, targets "
                f"{self.targets.shape}, weights {self.weights.shape}"
            )
        if self.inputs.shape[2] != len(self.input_names) or self.targets.shape[2] != len(
            self.output_names
        ):
            raise ValueError("channel names do not match the number of channels")
        if self.lengths.shape != (batch_size,):
            raise ValueError(f"lengths must have shape ({batch_size},); got {self.lengths.shape}")
        if self.stimuli is not None and (
            self.stimuli.ndim != 5
            or self.stimuli.shape[0] != batch_size
            or self.stimuli.shape[1] > self.inputs.shape[2]
        ):
            raise ValueError(
                f"stimuli must have shape (B={batch_size}, K, C, H, W) with K <= "
                f"{self.inputs.shape[2]} inputs; got {self.stimuli.shape}"
            )

    @property
    def n_stimuli(self) -> int:
        """K, the number of images per trial (0 without stimuli)."""
        return 0 if self.stimuli is None else int(self.stimuli.shape[1])

    @property
    def n_steps(self) -> int:
        """T, the padded number of steps."""
        return int(self.inputs.shape[0])

    @property
    def batch_size(self) -> int:
        """B, the number of trials."""
        return int(self.inputs.shape[1])

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask (T, B): True on the steps of each trial, False on padding."""
        return np.arange(self.n_steps)[:, None] < self.lengths[None, :]

    def epoch_mask(self, name: str) -> np.ndarray:
        """Boolean mask (T, B) of the steps inside epoch ``name`` of each trial."""
        if name not in self.epochs:
            raise InvalidParameterError(
                f"unknown epoch '{name}'; this batch has {sorted(self.epochs)}"
            )
        start, stop = self.epochs[name][:, 0], self.epochs[name][:, 1]
        t = np.arange(self.n_steps)[:, None]
        return (t >= start[None, :]) & (t < stop[None, :])

    def select(self, index: np.ndarray | slice | list[int]) -> TrialBatch:
        """A new batch with the trials ``index`` (trimmed to their longest length)."""
        self.require_noise_drawn("select")
        lengths = self.lengths[index]
        n_steps = int(lengths.max()) if len(lengths) else 0
        return TrialBatch(
            inputs=self.inputs[:n_steps, index],
            targets=self.targets[:n_steps, index],
            weights=self.weights[:n_steps, index],
            lengths=lengths,
            epochs={k: v[index] for k, v in self.epochs.items()},
            conditions={k: v[index] for k, v in self.conditions.items()},
            input_names=self.input_names,
            output_names=self.output_names,
            dt_ms=self.dt_ms,
            config=self.config,
            stimuli=None if self.stimuli is None else self.stimuli[index],
        )

    def require_noise_drawn(self, action: str) -> None:
        """Raise when the batch's input noise is still deferred (``action`` names what needed
        the noisy inputs)."""
        if self.input_noise is not None:
            raise InvalidParameterError(
                f"cannot {action} a batch whose input noise is deferred (defer_noise=True): "
                "its noise is drawn where it is consumed; generate it with defer_noise=False"
            )

    def equals(self, other: TrialBatch) -> bool:
        """True when every array is bit-identical and the names and config agree."""
        if (
            self.epochs.keys() != other.epochs.keys()
            or self.conditions.keys() != other.conditions.keys()
        ):
            return False
        arrays = ("inputs", "targets", "weights", "lengths")
        same = all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
        same &= all(np.array_equal(self.epochs[k], other.epochs[k]) for k in self.epochs)
        same &= (self.stimuli is None) == (other.stimuli is None) and (
            self.stimuli is None or np.array_equal(self.stimuli, other.stimuli)
        )
        same &= all(
            np.array_equal(
                self.conditions[k],
                other.conditions[k],
                equal_nan=self.conditions[k].dtype.kind == "f",
            )
            for k in self.conditions
        )
        return bool(
            same
            and self.input_names == other.input_names
            and self.output_names == other.output_names
            and self.dt_ms == other.dt_ms
            and self.input_noise == other.input_noise
        )
