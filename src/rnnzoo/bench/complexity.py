"""Task complexity across a sweep (issue 20, study 1): per task, the smallest latent circuit
that explains its trained networks, their fixed-point counts and dimensionality, and a
ranking of the tasks.

A network's *latent size* is the smallest fitted number of nodes whose fit (the section's
``complexity.metric``, an R^2 of `rnnzoo.analysis.latent_circuit`) reaches
``complexity.threshold``; a network none of whose fitted sizes reaches it has no size (shown
"> largest fitted", ranked above every size).  Only networks that reached their target
(the task's criterion unless the sweep sets another) count: an untrained network's mechanism
says nothing of the task.  Per task (those networks, over models and columns): the median
latent size, how many networks have one, the mean fit
per size, the median fixed-point count and the mean participation ratio.  The ranking sorts
by median latent size, then median fixed-point count, then participation ratio (ascending:
rank 1 is the simplest task); tasks none of whose networks reached the target come last,
unranked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.bench.mechanism_report import analysed_rows
from rnnzoo.bench.report import _label, write_csv


@dataclass(frozen=True)
class TaskComplexity:
    """One task's analysed networks at the target (``networks`` of ``analysed``): latent size
    per network (None: no fitted size reaches
    the threshold), the smallest and largest fitted sizes (sizes below the task's channel
    count cannot be fitted), mean fit per size, median fixed points, mean
    participation ratio."""

    task: str
    networks: int
    analysed: int
    latent_sizes: tuple[int | None, ...]
    smallest_fitted: int
    largest_fitted: int
    mean_fit: dict[int, float]
    median_fixed_points: float | None
    participation_ratio: float | None

    @property
    def median_latent_size(self) -> float:
        """Median latent size over networks (inf when most have none)."""
        if not self.latent_sizes:
            return math.inf
        return float(np.median([math.inf if n is None else n for n in self.latent_sizes]))

    @property
    def explained(self) -> int:
        """Networks with a latent size (some fitted size reaches the threshold)."""
        return sum(n is not None for n in self.latent_sizes)

    def sort_key(self) -> tuple[bool, float, float, float]:
        return (
            self.networks == 0,
            self.median_latent_size,
            math.inf if self.median_fixed_points is None else self.median_fixed_points,
            math.inf if self.participation_ratio is None else self.participation_ratio,
        )


def latent_size(fits: dict[int, float], threshold: float) -> int | None:
    """The smallest number of nodes whose fit reaches ``threshold`` (None: none does)."""
    reached = [n for n, value in fits.items() if value is not None and value >= threshold]
    return min(reached) if reached else None


def _fits(row: dict[str, Any], metric: str) -> dict[int, float]:
    return {int(n): fit.get(metric) for n, fit in json.loads(row.get("latent_fit") or "{}").items()}


def task_complexity(
    rows: list[dict[str, Any]], metric: str, threshold: float
) -> list[TaskComplexity]:
    """Per task label (first-seen order) the complexity of its analysed ``rows``."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in analysed_rows(rows):
        by_task.setdefault(_label(row, "task"), []).append(row)
    result = []
    for task, analysed in by_task.items():
        group = [r for r in analysed if r.get("reached_criterion")]
        fits = [_fits(r, metric) for r in group]
        sizes = sorted({n for f in fits for n in f})
        fixed = [r["n_fixed_points"] for r in group if r.get("n_fixed_points") is not None]
        ratios = [
            r["participation_ratio"] for r in group if r.get("participation_ratio") is not None
        ]
        result.append(
            TaskComplexity(
                task=task,
                networks=len(group),
                analysed=len(analysed),
                latent_sizes=tuple(latent_size(f, threshold) for f in fits),
                smallest_fitted=min(sizes, default=0),
                largest_fitted=max(sizes, default=0),
                mean_fit={
                    n: float(np.mean([f[n] for f in fits if f.get(n) is not None]))
                    for n in sizes
                    if any(f.get(n) is not None for f in fits)
                },
                median_fixed_points=float(np.median(fixed)) if fixed else None,
                participation_ratio=float(np.mean(ratios)) if ratios else None,
            )
        )
    return sorted(result, key=TaskComplexity.sort_key)


