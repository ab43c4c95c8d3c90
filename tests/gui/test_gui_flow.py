"""The whole GUI flow with NiceGUI's simulated user (no browser): choose the flip-flop, change a
parameter and see the preview change, start short runs in separate processes, see their curves
get points, stop (status "interrupted"), resume, and see the results table."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import choose, element, eventually, row_of, series_data, set_text

from rnnzoo import tasks
from rnnzoo.gui.curves import read_curves
from rnnzoo.gui.runs import RunManager
from rnnzoo.models import model_kinds
from rnnzoo.training.config import RunConfig
from rnnzoo.training.results import read_runs

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

TINY = {
    "model.n_hidden": "8",
    "model.g": "0.5",
    "train.batch_size": "4",
    "train.eval_every": "2",
    "train.eval_batch_size": "8",
    "train.max_steps": "100000",
    "train.lr": "1e-6",
}  # learns next to nothing: runs until stopped


async def start_run(user, name: str) -> None:
    set_text(user, "run_name", name)
    user.find(marker="start").click()
    await user.should_see(f"Started run {name}")


async def test_flipflop_preview_run_stop_resume(user, manager: RunManager):
    # choose another task, then the flip-flop: its form and preview follow
    # every registered task and network kind is on offer, every version of the chosen task
    convertible = [r["name"] for r in tasks.describe_all(interop=True) if "error" not in r]
    assert list(element(user, "task").options) == convertible  # the zoo, then neurogym's envs
    assert list(element(user, "model").options) == model_kinds()
    choose(user, "task", "sine_generator: Sine-wave generator")
    versions = list(tasks.get_task_class("sine_generator").versions)
    assert element(user, "version").options == versions
    await user.should_see(marker="task.freq_min_hz")
    choose(user, "task", "flipflop: N-bit flip-flop")
    await user.should_see(marker="task.n_bits")
    chart = element(user, "preview.trial0")
    three = tasks.make("flipflop", "vanilla").generate(3, 0)
    assert len([s for s in chart.options["series"] if s["name"].startswith("inputs")]) == 3
    np.testing.assert_allclose(
        series_data(chart, "inputs: pulse_0")[:, 1],
        three.inputs[: three.lengths[0], 0, 0],
        atol=1e-4,
    )

    # change a parameter: the preview shows the customised task
    set_text(user, "task.n_bits", "2")
    await user.should_see("2 inputs, 2 outputs")
    two = tasks.make("flipflop", "vanilla", n_bits=2).generate(3, 0)
    inputs = [s for s in chart.options["series"] if s["name"].startswith("inputs")]
    assert len(inputs) == 2
    for trial in range(3):
        chart = element(user, f"preview.trial{trial}")
        steps = int(two.lengths[trial])
        np.testing.assert_allclose(
            series_data(chart, "targets: state_1")[:, 1], two.targets[:steps, trial, 1], atol=1e-4
        )
        np.testing.assert_allclose(
            series_data(chart, "loss weights: state_0")[:, 1], two.weights[:steps, trial, 0]
        )

    # two tiny runs at once, each in its own process
    for marker, text in TINY.items():
        set_text(user, marker, text)
    await start_run(user, "ff_a")
    await start_run(user, "ff_b")
    run_a, run_b = manager.runs_dir / "ff_a", manager.runs_dir / "ff_b"
    config = RunConfig.from_yaml(run_a / "config.yaml")
    assert config.task == {"task": "flipflop", "version": "vanilla", "params": {"n_bits": 2}}
    assert config.model.options == {"n_hidden": 8, "g": 0.5}  # the library defaults besides
    assert (config.train.batch_size, config.train.eval_every) == (4, 2)

    await eventually(lambda: manager.is_alive(run_a) and manager.is_alive(run_b), "two runs")
    await eventually(
        lambda: (
            {r["status"] for r in read_runs(manager.db)} == {"running"}
            and len(read_runs(manager.db)) == 2
        ),
        "both 'running' rows",
    )
    await eventually(lambda: (row_of(user, "ff_a") or {}).get("status") == "running", "row")

    # the selected run's curve gets points
    curves = element(user, "curves")
    await eventually(lambda: len(curves.options["series"][0]["data"]) >= 2, "curve points")
    assert element(user, "run.title").text.startswith("ff_b")

    # stop: SIGINT, the trainer checkpoints and records "interrupted"
    user.find(marker="stop").click()
    await eventually(lambda: (row_of(user, "ff_b") or {}).get("status") == "interrupted", "stop")
    stopped = read_curves(run_b).steps
    assert {r["run_dir"]: r["status"] for r in read_runs(manager.db)}[str(run_b)] == "interrupted"

    # resume continues from the checkpoint: later steps are added to the same curve
    user.find(marker="resume").click()
    await eventually(lambda: len(read_curves(run_b).steps) >= len(stopped) + 2, "resumed points")
    steps = read_curves(run_b).steps
    assert steps[: len(stopped)] == stopped and steps == sorted(set(steps))
    await eventually(
        lambda: len(curves.options["series"][0]["data"]) > len(stopped), "curve after resume"
    )
    user.find(marker="stop").click()
    await eventually(lambda: (row_of(user, "ff_b") or {}).get("status") == "interrupted", "stop 2")

    # the other run is still training: select it in the table and stop it too
    row = row_of(user, "ff_a")
    assert row["status"] == "running"
    user.find(marker="runs").trigger(
        "selection", {"added": True, "rows": [row], "keys": [row["run_dir"]]}
    )
    await eventually(lambda: element(user, "run.title").text == "ff_a: running", "selected a")
    user.find(marker="stop").click()
    await eventually(lambda: (row_of(user, "ff_a") or {}).get("status") == "interrupted", "stop a")
    assert (run_a / "checkpoints" / "latest.json").is_file()
