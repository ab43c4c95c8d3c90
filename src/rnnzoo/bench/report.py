"""The report of a sweep: tables shaped like seed 002's Table 1 and figures.

Data first: `cell_stats` reduces results rows to one `CellStats` per (task, model, method,
rule);
`markdown_table`, `write_csv` and the plot functions draw from those and from the runs'
metrics.  Only finished runs count (reached, max_steps, diverged, stopped).  A cell gives the
mean over the seeds that reached the target, with the sample standard deviation (ddof 1) when
two or more did, and "(k/n)" when only k of its n seeds did; "failed" when none did.  The
columns are the methods; in a sweep over learning rules, the rules (or "rule / method" when
methods vary too).  Two more blocks: the networks at the criterion, k/n with the exact
(Clopper-Pearson) 95% interval of the fraction; and seed 002's own statistic, the first
evaluation step at which the mean over the 10th-90th percentile of the cell's networks reached
the target (from the runs' metrics.jsonl, a network that stopped keeping its last value; "-"
without run directories).  A sweep whose runs count trials adds the final performance.
"""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.bench.worker import FINISHED, read_metrics
from rnnzoo.training.results import NAMES

PANELS_PER_ROW = 4  # of the distributions figure (two panels high each)
BLOCKS = (
    ("Training steps", "steps", ".0f"),
    ("Training trials", "trials", ".0f"),
    ("Wall-clock training time (s)", "wall_clock", ".1f"),
    ("Floating point operations", "flops", ".3g"),
)


@dataclass(frozen=True)
class CellStats:
    """One table cell group: a (task, model, method, rule) over its seeds; ``method`` is the
    table column (the method, the rule, or "rule / method")."""

    task: str
    model: str
    method: str
    seeds: int
    reached: int
    steps_mean: float | None
    steps_sd: float | None
    wall_clock_mean: float | None
    wall_clock_sd: float | None
    flops_mean: float | None
    flops_sd: float | None
    final_performance_mean: float | None
    reached_ci_low: float | None = None
    reached_ci_high: float | None = None
    ensemble_steps: float | None = None
    trials_mean: float | None = None
    trials_sd: float | None = None
    rule: str = "bptt"


def _label(row: dict[str, Any], key: str) -> str:
    return row.get(f"{key}_label") or row.get(key) or ""


