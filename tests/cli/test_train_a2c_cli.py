"""`rnnzoo train --rule a2c`: a reward-trained policy through the command line, its run directory
and results row, resume equal to an uninterrupted run, and the rule's card."""

from __future__ import annotations

import json

import numpy as np
from safetensors.numpy import load_file
from typer.testing import CliRunner

from rnnzoo.analysis.run import load_run
from rnnzoo.cli.main import app
from rnnzoo.models import load_model
from rnnzoo.training import RunConfig
from rnnzoo.training.results import read_runs

TINY = ["--task", "pdm", "--rule", "a2c", "--set", "n_hidden=8", "--set", "batch_size=8",
        "--set", "eval_every=2", "--set", "eval_batch_size=16", "--set", "checkpoint_every=2",
        "--set", "dt_ms=50", "--set", "decision_ms=200"]  # fmt: skip


def _train(out, *args):
    result = CliRunner().invoke(app, ["train", "--out", str(out), *TINY, *args])
    assert result.exit_code == 0, result.output
    return result


def _records(run):
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items() if k != "wall_clock_s"} for x in lines]


def test_train_rule_a2c_writes_a_policy_run_and_resumes_exactly(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    _train(whole, "--max-steps", "4", "--set", "rule.entropy_coef=0.05")
    summary = json.loads((whole / "summary.json").read_text())
    assert summary["rule"] == "a2c" and summary["steps"] == 4 and summary["status"] == "max_steps"
    assert (whole / "report.png").is_file()
    saved = RunConfig.from_yaml(whole / "config.yaml")
    assert saved.rule.name == "a2c" and saved.rule.hyperparameters == {"entropy_coef": 0.05}
    weights = load_file(whole / "model.safetensors")
    assert load_model(whole / "model.safetensors").config.n_outputs == 4  # 3 actions, value
    _, net, task = load_run(whole)  # what `rnnzoo analyze` gets: the policy's view fits
    assert task.output_names == ("fixate", "choice_1", "choice_2", "value")
    assert net.config.n_outputs == task.n_outputs
    records = _records(whole)
    assert [r["step"] for r in records] == [2, 4]
    assert all(-10 < r["reward"] <= 1 and 0 <= r["train_correct"] <= 1 for r in records)

    _train(parts, "--max-steps", "2", "--set", "rule.entropy_coef=0.05", "--no-report")
    _train(parts, "--max-steps", "4", "--set", "rule.entropy_coef=0.05", "--resume", "--no-report")
    resumed = load_file(parts / "model.safetensors")
    assert resumed.keys() == weights.keys()
    assert all(np.array_equal(resumed[k], weights[k]) for k in weights)
    assert _records(parts) == records
    rows = read_runs(tmp_path / "results.sqlite")
    assert sorted((r["rule"], r["steps"], r["status"]) for r in rows) == [
        ("a2c", 4, "max_steps"),
        ("a2c", 4, "max_steps"),
    ]


def test_rules_show_a2c_prints_its_card():
    shown = CliRunner().invoke(app, ["rules", "show", "a2c"])
    assert shown.exit_code == 0
    assert "Advantage actor-critic" in shown.output and "Song H.F., Yang G.R." in shown.output
    assert "Networks: leaky_rate, leaky_current" in shown.output
    card = json.loads(CliRunner().invoke(app, ["rules", "show", "a2c", "--json"]).output)
    assert card["uses_optimizer"] and [h["name"] for h in card["hyperparameters"]] == [
        "gamma", "value_coef", "entropy_coef", "correct", "fail", "fixation_break_penalty",
        "abort",
    ]  # fmt: skip
