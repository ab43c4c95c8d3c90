"""Your own network everywhere: a plugin file that registers a network kind is seen by `rnnzoo
models`, `train` (the saved network loads again) and the benchmark's worker processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from typer.testing import CliRunner

from rnnzoo import plugins
from rnnzoo.cli.main import app
from rnnzoo.models import load_model, make_model, model_kinds

PLUGIN = Path(__file__).resolve().parent / "orthogonal_rnn.py"
KIND = "orthogonal_rnn"
TINY = ["n_hidden=8", "batch_size=4", "eval_every=2", "eval_batch_size=8"]
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_plugin_network_in_models_and_train(tmp_path, plugin_registry):
    shown = invoke("--plugin", str(PLUGIN), "models", "show", KIND)
    assert (
        "Vanilla RNN, orthogonal initial W (plugin)" in shown.stdout
        and "activation" in shown.stdout
    )
    assert KIND in invoke("--plugin", str(PLUGIN), "models", "list").stdout
    net = make_model(KIND, 2, 1, seed=3, n_hidden=16, g=1.5)
    w = net.w_rec[0].detach().double()
    assert torch.allclose(w @ w.T, 2.25 * torch.eye(16, dtype=torch.float64), atol=1e-5)
    out = tmp_path / "runs" / "orth"
    sets = [x for s in TINY for x in ("--set", s)]
    args = ["train", "--out", str(out), "--task", "flipflop", "--model", KIND, "--max-steps", "4"]
    invoke("--plugin", str(PLUGIN), *args, "--no-report", *sets)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == KIND and summary["steps"] == 4
    saved = load_model(out / "model.safetensors")
    assert type(saved).__name__ == "OrthogonalRNN" and saved.config.kind == KIND
    plugin_registry()  # unloaded
    assert KIND not in model_kinds()
    missing = runner.invoke(app, ["models", "show", KIND])
    assert missing.exit_code == 2 and f"unknown model kind '{KIND}'" in missing.stderr


def test_a_sweep_of_a_plugin_network_runs_in_a_worker_without_the_environment(
    tmp_path, plugin_registry
):
    from rnnzoo.bench.executors import LocalExecutor
    from rnnzoo.bench.runner import job_tasks, run_sweep
    from rnnzoo.bench.sweep import expand, sweep_from_dict
    from rnnzoo.training.results import read_runs

    plugins.add_plugins([str(PLUGIN)])
    sweep = sweep_from_dict(
        {
            "name": "orth",
            "results": str(tmp_path / "results"),
            "tasks": [{"task": "flipflop", "params": {"n_bits": 1}}],
            "models": [{"kind": KIND, "options": {"n_hidden": 8}}],
            "train": {"max_steps": 4, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8},
            "seeds": [0, 1],
        }
    )
    (task,) = job_tasks(sweep, expand(sweep))
    assert task.plugins == (str(PLUGIN),)
    del os.environ[plugins.ENV]  # the worker's environment: no RNNZOO_PLUGINS
    outcome = run_sweep(sweep, LocalExecutor(workers=1))
    assert [r["status"] for r in outcome.results] == ["done"], outcome.results[0]["error"]
    rows = read_runs(tmp_path / "results" / "results.sqlite")
    assert [(r["model"], r["status"], r["steps"]) for r in rows] == [(KIND, "max_steps", 4)] * 2
