"""The task preview: inputs, targets and loss weights of a few trials as ECharts options."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.tasks.batch import TrialBatch

PREVIEW_TRIALS = 3
PREVIEW_SEED = 0
ROWS = ("inputs", "targets", "loss weights")
# channel k has one colour in every panel (input k and output k of a task often belong together)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _points(t_ms: np.ndarray, values: np.ndarray) -> list[list[float]]:
    """[[t, v], ...] with values rounded to 4 decimals (what the chart needs, a smaller page)."""
    return np.column_stack([t_ms, np.round(values.astype(np.float64), 4)]).tolist()


def trial_chart(batch: TrialBatch, trial: int) -> dict[str, Any]:
    """ECharts options for one trial: inputs, targets and loss weights (stacked panels)
    against time in ms; padding steps are left out."""
    steps = int(batch.lengths[trial])
    t_ms = np.arange(steps) * batch.dt_ms
    panels = (
        (batch.inputs, batch.input_names),
        (batch.targets, batch.output_names),
        (batch.weights, batch.output_names),
    )
    grids, x_axes, y_axes, series = [], [], [], []
    for row, ((array, names), title) in enumerate(zip(panels, ROWS, strict=True)):
        grids.append({"left": 50, "right": 10, "top": f"{6 + 32 * row}%", "height": "24%"})
        x_axes.append(
            {
                "type": "value",
                "gridIndex": row,
                "max": float(t_ms[-1]) if steps else 0.0,
                "name": "time (ms)" if row == len(ROWS) - 1 else "",
                "nameLocation": "middle",
                "nameGap": 22,
            }
        )
        y_axes.append({"type": "value", "gridIndex": row, "name": title, "scale": True})
        for channel, name in enumerate(names):
            series.append(
                {
                    "name": f"{title}: {name}",
                    "type": "line",
                    "showSymbol": False,
                    "color": PALETTE[channel % len(PALETTE)],
                    "xAxisIndex": row,
                    "yAxisIndex": row,
                    "data": _points(t_ms, array[:steps, trial, channel]),
                }
            )
    return {
        "animation": False,
        "title": {"text": f"trial {trial}", "textStyle": {"fontSize": 12}},
        "tooltip": {"trigger": "axis"},
        "grid": grids,
        "xAxis": x_axes,
        "yAxis": y_axes,
        "series": series,
    }


def preview_caption(task: Any, batch: TrialBatch) -> str:
    """One line describing the previewed batch."""
    return (
        f"{task.title} ({task.name}/{task.version}): {batch.batch_size} trials of seed "
        f"{PREVIEW_SEED}, up to {batch.n_steps} steps of {batch.dt_ms:g} ms; "
        f"{len(batch.input_names)} inputs, {len(batch.output_names)} outputs"
    )
