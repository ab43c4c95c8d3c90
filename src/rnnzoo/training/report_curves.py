"""The learning curves of a run's report: loss and held-out performance per member (an
ensemble's members thin, their mean and statistic thick; members that stopped learning or
diverged marked), and for a composition the performance on each task.

Data first: `curve_data` turns metrics.jsonl records into arrays; `draw_curves` draws them into
one slot of a figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

STALLED_COLOR = "C3"
MAX_TASK_LINES = 6  # more tasks are drawn as a heat map


def _matrix(rows: list[list[float | None]]) -> np.ndarray:
    """(E, M) float array with NaN for missing values (stopped members)."""
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def curve_data(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Arrays of the evaluation records (and member events) of a run's metrics.jsonl.

    Returns steps (E,), loss and performance (E,), loss_members and performance_members
    (E, M), stalled (members flagged at the last evaluation), diverged ({member: step}) and
    tasks ({label: (E,)} for a composition).
    """
    evals = [r for r in records if "performance" in r and "event" not in r]
    diverged = {
        m: r["step"]
        for r in records
        if r.get("event") == "member_diverged"
        for m in r.get("members", [])
    }
    n = len(evals[-1]["performance_members"]) if evals else 0
    labels = list(evals[-1].get("performance_tasks", {})) if evals else []
    return {
        "steps": np.array([r["step"] for r in evals]),
        "loss": np.array([np.nan if r["loss"] is None else r["loss"] for r in evals], float),
        "performance": np.array([r["performance"] for r in evals], dtype=float),
        "loss_members": _matrix([r.get("loss_members") or [r["loss"]] * n for r in evals]),
        "performance_members": _matrix([r["performance_members"] for r in evals]),
        "stalled": list(evals[-1].get("stalled_members", [])) if evals else [],
        "diverged": diverged,
        "tasks": {
            label: np.array(
                [r.get("performance_tasks", {}).get(label, np.nan) for r in evals], dtype=float
            )
            for label in labels
        },
    }


def draw_curves(fig: Any, spec: Any, data: dict[str, Any], title: str) -> None:
    """Loss, performance and (for compositions) per-task panels in the figure slot ``spec``."""
    tasks = data["tasks"]
    grid = spec.subgridspec(1, 3 if tasks else 2, wspace=0.3)
    steps, members = data["steps"], data["performance_members"].shape[1]
    ax = fig.add_subplot(grid[0, 0])
    if members > 1:
        for m in range(members):
            ax.plot(steps, data["loss_members"][:, m], color="0.6", lw=0.6)
    ax.plot(steps, data["loss"], "o-", color="k", ms=3, label="mean over members")
    # a log axis, unless a loss is not positive (a reward-based rule's loss, e.g. a2c's)
    losses = data["loss_members"]
    positive = bool((losses[np.isfinite(losses)] > 0).all())
    ax.set(xlabel="step", ylabel="training loss", title=title)
    ax.set_yscale("log" if positive else "linear")
    ax = fig.add_subplot(grid[0, 1])
    for m in range(members if members > 1 else 0):
        stalled = m in data["stalled"]
        ax.plot(
            steps,
            data["performance_members"][:, m],
            color=STALLED_COLOR if stalled else "0.6",
            lw=1.0 if stalled else 0.6,
            ls="--" if stalled else "-",
            label=f"member {m}: stopped learning" if stalled else None,
        )
    for m, step in sorted(data["diverged"].items()):
        ax.axvline(step, color="C1", lw=0.8, ls=":", label=f"member {m} diverged (stopped)")
    ax.plot(steps, data["performance"], "o-", color="C2", ms=3, label="ensemble statistic")
    ax.set(xlabel="step", ylabel="held-out performance", ylim=(-0.02, 1.02))
    if members > 1:
        ax.legend(fontsize=6, loc="lower right")
    if tasks:
        _draw_tasks(fig.add_subplot(grid[0, 2]), steps, tasks)


def _draw_tasks(ax: Any, steps: np.ndarray, tasks: dict[str, np.ndarray]) -> None:
    """Performance per task: lines with a legend for a few tasks, a heat map (task x step)
    for many."""
    if len(tasks) <= MAX_TASK_LINES:
        for (label, values), color in zip(tasks.items(), _colors(len(tasks)), strict=True):
            ax.plot(steps, values, color=color, lw=1, label=label)
        ax.set(xlabel="step", ylabel="performance per task", ylim=(-0.02, 1.02))
        ax.legend(fontsize=6, loc="lower right")
        return
    values = np.array(list(tasks.values()))  # (K, E)
    half = (steps[1] - steps[0]) / 2 if len(steps) > 1 else 0.5
    image = ax.imshow(
        values,
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(steps[0] - half, steps[-1] + half, len(tasks) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(tasks)), list(tasks), fontsize=5)
    ax.set(xlabel="step", title="performance per task")
    ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)


def _colors(n: int) -> list[Any]:
    import matplotlib

    cmap = matplotlib.colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(n)]


__all__ = ["curve_data", "draw_curves"]
