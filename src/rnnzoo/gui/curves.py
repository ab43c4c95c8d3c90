"""Live learning curves: a run's metrics.jsonl as loss and performance series, per member of
an ensemble (members that stopped learning are named) and per task of a composition."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Curves:
    """Evaluated steps with their mean training loss and held-out performance; per member
    (None where a member had stopped) and, for compositions, per task."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    performance: list[float] = field(default_factory=list)
    loss_members: list[list[float | None]] = field(default_factory=list)
    performance_members: list[list[float | None]] = field(default_factory=list)
    tasks: dict[str, list[float | None]] = field(default_factory=dict)
    stalled: list[int] = field(default_factory=list)


def read_curves(run_dir: Path) -> Curves:
    """The evaluation records of ``run_dir/metrics.jsonl`` (events such as rollbacks and a
    line still being written are skipped)."""
    curves = Curves()
    try:
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    except OSError:
        return curves
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "event" in record or "performance" not in record:
            continue
        members = record.get("performance_members") or [record["performance"]]
        curves.steps.append(int(record["step"]))
        curves.loss.append(float(record["loss"]))
        curves.performance.append(float(record["performance"]))
        curves.loss_members.append(record.get("loss_members") or [record["loss"]] * len(members))
        curves.performance_members.append(members)
        for label, value in record.get("performance_tasks", {}).items():
            curves.tasks.setdefault(label, [None] * (len(curves.steps) - 1)).append(value)
        for values in curves.tasks.values():
            values.extend([None] * (len(curves.steps) - len(values)))
        curves.stalled = list(record.get("stalled_members", []))
    return curves


def _series(name: str, row: int, steps: list[int], values: list[Any], **style: Any) -> dict:
    return {
        "name": name,
        "type": "line",
        "xAxisIndex": row,
        "yAxisIndex": row,
        "showSymbol": False,
        "data": [[s, v] for s, v in zip(steps, values, strict=True)],
        **style,
    }


def curves_chart(curves: Curves) -> dict[str, Any]:
    """ECharts options: training loss (log scale) above held-out performance (and, for a
    composition, performance per task), against step; an ensemble's members as thin lines."""
    panels = [("loss", "log"), ("performance", "value")] + (
        [("performance per task", "value")] if curves.tasks else []
    )
    height = 84 / len(panels)
    members = len(curves.performance_members[0]) if curves.performance_members else 1
    thin = {"lineStyle": {"width": 1, "color": "#aaaaaa"}, "z": 1}
    flagged = {"lineStyle": {"width": 1.5, "color": "#d62728", "type": "dashed"}, "z": 2}
    series = [_series("loss", 0, curves.steps, curves.loss, z=3)]
    series += [_series("performance", 1, curves.steps, curves.performance, z=3)]
    for m in range(members if members > 1 else 0):
        stalled = m in curves.stalled
        name = f"member {m}" + (" (stopped learning)" if stalled else "")
        loss = [row[m] for row in curves.loss_members]
        perf = [row[m] for row in curves.performance_members]
        series.append(_series(name, 0, curves.steps, loss, **thin))
        series.append(_series(name, 1, curves.steps, perf, **(flagged if stalled else thin)))
    for label, values in curves.tasks.items():
        series.append(_series(label, 2, curves.steps, values))
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll", "top": 0, "data": [s["name"] for s in series[2:]][:40]},
        "grid": [
            {
                "left": 60,
                "right": 15,
                "top": f"{8 + row * height:.0f}%",
                "height": f"{height - 10:.0f}%",
            }
            for row in range(len(panels))
        ],
        "xAxis": [
            {
                "type": "value",
                "gridIndex": row,
                "name": "step" if row == len(panels) - 1 else "",
                "nameLocation": "middle",
                "nameGap": 22,
            }
            for row in range(len(panels))
        ],
        "yAxis": [
            {"type": kind, "gridIndex": row, "name": name, "scale": True}
            for row, (name, kind) in enumerate(panels)
        ],
        "series": series,
    }
