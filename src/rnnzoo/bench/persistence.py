"""The persistence part of a sweep's report: for stage sequences (`rnnzoo.bench.stages`), how
the mechanism of the first stage's task ("A") after stage 0 compares with the one after the
last stage.

Per analysed network of a stage sequence (`persistence_records`):

- A's performance after stage 0 and after the last stage, and every composed task's after the
  last stage (the row's ``stage_performance``);
- fixed points at A's resting input (the ``fixed_points`` piece of each stage): their counts
  (all, stable), and how many of stage 0's *stable* fixed points still have a fixed point of
  the last stage within ``tolerance`` (the Euclidean distance of the states divided by
  sqrt(N), i.e. the RMS over the N units, in the network's state units): "preserved", the
  others "moved"; their mean distance to the nearest last-stage fixed point and, for scale,
  their mean norm (same units);
- the correlation of the latent circuits' w_rec between stage 0 and the last stage after node
  alignment (`rnnzoo.analysis.alignment.align_nodes`), per number of nodes;
- the Procrustes shape distance between the stage-0 and last-stage rates on A's trials
  (`rnnzoo.analysis.similarity.distance_matrix`, noise-free, at the valid steps).

persistence.md and persistence.csv: per cell (task, model, column as in table.md) the means
over its networks (± sd), preserved stable points as "k of n" summed over the networks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.bench.mechanism_report import analysed_rows, circuits_in
from rnnzoo.bench.report import _label, _mean_sd, column_labels, write_csv

PRESERVED_TOLERANCE = 0.1
"""Fixed points this close (RMS over units, state units) count as the same point."""

FIELDS = (
    "task",
    "model",
    "column",
    "seed",
    "stages",
    "first_performance_stage0",
    "first_performance_last",
    "task_performance_last",
    "fixed_points_stage0",
    "stable_fixed_points_stage0",
    "fixed_points_last",
    "stable_fixed_points_last",
    "stable_preserved",
    "stable_nearest_distance",
    "stable_norm",
    "latent_w_rec_correlation",
    "procrustes_stage0_last",
)


def staged_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The analysed rows of stage sequences."""
    return [r for r in analysed_rows(rows) if r.get("stage_performance")]


def nearest_distances(stable: np.ndarray, later: np.ndarray) -> np.ndarray:
    """Per state of (K, N) ``stable``: the distance to the nearest state of (L, N) ``later``
    (Euclidean / sqrt(N), state units), (K,); inf when ``later`` is empty."""
    if len(later) == 0:
        return np.full(len(stable), np.inf)
    gaps = np.linalg.norm(stable[:, None, :] - later[None, :, :], axis=2)
    return gaps.min(axis=1) / np.sqrt(stable.shape[1])


def _fixed_point_values(
    first: tuple[np.ndarray, np.ndarray], last: tuple[np.ndarray, np.ndarray], tolerance: float
) -> dict[str, Any]:
    """The fixed-point columns of a record from (states, stable mask) after both stages."""
    (states0, stable0), (states1, stable1) = first, last
    stable = states0[stable0]
    gaps = nearest_distances(stable, states1)
    finite = gaps[np.isfinite(gaps)]
    return {
        "fixed_points_stage0": len(states0),
        "stable_fixed_points_stage0": len(stable),
        "fixed_points_last": len(states1),
        "stable_fixed_points_last": int(stable1.sum()),
        "stable_preserved": int((gaps <= tolerance).sum()),
        "stable_nearest_distance": float(finite.mean()) if len(finite) else None,
        "stable_norm": float(np.mean(np.linalg.norm(stable, axis=1)) / np.sqrt(stable.shape[1]))
        if len(stable)
        else None,
    }


