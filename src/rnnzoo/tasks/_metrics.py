"""Per-trial performance helpers shared by the tasks (all return higher-is-better scores)."""

from __future__ import annotations

import numpy as np


def mean_in_window(outputs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of outputs (T, B, O) over the steps where mask (T, B) holds -> (B, O)."""
    m = mask[:, :, None].astype(np.float64)
    count = np.maximum(m.sum(axis=0), 1.0)
    return (outputs * m).sum(axis=0) / count


def choice_correct(outputs: np.ndarray, mask: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """1.0 where the argmax of the window-averaged outputs equals ``correct`` (B,), else 0.0."""
    return (np.argmax(mean_in_window(outputs, mask), axis=1) == correct).astype(np.float64)


def weighted_r2(outputs: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-trial coefficient of determination over weighted steps and channels -> (B,).

    R^2 = 1 - sum w (y - z)^2 / sum w (z - mean_w z)^2, the mean taken per trial and channel;
    1 is perfect and a constant output at the target mean scores 0.
    """
    w = weights.astype(np.float64)
    total = np.maximum(w.sum(axis=0, keepdims=True), 1e-12)
    mean = (w * targets).sum(axis=0, keepdims=True) / total
    sst = (w * (targets - mean) ** 2).sum(axis=(0, 2))
    sse = (w * (outputs - targets) ** 2).sum(axis=(0, 2))
    return 1.0 - sse / np.maximum(sst, 1e-12)
