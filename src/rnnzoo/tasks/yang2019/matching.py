"""The matching families: a sample, a delay, a test; saccade to the test or keep fixating.

`MatchFamily` (dmsgo, dmsnogo) compares locations (a match is a test within 5 deg of the
sample); `CategoryFamily` (dmcgo, dmcnogo) compares categories (below or above pi).
``GO_ON_MATCH`` says whether a match (DMS, DMC) or a non-match (DNMS, DNMC) asks for the
saccade to the test; otherwise the network keeps fixating to the end of the trial.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from rnnzoo.tasks.yang2019 import stimuli as draws
from rnnzoo.tasks.yang2019.encoding import circular_distance
from rnnzoo.tasks.yang2019.params import CategoryParams, MatchParams
from rnnzoo.tasks.yang2019.task import YangTask
from rnnzoo.tasks.yang2019.trial import Stimulus

N_TEST_LOCATIONS = 20
"""Sample locations of the test grids (each with the 2 x 2 modality pairs)."""


class _Matching(YangTask):
    """Epochs fix1, stim1 (sample), delay1, stim2 (test before the go cue), go1."""

    GO_ON_MATCH: ClassVar[bool]
    EPOCHS: ClassVar[dict[str, str]] = {
        "fix1": "input_start_ms",
        "stim1": "input_duration_ms",
        "delay1": "delay_ms",
        "stim2": "test_ms",
        "go1": "response_ms",
    }
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {
        "input_start_ms": 500.0,
        "input_duration_ms": 500.0,
        "delay_ms": 1200.0,
        "response_ms": 500.0,
    }

    def _pair(self, rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _match(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _test_samples(self) -> np.ndarray:
        raise NotImplementedError

    def _draw_stimuli(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        first, second = self._pair(rng, batch_size)
        return {
            "stim1_mod": self._modality(rng, batch_size),
            "stim2_mod": self._modality(rng, batch_size),
            "stim1_loc": first,
            "stim2_loc": second,
        }

    def derive(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        second = np.asarray(conditions["stim2_loc"], dtype=np.float64)
        match = self._match(np.asarray(conditions["stim1_loc"], dtype=np.float64), second)
        respond = match if self.GO_ON_MATCH else ~match
        return {"match": match, "response_loc": np.where(respond, second, np.nan)}

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        sample_start, sample_stop = epochs["stim1"].T
        test_start, test_stop = epochs["stim2"].T
        to_the_end = test_stop == test_start  # no pre-go test epoch: Yang et al.'s structure
        ones = np.ones(len(length))
        return [
            Stimulus(
                np.asarray(conditions["stim1_mod"]),
                np.asarray(conditions["stim1_loc"], dtype=np.float64),
                ones,
                sample_start,
                sample_stop,
            ),
            Stimulus(
                np.asarray(conditions["stim2_mod"]),
                np.asarray(conditions["stim2_loc"], dtype=np.float64),
                ones,
                test_start,
                np.where(to_the_end, length, test_stop),
            ),
        ]

    def _fixation_off(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> np.ndarray:
        test_start, test_stop = epochs["stim2"].T
        return np.where(test_stop == test_start, length, test_stop)

    def _test_stimuli(self) -> dict[str, np.ndarray]:
        location, first_mod, second_mod = np.unravel_index(
            np.arange(N_TEST_LOCATIONS * 4), (N_TEST_LOCATIONS, 2, 2)
        )
        sample = self._test_samples()[location]
        test = sample if self.GO_ON_MATCH else np.mod(sample + np.pi, 2 * np.pi)
        return {
            "stim1_mod": first_mod + 1,
            "stim2_mod": second_mod + 1,
            "stim1_loc": sample,
            "stim2_loc": test,
        }


class MatchFamily(_Matching):
    """DMS / DNMS: match iff the test lies within 5 deg of the sample."""

    Params = MatchParams

    def _pair(self, rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return draws.match_pair(rng, batch_size)

    def _match(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return circular_distance(first, second) < draws.MATCH_TOLERANCE_RAD

    def _test_samples(self) -> np.ndarray:
        return 2 * np.pi * np.arange(N_TEST_LOCATIONS) / N_TEST_LOCATIONS


class CategoryFamily(_Matching):
    """DMC / DNMC: match iff sample and test fall in the same half of the circle."""

    Params = CategoryParams

    def _pair(self, rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return draws.category_pair(rng, batch_size)

    def _match(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return draws.category(first) == draws.category(second)

    def _test_samples(self) -> np.ndarray:
        half = N_TEST_LOCATIONS // 2
        steps = 0.8 * np.arange(half) / half
        return np.pi * np.concatenate([0.1 + steps, 1.1 + steps])
