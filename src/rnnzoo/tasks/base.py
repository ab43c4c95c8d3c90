"""`Task`: validated parameters plus a vectorised, seeded trial generator.

A task class declares its card (what it models, source, exact definition), its parameter
model, its named versions and its metric, and implements four things:

- ``input_names`` / ``output_names``: channel names (their number fixes I and O);
- ``sample_conditions(rng, B)``: every random draw that defines B trials, as arrays;
- ``build(conditions)``: the noise-free `TrialBatch` those draws define (deterministic);
- ``test_conditions()``: a deterministic grid covering the task's conditions;
- ``_score(outputs, batch)``: per-trial performance, higher is better, 1 is perfect.

Everything else (seeding, noise, splits, psychometric batches, checks) lives here once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.noise import deferred_noise, input_noise
from rnnzoo.tasks.params import TaskParams, constraint_text, validate_params
from rnnzoo.tasks.recommended import Recommended
from rnnzoo.tasks.seeding import check_batch_size, generators
from rnnzoo.tasks.timing import DURATION_TYPES, Fixed, describe_steps, step_distribution

VERSION_NAMES = ("vanilla", "realistic", "long")
"""The three versions every task has; tasks may add reference versions after them."""


@dataclass(frozen=True)
class Version:
    """A named, frozen set of parameter values (overrides of the parameter defaults)."""

    description: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """How a trial is scored: ``name`` ("accuracy", "r2", ...), per-trial values <= 1.

    ``criterion`` is the batch-mean score that counts as "learned" (used as the default
    training threshold).
    """

    name: str
    description: str
    criterion: float


@dataclass(frozen=True)
class StatePenalty:
    """A loss term on the network's state, declared by a task (seed 004 eq. 4's spontaneous
    penalty): ``weight`` times the mean squared deviation of the state over the steps of epoch
    ``window_epoch`` from the state at the end of epoch ``reference_epoch`` (averaged over
    steps, units of each state group, then groups; see `rnnzoo.training.protocol`).  With
    ``detach_reference`` the reference epoch runs without gradient, as the seed lets the
    network settle to its spontaneous state before the stimulus."""

    weight: float
    reference_epoch: str
    window_epoch: str
    detach_reference: bool = True


@dataclass(frozen=True)
class TaskCard:
    """What a user needs to cite and reproduce a task."""

    name: str
    version: str
    title: str
    summary: str
    source: str
    definition: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    metric: dict[str, Any]
    versions: dict[str, str]
    parameters: list[dict[str, Any]]
    recommended: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable card."""
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "summary": self.summary,
            "source": self.source,
            "definition": self.definition,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "metric": self.metric,
            "versions": self.versions,
            "parameters": self.parameters,
            "recommended": self.recommended,
        }


def _describe_value(value: Any) -> Any:
    if isinstance(value, DURATION_TYPES):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def version_params(task: Any, params: Any, version: str) -> Any:
    """The parameters of ``task`` (a `Task` or suite) in ``version``: ``params`` checked to be
    its ``Params``, or the version's values when None; a one-line error for an unknown version."""
    if version not in task.versions:
        raise InvalidParameterError(
            f"{task.name}: no version '{version}'; versions: {', '.join(task.versions)}"
        )
    if params is None:
        return validate_params(
            f"{task.name}/{version}", task.Params, dict(task.versions[version].overrides)
        )
    if not isinstance(params, task.Params):
        raise InvalidParameterError(
            f"{task.name}: params must be {task.Params.__name__}; got {type(params).__name__}"
        )
    return params


def task_card(task: Any) -> TaskCard:
    """The card of ``task`` (a `Task` or suite) in its version."""
    recommended = task.recommended.get(task.version)
    metric = task.metric
    return TaskCard(
        name=task.name,
        version=task.version,
        title=task.title,
        summary=task.summary,
        source=task.source,
        definition=task.definition,
        inputs=task.input_names,
        outputs=task.output_names,
        metric={
            "name": metric.name,
            "description": metric.description,
            "criterion": metric.criterion,
        },
        versions={k: v.description for k, v in task.versions.items()},
        parameters=parameter_rows(task.Params, task.params, getattr(task, "_steps_text", None)),
        recommended=None if recommended is None else recommended.to_dict(),
    )


def parameter_rows(
    schema: type[Any], params: Any, steps_text: Callable[[Any], str] | None = None
) -> list[dict[str, Any]]:
    """The card's parameter table: name, unit, default, value, description, allowed range, and
    with ``steps_text`` (duration value -> its law in steps) "steps" for each set duration."""
    base = schema()
    rows = []
    for pname, info in schema.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        rows.append(
            {
                "name": pname,
                "unit": extra.get("unit", ""),
                "default": _describe_value(getattr(base, pname)),
                "value": _describe_value(getattr(params, pname)),
                "description": info.description or "",
                "allowed": constraint_text(info),
            }
        )
        value = getattr(params, pname)
        if steps_text is not None and extra.get("time") and value is not None:
            rows[-1]["steps"] = steps_text(value)
    return rows


