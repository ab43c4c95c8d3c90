"""The "Results" view of a finished run: example trials with network outputs, PCA
trajectories, fixed points and the weight spectrum (from ``rnnzoo analyze``), with the
training report."""

from __future__ import annotations

import base64
from pathlib import Path

from nicegui import ui

from rnnzoo.gui.analysis import read_analysis, run_analysis
from rnnzoo.gui.runs import FINAL_STATUSES, RunManager


def png_source(path: Path) -> str:
    """A PNG file as a data URL (shown as is, never a stale cached copy)."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


class ResultsView:
    """Choose a finished run, analyse it in a separate process and show the results."""

    def __init__(self, manager: RunManager) -> None:
        self.manager = manager
        self.run_dir: Path | None = None
        with ui.row().classes("w-full items-center"):
            self.run_select = (
                ui.select({}, label="finished run", on_change=self._chosen)
                .classes("w-96")
                .mark("results.run")
            )
            self.analyse_button = ui.button("Analyse", on_click=self.analyse).mark("analyse")
            self.spinner = ui.spinner(size="lg")
            self.spinner.visible = False
        self.numbers = ui.label("").classes("text-body1").mark("analysis.numbers")
        self.error = ui.label("").classes("text-negative whitespace-pre-wrap font-mono text-xs")
        self.error.mark("analysis.error")
        self.figures = ui.row().classes("w-full")
        self.update_choices()

    def update_choices(self) -> None:
        """List the runs that have finished (a final status and saved weights)."""
        finished = {
            run["run_dir"]: f"{run['name']} ({run['status']})"
            for run in self.manager.runs()
            if run["status"] in FINAL_STATUSES
            and (Path(run["run_dir"]) / "model.safetensors").is_file()
        }
        value = (
            str(self.run_dir)
            if self.run_dir is not None and str(self.run_dir) in finished
            else None
        )
        self.run_select.set_options(finished, value=value)

    def show(self, run_dir: Path) -> None:
        """Show ``run_dir``'s results (its analysis if it exists, and the training report)."""
        self.run_dir = run_dir
        self.update_choices()
        self._draw()

    def _chosen(self) -> None:
        if self.run_select.value and Path(self.run_select.value) != self.run_dir:
            self.run_dir = Path(self.run_select.value)
            self._draw()

    def _draw(self) -> None:
        self.error.text = ""
        self.figures.clear()
        self.numbers.text = ""
        if self.run_dir is None:
            return
        analysis = read_analysis(self.run_dir)
        self.analyse_button.text = "Analyse again" if analysis is not None else "Analyse"
        with self.figures:
            if analysis is not None:
                self.numbers.text = ", ".join(
                    f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                    for k, v in analysis.numbers.items()
                )
                for name, path in analysis.figures.items():
                    with ui.card().classes("w-[48%]"):
                        ui.label(name.replace("_", " ")).classes("text-subtitle1")
                        ui.image(png_source(path)).mark(f"analysis.figure.{name}")
            report = self.run_dir / "report.png"
            if report.is_file():
                with ui.card().classes("w-[48%]"):
                    ui.label("training report").classes("text-subtitle1")
                    ui.image(png_source(report)).mark("report")

    async def analyse(self) -> None:
        """Run the analysis of the chosen run in a separate process, then show it."""
        if self.run_dir is None:
            ui.notify("Choose a finished run first.", type="warning")
            return
        self.analyse_button.disable()
        self.spinner.visible = True
        try:
            code, output = await run_analysis(self.run_dir)
        finally:
            self.analyse_button.enable()
            self.spinner.visible = False
        self._draw()
        if code != 0:
            self.error.text = "analysis failed:\n" + "\n".join(output.splitlines()[-8:])