def _size_text(value: float, largest: int) -> str:
    return f"> {largest}" if math.isinf(value) else f"{value:g}"


def complexity_table(ranked: list[TaskComplexity], metric: str, threshold: float) -> str:
    """The Markdown ranking of `task_complexity` (already sorted)."""
    lines = [
        "# Task complexity",
        "",
        f"- Latent size of a network: the smallest fitted number of nodes whose {metric} reaches "
        f"{threshold:g}; '> n' when none of the fitted sizes (up to n) does.",
        "- Only networks at their target count (networks: at the target / analysed); tasks "
        "without one are listed last, unranked.",
        "- Ranked by median latent size, then median fixed-point count, then participation "
        "ratio (rank 1: simplest).",
        "- Fitted sizes: the numbers of nodes fitted; a latent circuit has at least one node "
        "per input channel of the task (after pooling rings), so smaller sizes are skipped.",
        "",
        "| Rank | Task | Networks (at target/analysed) | Median latent size | Explained networks | Latent sizes "
        f"| Fitted sizes | Mean {metric} per size | Median fixed points | Participation ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rank, t in enumerate(ranked, start=1):
        if t.networks == 0:
            lines.append(f"| - | {t.task} | 0/{t.analysed} | not learnt |" + " - |" * 6)
            continue
        sizes = ", ".join("-" if n is None else str(n) for n in t.latent_sizes)
        fit = ", ".join(f"{n}: {v:.2f}" for n, v in t.mean_fit.items()) or "-"
        fixed = "-" if t.median_fixed_points is None else f"{t.median_fixed_points:g}"
        ratio = "-" if t.participation_ratio is None else f"{t.participation_ratio:.3g}"
        lines.append(
            f"| {rank} | {t.task} | {t.networks}/{t.analysed} "
            f"| {_size_text(t.median_latent_size, t.largest_fitted)} "
            f"| {t.explained}/{t.networks} | {sizes} | {t.smallest_fitted}-{t.largest_fitted} "
            f"| {fit} | {fixed} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def write_complexity(
    rows: list[dict[str, Any]], out: Path, metric: str, threshold: float
) -> dict[str, Path]:
    """Write complexity.md and complexity.csv (the ranking) into ``out``; nothing when no row
    is analysed."""
    ranked = task_complexity(rows, metric, threshold)
    if not ranked:
        return {}
    paths = {"complexity.md": out / "complexity.md", "complexity.csv": out / "complexity.csv"}
    with atomic_path(paths["complexity.md"]) as tmp:
        Path(tmp).write_text(complexity_table(ranked, metric, threshold))
    write_csv(
        paths["complexity.csv"],
        [
            {
                "rank": rank if t.networks else None,
                "task": t.task,
                "networks": t.networks,
                "analysed": t.analysed,
                "median_latent_size": _size_text(t.median_latent_size, t.largest_fitted)
                if t.networks
                else "not learnt",
                "explained_networks": t.explained,
                "latent_sizes": json.dumps(list(t.latent_sizes)),
                "smallest_fitted": t.smallest_fitted,
                "largest_fitted": t.largest_fitted,
                f"mean_{metric}": json.dumps({str(n): v for n, v in t.mean_fit.items()}),
                "median_fixed_points": t.median_fixed_points,
                "participation_ratio": t.participation_ratio,
            }
            for rank, t in enumerate(ranked, start=1)
        ],
        [
            "rank",
            "task",
            "networks",
            "analysed",
            "median_latent_size",
            "explained_networks",
            "latent_sizes",
            "smallest_fitted",
            "largest_fitted",
            f"mean_{metric}",
            "median_fixed_points",
            "participation_ratio",
        ],
    )
    return paths
