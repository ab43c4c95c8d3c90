"""Held-out evaluation of a network and the ensemble statistics of seed 002."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.models.base import seeded_generator
from rnnzoo.training.protocol import network_kwargs


def ensemble_statistic(performance: np.ndarray, statistic: str) -> float:
    """Reduce per-member performance (M,) to one number.

    "mean_10_90": seed 002's trimmed mean: members sorted, the lowest and highest
    floor(M / 10) dropped, the rest averaged (all members when M < 10); "min", "mean",
    "median" as named.
    """
    perf = np.asarray(performance, dtype=np.float64)
    if statistic == "min":
        return float(perf.min())
    if statistic == "mean":
        return float(perf.mean())
    if statistic == "median":
        return float(np.median(perf))
    if statistic == "mean_10_90":
        cut = len(perf) // 10
        return float(np.sort(perf)[cut : len(perf) - cut].mean())
    raise InvalidParameterError(
        f"'statistic' must be one of mean_10_90, min, mean, median; got {statistic!r}"
    )


@torch.no_grad()
def evaluate_network(
    net: Network,
    task: Any,
    batch_size: int,
    seed: int,
    statistic: str,
    *,
    index: int = 0,
    split: str = "validation",
) -> dict[str, Any]:
    """Performance of ``net`` (true dynamics) on held-out batch ``index`` of ``task``'s
    ``split`` stream: {"members": per-member mean performance (M,), "statistic": reduced}."""
    device = next(net.parameters()).device
    batch = task.generate(batch_size, seed, split=split, index=index)
    inputs = torch.from_numpy(batch.inputs).to(device)
    gen = seeded_generator(seed, 2, index, device=device)
    outputs = net(inputs, generator=gen, **network_kwargs(batch, device)).outputs
    if net.config.ensemble is None:
        outputs = outputs.unsqueeze(1)
    outputs = outputs.cpu()
    perf = np.array(
        [float(np.mean(task.performance(outputs[:, m], batch))) for m in range(net.n_models)]
    )
    return {"members": perf.tolist(), "statistic": ensemble_statistic(perf, statistic)}
