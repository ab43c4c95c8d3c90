"""`YangTask`: what the 20 tasks share (channels, timing draws, painting, metric, grids).

A family subclass declares its epochs (``EPOCHS``: epoch name -> duration parameter, in
order, the last one being the response epoch ``go1`` that starts at the go cue) and
implements four hooks: ``_draw_stimuli`` (the random stimulus draws), ``derive`` (values that
follow from the draws: response angle, choice, match), ``_stimuli`` (what the rings show when)
and ``_test_stimuli`` (the stimulus part of the original 'test' grid).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks._build import lay_out
from rnnzoo.tasks.base import Metric, Task
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.recommended import Recommended
from rnnzoo.tasks.yang2019.encoding import INPUT_NAMES, OUTPUT_NAMES, rule_unit
from rnnzoo.tasks.yang2019.params import YangParams
from rnnzoo.tasks.yang2019.performance import last_step_choices, last_step_correct
from rnnzoo.tasks.yang2019.trial import Stimulus, Timeline, cost_mask, paint_inputs, paint_targets

METRIC = Metric(
    "accuracy",
    "Yang et al. (2019) rule at the last step of each trial: a trial that must end in fixation "
    "is correct iff the fixation output is > 0.5; any other trial iff the fixation output is "
    "not > 0.5 (0.5 and NaN count as released, as the original's y_fix > 0.5) and the "
    "population vector of the 32 ring outputs is closer than 0.2*pi to the target angle",
    criterion=0.9,
)

YANG_NETWORK = Recommended(
    source="Yang et al. (2019) Methods and the authors' code (train.get_default_hp): 256 leaky "
    "units, tau 100 ms, ReLU, recurrent noise sigma_rec 0.05, sigmoid read-out, squared-error "
    "loss, Adam with lr 1e-3, batches of 64 trials (the paper's runs in experiment.py mostly "
    "use softplus with a diagonal initialisation; the code's default is taken here)",
    model="leaky_rate",
    options={
        "n_hidden": 256,
        "tau_ms": 100.0,
        "activation": "relu",
        "recurrent_noise": 0.05,
        "readout": "sigmoid",
    },
    train={"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "loss": "mse"},
)
SOO_NETWORK = Recommended(
    source="Soo, Goudar & Wang (2023) sections 2 and 2.2: leaky ReLU units with tau 100 ms, "
    "sigmoid read-out, mean-squared error, trained until the mean performance of the 10th-90th "
    "percentile of the networks reaches 0.99 or 40,000 steps (network size, learning rate and "
    "batch size are in their Table S2, which rnnzoo does not have: rnnzoo's defaults)",
    model="leaky_rate",
    options={"tau_ms": 100.0, "activation": "relu", "readout": "sigmoid"},
    train={
        "loss": "mse",
        "target_performance": 0.99,
        "statistic": "mean_10_90",
        "max_steps": 40_000,
    },
)
RECOMMENDED = {"vanilla": YANG_NETWORK, "realistic": YANG_NETWORK, "long": YANG_NETWORK}
RECOMMENDED["soo2023"] = SOO_NETWORK


class YangTask(Task):
    """Common machinery of the Yang et al. (2019) suite (not registered)."""

    Params: ClassVar[type[YangParams]]
    metric = METRIC
    recommended = RECOMMENDED
    EPOCHS: ClassVar[dict[str, str]]
    """Epoch name -> duration parameter, in trial order; the last epoch is ``go1``."""
    TEST_TIMING_MS: ClassVar[dict[str, float]]
    """Epoch durations of the original 'test' grid, by duration parameter (ms)."""

    params: YangParams

    @property
    def input_names(self) -> tuple[str, ...]:
        return INPUT_NAMES

    @property
    def output_names(self) -> tuple[str, ...]:
        return OUTPUT_NAMES

    # ---- hooks ------------------------------------------------------------------------------
    def _draw_stimuli(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def derive(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Values that follow from the drawn conditions; always contains ``response_loc`` (rad,
        NaN where the trial must end in fixation)."""
        raise NotImplementedError

    def _stimuli(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> list[Stimulus]:
        raise NotImplementedError

    def _fixation_off(
        self, conditions: dict[str, np.ndarray], epochs: dict[str, np.ndarray], length: np.ndarray
    ) -> np.ndarray:
        """Step where the fixation input goes off: the go cue, unless a family says otherwise."""
        return epochs["go1"][:, 0]

    def _test_stimuli(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    # ---- Task interface --------------------------------------------------------------------
    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        conditions = {**self._durations(rng, batch_size), **self._draw_stimuli(rng, batch_size)}
        return {**conditions, **self.derive(conditions)}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        conditions = {**conditions, **self.derive(conditions)}
        epochs, length = self._lay_out(conditions)
        timeline = Timeline(
            start=epochs["warmup"][:, 1],
            go=epochs["go1"][:, 0],
            length=length,
            fixation_off=self._fixation_off(conditions, epochs, length),
        )
        stimuli = self._stimuli(conditions, epochs, length)
        inputs = paint_inputs(timeline, rule_unit(self.name), self.n_inputs, stimuli)
        targets = paint_targets(
            timeline, np.asarray(conditions["response_loc"], np.float64), p.fixation_target
        )
        weights = cost_mask(timeline, p)
        return self._batch(inputs, targets, weights, timeline.length, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        stimuli = self._test_stimuli()
        batch_size = len(next(iter(stimuli.values())))
        conditions = {**self._test_durations(batch_size), **stimuli}
        return {**conditions, **self.derive(conditions)}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        return last_step_correct(outputs, batch.lengths, batch.conditions["response_loc"])

    def choice_candidates(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Name -> (B,) angle (rad) of each direction a response can be read as: the correct
        response direction (NaN where the trial must end in fixation); decision tasks name
        their two stimuli."""
        return {"response": np.asarray(conditions["response_loc"], dtype=np.float64)}

    def decode_choices(
        self, outputs: np.ndarray, batch: TrialBatch
    ) -> tuple[tuple[str, ...], np.ndarray]:
        """(choice names, one-hot (B, C)): the metric's read-out of each trial's last step
        (fixation, a candidate direction within 0.2*pi, or other)."""
        return last_step_choices(outputs, batch.lengths, self.choice_candidates(batch.conditions))

    # ---- psychometric batches --------------------------------------------------------------
    def psychometric_conditions(self, **values: Any) -> dict[str, np.ndarray]:
        """Conditions for `from_conditions` from explicit values (the original 'psychometric'
        mode): give any drawn condition as a scalar or a (B,) array; every other one takes the
        value of the first trial of the test grid (its epoch steps included), and the derived
        values (response angle, choice, match) are recomputed."""
        template = self.test_conditions()
        derived = set(self.derive(template))
        for key in values:
            if key in derived:
                raise InvalidParameterError(
                    f"{self.name}: '{key}' is derived from the other conditions; leave it out"
                )
            if key not in template:
                raise InvalidParameterError(
                    f"{self.name}: unknown condition '{key}'; conditions are "
                    f"{sorted(set(template) - derived)}"
                )
        arrays = {k: np.atleast_1d(np.asarray(v)) for k, v in values.items()}
        flat = [k for k, v in arrays.items() if v.ndim != 1]
        if flat:
            raise InvalidParameterError(
                f"{self.name}: conditions must be scalars or 1-d arrays; got {flat[0]!r} with "
                f"shape {arrays[flat[0]].shape}"
            )
        sizes = {len(v) for v in arrays.values()} - {1}
        if len(sizes) > 1:
            raise InvalidParameterError(
                f"{self.name}: condition arrays must share one length (or be scalars); got "
                f"{ {k: len(v) for k, v in arrays.items()} }"
            )
        batch_size = sizes.pop() if sizes else 1
        conditions = {
            key: np.broadcast_to(arrays.get(key, template[key][:1]), (batch_size,)).astype(
                template[key].dtype
            )
            for key in template
            if key not in derived
        }
        return {**conditions, **self.derive(conditions)}

    # ---- timing ----------------------------------------------------------------------------
    def _draw_shared(self, draw: Callable[[int], np.ndarray], batch_size: int) -> np.ndarray:
        """``draw(n)`` once per batch (``shared_timing``) or once per trial -> (B,)."""
        drawn = np.asarray(draw(1 if self.params.shared_timing else batch_size))
        return np.broadcast_to(drawn, (batch_size,)).copy()

    def _durations(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        out = {}
        for epoch, field in self.EPOCHS.items():
            drawn = self._draw_shared(partial(getattr(p, field).sample, rng), batch_size)
            out[f"{epoch}_steps"] = p.steps(drawn)
        return out

    def _modality(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Stimulus modality 1 or 2, equally likely; once per batch with ``shared_timing`` (the
        original shares it in every task that draws it: Go, RT, Dly, DMS and DMC)."""
        return self._draw_shared(partial(rng.integers, 1, 3), batch_size)

    def _test_durations(self, batch_size: int) -> dict[str, np.ndarray]:
        """Epoch steps of the test grid: the original test-mode duration for each epoch left at
        its default law, otherwise the expected value of the law set."""
        p = self.params
        out = {}
        for epoch, field in self.EPOCHS.items():
            law = getattr(p, field)
            original = self.TEST_TIMING_MS.get(field)
            at_default = law == type(p).model_fields[field].default
            ms = original if original is not None and at_default else law.expected_ms
            out[f"{epoch}_steps"] = np.full(batch_size, int(p.steps(ms)), dtype=np.int64)
        return out

    def _lay_out(
        self, conditions: dict[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Epochs [start, stop) (B, 2), the warm-up first, and trial lengths (B,)."""
        p = self.params
        first = np.asarray(conditions[f"{next(iter(self.EPOCHS))}_steps"])
        steps = {"warmup": np.full(len(first), int(p.steps(p.warmup_ms)), dtype=np.int64)}
        steps.update({e: np.asarray(conditions[f"{e}_steps"]) for e in self.EPOCHS})
        return lay_out(steps)
