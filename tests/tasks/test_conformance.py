"""Every registered task and version keeps the task contract (`check_task`) and its golden hash."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.tasks.check import check_task
from rnnzoo.tasks.suite import Suite

GOLDEN = Path(__file__).with_name("golden_hashes.json")
ALL = [
    (name, version)
    for name in tasks.task_names()
    for version in tasks.get_task_class(name).versions
]
# a suite's versions are its tasks' versions, each checked on its own: its contract once
CONTRACT = [
    (name, version)
    for name, version in ALL
    if version == "vanilla" or not issubclass(tasks.get_task_class(name), Suite)
]


def batch_hash(batch) -> str:
    """Hash of a seeded batch, values rounded to 1e-5 so it is stable across CPUs."""
    h = hashlib.sha256()
    for array in (batch.inputs, batch.targets, batch.weights, batch.lengths):
        h.update(np.round(array.astype(np.float64), 5).tobytes())
    for key in sorted(batch.conditions):
        h.update(key.encode())
        h.update(np.round(batch.conditions[key].astype(np.float64), 5).tobytes())
    if batch.stimuli is not None:  # image tasks: the images themselves
        h.update(np.round(batch.stimuli.astype(np.float64), 4).tobytes())
    return h.hexdigest()[:16]


def golden_batch(name: str, version: str):
    return tasks.make(name, version).generate(8, seed=2024)


@pytest.mark.parametrize(("name", "version"), CONTRACT)
def test_task_contract(name, version):
    check_task(tasks.make(name, version))


@pytest.mark.parametrize(("name", "version"), ALL)
def test_versions_are_frozen(name, version):
    """Changing a version's numbers must be a new version: the seeded batch is pinned."""
    golden = json.loads(GOLDEN.read_text())
    assert f"{name}/{version}" in golden, (
        "new task/version: run `python tests/tasks/test_conformance.py`"
    )
    assert batch_hash(golden_batch(name, version)) == golden[f"{name}/{version}"]


@pytest.mark.parametrize("name", tasks.task_names())
def test_batches_of_different_sizes_share_nothing_but_the_seed(name):
    task = tasks.make(name)
    a, b = task.generate(4, 7), task.generate(4, np.random.default_rng(7))
    assert a.batch_size == b.batch_size == 4
    assert not np.shares_memory(a.inputs, b.inputs)


def test_generator_seed_and_bad_seeds():
    task = tasks.make("flipflop")
    assert task.generate(3, np.random.default_rng(5)).equals(
        task.generate(3, np.random.default_rng(5))
    )
    for bad in (-1, 1.5, "3", True, None):
        with pytest.raises(InvalidParameterError, match="'seed' must be a non-negative integer"):
            task.generate(3, bad)
    for bad in (0, -2, 2.0, True):
        with pytest.raises(InvalidParameterError, match="'batch_size'"):
            task.generate(bad, 0)
    with pytest.raises(
        InvalidParameterError, match="'split' must be one of train, validation, test"
    ):
        task.generate(3, 0, split="dev")


def test_stream_batches_match_indexed_generation():
    task = tasks.make("flipflop")
    stream = task.batches(4, seed=3, split="validation")
    for k in range(3):
        assert next(stream).equals(task.generate(4, 3, split="validation", index=k))


def test_performance_rejects_wrong_shapes():
    task = tasks.make("flipflop")
    batch = task.generate(4, 0)
    with pytest.raises(InvalidParameterError, match=r"outputs must have shape \(T, B, O\)"):
        task.performance(batch.targets[:, :2], batch)


def test_tasks_layer_does_not_import_torch():
    code = (
        "import sys; from rnnzoo import tasks; "
        "[tasks.make(n).generate(2, 0) for n in tasks.task_names()]; "
        "import rnnzoo.datasets.hdf5; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_from_config_round_trip():
    task = tasks.make("flipflop", "realistic", n_bits=2)
    again = tasks.from_config(json.loads(json.dumps(task.config())))
    assert again.params == task.params and again.version == "realistic"
    assert again.generate(4, 1).equals(task.generate(4, 1))


if __name__ == "__main__":  # regenerate the golden file (only when adding a task or version)
    hashes = {f"{n}/{v}": batch_hash(golden_batch(n, v)) for n, v in ALL}
    old = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    changed = [k for k in old if k in hashes and old[k] != hashes[k]]
    if changed:
        sys.exit(f"refusing to change frozen versions {changed}: add a new version instead")
    GOLDEN.write_text(json.dumps({**old, **hashes}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(hashes)} hashes to {GOLDEN}")