def _mean_sd(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else None


def column_labels(rows: list[dict[str, Any]]) -> Any:
    """The function giving a row's table column: its method, its rule when the rows span
    several rules, "rule / method" when both vary (rows from before rules count as BPTT),
    followed by " / <stage sequence>" when the rows span several stage sequences."""
    rules = {_rule(r) for r in rows}
    methods = {_label(r, "method") for r in rows}
    sequences = {r.get("sequence_label") for r in rows}

    def base(row: dict[str, Any]) -> str:
        if len(rules) <= 1:
            return _label(row, "method")
        if len(methods) <= 1:
            return _rule(row)
        return f"{_rule(row)} / {_label(row, 'method')}"

    def column(row: dict[str, Any]) -> str:
        if len(sequences) <= 1:
            return base(row)
        return f"{base(row)} / {row.get('sequence_label')}"

    return column


def _rule(row: dict[str, Any]) -> str:
    return _label(row, "rule") or "bptt"


def cell_stats(rows: list[dict[str, Any]]) -> list[CellStats]:
    """Per (task, model, method, rule) statistics of the finished rows, in first-seen order."""
    column = column_labels(rows)
    cells: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["status"] in FINISHED:
            key = (_label(row, "task"), _label(row, "model"), column(row))
            cells.setdefault(key, []).append(row)
    stats = []
    for (task, model, method), group in cells.items():
        hit = [r for r in group if r["reached_criterion"]]
        steps = _mean_sd([r["steps_to_criterion"] for r in hit])
        wall = _mean_sd([r["wall_clock_to_criterion_s"] for r in hit])
        flops = _mean_sd(
            [r["flops_to_criterion"] for r in hit if r["flops_to_criterion"] is not None]
        )
        trials = _mean_sd([r["trials_to_criterion"] for r in hit if r.get("trials_to_criterion")])
        perf = [r["final_performance"] for r in group if r["final_performance"] is not None]
        stats.append(
            CellStats(
                task,
                model,
                method,
                len(group),
                len(hit),
                *steps,
                *wall,
                *flops,
                float(np.mean(perf)) if perf else None,
                *clopper_pearson(len(hit), len(group)),
                ensemble_steps(group),
                *trials,
                _rule(group[0]),
            )
        )
    return stats


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact two-sided confidence interval of a binomial fraction k/n (n >= 1)."""
    from scipy.stats import beta

    tail = (1 - level) / 2
    low = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - tail, k + 1, n - k))
    return low, high


def ensemble_steps(rows: list[dict[str, Any]]) -> float | None:
    """Seed 002's criterion of a cell: the first evaluation step at which the mean over the
    10th-90th percentile of its networks' held-out performance reached the target; inf when it
    never did, None when a run's curve is missing."""
    from rnnzoo.training.evaluation import ensemble_statistic

    target = next((r["target_performance"] for r in rows if r.get("target_performance")), None)
    curves = [member_curve(r) for r in rows]
    if target is None or not curves or any(c is None for c in curves):
        return None
    grid = np.unique(np.concatenate([s for s, _ in curves]))
    filled = np.array([_forward_fill(s, p, grid) for s, p in curves])  # (networks, steps)
    for step, column in zip(grid, filled.T, strict=True):
        if not np.isnan(column).any() and ensemble_statistic(column, "mean_10_90") >= target:
            return float(step)
    return math.inf


def format_cell(cell: CellStats | None, block: str, fmt: str) -> str:
    """A table cell: "mean ± sd (k/n)", "failed" or "-" (no finished run)."""
    if cell is None:
        return "-"
    if cell.reached == 0:
        return "failed"
    mean, sd = getattr(cell, f"{block}_mean"), getattr(cell, f"{block}_sd")
    if mean is None:
        return "-"
    text = format(mean, fmt)
    if sd is not None:
        text += f" ± {format(sd, fmt)}"
    if cell.reached < cell.seeds:
        text += f" ({cell.reached}/{cell.seeds})"
    return text


def format_reached(cell: CellStats | None) -> str:
    """Networks at the criterion: "k/n (95% CI lo-hi)", or "-" (no finished run)."""
    if cell is None or cell.reached_ci_low is None:
        return "-"
    return f"{cell.reached}/{cell.seeds} ({cell.reached_ci_low:.2f}-{cell.reached_ci_high:.2f})"


def format_ensemble(cell: CellStats | None) -> str:
    """Seed 002's statistic: the step, "failed" when it never reached the target, "-"
    without curves or finished runs."""
    if cell is None or cell.ensemble_steps is None:
        return "-"
    return "failed" if math.isinf(cell.ensemble_steps) else f"{cell.ensemble_steps:.0f}"


def markdown_table(stats: list[CellStats]) -> str:
    """Rows per task (and model when there are several), columns per method (or rule): the
    blocks to criterion (trials only when the rows count them), networks at the criterion,
    seed 002's ensemble steps, then (when the rows count trials) the final performance (mean
    over every finished seed)."""
    methods = list(dict.fromkeys(s.method for s in stats))
    several_models = len({s.model for s in stats}) > 1
    rows = list(dict.fromkeys((s.task, s.model) for s in stats))
    by_key = {(s.task, s.model, s.method): s for s in stats}
    counted = any(s.trials_mean is not None for s in stats)
    lines = ["| Task | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]

    def block(title: str, text: Any) -> None:
        lines.append(f"| **{title}** |" + " |" * len(methods))
        for task, model in rows:
            name = f"{task} / {model}" if several_models else task
            cells = [text(by_key.get((task, model, m))) for m in methods]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")

    for title, key, fmt in BLOCKS:
        if key == "trials" and not counted:
            continue
        block(title, lambda cell, key=key, fmt=fmt: format_cell(cell, key, fmt))
    block("Networks at the criterion (95% CI of the fraction)", format_reached)
    block("Ensemble steps (mean over the 10th-90th percentile, seed 002)", format_ensemble)
    if counted:
        block("Final performance (mean over seeds)", _final)
    return "\n".join(lines) + "\n"


def _final(cell: CellStats | None) -> str:
    if cell is None or cell.final_performance_mean is None:
        return "-"
    return f"{cell.final_performance_mean:.3f}"


def write_csv(path: Path, records: list[dict[str, Any]], fields: list[str]) -> None:
    """Write ``records`` as CSV (atomically)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def member_curve(row: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """Held-out performance of a run's network over training steps (up to the row's steps),
    from its run directory's metrics.jsonl; None when the directory is gone."""
    run_dir = row.get("run_dir")
    if not run_dir or not Path(run_dir).is_dir() or row.get("member") is None:
        return None
    records = [r for r in read_metrics(Path(run_dir)) if r["step"] <= (row["steps"] or 0)]
    if not records:
        return None
    steps = np.array([r["step"] for r in records])
    values = [r["performance_members"][row["member"]] for r in records]
    perf = np.array([np.nan if v is None else v for v in values], dtype=float)  # None: stopped
    return steps, perf


def plot_curves(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Performance vs steps: one panel per task (and model), per method the seeds (thin) and
    their mean (thick; a run that stopped keeps its last value)."""
    groups = _panels([r for r in rows if r["status"] in FINISHED])
    curves = {k: [(r, member_curve(r)) for r in v] for k, v in groups.items()}
    if not any(c for items in curves.values() for _, c in items if c is not None):
        return None
    fig, axes = _figure(len(groups))
    column = column_labels(rows)
    methods = list(dict.fromkeys(column(r) for r in rows))
    for ax in axes[len(groups) :]:
        ax.set_visible(False)  # the empty places of the last row
    for ax, ((task, model), items) in zip(axes, curves.items(), strict=False):
        for j, method in enumerate(methods):
            mine = [c for r, c in items if c is not None and column(r) == method]
            if not mine:
                continue
            grid = np.unique(np.concatenate([s for s, _ in mine]))
            filled = np.array([_forward_fill(s, p, grid) for s, p in mine])
            for s, p in mine:
                ax.plot(s, p, color=f"C{j}", lw=0.6, alpha=0.35)
            marker = "o" if len(grid) <= 3 else None  # a run that stopped at once is a dot
            ax.plot(grid, filled.mean(axis=0), color=f"C{j}", lw=2, marker=marker, label=method)
        target = next((r["target_performance"] for r, _ in items if r["target_performance"]), None)
        if target is not None:
            ax.axhline(target, color="k", ls=":", lw=1)
        ax.set(
            title=task if model == "" else f"{task} / {model}",
            xlabel="training step",
            ylabel="held-out performance",
            ylim=(-0.02, 1.02),
        )
        ax.legend(fontsize=8)
    return _save(fig, path)


def _forward_fill(steps: np.ndarray, perf: np.ndarray, grid: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(steps, grid, side="right") - 1
    return np.where(idx >= 0, perf[np.clip(idx, 0, None)], np.nan)


def plot_distributions(rows: list[dict[str, Any]], path: Path) -> Path | None:
    """Distributions over seeds per task (and model): steps to criterion per method (seeds
    that did not reach it are crosses at their last step) and final performance."""
    plt = _pyplot()
    groups = _panels([r for r in rows if r["status"] in FINISHED])
    if not groups:
        return None
    column = column_labels(rows)
    methods = list(dict.fromkeys(column(r) for r in rows))
    cols = min(len(groups), PANELS_PER_ROW)
    rows_of_panels = math.ceil(len(groups) / cols)
    fig, axes = plt.subplots(
        2 * rows_of_panels, cols, figsize=(4.2 * cols, 6.5 * rows_of_panels), squeeze=False
    )
    for ax in axes[:, len(groups) % cols or cols :][-2:].flat:
        ax.set_visible(False)  # the empty places of the last row
    rng = np.random.default_rng(0)  # jitter only
    for index, ((task, model), items) in enumerate(groups.items()):
        row, col = divmod(index, cols)
        top, bottom = axes[2 * row, col], axes[2 * row + 1, col]
        for j, method in enumerate(methods):
            mine = [r for r in items if column(r) == method]
            x = j + rng.uniform(-0.15, 0.15, len(mine))
            hit = np.array([bool(r["reached_criterion"]) for r in mine], dtype=bool)
            steps = np.array([r["steps_to_criterion"] or r["steps"] or 0 for r in mine], float)
            top.scatter(x[hit], steps[hit], color=f"C{j}", s=18)
            top.scatter(x[~hit], steps[~hit], color=f"C{j}", marker="x", s=22)
            perf = np.array(
                [np.nan if r["final_performance"] is None else r["final_performance"] for r in mine]
            )
            bottom.scatter(x, perf, color=f"C{j}", s=18)
        title = task if model == "" else f"{task} / {model}"
        top.set(title=title, ylabel="steps to criterion (x: not reached)")
        bottom.set(ylabel="final performance", ylim=(-0.02, 1.02))
        for ax in (top, bottom):
            ax.set_xticks(range(len(methods)), methods, rotation=30, fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def _panels(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    several = len({_label(r, "model") for r in rows}) > 1
    panels: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        key = (_label(r, "task"), _label(r, "model") if several else "")
        panels.setdefault(key, []).append(r)
    return panels


def _pyplot() -> Any:
    """Headless matplotlib.pyplot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _figure(n: int) -> tuple[Any, list[Any]]:
    plt = _pyplot()
    cols = min(n, 3)
    fig, axes = plt.subplots(
        math.ceil(n / cols), cols, figsize=(4.6 * cols, 3.6 * math.ceil(n / cols)), squeeze=False
    )
    return fig, list(axes.flat)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    _pyplot().close(fig)
    return path


def write_report(
    rows: list[dict[str, Any]], out: Path, title: str, mechanisms: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write table.md, table.csv, runs.csv and the figures into ``out``, and the mechanism
    tables and figures when rows hold analyses (`write_mechanisms`, ``mechanisms`` its
    options), and the persistence table of analysed stage sequences (`write_persistence`);
    returns the paths."""
    from rnnzoo.bench.mechanism_report import write_mechanisms
    from rnnzoo.bench.persistence import write_persistence

    out.mkdir(parents=True, exist_ok=True)
    stats = cell_stats(rows)
    unfinished = [r for r in rows if r["status"] not in FINISHED]
    notes = [
        f"{len(rows) - len(unfinished)} finished runs"
        + (
            f"; {len(unfinished)} not finished (failed, interrupted or running), left out"
            if unfinished
            else ""
        ),
        'Cells: mean ± sd over the seeds that reached the target, "(k/n)" when only k of n '
        'did; "failed" when none did.',
        "Networks at the criterion: k of n, with the exact (Clopper-Pearson) 95% interval of "
        "the fraction. Ensemble steps: the first evaluation at which the mean over the "
        "10th-90th percentile of the cell's networks reached the target (seed 002's criterion).",
    ]
    text = f"# {title}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n\n" + markdown_table(stats)
    paths = {
        "table.md": out / "table.md",
        "table.csv": out / "table.csv",
        "runs.csv": out / "runs.csv",
    }
    with atomic_path(paths["table.md"]) as tmp:
        Path(tmp).write_text(text)
    write_csv(paths["table.csv"], [asdict(s) for s in stats], list(CellStats.__dataclass_fields__))
    write_csv(paths["runs.csv"], rows, list(NAMES))
    for name, plot in (
        ("performance_vs_steps.png", plot_curves),
        ("distributions.png", plot_distributions),
    ):
        written = plot(rows, out / name)
        if written is not None:
            paths[name] = written
    options = dict(mechanisms or {})
    seed = options.pop("seed", 0)  # the analyses' seed: the persistence report's trials
    paths.update(write_mechanisms(rows, out, **options))
    paths.update(write_persistence(rows, out, options.get("max_trials", 64), seed))
    return paths
