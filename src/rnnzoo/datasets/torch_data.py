"""PyTorch adapters for task batches (this module imports torch; the tasks layer does not).

- `to_tensors(batch)`: a `TrialBatch` as a dict of tensors, time-major or ``batch_first``.
- `TrialDataset`: map-style dataset over stored trials (a batch or an HDF5 file); each item
  is one trial cropped to its own length; `collate_trials` (or the dataset's `collate`, the
  same function) pads a list of them again in the dataset's layout.
- `TaskStream`: an iterable dataset yielding whole generated batches; batch k is
  ``task.generate(B, seed, split=split, index=k)``, so DataLoader workers (each takes every
  W-th index) produce the same stream as a single process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.seeding import check_batch_size, check_seed

_SEQUENCES = ("inputs", "targets", "weights")


def to_tensors(batch: TrialBatch, *, batch_first: bool = False) -> dict[str, torch.Tensor]:
    """inputs (T, B, I), targets/weights (T, B, O), lengths (B,); (B, T, .) if ``batch_first``."""
    out = {}
    for name in _SEQUENCES:
        array = getattr(batch, name)
        out[name] = torch.from_numpy(
            np.ascontiguousarray(array.swapaxes(0, 1) if batch_first else array)
        )
    out["lengths"] = torch.from_numpy(batch.lengths.copy())
    return out


class TrialDataset(Dataset):
    """Trials of a stored batch (a `TrialBatch` or the path of an HDF5 export).

    Item i is a dict: inputs (T_i, I), targets (T_i, O), weights (T_i, O), length (int), the
    trial's conditions (NumPy scalars/arrays) and batch_first (the layout `collate_trials`
    pads them to); T_i = lengths[i].
    """

    def __init__(
        self, source: TrialBatch | str | os.PathLike[str], *, batch_first: bool = False
    ) -> None:
        if not isinstance(source, TrialBatch):
            from rnnzoo.datasets.hdf5 import load_batch

            source = load_batch(source)
        self.batch = source
        self.batch_first = batch_first

    def __len__(self) -> int:
        return self.batch.batch_size

    def __getitem__(self, i: int) -> dict[str, Any]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"trial index {i} out of range for {len(self)} trials")
        n = int(self.batch.lengths[i])
        item: dict[str, Any] = {
            name: torch.from_numpy(np.ascontiguousarray(getattr(self.batch, name)[:n, i]))
            for name in _SEQUENCES
        }
        item["length"] = n
        item["conditions"] = {k: v[i] for k, v in self.batch.conditions.items()}
        item["batch_first"] = self.batch_first
        return item

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """`collate_trials` with this dataset's layout (pass as ``collate_fn``)."""
        return collate_trials(items, batch_first=self.batch_first)


def collate_trials(
    items: list[dict[str, Any]], *, batch_first: bool | None = None
) -> dict[str, Any]:
    """Pad trials to the longest and stack: (T, B, .) or (B, T, .); padding is 0 (weight 0).

    ``batch_first`` None takes the layout of the items' `TrialDataset` (time-major for items
    without one), so ``DataLoader(dataset, collate_fn=collate_trials)`` honours the dataset's
    ``batch_first``."""
    if batch_first is None:
        batch_first = bool(items[0].get("batch_first", False)) if items else False
    lengths = torch.tensor([it["length"] for it in items], dtype=torch.int64)
    out: dict[str, Any] = {
        name: torch.nn.utils.rnn.pad_sequence([it[name] for it in items], batch_first=batch_first)
        for name in _SEQUENCES
    }
    out["lengths"] = lengths
    out["conditions"] = [it["conditions"] for it in items]
    return out


class TaskStream(IterableDataset):
    """Generated batches as an iterable dataset; use ``DataLoader(stream, batch_size=None)``.

    Parameters
    ----------
    task : a `Task` or `MultiTask`.
    batch_size : trials per batch.
    seed : int, the stream's seed.
    split : "train", "validation" or "test".
    n_batches : number of batches (None = endless).
    batch_first : yield (B, T, .) tensors instead of (T, B, .).
    """

    def __init__(
        self,
        task: Any,
        batch_size: int,
        seed: int,
        *,
        split: str = "train",
        n_batches: int | None = None,
        batch_first: bool = False,
    ) -> None:
        self.task = task
        self.batch_size = check_batch_size(batch_size)
        self.seed = check_seed(seed)
        if n_batches is not None and (not isinstance(n_batches, int) or n_batches < 1):
            raise InvalidParameterError(
                f"'n_batches' must be a positive integer or None; got {n_batches!r}"
            )
        self.split, self.n_batches, self.batch_first = split, n_batches, batch_first

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        index, step = (0, 1) if info is None else (info.id, info.num_workers)
        while self.n_batches is None or index < self.n_batches:
            batch = self.task.generate(self.batch_size, self.seed, split=self.split, index=index)
            yield to_tensors(batch, batch_first=self.batch_first)
            index += step
