"""The runs table reads the SQLite results table, so a run started from the command line with
``--out RUNS/x`` appears with its status and curve; its results view shows its report and
analyses it (``rnnzoo analyze`` in a separate process): figures and numbers."""

from __future__ import annotations

import base64
import json

import pytest
from gui_helpers import element, eventually, row_of
from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.gui.curves import read_curves
from rnnzoo.gui.runs import RunManager

pytestmark = pytest.mark.asyncio

TINY_RUN = [
    "--set",
    "n_hidden=8",
    "--set",
    "g=0.5",
    "--set",
    "batch_size=4",
    "--set",
    "eval_every=1",
    "--set",
    "eval_batch_size=8",
    "--max-steps",
    "3",
]


async def test_cli_run_appears_with_status_curve_and_report(user, manager: RunManager):
    out = manager.runs_dir / "cli_run"
    result = CliRunner().invoke(app, ["train", "--out", str(out), *TINY_RUN])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())

    row = await eventually(lambda: row_of(user, "cli_run"), "the command-line run's row")
    assert (row["task"], row["model"], row["status"], row["steps"]) == (
        "flipflop",
        "leaky_rate",
        "max_steps",
        3,
    )
    assert row["performance"] == f"{summary['final_performance']:.3f}"

    user.find(marker="runs").trigger(
        "selection", {"added": True, "rows": [row], "keys": [row["run_dir"]]}
    )
    await eventually(lambda: element(user, "run.title").text == "cli_run: max_steps", "title")
    series = element(user, "curves").options["series"]
    curves = read_curves(out)
    assert curves.steps == [1, 2, 3]
    assert series[0]["data"] == [[s, v] for s, v in zip(curves.steps, curves.loss, strict=True)]
    assert series[1]["data"] == [
        [s, v] for s, v in zip(curves.steps, curves.performance, strict=True)
    ]
    assert not element(user, "stop").enabled and not element(user, "resume").enabled

    user.find(marker="results").click()
    await user.should_see(marker="report")
    assert element(user, "results.run").value == str(out)

    # analyse it: a separate process writes RUN/analysis, the view shows its figures and numbers
    user.find(marker="analyse").click()
    await eventually(lambda: element(user, "analysis.numbers").text, "the analysis", 300)
    assert element(user, "analysis.error").text == ""
    summary = json.loads((out / "analysis" / "summary.json").read_text())
    numbers = element(user, "analysis.numbers").text
    assert f"n_fixed_points = {summary['n_fixed_points']}" in numbers
    assert f"n_stable = {summary['n_stable']}" in numbers
    assert f"participation_ratio = {summary['participation_ratio']:.4g}" in numbers
    for name in ("trials", "pca", "fixed_points", "spectrum"):
        assert name in summary["figures"]
        image = element(user, f"analysis.figure.{name}")
        png = (out / "analysis" / summary["figures"][name]).read_bytes()
        assert image.source == "data:image/png;base64," + base64.b64encode(png).decode()
