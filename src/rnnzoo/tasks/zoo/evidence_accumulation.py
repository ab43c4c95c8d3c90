"""Poisson clicks evidence accumulation (Brunton, Botvinick & Brody 2013)."""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out, window
from rnnzoo.tasks._metrics import choice_correct
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Fixed, Uniform

_TEST_SEED = 2013
"""Seed of the click trains of the deterministic test grid."""


class EvidenceAccumulationParams(TaskParams):
    """Parameters of the Poisson clicks task; see the task card."""

    input_start_ms: Duration = ms_field(
        Fixed(ms=500.0), "fixation epoch: onset of the click trains after trial start"
    )
    input_duration_ms: Duration = ms_field(Fixed(ms=1000.0), "duration of the click trains")
    delay_ms: Duration = ms_field(
        Fixed(ms=0.0), "delay from the end of the click trains to the go cue", allow_zero=True
    )
    response_ms: float = ms_field(500.0, "response epoch (fixation input off)")
    response_grace_ms: float = ms_field(
        100.0, "first part of the response epoch that is not scored (weight 0)", allow_zero=True
    )
    total_rate_hz: float = Field(
        40.0,
        gt=0,
        le=1000,
        description="sum of the left and right click rates, r_left + r_right",
        json_schema_extra={"unit": "Hz"},
    )
    log_ratios: tuple[Annotated[float, Field(ge=-10, le=10)], ...] = Field(
        (-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5),
        min_length=1,
        max_length=100,
        description="values of gamma = ln(r_right / r_left), one drawn uniformly per trial",
        json_schema_extra={"unit": "ln(Hz/Hz)"},
    )
    click_amplitude: float = Field(
        1.0,
        gt=0,
        le=100,
        description="input added by one click",
        json_schema_extra={"unit": "a.u."},
    )
    test_repeats: int = Field(
        10,
        ge=1,
        le=1000,
        description="trials per log-ratio in the test grid",
        json_schema_extra={"unit": "trials"},
    )

    @model_validator(mode="after")
    def _consistent(self) -> EvidenceAccumulationParams:
        if any(g == 0 for g in self.log_ratios):
            raise ValueError(
                f"'log_ratios' must not contain 0 (equal rates leave no correct side on a tie); "
                f"got {self.log_ratios}"
            )
        if len(set(self.log_ratios)) != len(self.log_ratios):
            raise ValueError(f"'log_ratios' must not repeat a value; got {self.log_ratios}")
        self.check_grace_leaves_scored_steps()
        return self


