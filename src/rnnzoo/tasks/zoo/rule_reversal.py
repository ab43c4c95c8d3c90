"""Rule reversal across trials (seed 002 section 4.1; Soo, Goudar & Wang 2023).

A sample is a sequence of ``n_trials`` trials. In each trial one of two stimuli is shown and the
network chooses one of two responses; a hidden rule maps stimuli to responses and reverses,
uncued, between trials. Feedback after each response tells whether the choice was right, which
is the only way to detect a reversal. The step at which each trial starts is returned
(``conditions["trial_start_steps"]``) so that training methods can place skip connections there.
"""

from __future__ import annotations

import itertools
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.recommended import Recommended
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.timing import Duration, Fixed, Uniform

_TEST_SEED = 2023
"""Seed of the stimulus sequences of the deterministic test grid."""

_TRIAL_EPOCHS = (
    ("stimulus", "input_duration_ms"),
    ("response", "response_ms"),
    ("feedback", "feedback_ms"),
    ("wait", "wait_ms"),
)
"""The epochs of one trial, in order, and their duration parameters."""

_JITTER = Uniform(low_ms=400, high_ms=600)


class RuleReversalParams(TaskParams):
    """Parameters of the rule-reversal task; see the task card."""

    dt_ms: float = Field(
        5.0,
        gt=0,
        le=100,
        description="sampling period (Soo et al. 2023 simulate at 5 ms)",
        json_schema_extra={"unit": "ms"},
    )
    noise_scale: float = Field(
        0.0,
        ge=0,
        le=10,
        description="standard deviation of the input noise (input units, per step and "
        "stationary); the paper's inputs are noise-free",
        json_schema_extra={"unit": "a.u."},
    )
    n_trials: int = Field(
        5,
        ge=1,
        le=50,
        description="trials per sample (sequence)",
        json_schema_extra={"unit": "trials"},
    )
    switch_trials: tuple[Annotated[int, Field(ge=0, le=49)], ...] = Field(
        (0, 1, 3),
        max_length=50,
        description="trials at whose start the rule may reverse (0: relative to the initial rule)",
        json_schema_extra={"unit": "trial index"},
    )
    p_switch: float = Field(
        0.5,
        ge=0,
        le=1,
        description="probability of a reversal at each trial of switch_trials",
        json_schema_extra={"unit": "1"},
    )
    input_start_ms: Duration = ms_field(
        Fixed(ms=1000.0), "warm-up before the first trial (no input, not scored)", allow_zero=True
    )
    input_duration_ms: Duration = ms_field(_JITTER, "stimulus epoch of each trial")
    response_ms: Duration = ms_field(_JITTER, "response epoch of each trial (no input)")
    feedback_ms: Duration = ms_field(_JITTER, "feedback epoch of each trial")
    wait_ms: Duration = ms_field(
        _JITTER, "wait epoch ending each trial (no input)", allow_zero=True
    )
    response_grace_ms: float = ms_field(
        100.0, "first part of each response epoch left unscored (weight 0)", allow_zero=True
    )
    test_repeats: int = Field(
        8,
        ge=1,
        le=1000,
        description="stimulus sequences per rule pattern in the test grid",
        json_schema_extra={"unit": "sequences"},
    )

    @model_validator(mode="after")
    def _consistent(self) -> RuleReversalParams:
        trials = self.switch_trials
        if list(trials) != sorted(set(trials)) or any(k >= self.n_trials for k in trials):
            raise ValueError(
                f"'switch_trials' must be increasing trial indices below n_trials={self.n_trials}; "
                f"got {trials}"
            )
        self.check_grace_leaves_scored_steps()
        return self


