"""Vectorised helpers for building trials: epoch layout, time windows, ring codes.

Task authors describe a trial as per-trial epoch durations (in steps) and fill whole
(T, B, C) arrays with boolean window masks; nothing loops over time steps or trials.
"""

from __future__ import annotations

import numpy as np


def lay_out(epoch_steps: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Lay epochs end to end.

    Parameters
    ----------
    epoch_steps : ordered dict of epoch name -> int ndarray (B,) of durations in steps.

    Returns
    -------
    epochs : dict of name -> int64 ndarray (B, 2), [start, stop) steps.
    lengths : int64 ndarray (B,), total steps per trial.
    """
    epochs = {}
    start = None
    for name, n in epoch_steps.items():
        n = np.asarray(n, dtype=np.int64)
        if start is None:
            start = np.zeros_like(n)
        epochs[name] = np.stack([start, start + n], axis=1)
        start = start + n
    if start is None:
        raise ValueError("a trial needs at least one epoch")
    return epochs, start


def window(n_steps: int, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Boolean mask (T, B): True where start[b] <= t < stop[b]."""
    t = np.arange(n_steps)[:, None]
    return (t >= np.asarray(start)[None, :]) & (t < np.asarray(stop)[None, :])


def canvas(n_steps: int, batch_size: int, n_channels: int) -> np.ndarray:
    """A zero float32 array (T, B, C) to paint a trial into."""
    return np.zeros((n_steps, batch_size, n_channels), dtype=np.float32)


def ring_code(
    angles_rad: np.ndarray, n_units: int, width_rad: float, peak: float = 1.0
) -> np.ndarray:
    """Gaussian bumps on a ring of ``n_units`` with preferred angles 2*pi*i/n_units.

    Returns float ndarray (B, n_units): peak * exp(-d^2 / (2 width^2)), d the circular distance.
    """
    preferred = 2 * np.pi * np.arange(n_units) / n_units
    d = np.angle(np.exp(1j * (np.asarray(angles_rad)[:, None] - preferred[None, :])))
    return peak * np.exp(-0.5 * (d / width_rad) ** 2)


def fill_epoch(array: np.ndarray, start: np.ndarray, stop: np.ndarray, values: np.ndarray) -> None:
    """Add per-trial channel values (B, C) to ``array`` (T, B, C) on steps [start[b], stop[b]).

    Touches only the epoch's steps (fancy indexing), not the whole (T, B, C) array.
    """
    start, stop = np.asarray(start, dtype=np.int64), np.asarray(stop, dtype=np.int64)
    counts = np.maximum(stop - start, 0)
    trial = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    array[start[trial] + offset, trial] += np.asarray(values, dtype=array.dtype)[trial]


def stream_index(
    n_steps: int, start: np.ndarray, point_steps: int, n_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which stream point each step shows.

    Returns ``index`` (T, B) int64, the point shown at step t of trial b (0 outside the
    stream), and ``inside`` (T, B) bool, True on the steps of the stream
    [start, start + n_points * point_steps).
    """
    t = np.arange(n_steps)[:, None]
    index = (t - np.asarray(start)[None, :]) // point_steps
    inside = (index >= 0) & (index < n_points)
    return np.where(inside, index, 0), inside


def per_step(point_values: np.ndarray, index: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Per-point values (B, n_points) spread over the steps (T, B) given by `stream_index`."""
    return np.take_along_axis(np.asarray(point_values).T, index, axis=0) * inside
