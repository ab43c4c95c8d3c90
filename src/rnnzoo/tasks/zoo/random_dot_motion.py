"""Random-dot motion: integrate the net direction of moving dots over time and report it
(seed 004 Fig. 5, after Roitman & Shadlen 2002)."""

from __future__ import annotations

import itertools
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks.base import Metric, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform
from rnnzoo.tasks.zoo._visual import VisualDecisionTask, VisualParams, render_discs

_COHERENCES = (0.0, 3.2, 6.4, 12.8, 25.6, 51.2)
_Coherence = Annotated[float, Field(ge=0, le=100)]


class RandomDotMotionParams(VisualParams):
    """Parameters of random-dot motion; see the task card."""

    coherences_pct: tuple[_Coherence, ...] = Field(
        _COHERENCES,
        min_length=1,
        max_length=50,
        description="motion coherences, one drawn uniformly per trial (Roitman & Shadlen's set)",
        json_schema_extra={"unit": "%"},
    )
    n_dots: int = Field(
        8,
        ge=1,
        le=200,
        description="dots in each of the interleaved sets",
        json_schema_extra={"unit": "dots"},
    )
    interleave: int = Field(
        3,
        ge=1,
        le=10,
        description="interleaved dot sets: a set is shown every interleave-th "
        "frame and moved between its showings (3 in Roitman & Shadlen)",
        json_schema_extra={"unit": "sets"},
    )
    speed_px: float = Field(
        1.5,
        gt=0,
        le=50,
        description="displacement of a coherent dot between two showings",
        json_schema_extra={"unit": "pixels"},
    )
    dot_radius: float = Field(
        0.75, gt=0, le=10, description="dot radius", json_schema_extra={"unit": "pixels"}
    )
    frames: int = Field(
        20,
        ge=1,
        le=400,
        description="frames over the stimulus epoch",
        json_schema_extra={"unit": "frames"},
    )
    input_start_ms: Duration = ms_field(300.0, "fixation before the dots")
    stimulus_ms: float = ms_field(800.0, "motion stimulus (all frames)")
    delay_ms: Duration = ms_field(200.0, "delay before the response", allow_zero=True)

    @model_validator(mode="after")
    def _frames_fit(self) -> RandomDotMotionParams:
        if self.frames > int(self.steps(self.stimulus_ms)):
            raise ValueError(
                f"'frames' ({self.frames}) must be <= the stimulus steps "
                f"({int(self.steps(self.stimulus_ms))} at dt_ms={self.dt_ms:g})"
            )
        self.check_grace_leaves_scored_steps()
        return self


