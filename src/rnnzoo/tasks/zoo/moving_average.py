"""K-point moving average of a piecewise-constant stream (short-term memory / linear filter)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out, per_step, stream_index, window
from rnnzoo.tasks._metrics import weighted_r2
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register

_TEST_SEED = 2001
"""Seed of the fixed streams of the test grid (Jaeger 2001)."""


class MovingAverageParams(TaskParams):
    """Parameters of the K-point moving average; see the task card."""

    n_points: int = Field(
        40,
        ge=1,
        le=10000,
        description="number of stream values per trial",
        json_schema_extra={"unit": "points"},
    )
    window: int = Field(
        3,
        ge=1,
        le=1000,
        description="K, the number of points averaged",
        json_schema_extra={"unit": "points"},
    )
    value_range: float = Field(
        1.0,
        gt=0,
        le=100,
        description="stream values are uniform on [-value_range, value_range]",
        json_schema_extra={"unit": "a.u."},
    )
    input_start_ms: float = ms_field(
        0.0, "silent period before the first stream value", allow_zero=True
    )
    input_duration_ms: float = ms_field(50.0, "duration of each stream value (sample period)")
    test_trials: int = Field(
        32,
        ge=1,
        le=10000,
        description="random streams in the test grid (plus a step and an impulse)",
        json_schema_extra={"unit": "trials"},
    )

    @model_validator(mode="after")
    def _window_fits(self) -> MovingAverageParams:
        if self.window > self.n_points:
            raise ValueError(
                f"'window' must be <= n_points={self.n_points} so that some points are scored; "
                f"got {self.window}"
            )
        return self


@register
class MovingAverage(Task):
    name = "moving_average"
    aliases = ("k_point_moving_average",)
    title = "K-point moving average"
    summary = (
        "Short-term memory and linear filtering: the network receives a stream of random values "
        "and must output, at every moment, the mean of the current value and the K-1 before it "
        "(a finite-impulse-response filter). The classic fading-memory benchmark of reservoir "
        "computing; memory demand grows with K."
    )
    source = (
        "Jaeger H. (2001) Short term memory in echo state networks. GMD Report 152, German "
        "National Research Center for Information Technology (memory capacity: reproducing "
        "delayed inputs; the K-point moving average y_n = (1/K) sum_{j<K} x_{n-j} is the "
        "corresponding linear filter of the last K inputs)."
    )
    definition = (
        "Input value; output average. Each trial is a stream of n_points values x_0..x_{N-1} "
        "drawn i.i.d. uniform on [-value_range, value_range]; after a silent period of "
        "input_start_ms (input 0) each value is held for input_duration_ms on the value channel "
        "(the sample period), and the trial ends with the last value (all durations rounded to "
        "steps by round half up). With K = window, the target during point n >= K-1 is the mean "
        "y_n = (1/K) sum_{j=0}^{K-1} x_{n-j} of the current and previous K-1 values; before K "
        "points have been shown (the silent period and points 0..K-2) the target is 0 and the "
        "weight 0. Weights are 1 on every step of points K-1..N-1. Epochs: baseline (silent "
        "period), warmup (points 0..K-2), scored (points K-1..N-1). No go cue (continuous task). "
        "Metric r2: per-trial weighted coefficient of determination over the scored steps "
        "(criterion 0.9). Conditions: values (B, n_points). Test grid: test_trials streams "
        f"numpy.random.default_rng({_TEST_SEED}).uniform(-value_range, value_range, "
        "(test_trials, n_points)), then a step trial (0 "
        "before point n_points // 2, value_range from it on) and an impulse trial (value_range "
        "at point n_points // 2, 0 elsewhere)."
    )
    Params = MovingAverageParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version("3-point average of 40 values held 50 ms each, mild white input noise"),
        "realistic": Version(
            "correlated (OU, 20 ms) input noise of std 0.1 on the stream",
            {"noise_scale": 0.1, "noise_decay_ms": 20.0},
        ),
        "long": Version(
            "10-point average of 100 values: the last 500 ms must be remembered",
            {"window": 10, "n_points": 100},
        ),
    }
    metric = Metric(
        "r2",
        "per-trial coefficient of determination of the average output over the scored steps",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("value",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("average",)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        return {"values": rng.uniform(-p.value_range, p.value_range, size=(batch_size, p.n_points))}

    def moving_average(self, values: np.ndarray) -> np.ndarray:
        """Targets per point (B, n_points): the K-point mean from point K-1 on, 0 before."""
        k = self.params.window
        values = np.asarray(values, dtype=np.float64)
        means = np.lib.stride_tricks.sliding_window_view(values, k, axis=1).sum(axis=2) / k
        return np.concatenate([np.zeros((values.shape[0], k - 1)), means], axis=1)

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        values = np.asarray(conditions["values"], dtype=np.float64)
        batch_size = values.shape[0]
        point = int(p.steps(p.input_duration_ms))
        epochs, lengths = lay_out(
            {
                "baseline": np.full(batch_size, int(p.steps(p.input_start_ms)), dtype=np.int64),
                "warmup": np.full(batch_size, (p.window - 1) * point, dtype=np.int64),
                "scored": np.full(batch_size, (p.n_points - p.window + 1) * point, dtype=np.int64),
            }
        )
        n_steps = int(lengths.max())
        index, inside = stream_index(n_steps, epochs["warmup"][:, 0], point, p.n_points)
        scored = window(n_steps, *epochs["scored"].T)

        inputs = canvas(n_steps, batch_size, self.n_inputs)
        inputs[:, :, 0] = per_step(values, index, inside)
        targets = canvas(n_steps, batch_size, self.n_outputs)
        targets[:, :, 0] = per_step(self.moving_average(values), index, scored)
        weights = scored[:, :, None].astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        rng = np.random.default_rng(_TEST_SEED)
        streams = rng.uniform(-p.value_range, p.value_range, size=(p.test_trials, p.n_points))
        middle = p.n_points // 2
        step = np.where(np.arange(p.n_points) >= middle, p.value_range, 0.0)
        impulse = np.where(np.arange(p.n_points) == middle, p.value_range, 0.0)
        return {"values": np.concatenate([streams, step[None], impulse[None]], axis=0)}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        return weighted_r2(outputs, batch.targets, batch.weights)
