"""The task preview: inputs, targets and loss weights of a few trials as ECharts options.

As the figures (`rnnzoo.tasks.plot`): plain channels are lines, each population or ring of
channels (`rnnzoo.tasks.channels`) a heat map (time x unit) on its own panel, a ring with the
direction it encodes; padding steps are left out.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.channels import (
    ChannelGroup,
    channel_groups,
    direction_in_units,
    ring_direction,
    weight_traces,
)

PREVIEW_TRIALS = 3
PREVIEW_SEED = 0
ROWS = ("inputs", "targets", "loss weights")
# channel k has one colour in every panel (input k and output k of a task often belong together)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
PANEL_PX = 110  # height of one panel
MARGIN_PX = 40  # title above, time axis below
MAX_MAP_COLUMNS = 60  # a heat map shows at most this many time bins (mean of the steps in each)


def _points(t_ms: np.ndarray, values: np.ndarray) -> list[list[float]]:
    """[[t, v], ...] with values rounded to 4 decimals (what the chart needs, a smaller page)."""
    return np.column_stack([t_ms, np.round(values.astype(np.float64), 4)]).tolist()


def _panels(batch: TrialBatch) -> list[tuple[str, np.ndarray, ChannelGroup]]:
    """(row title, array (T, B, C), channel group) per panel, top to bottom."""
    panels = [("inputs", batch.inputs, g) for g in channel_groups(batch.input_names)]
    panels += [("targets", batch.targets, g) for g in channel_groups(batch.output_names)]
    every = ChannelGroup("", "weights", tuple(range(len(batch.output_names))), batch.output_names)
    return [*panels, ("loss weights", batch.weights, every)]


def chart_height_px(batch: TrialBatch) -> int:
    """Height (pixels) the chart of one trial of ``batch`` needs."""
    return MARGIN_PX + PANEL_PX * len(_panels(batch))


def _y_name(name: str) -> dict[str, Any]:
    """A panel's name, written along its y axis."""
    return {"name": name, "nameLocation": "middle", "nameRotate": 90, "nameGap": 45}


def _binned(values: np.ndarray, t_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """values (T, n) averaged over at most MAX_MAP_COLUMNS equal bins of steps, and each bin's
    start time (ms): a heat map of every step would make the page megabytes large."""
    edges = np.linspace(0, len(values), min(len(values), MAX_MAP_COLUMNS) + 1).round().astype(int)
    binned = np.stack([values[a:b].mean(axis=0) for a, b in itertools.pairwise(edges)])
    return binned, t_ms[edges[:-1]]


def _heat_map(
    title: str, group: ChannelGroup, values: np.ndarray, row: int, series_index: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The heat-map series of a population (binned in time; for a ring, also the direction it
    encodes, as a line), and the visual map that colours it."""
    columns, n = values.shape
    cells = [[t, u, round(float(values[t, u]), 3)] for t in range(columns) for u in range(n)]
    series: list[dict[str, Any]] = [
        {
            "name": f"{title}: {group.label}",
            "type": "heatmap",
            "progressive": 0,  # draw every cell at once
            "progressiveThreshold": 1_000_000,
            "xAxisIndex": row,
            "yAxisIndex": row,
            "data": cells,
        }
    ]
    if group.kind == "ring":
        position = direction_in_units(ring_direction(values), n)
        series.append(
            {
                "name": f"{title}: {group.label} direction",
                "type": "line",
                "showSymbol": False,
                "color": "#000000",
                "xAxisIndex": row,
                "yAxisIndex": row,
                "data": [
                    [t, None if np.isnan(p) else round(float(p), 2)] for t, p in enumerate(position)
                ],
            }
        )
    low, high = float(values.min(initial=0.0)), float(values.max(initial=1.0))
    visual = {
        "type": "continuous",
        "show": False,
        "seriesIndex": series_index,
        "min": low,
        "max": high if high > low else low + 1.0,
        "inRange": {"color": ["#440154", "#31688e", "#35b779", "#fde725"]},
    }
    return series, visual


def trial_chart(batch: TrialBatch, trial: int) -> dict[str, Any]:
    """ECharts options for one trial: inputs, targets and loss weights (stacked panels, one
    per line group or population) against time in ms; padding steps are left out."""
    steps = int(batch.lengths[trial])
    t_ms = np.arange(steps) * batch.dt_ms
    panels = _panels(batch)
    grids, x_axes, y_axes, series, visuals = [], [], [], [], []
    for row, (title, array, group) in enumerate(panels):
        top = 28 + PANEL_PX * row
        grids.append({"left": 78, "right": 10, "top": top, "height": PANEL_PX - 22})
        last = row == len(panels) - 1
        name = title if not group.label else f"{title}: {group.label}"
        values = array[:steps, trial][:, list(group.indices)]
        if group.kind in ("lines", "weights"):
            traces = list(zip(group.names, values.T, strict=True))
            if group.kind == "weights":
                traces = weight_traces(batch.output_names, values)
            x_axes.append(
                {
                    "type": "value",
                    "gridIndex": row,
                    "max": float(t_ms[-1]) if steps else 0.0,
                    "name": "time (ms)" if last else "",
                    "nameLocation": "middle",
                    "nameGap": 22,
                    "axisLabel": {"show": last},
                }
            )
            y_axes.append({"type": "value", "gridIndex": row, "scale": True, **_y_name(name)})
            for channel, (label, column) in enumerate(traces):
                series.append(
                    {
                        "name": f"{title}: {label}",
                        "type": "line",
                        "showSymbol": False,
                        "color": PALETTE[channel % len(PALETTE)],
                        "xAxisIndex": row,
                        "yAxisIndex": row,
                        "data": _points(t_ms, column),
                    }
                )
            continue
        values, starts = _binned(values.astype(np.float64), t_ms)
        x_axes.append(
            {
                "type": "category",
                "gridIndex": row,
                "data": [f"{t:g}" for t in starts],
                "axisLabel": {"show": False},
                "axisTick": {"show": False},
            }
        )
        units = len(group.indices)
        y_axes.append(
            {
                "type": "category",
                "gridIndex": row,
                "data": list(range(units)),
                "axisLabel": {"interval": max(units // 4 - 1, 0)},
                **_y_name(name),
            }
        )
        added, visual = _heat_map(title, group, values, row, len(series))
        series += added
        visuals.append(visual)
    return {
        "animation": False,
        "title": {"text": f"trial {trial}", "textStyle": {"fontSize": 12}},
        "tooltip": {"trigger": "axis"},
        "grid": grids,
        "xAxis": x_axes,
        "yAxis": y_axes,
        "visualMap": visuals,
        "series": series,
    }


def preview_caption(task: Any, batch: TrialBatch) -> str:
    """One line describing the previewed batch."""
    return (
        f"{task.title} ({task.name}/{task.version}): {batch.batch_size} trials of seed "
        f"{PREVIEW_SEED}, up to {batch.n_steps} steps of {batch.dt_ms:g} ms; "
        f"{len(batch.input_names)} inputs, {len(batch.output_names)} outputs"
    )
