"""Parameters of the Yang et al. (2019) tasks: the shared ones and one class per task family.

Defaults are the numbers of the released code (gyyang/multitask, ``task.py`` and
``train.get_default_hp``); the task cards say which source gives which number.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, model_validator

from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.timing import Choice, Duration, Fixed, Rounding, Uniform

Coherence = Annotated[float, Field(gt=0, le=1)]


class YangParams(TaskParams):
    """What every task of the suite shares: sampling, noise convention, targets and cost mask."""

    dt_ms: float = Field(
        20.0, gt=0, le=100, description="sampling period", json_schema_extra={"unit": "ms"}
    )
    noise_scale: float = Field(
        0.01,
        ge=0,
        le=10,
        description="sigma_x, the input noise in the original's continuous-time convention: each "
        "step adds N(0, (sigma_x * sqrt(2 tau_ms / dt_ms))^2) to every input unit",
        json_schema_extra={"unit": "a.u."},
    )
    tau_ms: float = Field(
        100.0,
        gt=0,
        le=10_000,
        description="time constant tau of alpha = dt/tau in the noise convention sqrt(2/alpha) "
        "(the network's own tau is set on the network)",
        json_schema_extra={"unit": "ms"},
    )
    duration_rounding: Rounding = Field(
        "truncate",
        description="how a duration becomes steps: 'truncate' is int(d/dt) as the original code "
        "(U(a, b) gives a/dt .. b/dt - 1 steps, equally likely); 'half_up' is the zoo's "
        "floor(d/dt + 1/2), the suite's rule before CHANGELOG 'Yang suite durations' (end "
        "values half as likely, b/dt possible)",
    )
    shared_timing: bool = Field(
        True,
        description="draw the epoch durations (and, in Go/RT/Dly/DMS/DMC tasks, the stimulus "
        "modalities) once per batch, shared by all its trials, as the original code; False "
        "draws them per trial",
    )
    fixation_target: float = Field(
        0.8,
        gt=0,
        lt=1,
        description="target of the fixation output while the network must fixate (0.8 in the "
        "original code, 0.85 in Soo et al. 2023)",
        json_schema_extra={"unit": "a.u."},
    )
    warmup_ms: float = ms_field(
        0.0,
        "rule-only epoch before the trial (fixation input off, nothing scored); Soo et al. "
        "2023 run 1000 ms outside the loss",
        allow_zero=True,
    )
    mask_start_ms: float = ms_field(
        100.0, "first part of the trial (after any warm-up) left unscored", allow_zero=True
    )
    response_grace_ms: float = ms_field(
        100.0, "first part after the go cue left unscored", allow_zero=True
    )
    response_weight: float = Field(
        5.0,
        gt=0,
        le=1000,
        description="cost-mask value after the go cue (1 before it)",
        json_schema_extra={"unit": "1"},
    )
    fixation_output_weight: float = Field(
        2.0,
        gt=0,
        le=1000,
        description="factor of the cost mask on the fixation output",
        json_schema_extra={"unit": "1"},
    )
    mask_inside_square: bool = Field(
        True,
        description="True: the loss is mean((mask * (y - z))^2) as in the original code, so the "
        "weights are the mask squared (1, 25; fixation x4); False: weights are the mask itself",
    )

    @property
    def rounding(self) -> Rounding:
        """The suite converts durations as its source does (``duration_rounding``)."""
        return self.duration_rounding

    @property
    def input_noise_std(self) -> float:
        """Per-step input noise std: sigma_x * sqrt(2 / alpha) with alpha = dt_ms / tau_ms."""
        return float(self.noise_scale * math.sqrt(2.0 * self.tau_ms / self.dt_ms))


class GoParams(YangParams):
    """Go and Anti: the stimulus appears during fixation and the go cue follows."""

    input_start_ms: Duration = ms_field(
        Uniform(low_ms=300, high_ms=700), "fixation before the stimulus"
    )
    input_duration_ms: Duration = ms_field(
        Uniform(low_ms=500, high_ms=1500), "stimulus shown before the go cue"
    )
    response_ms: Duration = ms_field(Fixed(ms=500), "response epoch after the go cue")
    stimulus_off_at_go: bool = Field(
        False,
        description="False: the stimulus stays on to the end of the trial (Yang et al. 2019); "
        "True: it goes off at the go cue (Soo et al. 2023, structure A)",
    )

    @model_validator(mode="after")
    def _response_is_scored(self) -> GoParams:
        self.check_grace_leaves_scored_steps()
        return self


class ReactParams(YangParams):
    """RT Go and RT Anti: the stimulus onset is the go cue."""

    input_start_ms: Duration = ms_field(
        Uniform(low_ms=500, high_ms=2500), "fixation before the stimulus (the go cue)"
    )
    hold_ms: Duration = ms_field(
        Fixed(ms=0),
        "second fixation epoch before the stimulus (0 in Yang et al.; Soo et al. 2023's structure "
        "A shows no stimulus here in RT tasks)",
        allow_zero=True,
    )
    response_ms: Duration = ms_field(Fixed(ms=500), "response epoch from the stimulus onset")

    @model_validator(mode="after")
    def _response_is_scored(self) -> ReactParams:
        self.check_grace_leaves_scored_steps()
        return self


class DelayParams(YangParams):
    """Dly Go and Dly Anti: stimulus, memory delay, go cue."""

    input_start_ms: Duration = ms_field(
        Choice(values_ms=(300, 500, 700)), "fixation before the stimulus"
    )
    input_duration_ms: Duration = ms_field(Choice(values_ms=(200, 400, 600)), "stimulus")
    delay_ms: Duration = ms_field(
        Choice(values_ms=(200, 400, 800, 1600)), "memory delay before the go cue"
    )
    response_ms: Duration = ms_field(Fixed(ms=500), "response epoch after the go cue")

    @model_validator(mode="after")
    def _response_is_scored(self) -> DelayParams:
        self.check_grace_leaves_scored_steps()
        return self


class _StrengthParams(YangParams):
    """Strength law of the decision tasks: mean U(low, high), coherence from a set, sign +-1."""

    coherences: tuple[Coherence, ...] = Field(
        (0.01, 0.02, 0.04, 0.08),
        min_length=1,
        max_length=50,
        description="half the strength difference c: strengths mean + c*s and mean - c*s",
        json_schema_extra={"unit": "a.u."},
    )
    strength_mean_low: float = Field(
        0.8,
        gt=0,
        le=10,
        description="lower end of the uniform law of the mean strength",
        json_schema_extra={"unit": "a.u."},
    )
    strength_mean_high: float = Field(
        1.2,
        gt=0,
        le=10,
        description="upper end of the uniform law of the mean strength",
        json_schema_extra={"unit": "a.u."},
    )

    def _check_strengths(self) -> None:
        if self.strength_mean_high < self.strength_mean_low:
            raise ValueError(
                f"'strength_mean_high' must be >= strength_mean_low={self.strength_mean_low:g}; "
                f"got {self.strength_mean_high:g}"
            )


class DecisionParams(_StrengthParams):
    """DM, Ctx DM and MultSen DM: two simultaneous stimuli, choose the stronger."""

    input_start_ms: Duration = ms_field(
        Uniform(low_ms=100, high_ms=400), "fixation before the stimuli"
    )
    input_duration_ms: Duration = ms_field(
        Choice(values_ms=(400, 800, 1600)), "stimuli, up to the go cue"
    )
    response_ms: Duration = ms_field(Fixed(ms=500), "response epoch after the go cue")

    @model_validator(mode="after")
    def _consistent(self) -> DecisionParams:
        self._check_strengths()
        self.check_grace_leaves_scored_steps()
        return self


class DelayDecisionParams(_StrengthParams):
    """Dly DM, Ctx Dly DM and MultSen Dly DM: two stimuli in sequence, choose the stronger."""

    coherences: tuple[Coherence, ...] = Field(
        (0.08, 0.16, 0.32),
        min_length=1,
        max_length=50,
        description="half the strength difference c: strengths mean + c*s and mean - c*s",
        json_schema_extra={"unit": "a.u."},
    )
    input_start_ms: Duration = ms_field(
        Choice(values_ms=(200, 400, 600)), "fixation before the first stimulus"
    )
    input_duration_ms: Duration = ms_field(Choice(values_ms=(200, 400, 600)), "first stimulus")
    delay_ms: Duration = ms_field(
        Choice(values_ms=(200, 400, 800, 1600)), "delay between the two stimuli"
    )
    stimulus2_ms: Duration = ms_field(Choice(values_ms=(200, 400, 600)), "second stimulus")
    delay2_ms: Duration = ms_field(
        Uniform(low_ms=100, high_ms=300),
        "delay between the second stimulus and the go cue",
        allow_zero=True,
    )
    response_ms: Duration = ms_field(Fixed(ms=500), "response epoch after the go cue")

    @model_validator(mode="after")
    def _consistent(self) -> DelayDecisionParams:
        self._check_strengths()
        self.check_grace_leaves_scored_steps()
        return self


class MatchParams(YangParams):
    """DMS, DNMS: sample, delay, test; respond to the test or keep fixating."""

    input_start_ms: Duration = ms_field(
        Choice(values_ms=(200, 400, 600)), "fixation before the sample"
    )
    input_duration_ms: Duration = ms_field(Choice(values_ms=(200, 400, 600)), "sample")
    delay_ms: Duration = ms_field(
        Choice(values_ms=(200, 400, 800, 1600)), "delay between sample and test"
    )
    test_ms: Duration = ms_field(
        Fixed(ms=0),
        "test shown while still fixating. 0 (Yang et al.): the test onset is the go cue and the "
        "test and the fixation input stay on to the end. > 0 (Soo et al. 2023, structure C): the "
        "test is shown this long, then it and the fixation input go off (the go cue)",
        allow_zero=True,
    )
    response_ms: Duration = ms_field(Fixed(ms=500), "response epoch after the go cue")

    @model_validator(mode="after")
    def _consistent(self) -> MatchParams:
        law = self.test_ms
        if law.lowest_ms == 0 < law.highest_ms:
            raise ValueError(
                f"'test_ms' must be always 0 or always > 0 (it selects the trial structure); "
                f"got {law}"
            )
        self.check_grace_leaves_scored_steps()
        return self


class CategoryParams(MatchParams):
    """DMC, DNMC: as DMS, with a random response epoch."""

    response_ms: Duration = ms_field(
        Choice(values_ms=(200, 400, 600)), "response epoch after the go cue"
    )