def _fixed(folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(fixed-point states (K, N), their stable mask (K,)) of an analysis folder, or None."""
    path = folder / "fixed_points.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        fixed = data["is_fixed"]
        return data["states"][fixed], data["stability"][fixed] == "stable"


def _latent_correlations(folders: tuple[Path, Path]) -> dict[str, float]:
    """Per number of nodes (2 or more) fitted after both stages: w_rec's correlation after
    node alignment."""
    from rnnzoo.analysis.alignment import align_nodes

    first, last = (circuits_in(f) for f in folders)
    return {
        str(n): float(align_nodes(first[n], last[n]).w_rec_correlation)
        for n in sorted(set(first) & set(last) - {1})
    }


def _procrustes(run_dir: Path, member: int, last: int, max_trials: int, seed: int) -> float:
    """The Procrustes distance between the stage-0 and stage-``last`` rates on A's trials."""
    from rnnzoo.analysis.network import simulate
    from rnnzoo.analysis.run import load_run
    from rnnzoo.analysis.similarity import distance_matrix
    from rnnzoo.bench.stages import first_view, stage_dir

    _task, batch = first_view(run_dir, member, seed, max_trials)
    samples = [
        simulate(load_run(stage_dir(run_dir, i), member)[1], batch.inputs).rates[batch.valid]
        for i in (0, last)
    ]
    return float(distance_matrix(samples, "procrustes")[0, 1])


def persistence_record(
    row: dict[str, Any], column: str, max_trials: int, seed: int, tolerance: float
) -> dict[str, Any]:
    """The persistence values of one analysed stage-sequence row (see the module)."""
    from rnnzoo.bench.mechanisms import member_dir
    from rnnzoo.bench.stages import stage_dir

    stages = json.loads(row["stage_performance"])
    run_dir, member, last = Path(row["run_dir"]), row["member"], len(stages) - 1
    folders = tuple(
        member_dir(stage_dir(run_dir, i), row["analysis_id"], member) for i in (0, last)
    )
    fixed = [_fixed(f) for f in folders]
    record: dict[str, Any] = {
        "task": _label(row, "task"),
        "model": _label(row, "model"),
        "column": column,
        "seed": row["seed"],
        "stages": len(stages),
        "first_performance_stage0": stages[0]["first_performance"],
        "first_performance_last": stages[-1]["first_performance"],
        "task_performance_last": json.dumps(stages[-1]["task_performance"]),
        "latent_w_rec_correlation": json.dumps(_latent_correlations(folders)),
        "procrustes_stage0_last": _procrustes(run_dir, member, last, max_trials, seed),
    }
    if fixed[0] is not None and fixed[1] is not None:
        record.update(_fixed_point_values(fixed[0], fixed[1], tolerance))
    return record


def persistence_records(
    rows: list[dict[str, Any]],
    max_trials: int = 64,
    seed: int = 0,
    tolerance: float = PRESERVED_TOLERANCE,
) -> list[dict[str, Any]]:
    """One record per analysed network of a stage sequence, in the rows' order."""
    column = column_labels(rows)
    return [
        persistence_record(r, column(r), max_trials, seed, tolerance) for r in staged_rows(rows)
    ]


def _text(values: list[Any], fmt: str = ".3g") -> str:
    mean, sd = _mean_sd([v for v in values if v is not None])
    if mean is None:
        return "-"
    return format(mean, fmt) + ("" if sd is None else f" ± {format(sd, fmt)}")


def _tasks_text(records: list[dict[str, Any]]) -> str:
    """Mean score of each composed task after the last stage ("-" for plain tasks)."""
    by_task: dict[str, list[float]] = {}
    for r in records:
        for label, value in (json.loads(r["task_performance_last"]) or {}).items():
            by_task.setdefault(label, []).append(value)
    return ", ".join(f"{label}: {_text(v)}" for label, v in by_task.items()) or "-"


def _points_text(records: list[dict[str, Any]], stage: str) -> str:
    """Mean fixed points per network after ``stage`` (stage0 or last), stable ones in ()."""
    every = _text([r.get(f"fixed_points_{stage}") for r in records])
    stable = _text([r.get(f"stable_fixed_points_{stage}") for r in records])
    return f"{every} ({stable})"


def _latent_text(records: list[dict[str, Any]]) -> str:
    by_size: dict[str, list[float]] = {}
    for r in records:
        for n, value in json.loads(r["latent_w_rec_correlation"]).items():
            by_size.setdefault(n, []).append(value)
    return ", ".join(f"{n}: {_text(v, '.2f')}" for n, v in by_size.items()) or "-"


def persistence_table(records: list[dict[str, Any]], tolerance: float) -> str:
    """The Markdown table of ``records`` per (task, model, column) cell."""
    head = [
        "Task",
        "Model",
        "Column",
        "Networks",
        "A perf. after stage 0",
        "A perf. after last stage",
        "Per-task perf. after last stage",
        "Fixed points stage 0 (stable)",
        "Fixed points last stage (stable)",
        f"Stable stage-0 points preserved (≤ {tolerance:g})",
        "Their distance to the nearest last-stage point",
        "Their norm",
        "Latent w_rec corr. stage 0 vs last (nodes: mean)",
        "Procrustes stage 0 vs last",
    ]
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in records:
        cells.setdefault((r["task"], r["model"], r["column"]), []).append(r)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (task, model, column), group in cells.items():
        counted = [r for r in group if r.get("stable_preserved") is not None]
        kept = sum(r["stable_preserved"] for r in counted)
        stable = sum(r["stable_fixed_points_stage0"] for r in counted)
        cells_text = [
            task,
            model,
            column,
            str(len(group)),
            _text([r["first_performance_stage0"] for r in group]),
            _text([r["first_performance_last"] for r in group]),
            _tasks_text(group),
            _points_text(group, "stage0"),
            _points_text(group, "last"),
            f"{kept} of {stable}" if counted else "-",
            _text([r.get("stable_nearest_distance") for r in group]),
            _text([r.get("stable_norm") for r in group]),
            _latent_text(group),
            _text([r["procrustes_stage0_last"] for r in group]),
        ]
        lines.append("| " + " | ".join(cells_text) + " |")
    return "\n".join(lines) + "\n"


def write_persistence(
    rows: list[dict[str, Any]],
    out: Path,
    max_trials: int = 64,
    seed: int = 0,
    tolerance: float = PRESERVED_TOLERANCE,
) -> dict[str, Path]:
    """Write persistence.md and persistence.csv for the stage sequences among ``rows``
    (nothing when there are none); returns the paths."""
    records = persistence_records(rows, max_trials, seed, tolerance)
    if not records:
        return {}
    paths = {"persistence.md": out / "persistence.md", "persistence.csv": out / "persistence.csv"}
    text = [
        "# Persistence of the first stage's mechanism",
        "",
        f"- {len(records)} analysed networks of stage sequences; A: the first stage's task "
        "(a composition: its tasks with weight > 0), scored on its held-out test batch after "
        "every stage (per-task: each composed task's score on that batch after the last stage); "
        "mean ± sd over the networks.",
        "- Fixed points at A's resting input (count per network, mean; stable ones in "
        "parentheses). Preserved: stage-0 stable fixed points with a last-stage fixed point "
        f"within {tolerance:g} (Euclidean distance / sqrt(N), state units); k of n summed "
        "over the networks. Distance: from each stage-0 stable point to the nearest "
        "last-stage fixed point; norm: the stage-0 stable points' own (same units).",
        "- Latent circuits: correlation of w_rec between the stage-0 and last-stage circuits "
        "after node alignment (permutation and sign). Procrustes: shape distance of the "
        "stage-0 and last-stage rates on A's test trials (0: same geometry).",
        "",
        persistence_table(records, tolerance),
    ]
    with atomic_path(paths["persistence.md"]) as tmp:
        Path(tmp).write_text("\n".join(text))
    write_csv(paths["persistence.csv"], records, list(FIELDS))
    return paths
