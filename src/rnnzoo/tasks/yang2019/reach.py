"""The Go families: saccade to one stimulus (Go), or away from it (Anti), after a go cue.

- `GoFamily` (fdgo, fdanti): fixation, stimulus shown before the go cue (and on to the end).
- `ReactFamily` (reactgo, reactanti): the stimulus onset is the go cue; the fixation input
  stays on for the whole trial.
- `DelayFamily` (delaygo, delayanti): stimulus, memory delay, go cue.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from rnnzoo.tasks.yang2019 import stimuli as draws
from rnnzoo.tasks.yang2019.params import DelayParams, GoParams, ReactParams
from rnnzoo.tasks.yang2019.task import YangTask
from rnnzoo.tasks.yang2019.trial import Stimulus

N_TEST_LOCATIONS = 20
"""Locations 2*pi*i/20 of the test grids (each with both modalities)."""


class _Reach(YangTask):
    """One stimulus at a uniform location, modality 1 or 2 per batch, strength 1."""

    ANTI: ClassVar[bool] = False

    def _draw_stimuli(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        return {
            "stim_mod": self._modality(rng, batch_size),
            "stim_loc": draws.angles(rng, batch_size),
        }

    def derive(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        location = np.asarray(conditions["stim_loc"], dtype=np.float64)
        return {"response_loc": np.mod(location + np.pi * self.ANTI, 2 * np.pi)}

    def _shown(
        self, conditions: dict[str, np.ndarray], start: np.ndarray, stop: np.ndarray
    ) -> list[Stimulus]:
        location = np.asarray(conditions["stim_loc"], dtype=np.float64)
        strength = np.ones_like(location)
        return [Stimulus(np.asarray(conditions["stim_mod"]), location, strength, start, stop)]

    def _test_stimuli(self) -> dict[str, np.ndarray]:
        index = np.arange(2 * N_TEST_LOCATIONS)
        return {
            "stim_mod": index % 2 + 1,
            "stim_loc": 2 * np.pi * (index // 2) / N_TEST_LOCATIONS,
        }


class GoFamily(_Reach):
    """Go / Anti: epochs fix1, stim1 (stimulus before the go cue), go1."""

    Params = GoParams
    EPOCHS: ClassVar[dict[str, str]] = {
        "fix1": "input_start_ms",
        "stim1": "input_duration_ms",
        "go1": "response_ms",
    }
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {
        "input_start_ms": 500.0,
        "input_duration_ms": 1000.0,
        "response_ms": 500.0,
    }

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        stop = epochs["go1"][:, 0] if self.params.stimulus_off_at_go else length
        return self._shown(conditions, epochs["stim1"][:, 0], stop)


class ReactFamily(_Reach):
    """RT Go / RT Anti: epochs fix1, hold, go1; the stimulus onset is the go cue."""

    Params = ReactParams
    EPOCHS: ClassVar[dict[str, str]] = {
        "fix1": "input_start_ms",
        "hold": "hold_ms",
        "go1": "response_ms",
    }
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {"input_start_ms": 2000.0, "response_ms": 500.0}

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        return self._shown(conditions, epochs["go1"][:, 0], length)

    def _fixation_off(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> np.ndarray:
        return length


class DelayFamily(_Reach):
    """Dly Go / Dly Anti: epochs fix1, stim1, delay1, go1."""

    Params = DelayParams
    EPOCHS: ClassVar[dict[str, str]] = {
        "fix1": "input_start_ms",
        "stim1": "input_duration_ms",
        "delay1": "delay_ms",
        "go1": "response_ms",
    }
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {
        "input_start_ms": 500.0,
        "input_duration_ms": 500.0,
        "delay_ms": 1000.0,
        "response_ms": 500.0,
    }

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        return self._shown(conditions, *epochs["stim1"].T)
