"""Several tasks in one network: rule inputs, shared or separate channels, sampling weights,
silencing.

Three modes:

- ``interleave`` (default): every trial comes from one task, drawn with the per-task
  sampling ``weights``; a one-hot rule input (``rule_inputs=True``) tells the network which.
- ``blocked``: every batch comes from one task, drawn with the ``weights`` (Yang et al.
  2019's training: one rule per batch, so its timing can be shared by the batch's trials).
- ``parallel``: every trial contains all tasks at once on separate channels (for example two
  1-bit flip-flops in one network, as on the rnnzoo posters).

Channels are ``shared`` (task k's channel i is network channel i; all tasks must have the same
numbers of inputs and outputs) or ``separate`` (each task gets its own block of channels,
named ``label.channel``). Outputs of the tasks that are not running in a trial are trained
to stay at their rest target (weight 1). A *silenced* task keeps its place, channels and
timing, but its inputs carry no signal (noise only) and its outputs must stay at rest.

Each task's input noise is drawn on its own trials only, so a batch costs what its tasks'
trials cost (`generate_balanced` gives every task an equal share of a batch, for evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.base import Metric, Task
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.noise import input_noise
from rnnzoo.tasks.seeding import check_batch_size, generators

MODES = ("interleave", "blocked", "parallel")
CHANNELS = ("shared", "separate")


def _fill_value(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return np.nan
    if dtype.kind == "b":
        return False
    return -1


def _place(values: np.ndarray, rows: np.ndarray, batch_size: int) -> np.ndarray:
    """Scatter per-trial ``values`` (n, ...) into a (B, ...) array filled with a blank value."""
    out = np.full((batch_size, *values.shape[1:]), _fill_value(values.dtype), dtype=values.dtype)
    out[rows] = values
    return out


class MultiTask:
    """A composition of tasks that generates, scores and describes batches like a `Task`."""

    def __init__(
        self,
        tasks: Sequence[Task],
        *,
        labels: Sequence[str] | None = None,
        mode: str = "interleave",
        channels: str = "separate",
        rule_inputs: bool = True,
        weights: Sequence[float] | None = None,
        silenced: Sequence[str] = (),
    ) -> None:
        self.tasks = tuple(tasks)
        if not self.tasks or not all(isinstance(t, Task) for t in self.tasks):
            raise InvalidParameterError("compose: 'tasks' must be a non-empty list of tasks")
        shown = [t.name for t in self.tasks if t.stimulus_shape is not None]
        if shown:
            raise InvalidParameterError(
                f"compose: tasks that show images ({', '.join(shown)}) cannot be composed"
            )
        self.labels = tuple(labels) if labels is not None else self._default_labels()
        if len(self.labels) != len(self.tasks) or len(set(self.labels)) != len(self.labels):
            raise InvalidParameterError(
                f"compose: 'labels' must be {len(self.tasks)} distinct names; got {list(self.labels)}"
            )
        if mode not in MODES:
            raise InvalidParameterError(
                f"compose: 'mode' must be one of {', '.join(MODES)}; got {mode!r}"
            )
        if channels not in CHANNELS:
            raise InvalidParameterError(
                f"compose: 'channels' must be one of {', '.join(CHANNELS)}; got {channels!r}"
            )
        if mode == "parallel" and (channels == "shared" or rule_inputs):
            raise InvalidParameterError(
                "compose: mode 'parallel' runs all tasks at once, so it needs channels='separate' "
                "and rule_inputs=False"
            )
        if channels == "shared":
            dims = {(t.n_inputs, t.n_outputs) for t in self.tasks}
            if len(dims) != 1:
                raise InvalidParameterError(
                    "compose: channels='shared' needs every task to have the same numbers of inputs "
                    f"and outputs; got {[(t.name, t.n_inputs, t.n_outputs) for t in self.tasks]}"
                )
        self.mode, self.channels, self.rule_inputs = mode, channels, bool(rule_inputs)
        w = np.ones(len(self.tasks)) if weights is None else np.asarray(weights, dtype=np.float64)
        if (
            w.shape != (len(self.tasks),)
            or not np.all(np.isfinite(w))
            or np.any(w < 0)
            or w.sum() <= 0
        ):
            raise InvalidParameterError(
                f"compose: 'weights' must be {len(self.tasks)} non-negative numbers, not all 0; "
                f"got {None if weights is None else list(weights)}"
            )
        self.weights = tuple(float(x) for x in w / w.sum())
        unknown = [s for s in silenced if s not in self.labels]
        if unknown:
            raise InvalidParameterError(
                f"compose: 'silenced' names unknown tasks {unknown}; labels are {list(self.labels)}"
            )
        self.silenced = tuple(silenced)
        dts = {t.params.dt_ms for t in self.tasks}
        if len(dts) != 1:
            raise InvalidParameterError(
                f"compose: every task must use the same dt_ms; got {sorted(dts)}"
            )
        self._in_slices, self._out_slices = self._channel_slices()

    # ---- description ----------------------------------------------------------------------
    def _default_labels(self) -> tuple[str, ...]:
        names = [t.name for t in self.tasks]
        return tuple(f"{n}_{i}" if names.count(n) > 1 else n for i, n in enumerate(names))

    def _channel_slices(self) -> tuple[list[slice], list[slice]]:
        ins, outs, i0, o0 = [], [], 0, 0
        for task in self.tasks:
            if self.channels == "shared":
                ins.append(slice(0, task.n_inputs))
                outs.append(slice(0, task.n_outputs))
            else:
                ins.append(slice(i0, i0 + task.n_inputs))
                outs.append(slice(o0, o0 + task.n_outputs))
                i0, o0 = i0 + task.n_inputs, o0 + task.n_outputs
        return ins, outs

    @property
    def name(self) -> str:
        return "+".join(self.labels)

    @property
    def dt_ms(self) -> float:
        return float(self.tasks[0].params.dt_ms)

    @property
    def input_names(self) -> tuple[str, ...]:
        if self.channels == "shared":
            first = self.tasks[0].input_names
            same = all(t.input_names == first for t in self.tasks)
            names = first if same else tuple(f"in_{i}" for i in range(len(first)))
        else:
            names = tuple(
                f"{lab}.{n}"
                for lab, t in zip(self.labels, self.tasks, strict=True)
                for n in t.input_names
            )
        rules = tuple(f"rule.{lab}" for lab in self.labels) if self.rule_inputs else ()
        return names + rules

    @property
    def output_names(self) -> tuple[str, ...]:
        if self.channels == "shared":
            first = self.tasks[0].output_names
            same = all(t.output_names == first for t in self.tasks)
            return first if same else tuple(f"out_{i}" for i in range(len(first)))
        return tuple(
            f"{lab}.{n}"
            for lab, t in zip(self.labels, self.tasks, strict=True)
            for n in t.output_names
        )

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    def config(self) -> dict[str, Any]:
        """JSON-serialisable description; `rnnzoo.tasks.from_config` rebuilds it."""
        return {
            "compose": {
                "tasks": [t.config() for t in self.tasks],
                "labels": list(self.labels),
                "mode": self.mode,
                "channels": self.channels,
                "rule_inputs": self.rule_inputs,
                "weights": list(self.weights),
                "silenced": list(self.silenced),
            }
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MultiTask:
        from rnnzoo.tasks.registry import from_config

        spec = dict(config["compose"])
        tasks = [from_config(c) for c in spec.pop("tasks")]
        return cls(tasks, **spec)

    # ---- generation -------------------------------------------------------------------------
    def generate(
        self,
        batch_size: int,
        seed: int | np.random.Generator,
        *,
        split: str = "train",
        index: int = 0,
        defer_noise: bool = False,
    ) -> TrialBatch:
        """Draw a mixed batch (see the module docstring); same contract as `Task.generate`,
        except that compositions draw their noise per task on the host (no ``defer_noise``)."""
        if defer_noise:
            raise InvalidParameterError(
                "'defer_noise' is not available for compositions: each task's noise is drawn "
                "on the host with its own parameters"
            )
        batch_size = check_batch_size(batch_size)
        draws, noise = generators(seed, split, index)
        if self.mode == "parallel":
            owner = np.full(batch_size, -1)
        elif self.mode == "blocked":
            owner = np.full(batch_size, draws.choice(len(self.tasks), p=self.weights))
        else:
            owner = draws.choice(len(self.tasks), size=batch_size, p=self.weights)
        return self._noisy(self._draw(draws, owner), noise)

    def generate_balanced(
        self,
        batch_size: int,
        seed: int | np.random.Generator,
        *,
        split: str = "validation",
        index: int = 0,
    ) -> TrialBatch:
        """A batch with an equal share of every task: ceil(B / K) trials each (B in parallel
        mode), task k's trials drawn together (as one block), for evaluation and per-task
        scores.  Same seeding contract as `generate`."""
        batch_size = check_batch_size(batch_size)
        draws, noise = generators(seed, split, index)
        if self.mode == "parallel":
            return self._noisy(self._draw(draws, np.full(batch_size, -1)), noise)
        share = -(-batch_size // len(self.tasks))
        return self._noisy(self._draw(draws, np.repeat(np.arange(len(self.tasks)), share)), noise)

    def _draw(self, draws: np.random.Generator, owner: np.ndarray) -> TrialBatch:
        """The noise-free batch whose trial b runs task ``owner[b]`` (all tasks when -1)."""
        batch_size = len(owner)
        if self.mode == "parallel":
            rows = [np.arange(batch_size)] * len(self.tasks)
        else:
            rows = [np.flatnonzero(owner == k) for k in range(len(self.tasks))]
        parts = [
            self._clean(k, t.sample_conditions(draws, len(r))) if len(r) else None
            for k, (t, r) in enumerate(zip(self.tasks, rows, strict=True))
        ]
        return self._assemble(parts, rows, owner, batch_size)

    def from_conditions(
        self, conditions: dict[str, np.ndarray], seed: int | np.random.Generator | None = None
    ) -> TrialBatch:
        """Rebuild a batch from its conditions (``task_index`` and each task's
        ``label.name`` conditions, as `generate` writes them); noise only with ``seed``."""
        if "task_index" not in conditions:
            raise InvalidParameterError(
                f"{self.name}: conditions need 'task_index' (the task of each trial)"
            )
        owner = np.asarray(conditions["task_index"], dtype=np.int64)
        batch_size = len(owner)
        if self.mode == "parallel":
            rows = [np.arange(batch_size)] * len(self.tasks)
        else:
            rows = [np.flatnonzero(owner == k) for k in range(len(self.tasks))]
        parts: list[TrialBatch | None] = []
        for k, (task, r) in enumerate(zip(self.tasks, rows, strict=True)):
            prefix = f"{self.labels[k]}."
            own = {
                name[len(prefix) :]: np.asarray(value)[r]
                for name, value in conditions.items()
                if name.startswith(prefix) and name != f"{prefix}length"
            }
            parts.append(self._clean(k, task._check_conditions(own)) if len(r) else None)
        batch = self._assemble(parts, rows, owner, batch_size)
        return batch if seed is None else self._noisy(batch, generators(seed, "test", 0)[1])

    def generate_test(self, seed: int | None = None) -> TrialBatch:
        """Every task's test grid: stacked (interleave) or side by side, cycled (parallel)."""
        grids = [self._clean(k, t.test_conditions()) for k, t in enumerate(self.tasks)]
        if self.mode == "parallel":
            size = max(g.batch_size for g in grids)
            grids = [g.select(np.arange(size) % g.batch_size) for g in grids]
            rows = [np.arange(size)] * len(grids)
            owner = np.full(size, -1)
        else:
            sizes = [g.batch_size for g in grids]
            size = sum(sizes)
            owner = np.repeat(np.arange(len(grids)), sizes)
            rows = [np.flatnonzero(owner == k) for k in range(len(grids))]
        batch = self._assemble(grids, rows, owner, size)
        return batch if seed is None else self._noisy(batch, generators(seed, "test", 0)[1])

    def _clean(self, k: int, conditions: dict[str, np.ndarray]) -> TrialBatch:
        """Task k's noise-free sub-batch, with signal removed if the task is silenced."""
        batch = self.tasks[k].build(conditions)
        if self.labels[k] not in self.silenced:
            return batch
        rest = self.tasks[k].rest_target()[None, None, :] * batch.valid[:, :, None]
        return replace(batch, inputs=np.zeros_like(batch.inputs), targets=rest.astype(np.float32))

    def _assemble(
        self,
        parts: list[TrialBatch | None],
        rows: list[np.ndarray],
        owner: np.ndarray,
        batch_size: int,
    ) -> TrialBatch:
        present = [p for p in parts if p is not None]
        n_steps = max(p.n_steps for p in present)
        lengths = np.zeros(batch_size, dtype=np.int64)
        for part, r in zip(parts, rows, strict=True):
            if part is not None:
                lengths[r] = np.maximum(lengths[r], part.lengths)
        valid = np.arange(n_steps)[:, None] < lengths[None, :]
        inputs = np.zeros((n_steps, batch_size, self.n_inputs), dtype=np.float32)
        targets = np.zeros((n_steps, batch_size, self.n_outputs), dtype=np.float32)
        weights = np.zeros_like(targets)
        if self.mode != "parallel" and self.channels == "separate":
            # idle outputs: rest target, scored on the trial's steps (with shared channels every
            # output belongs to the trial's own task)
            for k, task in enumerate(self.tasks):
                out = self._out_slices[k]
                targets[:, :, out] = task.rest_target()[None, None, :] * valid[:, :, None]
                weights[:, :, out] = valid[:, :, None]
        epochs: dict[str, np.ndarray] = {}
        conditions: dict[str, np.ndarray] = {"task_index": owner.astype(np.int64)}
        for k, (part, r) in enumerate(zip(parts, rows, strict=True)):
            if part is None:
                continue
            ins, out, t = self._in_slices[k], self._out_slices[k], part.n_steps
            r = slice(None) if len(r) == batch_size else r  # one task: whole-batch slices
            inputs[:t, r, ins] = part.inputs
            if self.channels == "separate":
                targets[:, r, out] = 0.0
                weights[:, r, out] = 0.0
            targets[:t, r, out] = part.targets
            weights[:t, r, out] = part.weights
            if self.rule_inputs:
                inputs[:, r, len(self.input_names) - len(self.tasks) + k] = valid[:, r]
            label = self.labels[k]
            for name, value in part.epochs.items():
                epochs[f"{label}.{name}"] = _place(value, r, batch_size)
            for name, value in part.conditions.items():
                conditions[f"{label}.{name}"] = _place(value, r, batch_size)
            conditions[f"{label}.length"] = _place(part.lengths, r, batch_size)
        return TrialBatch(
            inputs=inputs,
            targets=targets,
            weights=weights,
            lengths=lengths,
            epochs=epochs,
            conditions=conditions,
            input_names=self.input_names,
            output_names=self.output_names,
            dt_ms=self.dt_ms,
            config=self.config(),
        )

    def _noisy(self, batch: TrialBatch, rng: np.random.Generator) -> TrialBatch:
        """Add each task's own input noise to its input channels on its own trials (rule inputs
        stay clean); the noise drawn is one batch's worth, however many tasks there are."""
        inputs = batch.inputs.copy()
        owner = batch.conditions["task_index"]
        for k, task in enumerate(self.tasks):
            p = task.params
            if not p.add_noise or p.input_noise_std == 0:
                continue
            rows = np.flatnonzero((owner == k) | (self.mode == "parallel"))
            if not len(rows):
                continue
            ins = self._in_slices[k]
            shape = (batch.n_steps, len(rows), ins.stop - ins.start)
            noise = input_noise(rng, shape, p.input_noise_std, p.noise_decay_ms, p.dt_ms)
            noise *= batch.valid[:, rows, None]
            if len(rows) == batch.batch_size:
                inputs[:, :, ins] += noise
            else:
                inputs[:, rows, ins] += noise
        return replace(batch, inputs=inputs)

    # ---- scoring ------------------------------------------------------------------------------
    def sub_batch(self, batch: TrialBatch, k: int) -> tuple[np.ndarray, TrialBatch]:
        """Rows of ``batch`` that run task k and task k's own view of them (channels, epochs,
        conditions without the label prefix)."""
        label = self.labels[k]
        rows = self._rows(batch, k)
        if not len(rows):
            raise InvalidParameterError(f"{self.name}: no trial of task '{label}' in this batch")
        prefix = f"{label}."
        lengths = batch.conditions[f"{label}.length"][rows]
        n_steps = int(lengths.max()) if len(rows) else 0
        view = TrialBatch(
            inputs=batch.inputs[:n_steps, rows, self._in_slices[k]],
            targets=batch.targets[:n_steps, rows, self._out_slices[k]],
            weights=batch.weights[:n_steps, rows, self._out_slices[k]],
            lengths=lengths,
            epochs={
                n[len(prefix) :]: v[rows] for n, v in batch.epochs.items() if n.startswith(prefix)
            },
            conditions={
                n[len(prefix) :]: v[rows]
                for n, v in batch.conditions.items()
                if n.startswith(prefix) and n != f"{label}.length"
            },
            input_names=self.tasks[k].input_names,
            output_names=self.tasks[k].output_names,
            dt_ms=batch.dt_ms,
            config=self.tasks[k].config(),
        )
        return rows, view

    def _rows(self, batch: TrialBatch, k: int) -> np.ndarray:
        """The trials of ``batch`` that run task k."""
        if self.mode == "parallel":
            return np.arange(batch.batch_size)
        return np.flatnonzero(batch.conditions["task_index"] == k)

    def performance(self, outputs: Any, batch: TrialBatch) -> np.ndarray:
        """Per-trial score (B,): each trial by its own task's metric; a silenced task by the
        fraction of its scored samples within 0.5 of rest; in parallel mode the mean over tasks."""
        total = np.zeros(batch.batch_size)
        count = np.zeros(batch.batch_size)
        for rows, score in self._task_scores(outputs, batch).values():
            total[rows] += score
            count[rows] += 1
        return total / np.maximum(count, 1)

    def performance_by_task(self, outputs: Any, batch: TrialBatch) -> dict[str, float]:
        """Mean score of each task over its own trials in ``batch``: label -> score (tasks with
        no trial in the batch are left out)."""
        return {
            label: float(np.mean(score))
            for label, (_rows, score) in self._task_scores(outputs, batch).items()
        }

    def _task_scores(
        self, outputs: Any, batch: TrialBatch
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """label -> (rows of the task's trials, their scores) for the tasks present."""
        if hasattr(outputs, "detach"):
            outputs = outputs.detach().cpu().numpy()
        outputs = np.asarray(outputs, dtype=np.float64)
        expected = (batch.n_steps, batch.batch_size, self.n_outputs)
        if outputs.shape != expected:
            raise InvalidParameterError(
                f"{self.name}: outputs must have shape (T, B, O) = {expected}; got {outputs.shape}"
            )
        scores = {}
        for k, task in enumerate(self.tasks):
            if not len(self._rows(batch, k)):
                continue
            rows, view = self.sub_batch(batch, k)
            mine = outputs[: view.n_steps, rows, self._out_slices[k]]
            if self.labels[k] in self.silenced:
                ok = (np.abs(mine - view.targets) < 0.5) * view.weights
                score = ok.sum(axis=(0, 2)) / np.maximum(view.weights.sum(axis=(0, 2)), 1e-12)
            else:
                score = task._score(mine, view)
            scores[self.labels[k]] = (rows, score)
        return scores

    @property
    def metric(self) -> Metric:
        """Each trial is scored by its own task's metric; the criterion (the default training
        target) is the strictest of the tasks' criteria."""
        names = sorted({t.metric.name for t in self.tasks})
        texts = sorted({t.metric.description for t in self.tasks})
        each = (
            texts[0]
            if len(texts) == 1
            else "; ".join(
                f"{lab}: {t.metric.name}" for lab, t in zip(self.labels, self.tasks, strict=True)
            )
        )
        return Metric(
            names[0] if len(names) == 1 else "mixed",
            f"each trial is scored by its own task's metric ({each}); the batch score is the "
            "mean over trials",
            criterion=max(t.metric.criterion for t in self.tasks),
        )


def compose(
    tasks: Sequence[Task | str | tuple[str, str]],
    **options: Any,
) -> MultiTask:
    """Combine tasks (objects, names, or (name, version) pairs) into one `MultiTask`.

    Options: ``labels``, ``mode`` ("interleave" | "parallel"), ``channels`` ("separate" |
    "shared"), ``rule_inputs`` (bool), ``weights`` (per-task sampling weights), ``silenced``
    (labels of tasks whose inputs carry no signal and whose outputs must stay at rest).
    """
    from rnnzoo.tasks.registry import make

    built = []
    for item in tasks:
        if isinstance(item, Task):
            built.append(item)
        elif isinstance(item, str):
            built.append(make(item))
        elif isinstance(item, tuple) and len(item) == 2:
            built.append(make(*item))
        else:
            raise InvalidParameterError(f"compose: cannot use {item!r} as a task")
    return MultiTask(built, **options)
