"""Noisy-signal decisions of the low-rank benchmark (seed 004 appendix B.3): PDM, CDM and MDM.

Each reports the sign of a noisy signal on one output: the only signal (perceptual decision
making), the signal selected by a context cue (contextual), or two signals that agree
(multi-sensory).
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, window
from rnnzoo.tasks.base import Metric, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import ms_field
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Uniform
from rnnzoo.tasks.zoo._lowrank import (
    SOURCE_B3,
    TEST_SEED,
    LowRankParams,
    LowRankTask,
    add_signal_noise,
)

_SIGNALS = (-0.4, -0.2, -0.1, 0.1, 0.2, 0.4)

_METRIC = Metric(
    "accuracy",
    "sign of the output averaged over the decision epoch equals the sign of the correct signal "
    "(Dubreuil et al. 2022's accuracy)",
    criterion=0.9,
)

_NOISE_TEXT = (
    "Noise: signal_noise_std times standard-normal draws is added to every signal channel on "
    "every step of the trial (Dubreuil et al.'s code adds it throughout the trial; B.3 gives its "
    "standard deviation, 0.1); the draws are the condition 'signal_noise' (B, S, C), S = steps of "
    "the longest possible trial. Cue channels carry no noise. The framework's input noise "
    "(noise_scale, every channel) is 0 in the published set-up."
)


def _signals_field() -> Any:
    return Field(
        _SIGNALS,
        min_length=1,
        max_length=100,
        description="signal means, one drawn uniformly per trial and channel (B.3: ±0.1, ±0.2, ±0.4)",
        json_schema_extra={"unit": "a.u."},
    )


def _check_signals(signals: tuple[float, ...]) -> None:
    if any(s == 0 for s in signals):
        raise ValueError(f"'signals' must not contain 0 (its sign is undefined); got {signals}")
    if len(set(signals)) != len(signals):
        raise ValueError(f"'signals' must not repeat a value; got {signals}")


_Signal = Annotated[float, Field(ge=-10, le=10)]


class PerceptualDecisionParams(LowRankParams):
    """Parameters of perceptual decision making (B.3 PDM); see the task card."""

    input_start_ms: Duration = ms_field(100.0, "fixation epoch before the stimulus")
    input_duration_ms: Duration = ms_field(800.0, "stimulus epoch: the signal mean is on")
    delay_ms: Duration = ms_field(100.0, "delay from stimulus offset to decision", allow_zero=True)
    decision_ms: Duration = ms_field(20.0, "decision epoch, the only scored epoch")
    signals: tuple[_Signal, ...] = _signals_field()
    signal_noise_std: float = Field(
        0.1,
        ge=0,
        le=10,
        description="standard deviation of the Gaussian noise on the signal channel, per step",
        json_schema_extra={"unit": "a.u."},
    )
    test_repeats: int = Field(
        8,
        ge=1,
        le=1000,
        description="trials per grid condition in the test grid",
        json_schema_extra={"unit": "trials"},
    )

    @model_validator(mode="after")
    def _valid_signals(self) -> PerceptualDecisionParams:
        _check_signals(self.signals)
        return self


class ContextualDecisionParams(LowRankParams):
    """Parameters of contextual and multi-sensory decision making (B.3 CDM, MDM)."""

    input_start_ms: Duration = ms_field(100.0, "fixation epoch before the context cue")
    context_ms: Duration = ms_field(350.0, "context epoch: the cue alone")
    input_duration_ms: Duration = ms_field(800.0, "stimulus epoch: cue and both signal means on")
    context_2_ms: Duration = ms_field(
        500.0, "second context epoch: the cue alone again", allow_zero=True
    )
    decision_ms: Duration = ms_field(20.0, "decision epoch, the only scored epoch")
    signals: tuple[_Signal, ...] = _signals_field()
    signal_noise_std: float = Field(
        0.1,
        ge=0,
        le=10,
        description="standard deviation of the Gaussian noise on each signal channel, per step",
        json_schema_extra={"unit": "a.u."},
    )
    cue_amplitude: float = Field(
        0.1, gt=0, le=100, description="value of the active cue", json_schema_extra={"unit": "a.u."}
    )
    test_repeats: int = Field(
        4,
        ge=1,
        le=1000,
        description="trials per grid condition in the test grid",
        json_schema_extra={"unit": "trials"},
    )

    @model_validator(mode="after")
    def _valid_signals(self) -> ContextualDecisionParams:
        _check_signals(self.signals)
        return self


def _jitter(**extra: object) -> dict[str, object]:
    """The realistic versions: fixation jitter and correlated (OU, 20 ms) noise of std 0.05."""
    return {
        "input_start_ms": Uniform(low_ms=100, high_ms=300),
        "noise_scale": 0.05,
        "noise_decay_ms": 20.0,
        **extra,
    }


@register
class PerceptualDecisionMaking(LowRankTask):
    name = "perceptual_decision_making"
    aliases = ("pdm",)
    title = "Perceptual decision making (low-rank benchmark)"
    summary = (
        "A noisy scalar signal is shown for 800 ms; after a short delay the network reports its "
        "sign on one output (a random-dot motion discrimination reduced to one input). The first "
        "of the five tasks on which seed 004 compares CordsNets with full-rank, low-rank and "
        "sparse RNNs."
    )
    source = SOURCE_B3 + (
        " B.3 'perceptual decision-making (PDM)': epochs 100/800/100/20 ms, signal uniform on "
        "{±0.4, ±0.2, ±0.1}, Gaussian noise of std 0.1."
    )
    definition = (
        "Input: signal. Output: choice. Epochs, laid end to end, each drawn per trial and rounded "
        "to steps by floor(ms / dt_ms + 1/2): fixation (input_start_ms), stimulus "
        "(input_duration_ms), delay (delay_ms, may be 0), decision (decision_ms). Per trial a "
        "signal mean s is drawn uniformly from signals; the signal input is s during the stimulus "
        "epoch and 0 otherwise. " + _NOISE_TEXT + " Target: sign(s) (+1 or -1) on the decision "
        "epoch, 0 before. Weights: 1 on the decision epoch, 0 elsewhere (Dubreuil et al.'s mask). "
        "Metric accuracy: sign of the mean output over the decision epoch equals sign(s) (a "
        "zero signal, possible only through from_conditions, has target 0 and is correct when "
        "|mean| < 0.5). Conditions: signal, signal_noise and {fixation,stimulus,delay,decision}_steps. Test "
        "grid (psychometric): every value of signals repeated test_repeats times in order, epochs "
        "at the steps of their expected durations, noise drawn from "
        "numpy.random.default_rng(2022)."
    )
    Params = PerceptualDecisionParams
    epoch_fields = (
        ("fixation", "input_start_ms"),
        ("stimulus", "input_duration_ms"),
        ("delay", "delay_ms"),
        ("decision", "decision_ms"),
    )
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004 B.3 exactly: 100/800/100/20 ms at 10 ms steps, signals ±0.1, ±0.2, ±0.4 "
            "with noise of std 0.1"
        ),
        "realistic": Version(
            "fixation U(100, 300) and delay U(100, 300) ms; extra OU (20 ms) input noise of std 0.05",
            _jitter(delay_ms=Uniform(low_ms=100, high_ms=300)),
        ),
        "long": Version(
            "delay U(1000, 3000) ms: the decision is held in memory",
            {"delay_ms": Uniform(low_ms=1000, high_ms=3000)},
        ),
    }
    metric = _METRIC

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("signal",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("choice",)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        conditions = self._sample_epochs(rng, batch_size)
        conditions["signal"] = np.asarray(p.signals)[rng.integers(len(p.signals), size=batch_size)]
        shape = (batch_size, self.longest_trial_steps(), 1)
        conditions["signal_noise"] = rng.standard_normal(shape)
        return conditions

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        signal = np.asarray(conditions["signal"], dtype=np.float64)
        epochs, lengths = self._lay_out(conditions)
        n_steps = int(lengths.max())
        inputs = canvas(n_steps, len(lengths), 1)
        inputs[:, :, 0] = window(n_steps, *epochs["stimulus"].T) * signal[None, :]
        add_signal_noise(
            inputs, slice(0, 1), conditions["signal_noise"], p.signal_noise_std, self.name
        )
        return self._decision_batch(inputs, np.sign(signal), epochs, lengths, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        signal = np.repeat(np.asarray(p.signals, dtype=np.float64), p.test_repeats)
        conditions = self._expected_epochs(len(signal))
        conditions["signal"] = signal
        n_steps = int(self._lay_out(conditions)[1].max())
        rng = np.random.default_rng(TEST_SEED)
        conditions["signal_noise"] = rng.standard_normal((len(signal), n_steps, 1))
        return conditions


_CONTEXT_DEFINITION = (
    "Inputs: signal_1, signal_2, cue_1, cue_2. Output: choice. Epochs, laid end to end, each "
    "drawn per trial and rounded to steps by floor(ms / dt_ms + 1/2): fixation (input_start_ms), "
    "context (context_ms), stimulus (input_duration_ms), context_2 (context_2_ms, B.3's 'second "
    "context epoch'), decision (decision_ms). Per trial a context c in {0, 1} is drawn uniformly; "
    "cue_{c+1} equals cue_amplitude (B.3: 0.1) from the start of the context epoch to the end of "
    "context_2 (as in Dubreuil et al.'s code, the cue stays on through the stimulus) and the "
    "other cue is 0. signal_i is its mean s_i during the stimulus epoch and 0 otherwise. "
    + _NOISE_TEXT
    + " Target: sign(s_{c+1}), the sign of the cued signal (+1 or -1), on the decision epoch, 0 "
    "before. Weights: 1 on the decision epoch, 0 elsewhere. Metric accuracy: sign of the mean "
    "output over the decision epoch equals the target's sign (a zero cued signal, possible only "
    "through from_conditions, has target 0 and is correct when |mean| < 0.5). Conditions: signals (B, 2), "
    "context, signal_noise and {fixation,context,stimulus,context_2,decision}_steps. "
)


@register
class ContextualDecisionMaking(LowRankTask):
    name = "contextual_decision_making"
    aliases = ("cdm",)
    title = "Contextual decision making (low-rank benchmark)"
    summary = (
        "Two noisy signals arrive together; a context cue, on before, during and after them, says "
        "which one to report, so the same stimulus demands opposite answers in the two contexts "
        "(Mante et al. 2013's task as used for low-rank RNNs)."
    )
    source = SOURCE_B3 + (
        " B.3 'contextual decision-making (CDM)': epochs 100/350/800/500/20 ms, four inputs (2 "
        "cues, one at 0.1 and the other 0; 2 noisy signals uniform on {±0.4, ±0.2, ±0.1}); "
        "originally Mante V., Sussillo D., Shenoy K.V. & Newsome W.T. (2013) Context-dependent "
        "computation by recurrent dynamics in prefrontal cortex. Nature 503:78-84."
    )
    definition = _CONTEXT_DEFINITION + (
        "Draws per trial: s_1 and s_2 independently and uniformly from signals; c uniform. Test "
        "grid (psychometric): every (c, s_1, s_2) in context-major order, each repeated "
        "test_repeats times, epochs at the steps of their expected durations, noise from "
        "numpy.random.default_rng(2022)."
    )
    Params = ContextualDecisionParams
    epoch_fields = (
        ("fixation", "input_start_ms"),
        ("context", "context_ms"),
        ("stimulus", "input_duration_ms"),
        ("context_2", "context_2_ms"),
        ("decision", "decision_ms"),
    )
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004 B.3 exactly: 100/350/800/500/20 ms at 10 ms steps, cue 0.1, signals "
            "±0.1, ±0.2, ±0.4 with noise of std 0.1"
        ),
        "realistic": Version(
            "fixation U(100, 300) and second context U(300, 700) ms; extra OU (20 ms) input "
            "noise of std 0.05 on every channel",
            _jitter(context_2_ms=Uniform(low_ms=300, high_ms=700)),
        ),
        "long": Version(
            "second context epoch U(1000, 3000) ms: the decision is held in memory",
            {"context_2_ms": Uniform(low_ms=1000, high_ms=3000)},
        ),
    }
    metric = _METRIC

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("signal_1", "signal_2", "cue_1", "cue_2")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("choice",)

    def _draw_signals(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Signal means (B, 2)."""
        values = np.asarray(self.params.signals, dtype=np.float64)
        return values[rng.integers(len(values), size=(batch_size, 2))]

    def _signal_grid(self) -> list[tuple[float, float]]:
        """The (s_1, s_2) pairs of the test grid."""
        return list(itertools.product(self.params.signals, repeat=2))

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        conditions = self._sample_epochs(rng, batch_size)
        conditions["signals"] = self._draw_signals(rng, batch_size)
        conditions["context"] = rng.integers(2, size=batch_size)
        shape = (batch_size, self.longest_trial_steps(), 2)
        conditions["signal_noise"] = rng.standard_normal(shape)
        return conditions

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        signals = np.asarray(conditions["signals"], dtype=np.float64)
        context = np.asarray(conditions["context"], dtype=np.int64)
        epochs, lengths = self._lay_out(conditions)
        n_steps, batch_size = int(lengths.max()), len(lengths)
        inputs = canvas(n_steps, batch_size, 4)
        stimulus = window(n_steps, *epochs["stimulus"].T)
        inputs[:, :, 0:2] = stimulus[:, :, None] * signals[None, :, :]
        add_signal_noise(
            inputs, slice(0, 2), conditions["signal_noise"], p.signal_noise_std, self.name
        )
        cue_on = window(n_steps, epochs["context"][:, 0], epochs["context_2"][:, 1])
        cue = p.cue_amplitude * np.eye(2)[context]  # (B, 2)
        inputs[:, :, 2:4] = cue_on[:, :, None] * cue[None, :, :]
        target = np.sign(signals[np.arange(batch_size), context])
        return self._decision_batch(inputs, target, epochs, lengths, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        grid = [(c, s1, s2) for c in (0, 1) for s1, s2 in self._signal_grid()]
        rows = np.repeat(np.asarray(grid, dtype=np.float64), p.test_repeats, axis=0)
        conditions = self._expected_epochs(len(rows))
        conditions["signals"] = rows[:, 1:]
        conditions["context"] = rows[:, 0].astype(np.int64)
        n_steps = int(self._lay_out(conditions)[1].max())
        rng = np.random.default_rng(TEST_SEED)
        conditions["signal_noise"] = rng.standard_normal((len(rows), n_steps, 2))
        return conditions


class MultisensoryDecisionParams(ContextualDecisionParams):
    """Parameters of multi-sensory decision making (B.3 MDM); see the task card."""

    @model_validator(mode="after")
    def _both_signs(self) -> MultisensoryDecisionParams:
        if not (min(self.signals) < 0 < max(self.signals)):
            raise ValueError(
                f"'signals' must hold positive and negative values; got {self.signals}"
            )
        return self


@register
class MultisensoryDecisionMaking(ContextualDecisionMaking):
    name = "multisensory_decision_making"
    aliases = ("mdm",)
    title = "Multi-sensory decision making (low-rank benchmark)"
    summary = (
        "Two noisy signals of the same sign, like a visual and an auditory cue to one rate, are "
        "reported by their common sign; inputs and timing are those of contextual decision "
        "making, so one network can be compared across both (Raposo et al. 2014's multisensory "
        "task as used for low-rank RNNs)."
    )
    source = SOURCE_B3 + (
        " B.3 'multi-sensory decision-making (MDM)': the CDM structure and inputs, except that "
        "the two noisy signals have the same sign; originally Raposo D., Kaufman M.T. & "
        "Churchland A.K. (2014) A category-free neural population supports evolving demands "
        "during decision-making. Nature Neuroscience 17:1784-1792."
    )
    definition = _CONTEXT_DEFINITION + (
        "Draws per trial (B.3: 'the 2 noisy signals have the same sign'): a sign, + or - with "
        "probability 1/2 each, then s_1 and s_2 independently and uniformly from the values of "
        "signals with that sign (Dubreuil et al.'s draw); c uniform and shown exactly as in CDM "
        "(B.3: 'the same task structure and network inputs'), so the cued signal's sign is the "
        "common sign and the target is the sign of either signal. Test grid (psychometric): "
        "every same-sign (s_1, s_2) for each c, context-major, each repeated test_repeats times, "
        "epochs at their expected durations, noise from numpy.random.default_rng(2022)."
    )
    Params = MultisensoryDecisionParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "seed 004 B.3 exactly: CDM timing (100/350/800/500/20 ms, 10 ms steps), cue 0.1, "
            "same-sign signals ±0.1, ±0.2, ±0.4 with noise of std 0.1"
        ),
        "realistic": ContextualDecisionMaking.versions["realistic"],
        "long": ContextualDecisionMaking.versions["long"],
    }

    def _draw_signals(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        values = np.asarray(self.params.signals, dtype=np.float64)
        positive, negative = values[values > 0], values[values < 0]
        sign = rng.uniform(size=batch_size) < 0.5  # True: positive
        pick_pos = positive[rng.integers(len(positive), size=(batch_size, 2))]
        pick_neg = negative[rng.integers(len(negative), size=(batch_size, 2))]
        return np.where(sign[:, None], pick_pos, pick_neg)

    def _signal_grid(self) -> list[tuple[float, float]]:
        return [(a, b) for a, b in super()._signal_grid() if np.sign(a) == np.sign(b)]
