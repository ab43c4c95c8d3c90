"""Numerosity: count the dots of a briefly shown display and report the count after a delay
(seed 004 Fig. 5, after Nieder, Freedman & Miller 2002)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks.base import Metric, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform
from rnnzoo.tasks.zoo._visual import VisualDecisionTask, VisualParams, render_discs


class NumerosityParams(VisualParams):
    """Parameters of the numerosity task; see the task card."""

    max_count: int = Field(
        5,
        ge=2,
        le=16,
        description="counts 1..max_count, one drawn uniformly per trial",
        json_schema_extra={"unit": "dots"},
    )
    grid_cells: int = Field(
        4,
        ge=2,
        le=16,
        description="dots sit in distinct cells of a grid_cells x grid_cells grid",
        json_schema_extra={"unit": "cells"},
    )
    radius_min: float = Field(
        1.0,
        gt=0,
        le=50,
        description="smallest dot radius (standard)",
        json_schema_extra={"unit": "pixels"},
    )
    radius_max: float = Field(
        2.0,
        gt=0,
        le=50,
        description="largest dot radius (standard)",
        json_schema_extra={"unit": "pixels"},
    )
    p_control: float = Field(
        0.0,
        ge=0,
        le=1,
        description="probability of a control display (equal total dot area "
        "for every count, Nieder et al.'s area control)",
        json_schema_extra={"unit": "1"},
    )
    input_start_ms: Duration = ms_field(200.0, "fixation before the sample display")
    sample_ms: float = ms_field(400.0, "sample display (the dots)")
    delay_ms: Duration = ms_field(600.0, "memory delay, blank screen", allow_zero=True)

    @model_validator(mode="after")
    def _dots_fit(self) -> NumerosityParams:
        if self.max_count > self.grid_cells**2:
            raise ValueError(
                f"'max_count' ({self.max_count}) must be <= grid_cells^2 = {self.grid_cells**2}"
            )
        if self.radius_min > self.radius_max:
            raise ValueError(
                f"'radius_min' ({self.radius_min:g}) must be <= radius_max ({self.radius_max:g})"
            )
        cell = self.image_size / self.grid_cells
        if self.radius_max > cell / 2:
            raise ValueError(
                f"'radius_max' must be <= half a grid cell ({cell / 2:g} pixels at image_size "
                f"{self.image_size} and grid_cells {self.grid_cells}); got {self.radius_max:g}"
            )
        self.check_grace_leaves_scored_steps()
        return self


@register
class Numerosity(VisualDecisionTask):
    name = "numerosity"
    aliases = ("count_dots",)
    title = "Numerosity: count the dots and remember the count"
    summary = (
        "A display of 1 to 5 dots is shown briefly; after a blank memory delay the network "
        "reports how many dots there were. A visual working-memory task for image-computable "
        "multi-area networks (seed 004 Fig. 5)."
    )
    source = (
        "Soo W.W.M., Battista A., Radmard P. & Wang X.-J. (2024) NeurIPS (rnnzoo seed 004) Fig. 5: "
        "CordsNet front-ends in multi-area models trained on the stimuli of the original "
        "experiments; numerosity after Nieder A., Freedman D.J. & Miller E.K. (2002) "
        "Representation of the quantity of visual items in the primate prefrontal cortex. "
        "Science 297:1708-1711 (sample 800 ms, delay 1000 ms, 1-5 dots, displays with random "
        "dot sizes and positions and control displays of equal total area). rnnzoo replaces "
        "the delayed match-to-numerosity test display by a direct report of the count."
    )
    definition = (
        "Inputs: frame_1 (1 while the sample display is on), fixation (1 until the response). "
        "Outputs: count_1..count_max. Epochs laid end to end: fixation (input_start_ms), sample "
        "(sample_ms), delay (delay_ms), response (response_ms). Per trial a count n is drawn "
        "uniformly from 1..max_count and n distinct cells of a grid_cells x grid_cells grid over "
        "the image; each dot's centre is uniform within its cell (inset by its radius), its "
        "radius uniform in [radius_min, radius_max] (standard display) or, with probability "
        "p_control, radius_max * sqrt(1 / n) for every dot (control display: the same total "
        "area for every count). Dots are anti-aliased white discs (intensity clip(r + 1/2 - "
        "distance, 0, 1)) on black. Target: one-hot count on the response epoch, 0 before. "
        "Weights: 1 on every step but the first response_grace_ms of the response. Metric "
        "accuracy: argmax of the mean output over the scored response steps is the count. "
        "Conditions: count, control, dot_x, dot_y, dot_radius (B, max_count; radius 0 = no dot) "
        "and {fixation,sample,delay,response}_steps. Test grid: every count x standard/control, "
        "4 repeats each, dots drawn from numpy.random.default_rng(2002), epochs at their "
        "expected durations."
    )
    Params = NumerosityParams
    epoch_fields = (
        ("fixation", "input_start_ms"),
        ("sample", "sample_ms"),
        ("delay", "delay_ms"),
        ("response", "response_ms"),
    )
    stimulus_epoch = "sample"
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version("1-5 dots on a 16x16 image, 400 ms sample, 600 ms delay, dt 10 ms"),
        "realistic": Version(
            "half the displays area-controlled, delay U(400, 1000) ms, input noise 0.05",
            {"p_control": 0.5, "delay_ms": Uniform(low_ms=400, high_ms=1000), "noise_scale": 0.05},
        ),
        "long": Version("3000 ms delay", {"delay_ms": 3000.0}),
        "nieder2002": Version(
            "Nieder et al.'s timing (500 ms fixation, 800 ms sample, 1000 ms delay) with half the "
            "displays area-controlled",
            {"input_start_ms": 500.0, "sample_ms": 800.0, "delay_ms": 1000.0, "p_control": 0.5},
        ),
    }
    metric = Metric(
        "accuracy",
        "argmax of the response-epoch outputs, averaged over the scored steps, is the count",
        criterion=0.9,
    )

    @property
    def choice_names(self) -> tuple[str, ...]:
        return tuple(f"count_{n}" for n in range(1, self.params.max_count + 1))

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        count = rng.integers(1, p.max_count + 1, size=batch_size)
        control = (rng.random(batch_size) < p.p_control).astype(np.int64)
        return {
            "count": count,
            "control": control,
            **self._dots(rng, count, control),
            **self._sample_epochs(rng, batch_size),
        }

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        counts = np.arange(1, p.max_count + 1)
        count = np.repeat(np.tile(counts, 2), 4)
        control = np.repeat(np.repeat([0, 1], len(counts)), 4)
        rng = np.random.default_rng(2002)
        return {
            "count": count,
            "control": control,
            **self._dots(rng, count, control),
            **self._expected_epochs(len(count)),
        }

    def _dots(self, rng: np.random.Generator, count: np.ndarray, control: np.ndarray):
        p = self.params
        batch_size, slots = len(count), p.max_count
        cells = np.argsort(rng.random((batch_size, p.grid_cells**2)), axis=1)[:, :slots]
        u = rng.random((batch_size, slots, 3))
        radius = p.radius_min + u[..., 0] * (p.radius_max - p.radius_min)
        equal = p.radius_max * np.sqrt(1.0 / count)[:, None]
        radius = np.where(control[:, None] == 1, equal, radius)
        radius = np.where(np.arange(slots)[None, :] < count[:, None], radius, 0.0)
        side = p.image_size / p.grid_cells
        free = side - 2 * radius
        x = (cells % p.grid_cells) * side + radius + u[..., 1] * free
        y = (cells // p.grid_cells) * side + radius + u[..., 2] * free
        return {"dot_x": x, "dot_y": y, "dot_radius": radius}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        images = render_discs(
            p.image_size,
            np.asarray(conditions["dot_x"], dtype=np.float64),
            np.asarray(conditions["dot_y"], dtype=np.float64),
            np.asarray(conditions["dot_radius"], dtype=np.float64),
        )
        stimuli = images[:, None, None]
        choice = np.asarray(conditions["count"], dtype=np.int64) - 1
        return self._decision_batch(conditions, choice, stimuli)
