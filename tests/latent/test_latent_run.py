"""`rnnzoo latent expand` end to end: the run directory is an ordinary rnnzoo run (analyze,
results table, GUI runs view), Step I resumes bit-identically, bad requests are one-line
errors that leave nothing behind."""

import json

import pytest
import torch
from typer.testing import CliRunner

from rnnzoo.analysis import large
from rnnzoo.analysis.run import analyze_run
from rnnzoo.cli.main import app
from rnnzoo.gui.curves import read_curves
from rnnzoo.gui.runs import RunManager
from rnnzoo.latent import expand_run
from rnnzoo.models import load_model
from rnnzoo.training.config import RunConfig
from rnnzoo.training.results import read_runs


def _request(teacher, **changes):
    request = {
        "teacher": str(teacher),
        "n_hidden": 300,
        "init": "ridge",
        "ridge_trials": 8,
        "ssl_steps": 6,
        "ssl_batch_size": 8,
        "eval_every": 2,
        "eval_trials": 8,
        "checkpoint_every": 2,
        "readout_trials": 16,
        "test_trials": 16,
        "ssl_target_loss": 1e-9,
    }
    return {**request, **changes}


def test_step_one_resumes_bit_identically(rank2_teacher, tmp_path):
    whole = expand_run(_request(rank2_teacher), tmp_path / "whole")

    def stop_at_four(record):
        if record["step"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        expand_run(_request(rank2_teacher), tmp_path / "cut", progress=stop_at_four)
    assert json.loads((tmp_path / "cut" / "summary.json").read_text())["status"] == "interrupted"
    resumed = expand_run(_request(rank2_teacher), tmp_path / "cut", resume=True)
    a = load_model(tmp_path / "whole" / "model.safetensors").state_dict()
    b = load_model(tmp_path / "cut" / "model.safetensors").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["steps"] == whole["steps"] == 6
    assert resumed["final_performance"] == whole["final_performance"]
    steps = [json.loads(line)["step"] for line in (tmp_path / "cut" / "metrics.jsonl").open()]
    assert steps == [2, 4, 6, 6]  # Step I evaluations once each, then the test record


def test_the_result_is_an_ordinary_run(rank2_teacher, tmp_path, monkeypatch):
    out = tmp_path / "runs" / "big"
    summary = expand_run(_request(rank2_teacher, n_hidden=64, init="resample", ssl_steps=0), out)
    test = summary["latent"]["test"]
    assert summary["status"] == "reached"
    assert test["latent_r2"] > 1 - 1e-9
    assert abs(test["performance"] - test["teacher_performance"]) < 2e-3
    assert test["fixed_points"]["max_relative_distance"] < 1e-3
    config = RunConfig.from_yaml(out / "config.yaml")
    assert config.model.options["rank"] == 2 and config.model.options["n_hidden"] == 64
    dense = analyze_run(out)
    assert "latent_form" not in dense
    monkeypatch.setattr(large, "LARGE_NEURONS", 32)  # analyse it as a large network
    latent = analyze_run(out, tmp_path / "latent_analysis")
    assert latent["latent_form"] is True
    assert latent["n_fixed_points"] == dense["n_fixed_points"]
    assert latent["n_stable"] == dense["n_stable"]
    assert latent["participation_ratio"] == pytest.approx(dense["participation_ratio"], rel=0.05)
    assert latent["spectrum"]["spectral_radius"] == pytest.approx(
        dense["spectrum"]["spectral_radius"], rel=1e-4
    )
    assert all(
        (tmp_path / "latent_analysis" / name).is_file() for name in latent["figures"].values()
    )
    row = next(
        r
        for r in read_runs(tmp_path / "runs" / "results.sqlite")
        if r["run_dir"] == str(out.resolve())
    )
    assert (row["method"], row["status"], row["model"]) == (
        "latent:resample",
        "reached",
        "leaky_rate",
    )
    listed = RunManager(tmp_path / "runs").runs()
    assert [r["name"] for r in listed] == ["big"] and listed[0]["status"] == "reached"
    assert read_curves(out).performance == [pytest.approx(test["performance"])]


def _cli(*args):
    return CliRunner().invoke(app, ["latent", "expand", *map(str, args)])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rank", "17"], r"'rank' must be in \[1, 16\] \(the teacher's n_hidden\); got 17"),
        (["--n-hidden", "8", "--init", "resample"], r"'n_hidden' must be >= 16"),
        (["--set", "task.n_bits=3"], r"'task': the teacher does not fit the task"),
        (["--set", "ssl_step=3"], r"unknown latent setting 'ssl_step'; did you mean 'ssl_steps'"),
        (["--init", "random"], r"'init' random needs Step I"),
    ],
)
def test_bad_requests_are_one_line_errors_and_write_nothing(full_teacher, tmp_path, args, message):
    out = tmp_path / "big"
    result = _cli("--teacher", full_teacher, "--n-hidden", 100, "--out", out, *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert __import__("re").search(message, lines[0]), lines[0]
    assert not out.exists()


def test_memory_estimate_is_checked_before_any_work(full_teacher, tmp_path):
    out = tmp_path / "big"
    estimate = _cli(
        "--teacher", full_teacher, "--n-hidden", 1_000_000, "--out", out, "--estimate", "--json"
    )
    assert estimate.exit_code == 0, estimate.output
    total = json.loads(estimate.output)["total"]
    assert 0.5e9 < total < 24e9  # O(N K), not O(N^2) = 4e12 bytes
    refused = _cli(
        "--teacher",
        full_teacher,
        "--n-hidden",
        1_000_000,
        "--out",
        out,
        "--set",
        "max_memory_gb=0.5",
    )
    assert refused.exit_code == 2 and "'max_memory_gb'" in refused.output
    assert not out.exists()
