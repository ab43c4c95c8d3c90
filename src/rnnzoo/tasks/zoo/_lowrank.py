"""What the five low-rank benchmark tasks share (seed 004 appendix B.3, after Dubreuil et al. 2022).

The conventions are those of Dubreuil et al.'s task code, which appendix B.3 adopts: no fixation
input, a single output read only on the decision epoch (weights 1 there, 0 elsewhere), a target of
+1 / -1 (or a value) held through the decision epoch, and the accuracy "sign of the output averaged
over the decision epoch equals the sign of the target". The sampling period is the zoo's 10 ms, at
which every B.3 duration is a whole number of steps (Dubreuil et al. use 20 ms, at which B.3's
350 ms context epoch is not).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks._build import lay_out, window
from rnnzoo.tasks._metrics import mean_in_window
from rnnzoo.tasks.base import Task
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams

SOURCE_B3 = (
    "Soo W.W.M., Battista A., Radmard P. & Wang X.-J. (2024) Recurrent neural network dynamical "
    "systems for biological vision. NeurIPS 2024 (rnnzoo seed 004), appendix B.3 'Comparison with "
    "other architectures', which takes the task 'previously adopted in the analysis of low-rank "
    "RNNs' from Dubreuil A., Valente A., Beiran M., Mastrogiuseppe F. & Ostojic S. (2022) The role "
    "of population structure in computations through neural dynamics. Nature Neuroscience "
    "25:783-794. Every epoch duration, value set and noise level is appendix B.3's; where B.3 is "
    "silent, rnnzoo follows Dubreuil et al.'s published task code (one output read on the "
    "decision epoch, targets +1/-1, input noise levels) and says so below. Sampling period: "
    "10 ms, at which every B.3 duration is a whole number of steps (Dubreuil et al. use 20 ms, "
    "at which B.3's 350 ms context epoch would round to 360 ms)."
)

TEST_SEED = 2022
"""Seed of the signal noise in the deterministic test grids."""


class LowRankParams(TaskParams):
    """Parameters shared by the five B.3 tasks: no input noise on every channel by default."""

    noise_scale: float = Field(
        0.0,
        ge=0,
        le=10,
        description="standard deviation of the input noise added to every input channel "
        "(input units, per step and stationary)",
        json_schema_extra={"unit": "a.u."},
    )


class LowRankTask(Task):
    """A B.3 task: epochs laid end to end, one output scored on the final 'decision' epoch.

    Subclasses declare ``epoch_fields`` ((epoch name, duration parameter), in trial order, the
    last being "decision"), the input channels, the draws and ``_inputs_and_target``.
    """

    epoch_fields: ClassVar[tuple[tuple[str, str], ...]]

    def _tie_band(self) -> float:
        """A target-0 trial is correct when |mean decision output| is below this."""
        return 0.5

    # ---- epochs ----------------------------------------------------------------------------
    def _sample_epochs(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        """Per-trial epoch steps, one draw per epoch and trial: ``{epoch}_steps`` (B,)."""
        p = self.params
        return {
            f"{epoch}_steps": p.steps(getattr(p, field).sample(rng, batch_size))
            for epoch, field in self.epoch_fields
        }

    def _expected_epochs(self, batch_size: int) -> dict[str, np.ndarray]:
        """Every epoch at the steps of its expected duration (test grids)."""
        p = self.params
        return {
            f"{epoch}_steps": np.full(
                batch_size, int(p.steps(getattr(p, field).expected_ms)), dtype=np.int64
            )
            for epoch, field in self.epoch_fields
        }

    def longest_trial_steps(self) -> int:
        """Steps of the longest trial the duration laws allow."""
        p = self.params
        return sum(int(p.steps(getattr(p, f).highest_ms)) for _, f in self.epoch_fields)

    def _lay_out(self, conditions: dict[str, np.ndarray]) -> tuple[dict, np.ndarray]:
        return lay_out({epoch: conditions[f"{epoch}_steps"] for epoch, _ in self.epoch_fields})

    # ---- batch -----------------------------------------------------------------------------
    def _decision_batch(
        self,
        inputs: np.ndarray,
        target: np.ndarray,
        epochs: dict[str, np.ndarray],
        lengths: np.ndarray,
        conditions: dict[str, np.ndarray],
    ) -> TrialBatch:
        """Targets ``target`` (B,) on the decision epoch and 0 elsewhere; weights 1 there only."""
        decision = window(inputs.shape[0], *epochs["decision"].T)
        targets = (decision * np.asarray(target, dtype=np.float64)[None, :])[:, :, None]
        weights = decision[:, :, None].astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        decision = batch.epoch_mask("decision")
        reported = mean_in_window(outputs, decision)[:, 0]
        target = mean_in_window(batch.targets.astype(np.float64), decision)[:, 0]
        tie = np.abs(reported) < self._tie_band()
        return np.where(target == 0, tie, np.sign(reported) == np.sign(target)).astype(np.float64)


def add_signal_noise(
    inputs: np.ndarray, channels: slice, noise: np.ndarray, std: float, name: str
) -> None:
    """Add ``std`` * ``noise`` (B, S, C) to ``inputs[:, :, channels]`` (T, B, C) on steps t < T.

    ``noise`` holds standard-normal draws, one per trial step and signal channel; S must cover T.
    """
    noise = np.asarray(noise, dtype=np.float64)
    n_steps = inputs.shape[0]
    if noise.ndim != 3 or noise.shape[1] < n_steps:
        raise InvalidParameterError(
            f"{name}: condition 'signal_noise' must have shape (B, S, C) with S >= {n_steps} "
            f"steps; got {noise.shape}"
        )
    inputs[:, :, channels] += std * noise[:, :n_steps, :].transpose(1, 0, 2)