@register
class EvidenceAccumulation(Task):
    name = "evidence_accumulation"
    aliases = ("poisson_clicks",)
    title = "Poisson clicks evidence accumulation"
    summary = (
        "Two streams of randomly timed clicks, one per ear, play together; after they end the "
        "subject chooses the side that played more clicks. The clicks are Poisson processes whose "
        "rates differ by a drawn log-ratio, so the best strategy is to count (integrate) every "
        "click without leak. It separates sensory noise (click timing) from accumulator noise."
    )
    source = (
        "Brunton B.W., Botvinick M.M. & Brody C.D. (2013) Rats and humans can optimally accumulate "
        "evidence for decision-making. Science 340(6128):95-98. From the paper: the total click "
        "rate r_left + r_right = 40 Hz and, in the realistic version, stimulus durations from 0.1 "
        "to 1 s. rnnzoo's choices: the grid of log-ratios (default +-0.5, +-1.5, +-2.5, +-3.5), "
        "the fixed 1 s stimulus of the vanilla version, the delay and the response epoch."
    )
    definition = (
        "Inputs: fixation, click_left, click_right. Outputs: choose_left, choose_right. Epochs, "
        "laid end to end: fixation (input_start_ms), stimulus (input_duration_ms), delay "
        "(delay_ms, may be 0) and response (response_ms); each duration is drawn once per trial in "
        "ms and rounded to steps by floor(d / dt_ms + 1/2). The fixation input is 1 from trial "
        "start until the response epoch starts (the go cue) and 0 during it. Per trial gamma = "
        "ln(r_right / r_left) is drawn uniformly from log_ratios and r_left + r_right = "
        "total_rate_hz, so r_right = total_rate_hz / (1 + exp(-gamma)) and r_left = total_rate_hz "
        "/ (1 + exp(gamma)). On each stimulus step the number of clicks on each side is drawn "
        "independently from Poisson(rate * dt_ms / 1000) (Poisson processes binned at dt_ms); "
        "click_left and click_right equal click_amplitude times that step's count (clicks in one "
        "step add up) and are 0 outside the stimulus epoch. Correct choice: the side with more "
        "clicks over the whole stimulus (n_left vs n_right); on a tie, the side with the higher "
        "generative rate (right when gamma > 0). Targets: 0 before the response epoch; during it 1 "
        "on the correct choice channel and 0 on the other. Weights: 1 on every step of the trial "
        "except the first response_grace_ms of the response epoch (0 on all outputs). Metric "
        "accuracy: a trial is correct when the argmax of the outputs averaged over the scored "
        "response steps is the correct choice. Conditions: log_ratio; clicks_left and "
        "clicks_right, (B, S) per-step click counts from stimulus onset (S = steps of the longest "
        "possible stimulus; 0 after the trial's stimulus); fixation_steps, stimulus_steps, "
        "delay_steps, response_steps; and, recomputed from those by build, rate_left_hz, "
        "rate_right_hz, n_left, n_right and choice (0 = left, 1 = right). Test grid: every "
        "log_ratio repeated test_repeats times (in the order of log_ratios), epochs at the rounded "
        "expected durations, click counts drawn from numpy.random.default_rng(2013) (all left "
        "trains, then all right trains)."
    )
    Params = EvidenceAccumulationParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version("1 s click trains at 40 Hz in total, no delay, mild white input noise"),
        "realistic": Version(
            "the paper's variable stimulus, uniform in 0.1-1 s; correlated (OU, 20 ms) noise of "
            "std 0.1",
            {
                "input_duration_ms": Uniform(low_ms=100.0, high_ms=1000.0),
                "noise_scale": 0.1,
                "noise_decay_ms": 20.0,
            },
        ),
        "long": Version(
            "a 1-3 s delay between the last click and the go cue: the count is held in memory",
            {"delay_ms": Uniform(low_ms=1000.0, high_ms=3000.0)},
        ),
    }
    metric = Metric(
        "accuracy",
        "argmax of the outputs averaged over the scored response steps is the side with more "
        "clicks (ties: the side with the higher rate)",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("fixation", "click_left", "click_right")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("choose_left", "choose_right")

    def _rates(self, log_ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Left and right click rates in Hz for log-ratios gamma (B,)."""
        total = self.params.total_rate_hz
        return total / (1.0 + np.exp(log_ratio)), total / (1.0 + np.exp(-log_ratio))

    def _trains(
        self, rng: np.random.Generator, log_ratio: np.ndarray, n_steps: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-step Poisson click counts (B, n_steps) on the left and on the right."""
        per_step = self.params.dt_ms / 1000.0
        size = (len(log_ratio), n_steps)
        rate_left, rate_right = self._rates(log_ratio)
        left = rng.poisson((rate_left * per_step)[:, None], size=size)
        right = rng.poisson((rate_right * per_step)[:, None], size=size)
        return left, right

    def _derived(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Trains cut to each trial's stimulus, rates, click counts and the correct choice."""
        log_ratio = np.asarray(conditions["log_ratio"], dtype=np.float64)
        left = np.asarray(conditions["clicks_left"], dtype=np.int64)
        right = np.asarray(conditions["clicks_right"], dtype=np.int64)
        on = np.arange(left.shape[1])[None, :] < np.asarray(conditions["stimulus_steps"])[:, None]
        left, right = left * on, right * on
        n_left, n_right = left.sum(axis=1), right.sum(axis=1)
        tie_break = (log_ratio > 0).astype(np.int64)
        choice = np.where(n_right > n_left, 1, np.where(n_left > n_right, 0, tie_break))
        rate_left, rate_right = self._rates(log_ratio)
        return {
            "clicks_left": left,
            "clicks_right": right,
            "rate_left_hz": rate_left,
            "rate_right_hz": rate_right,
            "n_left": n_left,
            "n_right": n_right,
            "choice": choice.astype(np.int64),
        }

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        conditions = {
            "fixation_steps": p.steps(p.input_start_ms.sample(rng, batch_size)),
            "stimulus_steps": p.steps(p.input_duration_ms.sample(rng, batch_size)),
            "delay_steps": p.steps(p.delay_ms.sample(rng, batch_size)),
            "response_steps": np.full(batch_size, p.steps(p.response_ms), dtype=np.int64),
            "log_ratio": np.asarray(p.log_ratios)[rng.integers(len(p.log_ratios), size=batch_size)],
        }
        width = int(p.steps(p.input_duration_ms.highest_ms))
        conditions["clicks_left"], conditions["clicks_right"] = self._trains(
            rng, conditions["log_ratio"], width
        )
        return {**conditions, **self._derived(conditions)}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        conditions = {**conditions, **self._derived(conditions)}
        epochs, lengths = lay_out(
            {
                "fixation": conditions["fixation_steps"],
                "stimulus": conditions["stimulus_steps"],
                "delay": conditions["delay_steps"],
                "response": conditions["response_steps"],
            }
        )
        n_steps, batch_size = int(lengths.max()), len(lengths)
        go = epochs["response"][:, 0]

        inputs = canvas(n_steps, batch_size, 3)
        inputs[:, :, 0] = window(n_steps, np.zeros_like(go), go)
        width = conditions["clicks_left"].shape[1]
        offset = np.arange(n_steps)[:, None] - epochs["stimulus"][:, 0][None, :]  # (T, B)
        index = np.where((offset >= 0) & (offset < width), offset, width)  # width = a zero column
        for channel, key in ((1, "clicks_left"), (2, "clicks_right")):
            padded = np.concatenate([conditions[key], np.zeros((batch_size, 1), np.int64)], axis=1)
            inputs[:, :, channel] = p.click_amplitude * np.take_along_axis(padded.T, index, axis=0)

        in_response = window(n_steps, go, epochs["response"][:, 1])
        one_hot = np.eye(2, dtype=np.float32)[conditions["choice"]]  # (B, 2)
        targets = in_response[:, :, None] * one_hot[None, :, :]
        grace = window(n_steps, go, go + p.steps(p.response_grace_ms))
        weights = np.broadcast_to(~grace[:, :, None], targets.shape).astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        log_ratio = np.repeat(np.asarray(p.log_ratios, dtype=np.float64), p.test_repeats)
        batch_size = len(log_ratio)
        conditions = {
            "fixation_steps": np.full(batch_size, p.steps(p.input_start_ms.expected_ms)),
            "stimulus_steps": np.full(batch_size, p.steps(p.input_duration_ms.expected_ms)),
            "delay_steps": np.full(batch_size, p.steps(p.delay_ms.expected_ms)),
            "response_steps": np.full(batch_size, p.steps(p.response_ms), dtype=np.int64),
            "log_ratio": log_ratio,
        }
        width = int(conditions["stimulus_steps"][0])
        conditions["clicks_left"], conditions["clicks_right"] = self._trains(
            np.random.default_rng(_TEST_SEED), log_ratio, width
        )
        return {**conditions, **self._derived(conditions)}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights.sum(axis=2) > 0)
        return choice_correct(outputs, scored, batch.conditions["choice"])
