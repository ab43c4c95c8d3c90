"""The decision families: two stimuli at opposite-ish locations, saccade to the stronger one.

``ATTEND`` says which strengths decide: ring 1, ring 2, or their sum over both rings
(multi-sensory). ``SHOWN`` says how the strengths are drawn and where they appear:

- ``"one_ring"`` (DM 1/2): one strength pair, shown on the attended ring only;
- ``"both_rings"`` (Ctx DM 1/2): an independent pair on each ring, both shown;
- ``"split"`` (MultSen DM): one pair, each stimulus' strength split between the two rings.

`DecisionFamily` shows both stimuli at once; `DelayDecisionFamily` one after the other with a
delay between them.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from rnnzoo.tasks.yang2019 import stimuli as draws
from rnnzoo.tasks.yang2019.params import DecisionParams, DelayDecisionParams
from rnnzoo.tasks.yang2019.task import YangTask
from rnnzoo.tasks.yang2019.trial import Stimulus

STRENGTH_KEYS = (
    "stim1_mod1_strength",
    "stim2_mod1_strength",
    "stim1_mod2_strength",
    "stim2_mod2_strength",
)
BOTH = 0
"""``ATTEND`` value of the multi-sensory rules: the summed strength over both rings decides."""


class _Decision(YangTask):
    """Shared draws, choice and test grid of the decision tasks."""

    ATTEND: ClassVar[int]
    SHOWN: ClassVar[str]
    TEST_STRENGTHS: ClassVar[tuple[float, float]] = (0.8, 0.4)
    """(offset, span) of the test grid strengths offset + span * j/5, j = 0..4."""

    def _draw_stimuli(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        first = draws.angles(rng, batch_size)
        second = draws.paired_location(rng, first)

        def pair() -> tuple[np.ndarray, np.ndarray]:
            return draws.strength_pair(
                rng, batch_size, p.coherences, (p.strength_mean_low, p.strength_mean_high)
            )

        zeros = np.zeros(batch_size)
        if self.SHOWN == "one_ring":
            s1, s2 = pair()
            rings = (s1, s2, zeros, zeros) if self.ATTEND == 1 else (zeros, zeros, s1, s2)
        elif self.SHOWN == "both_rings":
            rings = (*pair(), *pair())
        else:
            s1, s2 = pair()
            s1_ring1, s1_ring2 = draws.split_between_rings(rng, s1)
            s2_ring1, s2_ring2 = draws.split_between_rings(rng, s2)
            rings = (s1_ring1, s2_ring1, s1_ring2, s2_ring2)
        return {
            "stim1_loc": first,
            "stim2_loc": second,
            **dict(zip(STRENGTH_KEYS, rings, strict=True)),
        }

    def derive(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        s = {k: np.asarray(conditions[k], dtype=np.float64) for k in STRENGTH_KEYS}
        if self.ATTEND == BOTH:
            first = s["stim1_mod1_strength"] + s["stim1_mod2_strength"]
            second = s["stim2_mod1_strength"] + s["stim2_mod2_strength"]
        else:
            first = s[f"stim1_mod{self.ATTEND}_strength"]
            second = s[f"stim2_mod{self.ATTEND}_strength"]
        choice = np.where(first > second, 1, 2)
        chosen = np.where(choice == 1, conditions["stim1_loc"], conditions["stim2_loc"])
        return {"choice": choice.astype(np.int64), "response_loc": chosen.astype(np.float64)}

    def choice_candidates(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {f"stim{k}": np.asarray(conditions[f"stim{k}_loc"], np.float64) for k in (1, 2)}

    def _rings(
        self, conditions: dict[str, np.ndarray], windows: dict[int, tuple[np.ndarray, np.ndarray]]
    ) -> list[Stimulus]:
        """Both stimuli on both rings (a ring with strength 0 shows nothing); stimulus k is
        shown on ``windows[k]``."""
        shown = []
        for k in (1, 2):
            location = np.asarray(conditions[f"stim{k}_loc"], dtype=np.float64)
            for ring in (1, 2):
                strength = np.asarray(conditions[f"stim{k}_mod{ring}_strength"], dtype=np.float64)
                modality = np.full(len(location), ring)
                shown.append(Stimulus(modality, location, strength, *windows[k]))
        return shown

    def _test_stimuli(self) -> dict[str, np.ndarray]:
        offset, span = self.TEST_STRENGTHS
        if self.SHOWN == "one_ring":  # 20 locations x 5 strengths
            location, j = np.divmod(np.arange(20 * 5), 5)
            first = offset + span * j / 5
            zeros = np.zeros(len(first))
            pair = (first, 2 - first)
            strengths = (*pair, zeros, zeros) if self.ATTEND == 1 else (zeros, zeros, *pair)
        else:  # 20 locations x 5 ring-1 strengths x 5 ring-2 strengths
            location, j, k = np.unravel_index(np.arange(20 * 5 * 5), (20, 5, 5))
            ring1, ring2 = offset + span * j / 5, offset + span * k / 5
            strengths = (ring1, 2 - ring1, ring2, 2 - ring2)
        first_loc = 2 * np.pi * location / 20
        return {
            "stim1_loc": first_loc,
            "stim2_loc": np.mod(first_loc + np.pi, 2 * np.pi),
            **dict(zip(STRENGTH_KEYS, strengths, strict=True)),
        }


class DecisionFamily(_Decision):
    """DM 1/2, Ctx DM 1/2, MultSen DM: epochs fix1, stim1 (both stimuli), go1."""

    Params = DecisionParams
    EPOCHS: ClassVar[dict[str, str]] = {
        "fix1": "input_start_ms",
        "stim1": "input_duration_ms",
        "go1": "response_ms",
    }
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {  # Ctx DM and MultSen DM; DM 1/2 differ
        "input_start_ms": 500.0,
        "input_duration_ms": 1000.0,
        "response_ms": 500.0,
    }

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        window = tuple(epochs["stim1"].T)
        return self._rings(conditions, {1: window, 2: window})


class DelayDecisionFamily(_Decision):
    """Dly DM 1/2, Ctx Dly DM 1/2, MultSen Dly DM: fix1, stim1, delay1, stim2, delay2, go1."""

    Params = DelayDecisionParams
    EPOCHS: ClassVar[dict[str, str]] = {
        "fix1": "input_start_ms",
        "stim1": "input_duration_ms",
        "delay1": "delay_ms",
        "stim2": "stimulus2_ms",
        "delay2": "delay2_ms",
        "go1": "response_ms",
    }
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {  # Ctx and MultSen Dly DM; Dly DM 1/2 differ
        "input_start_ms": 500.0,
        "input_duration_ms": 500.0,
        "delay_ms": 1000.0,
        "stimulus2_ms": 500.0,
        "delay2_ms": 500.0,
        "response_ms": 500.0,
    }

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        return self._rings(conditions, {1: tuple(epochs["stim1"].T), 2: tuple(epochs["stim2"].T)})
