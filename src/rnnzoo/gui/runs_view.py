"""The "Runs" view: the results table (every run in RUNS, also those started from the command
line), live loss and performance curves of the selected run, Stop and Resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nicegui import ui

from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.curves import Curves, curves_chart, read_curves
from rnnzoo.gui.runs import RunManager

REFRESH_S = 1.0
COLUMNS = (
    ("name", "run"),
    ("task", "task"),
    ("version", "version"),
    ("model", "model"),
    ("method", "method"),
    ("rule", "rule"),
    ("seed", "seed"),
    ("status", "status"),
    ("steps", "steps"),
    ("performance", "performance"),
    ("created", "updated"),
)


def table_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs as table rows (plain values; performance with 3 decimals)."""
    rows = []
    for run in runs:
        perf = run.get("final_performance")
        rows.append(
            {
                **{key: run.get(key) for key, _label in COLUMNS},
                "performance": "" if perf is None else f"{perf:.3f}",
                "run_dir": run["run_dir"],
            }
        )
    return rows


class RunsView:
    """The runs table and the panel of the selected run; ``on_results(run_dir)`` opens the
    results view."""

    def __init__(self, manager: RunManager, on_results: Callable[[Path], None]) -> None:
        self.manager = manager
        self.on_results = on_results
        self.selected: Path | None = None
        self._shown_steps: list[int] | None = None
        self.table = (
            ui.table(
                columns=[
                    {"name": k, "label": label, "field": k, "align": "left"} for k, label in COLUMNS
                ],
                rows=[],
                row_key="run_dir",
                selection="single",
                on_select=self._on_select,
                pagination=15,
            )
            .classes("w-full")
            .mark("runs")
        )
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center"):
                self.title = (
                    ui.label("Select a run in the table.").classes("text-h6").mark("run.title")
                )
                ui.space()
                self.stop_button = ui.button("Stop", on_click=self.stop).mark("stop")
                self.resume_button = ui.button("Resume", on_click=self.resume).mark("resume")
                self.results_button = ui.button("Results", on_click=self._open_results).mark(
                    "results"
                )
            self.chart = ui.echart(curves_chart(Curves())).classes("w-full h-96 rnnzoo-curves")
            self.chart.mark("curves")
            self.log = ui.label("").classes("text-xs whitespace-pre-wrap font-mono").mark("run.log")
        ui.timer(REFRESH_S, self.refresh)
        self.refresh()

    def _on_select(self, event: Any) -> None:
        rows = event.selection
        self.select(Path(rows[0]["run_dir"]) if rows else None)

    def select(self, run_dir: Path | None) -> None:
        """Show ``run_dir`` in the run panel (and select its row)."""
        self.selected = run_dir
        self._shown_steps = None
        self.refresh()

    def refresh(self) -> None:
        """Re-read the results table and the selected run's metrics."""
        runs = self.manager.runs()
        rows = table_rows(runs)
        if rows != self.table.rows:
            self.table.update_rows(rows, clear_selection=False)
        chosen = [r for r in rows if Path(r["run_dir"]) == self.selected]
        if self.table.selected != chosen:  # e.g. a run just started: its row came later
            self.table.selected = chosen
        run = next((r for r in runs if Path(r["run_dir"]) == self.selected), None)
        for button in (self.stop_button, self.resume_button, self.results_button):
            button.disable()
        if run is None:
            return
        self.title.text = f"{run['name']}: {run['status']}"
        if run["alive"]:
            self.stop_button.enable()
        if run["resumable"]:
            self.resume_button.enable()
        if (self.selected / "model.safetensors").is_file() and not run["alive"]:
            self.results_button.enable()
        self.log.text = self.manager.log_tail(self.selected) if "failed" in run["status"] else ""
        curves = read_curves(self.selected)
        if curves.steps != self._shown_steps:
            self._shown_steps = curves.steps
            self.chart.options.clear()
            self.chart.options.update(curves_chart(curves))
            self.chart.update()

    def stop(self) -> None:
        if self.selected is not None and self.manager.stop(self.selected):
            ui.notify(f"Stopping {self.selected.name}: it checkpoints and ends 'interrupted'.")
        self.refresh()

    def resume(self) -> None:
        if self.selected is None:
            return
        try:
            self.manager.resume(self.selected)
        except InvalidParameterError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"Resumed {self.selected.name}", type="positive")
        self.refresh()

    def _open_results(self) -> None:
        if self.selected is not None:
            self.on_results(self.selected)
