"""HDF5 files of task batches, with the full task configuration in the attributes.

Layout of a file::

    /inputs (T, B, I) float32     /targets (T, B, O) float32     /weights (T, B, O) float32
    /lengths (B,) int64           /epochs/<name> (B, 2) int64    /conditions/<name> (B, ...)
    /stimuli (B, K, C, H, W) float32 (image tasks only)
    attributes: format, format_version, rnnzoo_version, config (JSON), seed, split, index,
                batch_size, dt_ms, input_names (JSON), output_names (JSON)

Files are written to a temporary name in the same folder and renamed when complete, so an
interrupted export never leaves a half-written file.  `load_batch` returns a bit-identical
`TrialBatch`; `load_task` rebuilds the task, so ``load_task(p).generate(B, seed)`` reproduces
the stored batch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from rnnzoo import __version__
from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.memory import check_export
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.registry import from_config
from rnnzoo.tasks.seeding import SPLITS, check_batch_size, check_seed

FORMAT = "rnnzoo.trialbatch"
FORMAT_VERSION = 1


def _check_target(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.suffix.lower() not in (".h5", ".hdf5"):
        raise InvalidParameterError(f"'out' must be a .h5 or .hdf5 file; got '{path}'")
    if not path.parent.exists() or not path.parent.is_dir():
        raise InvalidParameterError(f"'out': folder '{path.parent}' does not exist")
    if path.is_dir():
        raise InvalidParameterError(f"'out': '{path}' is a folder, not a file")
    return path


def save_batch(batch: TrialBatch, path: str | os.PathLike[str], **provenance: Any) -> Path:
    """Write ``batch`` to ``path`` atomically; ``provenance`` (seed, split, ...) goes to attributes."""
    path = _check_target(path)
    batch.require_noise_drawn("save")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name in ("inputs", "targets", "weights"):
            f.create_dataset(
                name,
                data=getattr(batch, name),
                compression="gzip",
                compression_opts=4,
                chunks=True if getattr(batch, name).size else None,
            )
        f.create_dataset("lengths", data=batch.lengths)
        if batch.stimuli is not None:
            f.create_dataset("stimuli", data=batch.stimuli, compression="gzip", compression_opts=4)
        for group, items in (("epochs", batch.epochs), ("conditions", batch.conditions)):
            g = f.create_group(group)
            for key, value in items.items():
                g.create_dataset(key, data=value)
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["rnnzoo_version"] = __version__
        f.attrs["config"] = json.dumps(batch.config, sort_keys=True)
        f.attrs["dt_ms"] = batch.dt_ms
        f.attrs["batch_size"] = batch.batch_size
        f.attrs["input_names"] = json.dumps(list(batch.input_names))
        f.attrs["output_names"] = json.dumps(list(batch.output_names))
        for key, value in provenance.items():
            f.attrs[key] = value
    return path


def export_task(
    task: Any,
    path: str | os.PathLike[str],
    *,
    batch_size: int,
    seed: int,
    split: str = "train",
    index: int = 0,
) -> Path:
    """Generate ``task.generate(batch_size, seed, split=split, index=index)`` and save it."""
    batch_size = check_batch_size(batch_size)
    seed = check_seed(seed)
    if split not in SPLITS:
        raise InvalidParameterError(f"'split' must be one of {', '.join(SPLITS)}; got {split!r}")
    _check_target(path)
    check_export(task, batch_size)  # the batch must fit the memory budget (rnnzoo.memory)
    batch = task.generate(batch_size, seed, split=split, index=index)
    return save_batch(batch, path, seed=seed, split=split, index=index)


def _open(path: str | os.PathLike[str]) -> h5py.File:
    path = Path(path)
    if not path.is_file():
        raise InvalidParameterError(f"no such file: '{path}'")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise InvalidParameterError(f"'{path}' is not an HDF5 file ({exc})") from None
    if f.attrs.get("format") != FORMAT:
        f.close()
        raise InvalidParameterError(f"'{path}' is not an rnnzoo trial-batch file")
    return f


def read_attributes(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's attributes, with JSON values decoded."""
    with _open(path) as f:
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
    for key in ("config", "input_names", "output_names"):
        attrs[key] = json.loads(attrs[key])
    return attrs


def load_batch(path: str | os.PathLike[str]) -> TrialBatch:
    """Read a `TrialBatch` written by `save_batch` (bit-identical)."""
    attrs = read_attributes(path)
    with _open(path) as f:
        return TrialBatch(
            inputs=f["inputs"][...],
            targets=f["targets"][...],
            weights=f["weights"][...],
            lengths=f["lengths"][...],
            epochs={k: v[...] for k, v in f["epochs"].items()},
            conditions={k: v[...] for k, v in f["conditions"].items()},
            input_names=tuple(attrs["input_names"]),
            output_names=tuple(attrs["output_names"]),
            dt_ms=float(attrs["dt_ms"]),
            config=attrs["config"],
            stimuli=f["stimuli"][...] if "stimuli" in f else None,
        )


def load_task(path: str | os.PathLike[str]) -> Any:
    """The task (or composition) that produced the file, rebuilt from its stored config."""
    return from_config(read_attributes(path)["config"])