@register
class RandomDotMotion(VisualDecisionTask):
    name = "random_dot_motion"
    aliases = ("rdm",)
    title = "Random-dot motion discrimination from moving-dot movies"
    summary = (
        "A movie of randomly placed dots, a fraction of which moves coherently left or right, "
        "is shown; after a short delay the network reports the direction of net motion. The "
        "image-computable version of perceptual decision making (seed 004 Fig. 5)."
    )
    source = (
        "Soo W.W.M., Battista A., Radmard P. & Wang X.-J. (2024) NeurIPS (rnnzoo seed 004) Fig. 5; "
        "stimulus after Roitman J.D. & Shadlen M.N. (2002) Response of neurons in the lateral "
        "intraparietal area during a combined visual discrimination reaction time task. J. "
        "Neurosci. 22:9475-9489 (three interleaved dot sets, each shown every third frame; "
        "between showings a dot moves by a fixed step in the motion direction with probability "
        "equal to the coherence, else reappears at a random place; coherences 0, 3.2, 6.4, 12.8, "
        "25.6, 51.2 %). rnnzoo uses the fixed-duration variant (the choice after the movie), "
        "square images with wrap-around instead of a circular aperture, and frames of "
        "stimulus_ms / frames (40 ms by default instead of 13.3 ms at 75 Hz)."
    )
    definition = (
        "Inputs: frame_1..frame_F (1 while frame k is on screen; the F = frames frames split the "
        "stimulus epoch into equal parts of floor(steps / F) steps, the last taking the rest), "
        "fixation (1 until the response). Outputs: left, right. Epochs laid end to end: fixation "
        "(input_start_ms), stimulus (stimulus_ms), delay (delay_ms), response (response_ms). Per "
        "trial a coherence c from coherences_pct and a direction (left or right, 1/2 each). "
        "Dots: interleave sets of n_dots, positions uniform on the image; frame k shows set "
        "k mod interleave; before each later showing, each dot of the set moves by speed_px in "
        "the direction with probability c / 100, else it is placed uniformly at random; positions "
        "wrap around the image. Each frame renders its dots as anti-aliased discs of dot_radius. "
        "Target: one-hot direction on the response epoch, 0 before (0 % trials: the drawn "
        "direction). Weights: 1 on every step but the first response_grace_ms of the response. "
        "Metric accuracy: argmax of the mean output over the scored response steps. Conditions: "
        "coherence_pct, direction (-1 left, +1 right), dot_x, dot_y (B, frames, n_dots) and "
        "{fixation,stimulus,delay,response}_steps. Test grid: every coherence x direction, 4 "
        "repeats, dots from numpy.random.default_rng(2002), epochs at their expected durations."
    )
    Params = RandomDotMotionParams
    epoch_fields = (
        ("fixation", "input_start_ms"),
        ("stimulus", "stimulus_ms"),
        ("delay", "delay_ms"),
        ("response", "response_ms"),
    )
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version("16x16 movies of 20 frames over 800 ms, Roitman & Shadlen's coherences"),
        "realistic": Version(
            "fixation U(200, 500) ms and delay U(100, 500) ms, input noise 0.05",
            {
                "input_start_ms": Uniform(low_ms=200, high_ms=500),
                "delay_ms": Uniform(low_ms=100, high_ms=500),
                "noise_scale": 0.05,
            },
        ),
        "long": Version("a 2000 ms delay before the response", {"delay_ms": 2000.0}),
        "roitman2002": Version(
            "closer to the original: 1000 ms of motion in 75 frames (13.3 ms each) at dt 5 ms is "
            "not a whole number of steps, so 66 frames of 15 ms at dt 5 ms",
            {"dt_ms": 5.0, "stimulus_ms": 990.0, "frames": 66, "input_start_ms": 500.0},
        ),
    }
    metric = Metric(
        "accuracy",
        "argmax of the response-epoch outputs (left, right), averaged over the scored steps, is "
        "the direction of coherent motion",
        criterion=0.75,
    )

    @property
    def n_frames(self) -> int:
        return self.params.frames

    @property
    def choice_names(self) -> tuple[str, ...]:
        return ("left", "right")

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        coherence = np.asarray(p.coherences_pct, dtype=np.float64)[
            rng.integers(0, len(p.coherences_pct), size=batch_size)
        ]
        direction = np.where(rng.random(batch_size) < 0.5, -1, 1).astype(np.int64)
        return {
            "coherence_pct": coherence,
            "direction": direction,
            **self._movie(rng, coherence, direction),
            **self._sample_epochs(rng, batch_size),
        }

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        grid = list(itertools.product(p.coherences_pct, (-1, 1)))
        coherence = np.repeat([c for c, _ in grid], 4).astype(np.float64)
        direction = np.repeat([d for _, d in grid], 4).astype(np.int64)
        rng = np.random.default_rng(2002)
        return {
            "coherence_pct": coherence,
            "direction": direction,
            **self._movie(rng, coherence, direction),
            **self._expected_epochs(len(coherence)),
        }

    def _movie(self, rng: np.random.Generator, coherence: np.ndarray, direction: np.ndarray):
        """Dot positions of every frame (B, frames, n_dots), from the trial's draws."""
        p = self.params
        batch_size, size = len(coherence), p.image_size
        sets = rng.random((batch_size, p.interleave, p.n_dots, 2)) * size
        xs = np.zeros((batch_size, p.frames, p.n_dots))
        ys = np.zeros_like(xs)
        for k in range(p.frames):
            s = k % p.interleave
            if k >= p.interleave:
                coherent = rng.random((batch_size, p.n_dots)) < coherence[:, None] / 100
                fresh = rng.random((batch_size, p.n_dots, 2)) * size
                moved = sets[:, s, :, 0] + direction[:, None] * p.speed_px
                sets[:, s, :, 0] = np.where(coherent, moved, fresh[..., 0]) % size
                sets[:, s, :, 1] = np.where(coherent, sets[:, s, :, 1], fresh[..., 1])
            xs[:, k], ys[:, k] = sets[:, s, :, 0], sets[:, s, :, 1]
        return {"dot_x": xs, "dot_y": ys}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        x = np.asarray(conditions["dot_x"], dtype=np.float64)
        y = np.asarray(conditions["dot_y"], dtype=np.float64)
        images = render_discs(p.image_size, x, y, np.full_like(x, p.dot_radius))
        choice = (np.asarray(conditions["direction"]) > 0).astype(np.int64)
        return self._decision_batch(conditions, choice, images[:, :, None])