@register
class RuleReversal(Task):
    name = "rule_reversal"
    aliases = ("rule_based_association",)
    title = "Rule reversal across trials"
    summary = (
        "Rule-based visuomotor association with uncued reversals: two stimuli map to two "
        "responses under one of two hidden rules, the rule reverses between trials without "
        "warning, and feedback after each choice reveals it. The rule must be held across a "
        "sequence of trials, a dependency several times longer than a single trial."
    )
    source = (
        "Soo W.W.M., Goudar V. & Wang X.-J. (2023) Training biologically plausible recurrent "
        "neural networks on cognitive tasks with long-term dependencies. NeurIPS 2023 (rnnzoo "
        "seed 002), section 4.1 and Figure 4 (2 stimuli, 2 hidden rules, uncued reversals, "
        "feedback, softmax read-out, 5 consecutive trials, dt = 5 ms, tau = 100 ms); after the "
        "task of Asaad W.F., Rainer G. & Miller E.K. (1998) Neuron 21:1399-1407 and Fusi S., "
        "Asaad W.F., Miller E.K. & Wang X.-J. (2007) Neuron 54:319-333. Where the paper is silent "
        "(switch law, epoch durations, warm-up, grace period, feedback), rnnzoo follows the "
        "authors' published code, wmws2/temporalskip functions/func_rulereversaltask.py."
    )
    definition = (
        "Inputs: stimulus_1, stimulus_2, feedback_positive, feedback_negative. Outputs: "
        "response_1, response_2 (logits; the network reads them through a softmax). A sample is "
        "a warm-up (input_start_ms, no input, weight 0) followed by n_trials trials; trial k has "
        "the epochs stimulus_k (input_duration_ms), response_k (response_ms), feedback_k "
        "(feedback_ms) and wait_k (wait_ms), laid end to end; every duration is drawn per "
        "sample, trial and epoch and rounded to steps by floor(ms / dt_ms + 1/2) (the code draws "
        "integer steps uniformly on [400, 600) ms, one draw per batch; rnnzoo draws U(400, 600) "
        "ms per trial). Epoch trial_k spans stimulus_k to wait_k; "
        "conditions['trial_start_steps'][b, k] is its first step (stimulus onset), the points "
        "between which the paper places its strategic skip connections. Stimuli: s_k uniform on "
        "{0, 1}, shown one-hot (value 1) on stimulus_1/stimulus_2 during stimulus_k. Rules "
        "(hidden): rule 0 maps stimulus i to response i, rule 1 reverses the mapping; the rule "
        "before trial 0 is rule 0, and at the start of each trial in switch_trials the rule "
        "reverses with probability p_switch, independently, and is kept otherwise. The default "
        "(0, 1, 3) with p_switch 0.5 is the code's law: independent uniform rules for the blocks "
        "of trials {0}, {1, 2}, {3, 4} (the code stratifies the 8 patterns over a batch; rnnzoo "
        "draws them independently). Correct choice c_k = s_k XOR rule_k. Expected choice "
        "e_k = s_k XOR rule_{k-1} (rule_{-1} = 0): the choice of an agent that learns the rule "
        "from feedback, which cannot anticipate an uncued reversal; e_k != c_k exactly on "
        "reversal trials. Feedback: feedback_positive = 1 during feedback_k if e_k = c_k, else "
        "feedback_negative = 1 (the feedback the expected choice earns; the code gives feedback "
        "on the network's own choice, a closed loop a trainer can rebuild from the conditions). "
        "Targets: one-hot e_k on response_k, 0 elsewhere. Weights: 1 on response_k after its "
        "first response_grace_ms (the code's T_wait), 0 elsewhere, equal on both outputs, so "
        "weights[:, :, 0] is the per-step mask of a cross-entropy loss -sum(w * target * "
        "log softmax(y)) with the targets as class probabilities (the code's loss: sparse "
        "cross-entropy with e_k on the same steps); an MSE on the softmax outputs uses the same "
        "weights. Metric accuracy (the code's evaluation): per trial, the fraction of scored "
        "response steps whose argmax output is e_k, averaged over the n_trials trials. "
        "Conditions: stimulus (B, n_trials), switch (B, n_trials, 1 = reversal at that trial), "
        "warmup_steps (B,), {stimulus,response,feedback,wait}_steps (B, n_trials); recomputed by "
        "build: rule, correct_choice, expected_choice, feedback (1 positive, 0 negative) and "
        "trial_start_steps, all (B, n_trials). Test grid: every reversal pattern over "
        "switch_trials (binary order, trial 0 most significant), each with test_repeats "
        "stimulus sequences from numpy.random.default_rng(2023), epochs at the steps of their "
        "expected durations."
    )
    Params = RuleReversalParams
    recommended: ClassVar[dict[str, Recommended]] = {
        "vanilla": Recommended(
            source="Soo, Goudar & Wang (2023): leaky ReLU units with tau 100 ms (section 2), a "
            "softmax read-out (section 4.1, eq. 10), cross-entropy on the expected choice (the "
            "authors' code), a network counts as trained above 0.99 accuracy (section 4.1); "
            "network size, learning rate and batch are not in the text: rnnzoo's defaults",
            model="leaky_rate",
            options={"tau_ms": 100.0, "activation": "relu", "readout": "softmax"},
            train={"loss": "cross_entropy", "target_performance": 0.99},
        )
    }
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "the paper's training set-up: 5 trials, reversals possible before trials 0, 1 and 3 "
            "(p 0.5), 1 s warm-up, 500 ± 100 ms epochs at 5 ms steps, noise-free inputs"
        ),
        "realistic": Version(
            "correlated (OU, 20 ms) input noise of std 0.1",
            {"noise_scale": 0.1, "noise_decay_ms": 20.0},
        ),
        "long": Version(
            "10 trials per sample, reversals possible before trials 0, 1, 3, 5 and 7",
            {"n_trials": 10, "switch_trials": (0, 1, 3, 5, 7)},
        ),
        "evaluation": Version(
            "the code's evaluation set-up: every trial epoch exactly 500 ms (no jitter)",
            {
                "input_duration_ms": 500.0,
                "response_ms": 500.0,
                "feedback_ms": 500.0,
                "wait_ms": 500.0,
            },
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of scored response steps whose argmax output is the expected choice (the "
        "response under the previous trial's rule), averaged over the trials of a sample",
        criterion=0.99,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("stimulus_1", "stimulus_2", "feedback_positive", "feedback_negative")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("response_1", "response_2")

    def _derived(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Rules, choices and feedback (B, n_trials) implied by stimuli and reversals."""
        stimulus = np.asarray(conditions["stimulus"], dtype=np.int64)
        switch = np.asarray(conditions["switch"], dtype=np.int64)
        rule = np.cumsum(switch, axis=1) % 2
        previous = np.concatenate([np.zeros_like(rule[:, :1]), rule[:, :-1]], axis=1)
        return {
            "rule": rule,
            "correct_choice": stimulus ^ rule,
            "expected_choice": stimulus ^ previous,
            "feedback": 1 - switch,
        }

    def _epoch_steps(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Ordered epoch name -> steps (B,): warmup, then the four epochs of each trial."""
        steps = {"warmup": conditions["warmup_steps"]}
        for k in range(self.params.n_trials):
            for epoch, _ in _TRIAL_EPOCHS:
                steps[f"{epoch}_{k}"] = np.asarray(conditions[f"{epoch}_steps"])[:, k]
        return steps

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        n = p.n_trials
        conditions = {"warmup_steps": p.steps(p.input_start_ms.sample(rng, batch_size))}
        for epoch, field in _TRIAL_EPOCHS:
            draws = getattr(p, field).sample(rng, batch_size * n).reshape(batch_size, n)
            conditions[f"{epoch}_steps"] = p.steps(draws)
        conditions["stimulus"] = rng.integers(2, size=(batch_size, n))
        switch = np.zeros((batch_size, n), dtype=np.int64)
        if p.switch_trials:
            draws = rng.uniform(size=(batch_size, len(p.switch_trials))) < p.p_switch
            switch[:, list(p.switch_trials)] = draws
        conditions["switch"] = switch
        return self._with_derived(conditions)

    def _with_derived(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        epochs, _ = lay_out(self._epoch_steps(conditions))
        starts = np.stack(
            [epochs[f"stimulus_{k}"][:, 0] for k in range(self.params.n_trials)], axis=1
        )
        return {**conditions, **self._derived(conditions), "trial_start_steps": starts}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        conditions = self._with_derived(conditions)
        epochs, lengths = lay_out(self._epoch_steps(conditions))
        n_steps, batch_size = int(lengths.max()), len(lengths)
        for k in range(p.n_trials):
            epochs[f"trial_{k}"] = np.stack(
                [epochs[f"stimulus_{k}"][:, 0], epochs[f"wait_{k}"][:, 1]], axis=1
            )
        trial, phase = _trial_and_phase(epochs, p.n_trials, n_steps)

        def at_step(per_trial: np.ndarray) -> np.ndarray:
            """Per-trial values (B, n_trials) -> the value of each step's trial (T, B)."""
            return np.take_along_axis(np.asarray(per_trial).T, trial, axis=0)

        stimulus = at_step(conditions["stimulus"])
        feedback = at_step(conditions["feedback"])
        choice = at_step(conditions["expected_choice"])
        response_start = at_step(conditions["trial_start_steps"] + conditions["stimulus_steps"])
        shown, responding, told = phase == 0, phase == 1, phase == 2

        inputs = canvas(n_steps, batch_size, 4)
        targets = canvas(n_steps, batch_size, 2)
        for channel in (0, 1):
            inputs[:, :, channel] = shown & (stimulus == channel)
            targets[:, :, channel] = responding & (choice == channel)
        inputs[:, :, 2] = told & (feedback == 1)
        inputs[:, :, 3] = told & (feedback == 0)
        grace = int(p.steps(p.response_grace_ms))
        scored = responding & (np.arange(n_steps)[:, None] >= response_start + grace)
        weights = np.repeat(scored[:, :, None], 2, axis=2)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        n, repeats = p.n_trials, p.test_repeats
        patterns = np.array(
            list(itertools.product((0, 1), repeat=len(p.switch_trials))), dtype=np.int64
        ).reshape(-1, len(p.switch_trials))
        batch_size = len(patterns) * repeats
        switch = np.zeros((batch_size, n), dtype=np.int64)
        switch[:, list(p.switch_trials)] = np.repeat(patterns, repeats, axis=0)
        conditions = {
            "warmup_steps": np.full(batch_size, int(p.steps(p.input_start_ms.expected_ms))),
            "stimulus": np.random.default_rng(_TEST_SEED).integers(2, size=(batch_size, n)),
            "switch": switch,
        }
        for epoch, field in _TRIAL_EPOCHS:
            expected = int(p.steps(getattr(p, field).expected_ms))
            conditions[f"{epoch}_steps"] = np.full((batch_size, n), expected, dtype=np.int64)
        return self._with_derived(conditions)

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.weights[:, :, 0] > 0
        hit = np.argmax(outputs, axis=2) == np.argmax(batch.targets, axis=2)
        fractions = []
        for k in range(self.params.n_trials):
            mask = batch.epoch_mask(f"response_{k}") & scored
            fractions.append((hit & mask).sum(axis=0) / np.maximum(mask.sum(axis=0), 1))
        return np.mean(fractions, axis=0)


def _trial_and_phase(
    epochs: dict[str, np.ndarray], n_trials: int, n_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Trial index k (T, B) of every step and its phase: -1 warm-up, 0 stimulus, 1 response,
    2 feedback, 3 wait (steps after a sequence ends keep its last phase; they are padding)."""
    starts = np.stack(
        [epochs[f"{epoch}_{k}"][:, 0] for k in range(n_trials) for epoch, _ in _TRIAL_EPOCHS],
        axis=1,
    )  # (B, 4 n_trials), non-decreasing along axis 1
    marks = np.zeros((n_steps + 1, starts.shape[0]), dtype=np.int32)
    np.add.at(marks, (starts, np.arange(starts.shape[0])[:, None]), 1)
    segment = np.cumsum(marks[:n_steps], axis=0)  # epochs begun by step t (empty ones included)
    return np.maximum(segment - 1, 0) // 4, np.where(segment > 0, (segment - 1) % 4, -1)
