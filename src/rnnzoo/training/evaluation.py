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


def member_statistic(values: list[float | None], statistic: str) -> float:
    """`ensemble_statistic` over the members that have a value (stopped members are None)."""
    kept = [v for v in values if v is not None]
    return ensemble_statistic(np.asarray(kept), statistic) if kept else float("nan")


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
    skip: list[int] | tuple[int, ...] = (),
) -> dict[str, Any]:
    """Performance of ``net`` (true dynamics) on held-out batch ``index`` of ``task``'s
    ``split`` stream: {"members": per-member mean performance (M,), "statistic": reduced}.

    Members in ``skip`` (stopped after diverging) are not scored: None, left out of the
    statistic.  A composition is evaluated on a balanced batch (an equal share of trials per
    task) and the result also has "tasks": label -> statistic of the members' scores on that
    task's trials, and "tasks_members": label -> per-member scores.
    """
    device = next(net.parameters()).device
    balanced = getattr(task, "generate_balanced", None)
    if balanced is not None:
        batch = balanced(batch_size, seed, split=split, index=index)
    else:
        batch = task.generate(batch_size, seed, split=split, index=index)
    inputs = torch.from_numpy(batch.inputs).to(device)
    gen = seeded_generator(seed, 2, index, device=device)
    outputs = net(inputs, generator=gen, noise=True, **network_kwargs(batch, device)).outputs
    if net.config.ensemble is None:
        outputs = outputs.unsqueeze(1)
    outputs = outputs.cpu()
    scored = [m for m in range(net.n_models) if m not in skip]
    perf: list[float | None] = [None] * net.n_models
    for m in scored:
        perf[m] = float(np.mean(task.performance(outputs[:, m], batch)))
    result: dict[str, Any] = {"members": perf, "statistic": member_statistic(perf, statistic)}
    if balanced is not None:
        by_task: dict[str, list[float | None]] = {}
        for m in scored:
            for label, value in task.performance_by_task(outputs[:, m], batch).items():
                by_task.setdefault(label, [None] * net.n_models)[m] = value
        result["tasks_members"] = by_task
        result["tasks"] = {k: member_statistic(v, statistic) for k, v in by_task.items()}
    return result
