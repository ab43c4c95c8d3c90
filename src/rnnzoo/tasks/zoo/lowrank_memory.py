"""Working-memory tasks of the low-rank benchmark (seed 004 appendix B.3): PWM and DMS.

Both show two stimuli separated by a random delay and score one output on the decision epoch:
the normalised difference of two remembered values (parametric working memory, Romo et al.), or
whether two binary stimuli were the same (delayed match-to-sample with stimuli A and B).
"""

from __future__ import annotations

import itertools
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, window
from rnnzoo.tasks.base import Metric, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform
from rnnzoo.tasks.zoo._lowrank import SOURCE_B3, LowRankParams, LowRankTask

_EPOCHS = (
    ("fixation", "input_start_ms"),
    ("stimulus_1", "input_duration_ms"),
    ("delay", "delay_ms"),
    ("stimulus_2", "stimulus_2_ms"),
    ("decision", "decision_ms"),
)


class ParametricWorkingMemoryParams(LowRankParams):
    """Parameters of parametric working memory (B.3 PWM); see the task card."""

    noise_scale: float = Field(
        0.01,
        ge=0,
        le=10,
        description="standard deviation of the white input noise (Dubreuil et al.'s 0.01; B.3 "
        "gives none), per step",
        json_schema_extra={"unit": "a.u."},
    )
    input_start_ms: Duration = ms_field(100.0, "fixation epoch before the first stimulus")
    input_duration_ms: Duration = ms_field(100.0, "first stimulus epoch (f1)")
    delay_ms: Duration = ms_field(
        Uniform(low_ms=500, high_ms=2000), "delay between the two stimuli", allow_zero=True
    )
    stimulus_2_ms: Duration = ms_field(100.0, "second stimulus epoch (f2)")
    decision_ms: Duration = ms_field(100.0, "decision epoch, the only scored epoch")
    values: tuple[Annotated[float, Field(ge=-1e4, le=1e4)], ...] = Field(
        tuple(float(v) for v in range(10, 35)),
        min_length=2,
        max_length=1000,
        description="stimulus values, f1 and f2 each drawn uniformly (B.3: 10, 11, ..., 34)",
        json_schema_extra={"unit": "a.u. (Hz in Romo et al.)"},
    )

    @model_validator(mode="after")
    def _distinct_values(self) -> ParametricWorkingMemoryParams:
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"'values' must not repeat a value; got {self.values}")
        return self


