"""Marked-input ("adding") problem (Hochreiter & Schmidhuber 1997; Le, Jaitly & Hinton 2015)."""

from __future__ import annotations

import itertools
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out, per_step, stream_index, window
from rnnzoo.tasks._metrics import mean_in_window
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform

_TEST_SEED = 1997
"""Seed of the fixed value streams of the test grid (Hochreiter & Schmidhuber 1997)."""
_TEST_ANCHORS = 10
"""Number of evenly spaced positions whose combinations the test grid marks."""


class MarkedInputParams(TaskParams):
    """Parameters of the marked-input (adding) problem; see the task card."""

    n_points: int = Field(
        20,
        ge=1,
        le=10000,
        description="number of stream values per trial",
        json_schema_extra={"unit": "points"},
    )
    n_marks: int = Field(
        2,
        ge=1,
        le=100,
        description="number of marked values per trial",
        json_schema_extra={"unit": "points"},
    )
    first_mark_within: int = Field(
        0,
        ge=0,
        le=10000,
        description="one mark is drawn among the first this-many points (0 = all marks anywhere)",
        json_schema_extra={"unit": "points"},
    )
    value_low: float = Field(
        0.0,
        ge=-100,
        le=100,
        description="lower end of the uniform values",
        json_schema_extra={"unit": "a.u."},
    )
    value_high: float = Field(
        1.0,
        ge=-100,
        le=100,
        description="upper end of the uniform values",
        json_schema_extra={"unit": "a.u."},
    )
    reduction: Literal["sum", "mean"] = Field(
        "sum",
        description="target: the sum or the mean of the marked values",
        json_schema_extra={"unit": ""},
    )
    tolerance: float = Field(
        0.04,
        gt=0,
        le=100,
        description="largest absolute error of a correct trial",
        json_schema_extra={"unit": "a.u."},
    )
    input_start_ms: float = ms_field(0.0, "fixation before the first stream value", allow_zero=True)
    input_duration_ms: float = ms_field(50.0, "duration of each stream value")
    delay_ms: Duration = ms_field(
        0.0, "delay between the stream and the response epoch", allow_zero=True
    )
    response_ms: float = ms_field(300.0, "response epoch (fixation input off, answer reported)")
    response_grace_ms: float = ms_field(
        100.0, "first part of the response epoch left unscored (weight 0)", allow_zero=True
    )

    @model_validator(mode="after")
    def _consistent(self) -> MarkedInputParams:
        if self.n_marks > self.n_points:
            raise ValueError(f"'n_marks' must be <= n_points={self.n_points}; got {self.n_marks}")
        if self.first_mark_within > self.n_points:
            raise ValueError(
                f"'first_mark_within' must be <= n_points={self.n_points} (0 = anywhere); "
                f"got {self.first_mark_within}"
            )
        if self.value_high <= self.value_low:
            raise ValueError(
                f"'value_high' must be > value_low={self.value_low:g}; got {self.value_high:g}"
            )
        self.check_grace_leaves_scored_steps()
        return self


