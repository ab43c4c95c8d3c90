"""A neurogym task in the front ends: `rnnzoo tasks show`, a `rnnzoo bench` sweep, the GUI's
task menu, form and preview."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("neurogym")

SRC = str(Path(__file__).resolve().parents[2] / "src")
NAME = "neurogym/GoNogo"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run([sys.executable, "-m", "rnnzoo.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip


def test_tasks_show_and_a_bench_sweep(tmp_path):
    shown = _cli("tasks", "show", NAME, "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    card = json.loads(shown.stdout)
    assert card["name"] == NAME and card["outputs"] == ["fixation", "go"]
    bad = _cli("tasks", "show", NAME, "--set", 'timing={"fixaton": 100}', cwd=tmp_path)
    assert bad.returncode == 2 and "did you mean 'fixation'" in bad.stderr + bad.stdout
    sweep = {
        "name": "ng", "results": str(tmp_path / "bench"),
        "tasks": [{"task": NAME, "params": {"dt_ms": 20}}],
        "models": [{"kind": "leaky_rate", "options": {"n_hidden": 8, "tau_ms": 100}}],
        "methods": [{"name": "control"}],
        "train": {"max_steps": 4, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8},
        "seeds": [0],
    }  # fmt: skip
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(sweep))
    ran = _cli("bench", "run", str(path), "--workers", "1", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    with sqlite3.connect(tmp_path / "bench" / "results.sqlite") as db:
        rows = db.execute("SELECT task, status, steps FROM runs").fetchall()
    assert rows == [(NAME, "max_steps", 4)]


def test_gui_task_menu_form_and_preview():
    from rnnzoo import tasks
    from rnnzoo.gui.forms import field_specs
    from rnnzoo.gui.setup_view import task_menu

    menu = task_menu()
    assert NAME in menu and "neurogym/Bandit" not in menu  # only environments that convert
    task = tasks.make(NAME, dt_ms=20)
    specs = {s.name: s for s in field_specs(type(task.params), task.params)}
    assert {"dt_ms", "timing", "rewards", "timing_scale"} <= set(specs)
    from rnnzoo.gui.preview import PREVIEW_SEED, PREVIEW_TRIALS, trial_chart

    assert trial_chart(task.generate(PREVIEW_TRIALS, PREVIEW_SEED), 0)