@register
class ParametricWorkingMemory(LowRankTask):
    name = "parametric_working_memory"
    aliases = ("pwm",)
    title = "Parametric working memory (low-rank benchmark)"
    summary = (
        "Two scalar stimuli f1 and f2 are separated by a 0.5-2 s delay; the network outputs their "
        "normalised difference, so f1 must be held as a graded value (Romo et al.'s vibrotactile "
        "frequency comparison as used for low-rank RNNs)."
    )
    source = SOURCE_B3 + (
        " B.3 'parametric working memory (PWM)': epochs 100 ms, 100 ms, U(500, 2000) ms, 100 ms, "
        "100 ms; each stimulus uniform on {10, ..., 34}; output the normalised difference. "
        "Originally Romo R., Brody C.D., Hernandez A. & Lemus L. (1999) Neuronal correlates of "
        "parametric working memory in the prefrontal cortex. Nature 399:470-473."
    )
    definition = (
        "Input: stimulus. Output: difference. Epochs, laid end to end, each drawn per trial and "
        "rounded to steps by floor(ms / dt_ms + 1/2): fixation (input_start_ms), stimulus_1 "
        "(input_duration_ms), delay (delay_ms), stimulus_2 (stimulus_2_ms), decision "
        "(decision_ms). Per trial f1 and f2 are drawn independently and uniformly from values "
        "(so f1 = f2 has probability 1/len(values)). With m = (min + max) / 2 and span = max - min "
        "of values (22 and 24 for B.3's set, Dubreuil et al.'s normalisation), the input is "
        "(f1 - m) / span during stimulus_1, (f2 - m) / span during stimulus_2 and 0 otherwise; the "
        "target is (f1 - f2) / span on the decision epoch and 0 before. Weights: 1 on the decision "
        "epoch, 0 elsewhere. White input noise of std noise_scale (0.01, Dubreuil et al.'s value; "
        "B.3 gives none) on every trial step. Metric accuracy (Dubreuil et al.'s): the mean output "
        "over the decision epoch has the sign of f1 - f2; when f1 = f2 it must lie within half the "
        "smallest non-zero target, |mean| < d / (2 span), d the smallest gap between values. "
        "Conditions: f1, f2 and {fixation,stimulus_1,delay,stimulus_2,decision}_steps. Test grid "
        "(psychometric): every ordered pair (f1, f2), f1-major, epochs at the steps of their "
        "expected durations."
    )
    Params = ParametricWorkingMemoryParams
    epoch_fields = _EPOCHS
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004 B.3 exactly: 100/100/U(500, 2000)/100/100 ms at 10 ms steps, values "
            "10..34, white input noise of std 0.01"
        ),
        "realistic": Version(
            "fixation U(100, 300) ms; correlated (OU, 20 ms) input noise of std 0.03",
            {
                "input_start_ms": Uniform(low_ms=100, high_ms=300),
                "noise_scale": 0.03,
                "noise_decay_ms": 20.0,
            },
        ),
        "long": Version(
            "delay U(2000, 6000) ms: f1 held for seconds",
            {"delay_ms": Uniform(low_ms=2000, high_ms=6000)},
        ),
    }
    metric = Metric(
        "accuracy",
        "sign of the output averaged over the decision epoch equals the sign of f1 - f2 (for "
        "f1 = f2: |mean| below half the smallest non-zero target)",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("stimulus",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("difference",)

    def _middle_and_span(self) -> tuple[float, float]:
        values = self.params.values
        return (max(values) + min(values)) / 2, max(values) - min(values)

    def _tie_band(self) -> float:
        return float(np.diff(np.sort(self.params.values)).min()) / (2 * self._middle_and_span()[1])

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        values = np.asarray(self.params.values, dtype=np.float64)
        conditions = self._sample_epochs(rng, batch_size)
        conditions["f1"] = values[rng.integers(len(values), size=batch_size)]
        conditions["f2"] = values[rng.integers(len(values), size=batch_size)]
        return conditions

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        middle, span = self._middle_and_span()
        f1 = np.asarray(conditions["f1"], dtype=np.float64)
        f2 = np.asarray(conditions["f2"], dtype=np.float64)
        epochs, lengths = self._lay_out(conditions)
        n_steps = int(lengths.max())
        inputs = canvas(n_steps, len(lengths), 1)
        for epoch, value in (("stimulus_1", f1), ("stimulus_2", f2)):
            inputs[:, :, 0] += window(n_steps, *epochs[epoch].T) * ((value - middle) / span)[None]
        return self._decision_batch(inputs, (f1 - f2) / span, epochs, lengths, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        pairs = np.array(list(itertools.product(self.params.values, repeat=2)), dtype=np.float64)
        conditions = self._expected_epochs(len(pairs))
        conditions["f1"], conditions["f2"] = pairs[:, 0], pairs[:, 1]
        return conditions


class LowRankMatchParams(LowRankParams):
    """Parameters of the two-stimulus delayed match-to-sample (B.3 DMS); see the task card."""

    noise_scale: float = Field(
        0.03,
        ge=0,
        le=10,
        description="standard deviation of the white input noise (Dubreuil et al.'s 0.03; B.3 "
        "gives none), per step",
        json_schema_extra={"unit": "a.u."},
    )
    input_start_ms: Duration = ms_field(100.0, "fixation epoch before the first stimulus")
    input_duration_ms: Duration = ms_field(500.0, "first stimulus epoch (the sample)")
    delay_ms: Duration = ms_field(
        Uniform(low_ms=500, high_ms=3000), "delay between the two stimuli", allow_zero=True
    )
    stimulus_2_ms: Duration = ms_field(500.0, "second stimulus epoch (the test)")
    decision_ms: Duration = ms_field(1000.0, "decision epoch, the only scored epoch")
    test_delays: int = Field(
        6,
        ge=1,
        le=100,
        description="delays in the test grid, evenly spaced from the shortest to the longest",
        json_schema_extra={"unit": "delays"},
    )


@register
class LowRankDelayedMatchToSample(LowRankTask):
    name = "dms_lowrank"
    aliases = ("delayed_match_to_sample_ab",)
    title = "Delayed match-to-sample, two stimuli (low-rank benchmark)"
    summary = (
        "One of two stimuli (A or B) is shown, then after a 0.5-3 s delay one of them again; the "
        "network reports +1 if they were the same and -1 if not. Its four trial types need two "
        "memory states and a non-linear (XOR-like) comparison."
    )
    source = SOURCE_B3 + (
        " B.3 'delayed match-to-sample (DMS)': epochs 100 ms, 500 ms, U(500, 3000) ms, 500 ms, "
        "1000 ms; one of two possible signals in each stimulus epoch; report whether they were "
        "the same. Stimuli A and B as one-hot inputs and the output +1/-1 follow Dubreuil et "
        "al.'s code."
    )
    definition = (
        "Inputs: stimulus_a, stimulus_b. Output: match. Epochs, laid end to end, each drawn per "
        "trial and rounded to steps by floor(ms / dt_ms + 1/2): fixation (input_start_ms), "
        "stimulus_1 (input_duration_ms), delay (delay_ms), stimulus_2 (stimulus_2_ms), decision "
        "(decision_ms). Per trial the sample and the test are drawn independently and uniformly "
        "from {A = 0, B = 1} (the four types A-A, A-B, B-A, B-B equally likely, as in Dubreuil et "
        "al.'s code); the one-hot code of the sample (1 on its channel, 0 on the other) is on "
        "during stimulus_1, that of the test during stimulus_2, and both inputs are 0 otherwise. "
        "Target: +1 when sample = test (match), -1 otherwise, on the decision epoch, 0 before. "
        "Weights: 1 on the decision epoch, 0 elsewhere. White input noise of std noise_scale "
        "(0.03, Dubreuil et al.'s value; B.3 gives none) on every trial step. Metric accuracy: the "
        "sign of the mean output over the decision epoch is the target's. Conditions: sample, "
        "test and {fixation,stimulus_1,delay,stimulus_2,decision}_steps. Test grid: the four "
        "(sample, test) types for each of test_delays delays evenly spaced from the shortest to "
        "the longest delay_ms (delay-major; B.3: 500, 1000, ..., 3000 ms), the other epochs at "
        "their expected durations. A different task from delayed_match_to_sample (ring-coded "
        "directions, fixation input, two choice outputs)."
    )
    Params = LowRankMatchParams
    epoch_fields = _EPOCHS
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004 B.3 exactly: 100/500/U(500, 3000)/500/1000 ms at 10 ms steps, white input "
            "noise of std 0.03"
        ),
        "realistic": Version(
            "fixation U(100, 300) ms; correlated (OU, 20 ms) input noise of std 0.1",
            {
                "input_start_ms": Uniform(low_ms=100, high_ms=300),
                "noise_scale": 0.1,
                "noise_decay_ms": 20.0,
            },
        ),
        "long": Version(
            "delay U(3000, 8000) ms: the sample is held for seconds",
            {"delay_ms": Uniform(low_ms=3000, high_ms=8000)},
        ),
    }
    metric = Metric(
        "accuracy",
        "sign of the output averaged over the decision epoch equals the target's (+1 match, "
        "-1 non-match)",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("stimulus_a", "stimulus_b")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("match",)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        conditions = self._sample_epochs(rng, batch_size)
        conditions["sample"] = rng.integers(2, size=batch_size)
        conditions["test"] = rng.integers(2, size=batch_size)
        return conditions

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        sample = np.asarray(conditions["sample"], dtype=np.int64)
        test = np.asarray(conditions["test"], dtype=np.int64)
        epochs, lengths = self._lay_out(conditions)
        n_steps = int(lengths.max())
        inputs = canvas(n_steps, len(lengths), 2)
        for epoch, stimulus in (("stimulus_1", sample), ("stimulus_2", test)):
            inputs += window(n_steps, *epochs[epoch].T)[:, :, None] * np.eye(2)[stimulus][None]
        target = np.where(sample == test, 1.0, -1.0)
        return self._decision_batch(inputs, target, epochs, lengths, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        low, high = p.delay_ms.lowest_ms, p.delay_ms.highest_ms
        delays = np.linspace(low, high, p.test_delays) if high > low else np.array([low])
        rows = [(d, s, t) for d in delays for s in (0, 1) for t in (0, 1)]
        grid = np.asarray(rows, dtype=np.float64)
        conditions = self._expected_epochs(len(grid))
        conditions["delay_steps"] = p.steps(grid[:, 0])
        conditions["sample"] = grid[:, 1].astype(np.int64)
        conditions["test"] = grid[:, 2].astype(np.int64)
        return conditions
