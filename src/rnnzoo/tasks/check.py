"""`check_task`: the contract every task must keep, run by code rather than review.

Use it on your own task classes too: ``check_task(make("my_task"))`` raises `AssertionError`
naming the broken rule, the way gymnasium's env checker does.
"""

from __future__ import annotations

import numpy as np

from rnnzoo.tasks.base import Task
from rnnzoo.tasks.batch import TrialBatch


def _assert(condition: bool, task: Task, message: str) -> None:
    if not condition:
        raise AssertionError(f"{task.name}/{task.version}: {message}")


def check_batch_layout(task: Task, batch: TrialBatch) -> None:
    """Shapes, dtypes, padding, epochs and weights of one batch."""
    n_steps, batch_size = batch.n_steps, batch.batch_size
    _assert(
        batch.inputs.shape == (n_steps, batch_size, task.n_inputs),
        task,
        f"inputs shape {batch.inputs.shape}",
    )
    _assert(
        batch.targets.shape == (n_steps, batch_size, task.n_outputs),
        task,
        f"targets shape {batch.targets.shape}",
    )
    for name in ("inputs", "targets", "weights"):
        array = getattr(batch, name)
        _assert(array.dtype == np.float32, task, f"{name} must be float32, is {array.dtype}")
        _assert(bool(np.isfinite(array).all()), task, f"{name} has non-finite values")
    _assert(batch.lengths.dtype == np.int64, task, "lengths must be int64")
    _assert(
        int(batch.lengths.min()) >= 1 and int(batch.lengths.max()) == n_steps,
        task,
        "lengths must be >= 1 and the longest trial must fill T",
    )
    pad = ~batch.valid
    for name in ("inputs", "targets", "weights"):
        _assert(not getattr(batch, name)[pad].any(), task, f"{name} must be 0 on padding steps")
    _assert(bool((batch.weights >= 0).all()), task, "weights must be >= 0")
    _assert(
        bool((batch.weights.sum(axis=(0, 2)) > 0).all()), task, "every trial needs scored steps"
    )
    for name, bounds in batch.epochs.items():
        _assert(bounds.shape == (batch_size, 2), task, f"epoch '{name}' must have shape (B, 2)")
        present = bounds[:, 0] >= 0
        ok = (bounds[present, 0] <= bounds[present, 1]) & (
            bounds[present, 1] <= batch.lengths[present]
        )
        _assert(bool(ok.all()), task, f"epoch '{name}' outside its trial")
    for name, value in batch.conditions.items():
        _assert(value.shape[:1] == (batch_size,), task, f"condition '{name}' needs leading dim B")


def check_task(task: Task, batch_size: int = 16, seed: int = 1234) -> None:
    """Assert the task contract (determinism, independence, layout, conditions, metric)."""
    state = np.random.get_state()
    first = task.generate(batch_size, seed)
    _assert(
        task.generate(batch_size, seed).equals(first),
        task,
        "same seed must give a bit-identical batch",
    )
    _assert(
        _state_equal(state, np.random.get_state()), task, "global NumPy random state was touched"
    )
    check_batch_layout(task, first)
    other = task.generate(batch_size, seed + 1)
    _assert(not other.equals(first), task, "different seeds must give different batches")
    _assert(
        not task.generate(batch_size, seed, split="validation").equals(first),
        task,
        "train and validation streams must differ",
    )
    _assert(
        not task.generate(batch_size, seed, index=1).equals(first),
        task,
        "batch 1 must differ from batch 0",
    )

    clean = task.from_conditions(first.conditions)
    noiseless = type(task)(
        task.params.model_copy(update={"add_noise": False}), version=task.version
    )
    _assert(
        noiseless.generate(batch_size, seed).equals(clean),
        task,
        "conditions must hold every draw: rebuilding from them must equal the noise-free batch",
    )
    perfect = task.performance(clean.targets, clean)
    _assert(perfect.shape == (batch_size,), task, "performance must return one score per trial")
    _assert(bool(np.all(perfect >= 1 - 1e-9)), task, f"targets must score 1; got {perfect.min()}")
    _assert(bool(np.all(perfect <= 1 + 1e-9)), task, "scores must be <= 1")

    grid = task.generate_test()
    _assert(task.generate_test().equals(grid), task, "the test grid must be deterministic")
    check_batch_layout(task, grid)
    _assert(
        bool(np.all(task.performance(grid.targets, grid) >= 1 - 1e-9)),
        task,
        "targets must score 1 on the grid",
    )


def _state_equal(a: tuple, b: tuple) -> bool:
    return all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        for x, y in zip(a, b, strict=True)
    )
