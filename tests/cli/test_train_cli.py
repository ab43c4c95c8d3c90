"""`rnnzoo train`: options, --set routing, errors, run directory, resume, the main job."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch
from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.cli.train import build_config
from rnnzoo.models import load_model
from rnnzoo.training.results import read_runs

runner = CliRunner()
TINY = [
    "--set",
    "n_hidden=8",
    "--set",
    "trial_ms=300",
    "--set",
    "input_end_ms=250",
    "--set",
    "batch_size=4",
    "--set",
    "eval_batch_size=8",
    "--set",
    "eval_every=2",
]


def config(*sets, **options):
    base = dict(
        task=None,
        version=None,
        model=None,
        config_file=None,
        method=None,
        ensemble=None,
        max_steps=None,
        target_perf=None,
        seed=None,
        device=None,
    )
    return build_config(sets=list(sets), **{**base, **options})


def test_set_routes_to_model_task_and_train():
    cfg = config(
        "n_hidden=12",
        "trial_ms=2500",
        "lr=0.5",
        "train.seed=3",
        "task.n_bits=2",
        "model.tau_ms=20",
        "method.beta=0.5",
    )
    assert cfg.model.options["n_hidden"] == 12 and cfg.model.options["tau_ms"] == 20
    assert cfg.task["params"] == {"trial_ms": 2500, "n_bits": 2}
    assert cfg.train.lr == 0.5 and cfg.train.seed == 3
    assert cfg.method.hyperparameters == {"beta": 0.5}


def test_unknown_key_is_one_line_error_with_suggestion(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "r"), "--set", "n_hiden=3"])
    assert result.exit_code == 2
    assert "unknown setting 'n_hiden'; did you mean 'n_hidden'?" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "r"), "--set", "lr=-1"])
    assert result.exit_code == 2 and "'lr'" in result.stderr
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "r"), "--task", "flipflp"])
    assert result.exit_code == 2 and "did you mean" in result.stderr


def test_train_end_to_end_and_resume(tmp_path):
    out = tmp_path / "runs" / "a"
    args = [
        "train",
        "--out",
        str(out),
        "--max-steps",
        "4",
        "--target-perf",
        "1.0",
        "--seed",
        "2",
        "--ensemble",
        "2",
        *TINY,
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "max_steps" and summary["steps"] == 4 and summary["seed"] == 2
    assert len(summary["member_performance"]) == 2
    assert (out / "report.png").stat().st_size > 1000
    assert (tmp_path / "runs" / "results.sqlite").is_file()
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.stderr
    # resume with a larger budget: config comes from config.yaml
    more = runner.invoke(
        app,
        [
            "train",
            "--out",
            str(out),
            "--resume",
            "--max-steps",
            "6",
            "--no-report",
            "--config",
            str(out / "config.yaml"),
        ],
    )
    assert more.exit_code == 0, more.output
    assert json.loads((out / "summary.json").read_text())["steps"] == 6


@pytest.mark.slow
def test_main_job_reaches_criterion(tmp_path):
    out = tmp_path / "out" / "train"
    result = runner.invoke(app, ["train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "reached" and summary["final_performance"] >= 0.95
    assert summary["task"] == "flipflop" and summary["model"] == "leaky_rate"
    assert (out / "report.png").is_file()


def _train_process(out, *extra):
    command = "from rnnzoo.cli.main import app; app()"
    args = ["train", "--out", str(out), "--seed", "3", "--target-perf", "1.0", "--no-report"]
    return subprocess.Popen(
        [sys.executable, "-c", command, *args, *TINY, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_ctrl_c_checkpoints_and_resume_equals_uninterrupted(tmp_path):
    out = tmp_path / "runs" / "stopped"
    proc = _train_process(out, "--max-steps", "100000")
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["steps"] >= 4
    rows = read_runs(tmp_path / "runs" / "results.sqlite")
    assert [(r["status"], r["steps"]) for r in rows] == [("interrupted", summary["steps"])]

    total = str(summary["steps"] + 3)
    resumed = _train_process(out, "--resume", "--max-steps", total)
    straight = _train_process(tmp_path / "runs" / "straight", "--max-steps", total)
    for p in (resumed, straight):
        assert p.wait(timeout=120) == 0, p.communicate()
    a = load_model(out / "model.safetensors").state_dict()
    b = load_model(tmp_path / "runs" / "straight" / "model.safetensors").state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