@register
class MarkedInput(Task):
    name = "marked_input"
    aliases = ("adding_problem",)
    title = "Marked-input (adding) problem"
    summary = (
        "Long-range memory of selected values: a stream of random numbers is shown together "
        "with a marker channel that flags a few of them; after the stream the network must "
        "report the sum of the flagged numbers. The classic long-time-lag benchmark of LSTM "
        "and of identity-initialised RNNs."
    )
    source = (
        "Hochreiter S. & Schmidhuber J. (1997) Long short-term memory. Neural Computation "
        "9(8):1735-1780, section 5.4 (experiment 4, the adding problem). Le Q.V., Jaitly N. & "
        "Hinton G.E. (2015) A simple way to initialize recurrent networks of rectified linear "
        "units. arXiv:1504.00941 (values uniform on [0, 1], unscaled sum as the target)."
    )
    definition = (
        "Inputs fixation, value, marker; output sum. Epochs, laid end to end (durations rounded "
        "to steps by round half up): baseline (input_start_ms), stream (n_points values, each "
        "held input_duration_ms), delay (delay_ms, drawn per trial, may be 0), response "
        "(response_ms). The fixation input is 1 from trial start until the response epoch "
        "starts (the go cue) and 0 during it. Values x_0..x_{N-1} are drawn i.i.d. uniform on "
        "[value_low, value_high] and shown on the value channel during the stream (0 "
        "elsewhere). Exactly n_marks distinct points are marked (marker 1 while a marked value "
        "is shown, 0 otherwise): with first_mark_within = 0 the marked set is uniform over all "
        "n_marks-subsets (drawn without replacement); with first_mark_within = m > 0 one mark "
        "is uniform among points 0..m-1 and the other n_marks-1 are uniform without "
        "replacement among the remaining points. Hochreiter & Schmidhuber mark one of the first "
        "ten points and a second among the first T/2-1 (first_mark_within = 10 reproduces the "
        "first rule; the second mark is not restricted here); they show values in [-1, 1] with "
        "markers -1 on the first and last points and score the rescaled target 0.5 + sum / 4 "
        "with the same 0.04 tolerance (0.16 on the sum), so the default here (values in [0, 1] "
        "as in Le et al. 2015, 0.04 on the raw sum) is stricter. Target: 0 before the response "
        "epoch and, during it, the sum (reduction='sum') or mean (reduction='mean') of the "
        "marked values. Weights are 1 on every trial step except the first response_grace_ms "
        "of the response epoch (0). Metric accuracy: a trial is correct when |mean of the sum "
        "output over the scored response steps - target| < tolerance (criterion 0.9). "
        "Conditions: values (B, n_points), marked (B, n_marks; sorted point indices), "
        "delay_steps (B,). Test grid: K = min(n_points, max(10, n_marks)) anchor points, with m = "
        "first_mark_within (m = n_points when it is 0): k_low = max(K - (n_points - m), "
        "min(m, K // 2)) of them evenly spaced on [0, m - 1] and the other K - k_low evenly "
        "spaced on [m, n_points - 1] (numpy.linspace, rounded half up); every "
        "n_marks-combination of anchors whose smallest point is below m, in lexicographic "
        "order, one trial each; values numpy.random.default_rng("
        f"{_TEST_SEED}).uniform(value_low, value_high, (trials, n_points)); delay at the "
        "steps of its expected duration."
    )
    Params = MarkedInputParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "sum of 2 marked values among 20 held 50 ms each, then a 300 ms "
            "response; mild white input noise"
        ),
        "realistic": Version(
            "delay U(0, 500) ms between stream and response, correlated (OU, 20 ms) input "
            "noise of std 0.1",
            {
                "delay_ms": Uniform(low_ms=0, high_ms=500),
                "noise_scale": 0.1,
                "noise_decay_ms": 20.0,
            },
        ),
        "long": Version(
            "100 values (5 s), one mark among the first 10 (Hochreiter & "
            "Schmidhuber's rule): lags of several seconds",
            {"n_points": 100, "first_mark_within": 10},
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of trials whose sum output, averaged over the scored response steps, is "
        "within tolerance of the target",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("fixation", "value", "marker")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("sum",)

    def target_value(self, conditions: dict[str, np.ndarray]) -> np.ndarray:
        """The answer of each trial (B,): sum or mean of the marked values."""
        values = np.asarray(conditions["values"], dtype=np.float64)
        marked = np.asarray(conditions["marked"], dtype=np.int64)
        picked = np.take_along_axis(values, marked, axis=1)
        return picked.sum(axis=1) if self.params.reduction == "sum" else picked.mean(axis=1)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        values = rng.uniform(p.value_low, p.value_high, size=(batch_size, p.n_points))
        keys = rng.uniform(size=(batch_size, p.n_points))  # a random order of the points
        if p.first_mark_within > 0:
            first = rng.integers(p.first_mark_within, size=batch_size)
            keys[np.arange(batch_size), first] = -1.0  # always among the marked
        marked = np.sort(np.argsort(keys, axis=1, kind="stable")[:, : p.n_marks], axis=1)
        delay = p.steps(p.delay_ms.sample(rng, batch_size))
        return {"values": values, "marked": marked.astype(np.int64), "delay_steps": delay}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        values = np.asarray(conditions["values"], dtype=np.float64)
        marked = np.asarray(conditions["marked"], dtype=np.int64)
        batch_size = values.shape[0]
        point = int(p.steps(p.input_duration_ms))

        def fixed(n: int) -> np.ndarray:
            return np.full(batch_size, n, dtype=np.int64)

        epochs, lengths = lay_out(
            {
                "baseline": fixed(int(p.steps(p.input_start_ms))),
                "stream": fixed(p.n_points * point),
                "delay": conditions["delay_steps"],
                "response": fixed(int(p.steps(p.response_ms))),
            }
        )
        n_steps = int(lengths.max())
        index, inside = stream_index(n_steps, epochs["stream"][:, 0], point, p.n_points)
        is_marked = np.zeros(values.shape)
        np.put_along_axis(is_marked, marked, 1.0, axis=1)
        response_start = epochs["response"][:, 0]

        inputs = canvas(n_steps, batch_size, self.n_inputs)
        inputs[:, :, 0] = window(n_steps, fixed(0), response_start)
        inputs[:, :, 1] = per_step(values, index, inside)
        inputs[:, :, 2] = per_step(is_marked, index, inside)
        targets = canvas(n_steps, batch_size, self.n_outputs)
        targets[:, :, 0] = window(n_steps, *epochs["response"].T) * self.target_value(conditions)
        grace = window(n_steps, response_start, response_start + int(p.steps(p.response_grace_ms)))
        weights = np.broadcast_to(~grace[:, :, None], targets.shape)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_anchors(self) -> np.ndarray:
        """Point indices whose n_marks-combinations make the test grid (see the card)."""
        p = self.params
        n, m = p.n_points, p.first_mark_within or p.n_points
        k = min(n, max(_TEST_ANCHORS, p.n_marks))
        k_low = max(k - (n - m), min(m, k // 2))
        low = np.linspace(0, m - 1, k_low)
        high = np.linspace(m, n - 1, k - k_low)
        return np.floor(np.concatenate([low, high]) + 0.5).astype(np.int64)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        combos = itertools.combinations(self.test_anchors(), p.n_marks)
        marked = np.array(list(combos), dtype=np.int64).reshape(-1, p.n_marks)
        marked = marked[marked[:, 0] < (p.first_mark_within or p.n_points)]
        rng = np.random.default_rng(_TEST_SEED)
        values = rng.uniform(p.value_low, p.value_high, size=(len(marked), p.n_points))
        delay = np.full(len(marked), int(p.steps(p.delay_ms.expected_ms)), dtype=np.int64)
        return {"values": values, "marked": marked, "delay_steps": delay}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights[:, :, 0] > 0)
        answer = mean_in_window(outputs, scored)[:, 0]
        target = mean_in_window(batch.targets.astype(np.float64), scored)[:, 0]
        return (np.abs(answer - target) < self.params.tolerance).astype(np.float64)