class Task:
    """Base class of every task; instances are immutable (params are frozen)."""

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]
    source: ClassVar[str]
    definition: ClassVar[str]
    Params: ClassVar[type[TaskParams]]
    versions: ClassVar[dict[str, Version]]
    metric: ClassVar[Metric]
    aliases: ClassVar[tuple[str, ...]] = ()
    recommended: ClassVar[dict[str, Recommended]] = {}
    """Version -> the network and training set-up the source states (none when it gives none)."""

    def __init__(self, params: TaskParams | None = None, *, version: str = "vanilla") -> None:
        self.params = version_params(self, params, version)
        self.version = version

    # ---- to implement -------------------------------------------------------------------
    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the I input channels."""
        raise NotImplementedError

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the O output channels."""
        raise NotImplementedError

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        """Every random draw of ``batch_size`` trials, arrays with leading dimension B."""
        raise NotImplementedError

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        """The noise-free batch defined by ``conditions`` (deterministic)."""
        raise NotImplementedError

    def longest_conditions(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Conditions of one trial as long as any this task draws, durations aside (the memory
        estimate builds it with every duration at its highest value).  Tasks whose length
        depends on a random count override this."""
        return self.sample_conditions(rng, 1)

    def test_conditions(self) -> dict[str, np.ndarray]:
        """A deterministic grid of conditions covering the task (for evaluation and analysis)."""
        raise NotImplementedError

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        """Per-trial performance of ``outputs`` (T, B, O) on ``batch`` -> float (B,)."""
        raise NotImplementedError

    # ---- public API -----------------------------------------------------------------------
    @property
    def stimulus_shape(self) -> tuple[int, int, int, int] | None:
        """(K, C, H, W) of the images each trial holds (`TrialBatch.stimuli`; the first K
        inputs are their presentation), or None for tasks with vector inputs only."""
        return None

    @property
    def state_penalty(self) -> StatePenalty | None:
        """A loss term on the network state this task's protocol asks for, or None."""
        return None

    @property
    def n_inputs(self) -> int:
        """I, the number of input channels."""
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        """O, the number of output channels."""
        return len(self.output_names)

    def generate(
        self,
        batch_size: int,
        seed: int | np.random.Generator,
        *,
        split: str = "train",
        index: int = 0,
        defer_noise: bool = False,
    ) -> TrialBatch:
        """Draw ``batch_size`` independent trials.

        Parameters
        ----------
        batch_size : int
            Number of trials B, >= 1.
        seed : int or numpy.random.Generator
            The only source of randomness: the same (seed, split, index) gives a bit-identical
            batch; different splits are independent streams.
        split : {"train", "validation", "test"}
        index : int
            Batch number within the stream (batch k never depends on batches before it).
        defer_noise : bool
            Leave the input noise out of ``inputs`` and attach it as ``input_noise`` (an
            `InputNoise` with a seed from the batch's noise stream), for the trainer to draw on
            the training device (``TrainConfig.noise_on_device``).  The trials are the same.

        Returns
        -------
        TrialBatch with inputs (T, B, I), targets and weights (T, B, O), lengths (B,),
        epochs and conditions.
        """
        batch_size = check_batch_size(batch_size)
        draws, noise = generators(seed, split, index)
        conditions = self.sample_split_conditions(draws, batch_size, split)
        return self._with_noise(self.build(conditions), noise, defer_noise)

    def sample_split_conditions(
        self, rng: np.random.Generator, batch_size: int, split: str
    ) -> dict[str, np.ndarray]:
        """The draws of a batch of the ``split`` stream: `sample_conditions` for every task
        whose trials do not depend on the split (image tasks draw from the split's images)."""
        return self.sample_conditions(rng, batch_size)

    def batches(self, batch_size: int, seed: int, *, split: str = "train"):
        """Endless stream of batches: batch k is ``generate(batch_size, seed, split=split, index=k)``."""
        index = 0
        while True:
            yield self.generate(batch_size, seed, split=split, index=index)
            index += 1

    def from_conditions(
        self, conditions: dict[str, np.ndarray], seed: int | np.random.Generator | None = None
    ) -> TrialBatch:
        """Build trials from explicit conditions (psychometric batches).

        Noise is added only when ``seed`` is given and the task's ``add_noise`` is on.
        """
        conditions = self._check_conditions(conditions)
        batch = self.build(conditions)
        if seed is None:
            return batch
        return self._with_noise(batch, generators(seed, "test", 0)[1])

    def generate_test(self, seed: int | None = None) -> TrialBatch:
        """The deterministic test grid; noise-free unless a ``seed`` is given."""
        return self.from_conditions(self.test_conditions(), seed)

    def performance(self, outputs: Any, batch: TrialBatch) -> np.ndarray:
        """Per-trial score of network ``outputs`` (T, B, O) on ``batch``; 1 is perfect.

        ``outputs`` may be a NumPy array or anything with ``.detach().cpu().numpy()``.
        """
        if hasattr(outputs, "detach"):
            outputs = outputs.detach().cpu().numpy()
        outputs = np.asarray(outputs, dtype=np.float64)
        expected = (batch.n_steps, batch.batch_size, len(batch.output_names))
        if outputs.shape != expected:
            raise InvalidParameterError(
                f"{self.name}: outputs must have shape (T, B, O) = {expected}; got {outputs.shape}"
            )
        return self._score(outputs, batch)

    def rest_target(self) -> np.ndarray:
        """Output (O,) the network holds when this task is silenced in a composition."""
        return np.zeros(self.n_outputs, dtype=np.float32)

    def config(self) -> dict[str, Any]:
        """Everything needed to rebuild this task: ``make(**config)`` style."""
        return {"task": self.name, "version": self.version, "params": self.params.to_json_dict()}

    def card(self) -> TaskCard:
        """The task card for this version (parameters with unit, default and value)."""
        return task_card(self)

    def _steps_text(self, value: Any) -> str:
        """The exact law of a duration parameter in steps at this dt and rounding rule."""
        law = value if isinstance(value, DURATION_TYPES) else Fixed(ms=float(value))
        p = self.params
        dist = step_distribution(law, p.dt_ms, p.rounding)
        return f"{describe_steps(dist, f'steps of {p.dt_ms:g} ms')} ({p.rounding})"

    def __repr__(self) -> str:
        defaults = type(self.params)().model_dump()
        changed = [k for k, v in self.params.model_dump().items() if v != defaults[k]]
        args = ", ".join(f"{k}={_describe_value(getattr(self.params, k))!r}" for k in changed)
        return f"{type(self).__name__}(version={self.version!r}{', ' + args if args else ''})"

    # ---- internals -------------------------------------------------------------------------
    def _batch(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        weights: np.ndarray,
        lengths: np.ndarray,
        epochs: dict[str, np.ndarray],
        conditions: dict[str, np.ndarray],
        stimuli: np.ndarray | None = None,
    ) -> TrialBatch:
        """Assemble a batch; zeroes everything on padding steps."""
        padding = (np.arange(inputs.shape[0])[:, None] >= lengths[None, :])[:, :, None]
        arrays = []
        for array in (inputs, targets, weights):
            array = np.ascontiguousarray(array, dtype=np.float32)
            if padding.any():
                if not array.flags.writeable:
                    array = array.copy()
                np.copyto(array, 0.0, where=padding)
            arrays.append(array)
        inputs, targets, weights = arrays
        return TrialBatch(
            inputs=inputs,
            targets=targets,
            weights=weights,
            lengths=np.asarray(lengths, dtype=np.int64),
            epochs={k: np.asarray(v, dtype=np.int64) for k, v in epochs.items()},
            conditions={k: np.asarray(v) for k, v in conditions.items()},
            input_names=tuple(self.input_names),
            output_names=tuple(self.output_names),
            dt_ms=float(self.params.dt_ms),
            config=self.config(),
            stimuli=None if stimuli is None else np.ascontiguousarray(stimuli, dtype=np.float32),
        )

    def _with_noise(
        self, batch: TrialBatch, rng: np.random.Generator, defer: bool = False
    ) -> TrialBatch:
        p = self.params
        if not p.add_noise or p.input_noise_std == 0:
            return batch
        if defer:
            owed = deferred_noise(rng, p.input_noise_std, p.noise_decay_ms, p.dt_ms)
            return replace(batch, input_noise=owed)
        noise = input_noise(rng, batch.inputs.shape, p.input_noise_std, p.noise_decay_ms, p.dt_ms)
        np.copyto(noise, 0.0, where=~batch.valid[:, :, None])
        noise += batch.inputs
        return replace(batch, inputs=noise)

    def _check_conditions(self, conditions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        expected = self.sample_conditions(np.random.default_rng(0), 1)
        missing = sorted(set(expected) - set(conditions))
        extra = sorted(set(conditions) - set(expected))
        if missing or extra:
            raise InvalidParameterError(
                f"{self.name}: conditions must have exactly the keys {sorted(expected)}; "
                f"missing {missing}, unknown {extra}"
            )
        arrays = {k: np.asarray(v) for k, v in conditions.items()}
        sizes = {k: (v.shape[0] if v.ndim else None) for k, v in arrays.items()}
        if len(set(sizes.values())) != 1 or None in sizes.values():
            raise InvalidParameterError(
                f"{self.name}: every condition needs the same leading batch dimension; got {sizes}"
            )
        for key, value in arrays.items():
            if value.ndim != expected[key].ndim:  # trailing sizes may vary (e.g. click trains)
                raise InvalidParameterError(
                    f"{self.name}: condition '{key}' must have {expected[key].ndim} dimensions; "
                    f"got shape {value.shape}"
                )
        return arrays
