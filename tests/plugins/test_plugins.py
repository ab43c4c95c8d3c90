"""Your own tasks everywhere: a plugin (a package entry point, RNNZOO_PLUGINS or --plugin) is
seen by `rnnzoo tasks`, `train`, `analyze`, `bench` (its worker processes too) and Python; the
worked example of docs/writing_a_task.md keeps the task contract."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnzoo import plugins
from rnnzoo.cli.main import app
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks import registry

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "plugins" / "ready_set_go.py"
TINY = ["n_hidden=8", "batch_size=4", "eval_every=2", "eval_batch_size=8"]
runner = CliRunner()


def sets(*items):
    return [x for s in items for x in ("--set", s)]


def invoke(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_the_worked_example_keeps_the_task_contract(plugin_registry):
    from rnnzoo import tasks
    from rnnzoo.tasks.check import check_task

    plugins.add_plugins([str(EXAMPLE)])
    for version in ("vanilla", "realistic", "long"):
        check_task(tasks.make("ready_set_go", version))
    task = tasks.make("rsg")
    grid = task.generate_test()
    assert np.all(task.performance(grid.targets, grid) == 1)
    late = np.roll(grid.targets, int(task.params.steps(300)), axis=0)  # Go 300 ms late
    assert np.all(task.performance(late, grid) == 0)
    with pytest.raises(InvalidParameterError, match="'interval_ms' must be longer than"):
        tasks.make("ready_set_go", interval_ms=40)
    plugin_registry()  # unloaded
    assert "ready_set_go" not in registry._TASKS


def test_the_docs_page_shows_the_example_file_as_it_is():
    page = (ROOT / "docs" / "writing_a_task.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert EXAMPLE.read_text() in blocks  # the page's full listing is the tested file


def test_plugin_option_in_tasks_train_and_analyze(tmp_path, plugin_registry):
    out = tmp_path / "runs" / "rsg"
    listed = invoke("--plugin", str(EXAMPLE), "tasks", "list")
    assert re.search(r"^ready_set_go .*\(also rsg\)$", listed.stdout, flags=re.M)
    assert os.environ[plugins.ENV] == str(EXAMPLE)  # for the processes it starts
    shown = invoke("--plugin", str(EXAMPLE), "tasks", "show", "rsg")
    assert "Jazayeri M. & Shadlen M.N. (2010)" in shown.stdout
    args = ["train", "--out", str(out), "--task", "ready_set_go", "--max-steps", "4"]
    invoke("--plugin", str(EXAMPLE), *args, "--no-report", *sets(*TINY))
    assert json.loads((out / "summary.json").read_text())["task"] == "ready_set_go"
    invoke("--plugin", str(EXAMPLE), "analyze", str(out))
    assert (out / "analysis" / "summary.json").is_file()
    plugin_registry()  # unloaded
    missing = runner.invoke(app, ["analyze", str(out)])  # without the plugin: one line
    assert missing.exit_code == 2 and "unknown task 'ready_set_go'" in missing.stderr
    bad = runner.invoke(app, ["--plugin", "no_such_module", "tasks", "list"])
    assert bad.exit_code == 2 and bad.stderr.strip() == (
        "error: plugin 'no_such_module' (from --plugin) cannot be imported: "
        "ModuleNotFoundError: No module named 'no_such_module'"
    )


def test_environment_variable_with_a_module_in_the_current_folder(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "my_tasks.py")
    env = {k: v for k, v in os.environ.items() if k != plugins.ENV}
    code = (
        "from rnnzoo import tasks; print(tasks.make('rsg').title); "
        "from rnnzoo.tasks import make; make('no_such_task_either')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT / "src"), plugins.ENV: "my_tasks, ,"},
        timeout=300,
    )
    assert done.stdout.strip() == "Ready-Set-Go interval reproduction"
    assert "unknown task 'no_such_task_either'" in done.stderr


def test_a_bad_module_in_the_environment_is_a_one_line_error(plugin_registry, monkeypatch):
    monkeypatch.setenv(plugins.ENV, "no_such_plugin")
    result = runner.invoke(app, ["tasks", "list"])
    assert result.exit_code == 2 and result.stderr.strip() == (
        "error: plugin 'no_such_plugin' (from RNNZOO_PLUGINS) cannot be imported: "
        "ModuleNotFoundError: No module named 'no_such_plugin'"
    )


def test_a_package_entry_point(tmp_path, plugin_registry, monkeypatch):
    site = tmp_path / "site"
    info = site / "rsg_tasks-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rsg-tasks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[rnnzoo.plugins]\nready_set_go = rsg_tasks\n")
    shutil.copy(EXAMPLE, site / "rsg_tasks.py")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(plugins, "_entry_points_done", False)  # as in a fresh process
    listed = invoke("tasks", "list")
    assert "ready_set_go" in listed.stdout
    assert "entry point ready_set_go" in plugins.loaded_plugins()


def test_a_sweep_of_a_plugin_task_runs_in_a_worker_without_the_environment(
    tmp_path, plugin_registry
):
    """The local workers inherit RNNZOO_PLUGINS; a Dask or Slurm worker elsewhere does not, so
    every job carries the plugins: here the worker runs with the variable removed."""
    from rnnzoo.bench.executors import LocalExecutor
    from rnnzoo.bench.runner import job_tasks, run_sweep
    from rnnzoo.bench.sweep import expand, sweep_from_dict
    from rnnzoo.training.results import read_runs

    plugins.add_plugins([str(EXAMPLE)])
    sweep = sweep_from_dict(
        {
            "name": "rsg",
            "results": str(tmp_path / "results"),
            "tasks": ["ready_set_go"],
            "models": [{"options": {"n_hidden": 8}}],
            "train": {"max_steps": 4, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8},
            "seeds": [0, 1],
        }
    )
    (task,) = job_tasks(sweep, expand(sweep))
    assert task.plugins == (str(EXAMPLE),)
    del os.environ[plugins.ENV]  # the worker's environment: no RNNZOO_PLUGINS
    outcome = run_sweep(sweep, LocalExecutor(workers=1))
    assert [r["status"] for r in outcome.results] == ["done"], outcome.results[0]["error"]
    rows = read_runs(tmp_path / "results" / "results.sqlite")
    assert [(r["task"], r["status"]) for r in rows] == [("ready_set_go", "max_steps")] * 2
