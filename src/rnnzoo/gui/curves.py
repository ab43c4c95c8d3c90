"""Live learning curves: a run's metrics.jsonl as loss and performance series."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Curves:
    """Evaluated steps with their mean training loss and held-out performance."""

    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    performance: list[float] = field(default_factory=list)


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
        curves.steps.append(int(record["step"]))
        curves.loss.append(float(record["loss"]))
        curves.performance.append(float(record["performance"]))
    return curves


def curves_chart(curves: Curves) -> dict[str, Any]:
    """ECharts options: training loss (log scale) above held-out performance, against step."""
    panels = (("loss", curves.loss, "log"), ("performance", curves.performance, "value"))
    return {
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "grid": [
            {"left": 60, "right": 15, "top": "8%", "height": "36%"},
            {"left": 60, "right": 15, "top": "56%", "height": "34%"},
        ],
        "xAxis": [
            {
                "type": "value",
                "gridIndex": row,
                "name": "step" if row else "",
                "nameLocation": "middle",
                "nameGap": 22,
            }
            for row in range(len(panels))
        ],
        "yAxis": [
            {"type": kind, "gridIndex": row, "name": name, "scale": True}
            for row, (name, _values, kind) in enumerate(panels)
        ],
        "series": [
            {
                "name": name,
                "type": "line",
                "xAxisIndex": row,
                "yAxisIndex": row,
                "data": [[s, v] for s, v in zip(curves.steps, values, strict=True)],
            }
            for row, (name, values, _kind) in enumerate(panels)
        ],
    }
