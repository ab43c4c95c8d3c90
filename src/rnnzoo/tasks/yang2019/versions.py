"""The frozen versions of the Yang et al. (2019) tasks, one table per family.

- ``vanilla``: the original code's configuration (dt 20 ms, timing shared within a batch).
- ``realistic``: timing and modality drawn per trial; temporally correlated input noise.
- ``long``: the family's main waiting interval four times longer.
- ``soo2023``: Soo, Goudar & Wang (2023): dt 5 ms, tau 100 ms, fixation target 0.85, a
  1000 ms rule-only warm-up, and the family's trial structure A, B or C (fixation and
  stimuli 500 +- 100 ms, delay 1000 +- 100 ms, response 500 ms).
"""

from __future__ import annotations

from typing import Any

from rnnzoo.tasks.base import Version
from rnnzoo.tasks.timing import Choice, Uniform

_REALISTIC = Version(
    "durations and modalities drawn per trial (no sharing within a batch) and correlated (OU, "
    "20 ms) input noise of the same std",
    {"shared_timing": False, "noise_decay_ms": 20.0},
)

_LONG_DELAYS = Choice(values_ms=(800, 1600, 3200, 6400))
_SOO_SHORT = Uniform(low_ms=400, high_ms=600)
_SOO_LONG = Uniform(low_ms=900, high_ms=1100)
_SOO_COMMON: dict[str, Any] = {
    "dt_ms": 5.0,
    "tau_ms": 100.0,
    "fixation_target": 0.85,
    "add_noise": False,
    "warmup_ms": 1000.0,
    "mask_start_ms": 200.0,
    "response_grace_ms": 200.0,
    "response_weight": 1.0,
    "fixation_output_weight": 1.0,
    "mask_inside_square": False,
}
_SOO_TEXT = (
    "Soo et al. 2023 at dt 5 ms: fixation target 0.85, 1000 ms rule-only warm-up, no input "
    "noise, first 200 ms of the trial and of the response unscored, weights 1; structure "
)


def _versions(
    vanilla: str, long_text: str, long: dict[str, Any], soo: str, soo_overrides: dict[str, Any]
) -> dict[str, Version]:
    return {
        "vanilla": Version(vanilla),
        "realistic": _REALISTIC,
        "long": Version(long_text, long),
        "soo2023": Version(_SOO_TEXT + soo, {**_SOO_COMMON, **soo_overrides}),
    }


GO = _versions(
    "the original code: fixation U(300, 700), stimulus U(500, 1500) before the go cue, then "
    "500 ms response; dt 20 ms",
    "stimulus-to-go interval U(2000, 6000) ms (4x)",
    {"input_duration_ms": Uniform(low_ms=2000, high_ms=6000)},
    "A: fixation, stimulus (off at the go cue), response",
    {"input_start_ms": _SOO_SHORT, "input_duration_ms": _SOO_SHORT, "stimulus_off_at_go": True},
)
REACT = _versions(
    "the original code: fixation U(500, 2500), then stimulus and go cue, 500 ms response; dt 20 ms",
    "fixation U(2000, 10000) ms before the stimulus (4x)",
    {"input_start_ms": Uniform(low_ms=2000, high_ms=10000)},
    "A: fixation, an empty stimulus slot, response with the stimulus",
    {"input_start_ms": _SOO_SHORT, "hold_ms": _SOO_SHORT},
)
DELAY = _versions(
    "the original code: fixation {300, 500, 700}, stimulus {200, 400, 600}, delay "
    "{200, 400, 800, 1600}, 500 ms response; dt 20 ms",
    "delay {800, 1600, 3200, 6400} ms (4x)",
    {"delay_ms": _LONG_DELAYS},
    "B: fixation, stimulus, delay, response",
    {"input_start_ms": _SOO_SHORT, "input_duration_ms": _SOO_SHORT, "delay_ms": _SOO_LONG},
)
DECISION = _versions(
    "the original code: fixation U(100, 400), stimuli {400, 800, 1600}, 500 ms response; dt 20 ms",
    "stimuli {1600, 3200, 6400} ms (4x): long integration",
    {"input_duration_ms": Choice(values_ms=(1600, 3200, 6400))},
    "A: fixation, stimuli, response",
    {"input_start_ms": _SOO_SHORT, "input_duration_ms": _SOO_SHORT},
)
DELAY_DECISION = _versions(
    "the original code: fixation, stimulus 1 and stimulus 2 {200, 400, 600}, delay "
    "{200, 400, 800, 1600}, U(100, 300) before the go cue, 500 ms response; dt 20 ms",
    "delay between the stimuli {800, 1600, 3200, 6400} ms (4x)",
    {"delay_ms": _LONG_DELAYS},
    "C: fixation, stimulus 1, delay, stimulus 2, response",
    {
        "input_start_ms": _SOO_SHORT,
        "input_duration_ms": _SOO_SHORT,
        "delay_ms": _SOO_LONG,
        "stimulus2_ms": _SOO_SHORT,
        "delay2_ms": 0.0,
    },
)
_MATCH_SOO = {
    "input_start_ms": _SOO_SHORT,
    "input_duration_ms": _SOO_SHORT,
    "delay_ms": _SOO_LONG,
    "test_ms": _SOO_SHORT,
}
MATCH = _versions(
    "the original code: fixation, sample {200, 400, 600}, delay {200, 400, 800, 1600}, test "
    "with go cue at its onset, 500 ms response; dt 20 ms",
    "delay {800, 1600, 3200, 6400} ms (4x)",
    {"delay_ms": _LONG_DELAYS},
    "C: fixation, sample, delay, test (fixating), response",
    _MATCH_SOO,
)
CATEGORY = _versions(
    "the original code: as DMS, with response {200, 400, 600} ms; dt 20 ms",
    "delay {800, 1600, 3200, 6400} ms (4x)",
    {"delay_ms": _LONG_DELAYS},
    "C: fixation, sample, delay, test (fixating), 500 ms response",
    {**_MATCH_SOO, "response_ms": 500.0},
)
