"""The GUI's page: three tabs (New run, Runs, Results) over one runs folder; `serve` starts it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nicegui import app, ui

from rnnzoo.gui.exposure import HostCheck, allowed_hosts
from rnnzoo.gui.results_view import ResultsView
from rnnzoo.gui.runs import RunManager
from rnnzoo.gui.runs_view import RunsView
from rnnzoo.gui.setup_view import SetupView


def create_root(manager: RunManager) -> Callable[[], None]:
    """The page function (one page per browser tab; the runs are shared through ``manager``)."""

    def root() -> None:
        ui.page_title("rnnzoo")
        with ui.header().classes("items-center"):
            ui.label("rnnzoo").classes("text-h5")
            ui.label(f"runs in {manager.runs_dir}").classes("text-sm")
        with ui.tabs() as tabs:
            new_tab = ui.tab("New run").mark("tab.new")
            runs_tab = ui.tab("Runs").mark("tab.runs")
            results_tab = ui.tab("Results").mark("tab.results")
        with ui.tab_panels(tabs, value=new_tab).classes("w-full"):
            with ui.tab_panel(results_tab):
                results = ResultsView(manager)
            with ui.tab_panel(runs_tab):

                def open_results(run_dir: Path) -> None:
                    results.show(run_dir)
                    tabs.set_value(results_tab)

                runs = RunsView(manager, on_results=open_results)
            with ui.tab_panel(new_tab):

                def started(name: str) -> None:
                    runs.select(manager.runs_dir / name)
                    tabs.set_value(runs_tab)

                SetupView(manager, on_started=started)

        def tab_changed(event: Any) -> None:
            if event.value in (results_tab, "Results"):
                results.update_choices()

        tabs.on_value_change(tab_changed)

    return root


def serve(runs_dir: Path, host: str, port: int) -> None:
    """Serve the GUI on http://HOST:PORT until interrupted (blocks); only requests addressed
    to HOST (its loopback names for a local address) are answered (see `exposure`)."""
    app.add_middleware(HostCheck, hosts=allowed_hosts(host))
    ui.run(
        create_root(RunManager(runs_dir)),
        host=host,
        port=port,
        title="rnnzoo",
        reload=False,
        show=False,
        show_welcome_message=False,
    )
