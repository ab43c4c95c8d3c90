"""The psychometric part of a sweep's report: the curves the ``psychometric`` analysis drew on
every analysed network (`rnnzoo.bench.mechanisms`, piece ``psychometric.json``).

- psychometric.csv: one record per network and condition value: the cell (task, model,
  column), seed, condition, value, number of trials, the task metric's mean and the fraction
  of each choice (JSON, choice name -> fraction).
- psychometric.png: a panel per task, a colour per cell, the mean over the cell's networks
  against the condition value: P(second choice) for two-choice tasks (the usual psychometric
  curve), P(positive) for a single output channel, otherwise the task metric's mean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.bench.mechanism_report import _flat, analysed_rows
from rnnzoo.bench.report import _label, _pyplot, _save, column_labels, write_csv

FIELDS = ["task", "model", "column", "seed", "condition", "value", "n_trials", "performance"]


def _curve(row: dict[str, Any]) -> dict[str, Any] | None:
    path = Path(row.get("analysis_dir") or "") / "psychometric.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text()).get("curve")


def psychometric_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per analysed network with a curve and per condition value (see module;
    ``choices`` as a dict, choice name -> fraction)."""
    column = column_labels(rows)
    records = []
    for row in analysed_rows(rows):
        curve = _curve(row)
        if curve is None:
            continue
        for i, value in enumerate(curve["values"]):
            records.append(
                {
                    "task": _label(row, "task"),
                    "model": _label(row, "model"),
                    "column": column(row),
                    "seed": row["seed"],
                    "condition": curve["condition"],
                    "value": value,
                    "n_trials": curve["n_trials"][i],
                    "performance": curve["performance"][i],
                    "choices": dict(
                        zip(curve["choices"], curve["choice_fraction"][i], strict=True)
                    ),
                }
            )
    return records


def plotted_quantity(choices: list[str]) -> tuple[str | None, str]:
    """(choice whose fraction is drawn, or None for the metric; axis label)."""
    if len(choices) == 1:
        return choices[0], f"P({choices[0]})"
    if len(choices) == 2:
        return choices[1], f"P({choices[1]})"
    return None, "task metric (mean)"


def plot_psychometric(records: list[dict[str, Any]], path: Path) -> Path:
    """psychometric.png of `psychometric_records` (non-empty)."""
    plt = _pyplot()
    tasks = list(dict.fromkeys(r["task"] for r in records))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.6 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        mine = [r for r in records if r["task"] == task]
        choice, ylabel = plotted_quantity(list(mine[0]["choices"]))
        cells = list(dict.fromkeys((r["model"], r["column"]) for r in mine))
        for j, cell in enumerate(cells):
            points = [r for r in mine if (r["model"], r["column"]) == cell]
            values = sorted({r["value"] for r in points})
            y = [
                np.mean(
                    [
                        r["performance"] if choice is None else r["choices"][choice]
                        for r in points
                        if r["value"] == v
                    ]
                )
                for v in values
            ]
            ax.plot(values, y, "o-", color=f"C{j}", label=f"{cell[0]} / {cell[1]}")
        ax.set(title=task, xlabel=mine[0]["condition"], ylabel=ylabel, ylim=(-0.02, 1.02))
        ax.legend(fontsize=7)
    return _save(fig, path)


def write_psychometric(rows: list[dict[str, Any]], out: Path) -> dict[str, Path]:
    """Write psychometric.csv and psychometric.png into ``out`` (nothing without curves)."""
    records = psychometric_records(rows)
    if not records:
        return {}
    csv_path = out / "psychometric.csv"
    write_csv(csv_path, [_flat(r) for r in records], [*FIELDS, "choices"])
    return {
        csv_path.name: csv_path,
        "psychometric.png": plot_psychometric(records, out / "psychometric.png"),
    }
