"""The one way randomness enters a task: a seed (or a Generator) per batch.

An integer seed, a split name and a batch index make a `numpy.random.SeedSequence`
``SeedSequence(seed, spawn_key=(split, index))``, so the train, validation and test streams
of one seed are independent and batch k of a stream never depends on batches before it.
No global random state is read or written.
"""

from __future__ import annotations

import numbers

import numpy as np

from rnnzoo.errors import InvalidParameterError

SPLITS = ("train", "validation", "test")
MAX_SEED = 2**32 - 1  # every seed rnnzoo takes is an integer in [0, MAX_SEED]


def check_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` as an int, or raise naming it when it is not an integer in
    [0, MAX_SEED]."""
    if (
        isinstance(seed, bool)
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed <= MAX_SEED
    ):
        raise InvalidParameterError(
            f"'{name}' must be a non-negative integer <= {MAX_SEED}; got {seed!r}"
        )
    return int(seed)


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` as an int, or raise when it is not in [1, 1_000_000]."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, numbers.Integral)
        or not (1 <= batch_size <= 1_000_000)
    ):
        raise InvalidParameterError(
            f"'batch_size' must be an integer in [1, 1000000]; got {batch_size!r}"
        )
    return int(batch_size)


def generators(
    seed: int | np.random.Generator, split: str = "train", index: int = 0
) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent generators (trial draws, noise) for one batch.

    Parameters
    ----------
    seed : int >= 0 or numpy.random.Generator
        A Generator is used as it is (``split`` and ``index`` are then ignored).
    split : {"train", "validation", "test"}
    index : int >= 0, the batch number within the stream.
    """
    if isinstance(seed, np.random.Generator):
        return seed, seed
    if split not in SPLITS:
        raise InvalidParameterError(f"'split' must be one of {', '.join(SPLITS)}; got {split!r}")
    sequence = np.random.SeedSequence(
        check_seed(seed), spawn_key=(SPLITS.index(split), check_seed(index, "index"))
    )
    draws, noise = sequence.spawn(2)
    return np.random.default_rng(draws), np.random.default_rng(noise)
