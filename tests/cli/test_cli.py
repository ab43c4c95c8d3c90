"""The `rnnzoo tasks` command line: the contract later checks rely on."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rnnzoo import tasks
from rnnzoo.cli.main import app
from rnnzoo.datasets import load_batch, read_attributes

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_list_json_has_every_task_with_versions():
    result = run("tasks", "list", "--json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert sorted(rows) == sorted(tasks.task_names(interop=True))  # neurogym envs too
    assert rows["flipflop"]["versions"][:3] == ["vanilla", "realistic", "long"]
    assert "jarne2020" in rows["flipflop"]["versions"]


def test_show_prints_the_card():
    text = run("tasks", "show", "flipflop", "--version", "jarne2020").stdout
    assert "Sussillo" in text and "jarne2020" in text and "dt_ms = 1.0 [default 10.0] ms" in text
    card = json.loads(run("tasks", "show", "tmaze", "--json").stdout)
    assert card["name"] == "tmaze" and card["version"] == "vanilla"
    assert {p["name"] for p in card["parameters"]} >= {"dt_ms", "noise_scale"}


def test_preview_writes_a_png(tmp_path):
    out = tmp_path / "ff.png"
    result = run(
        "tasks",
        "preview",
        "flipflop",
        "--set",
        "n_bits=2",
        "--set",
        "interval_ms=uniform(200,400)",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_export_writes_the_requested_batch(tmp_path):
    out = tmp_path / "d.h5"
    result = run(
        "tasks",
        "export",
        "delayed_match_to_sample",
        "--version",
        "realistic",
        "--batch-size",
        "6",
        "--seed",
        "5",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    task = tasks.make("delayed_match_to_sample", "realistic")
    assert load_batch(out).equals(task.generate(6, 5))
    assert read_attributes(out)["config"]["task"] == "delayed_match_to_sample"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["tasks", "show", "flipflp"], "did you mean 'flipflop'"),
        (["tasks", "show", "flipflop", "--version", "nope"], "has no version 'nope'"),
        (["tasks", "preview", "flipflop", "--set", "dt_ms=500"], "'dt_ms' must be > 0 and <= 100"),
        (["tasks", "preview", "flipflop", "--set", "nbits=2"], "unknown parameter 'nbits'"),
        (["tasks", "preview", "flipflop", "--set", "n_bits"], "--set expects PARAM=VALUE"),
        (
            [
                "tasks",
                "export",
                "flipflop",
                "--batch-size",
                "4",
                "--seed",
                "0",
                "--set",
                "input_duration_ms=2",
            ],
            "rounds to 0 steps",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, args, fragment):
    suffix = ".h5" if args[1] == "export" else ".png"
    out = tmp_path / f"x{suffix}"
    if args[1] in ("preview", "export"):
        args = [*args, "--out", str(out)]
    result = run(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_real_console_command_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnzoo.cli.main",
            "tasks",
            "export",
            "flipflop",
            "--batch-size",
            "2",
            "--seed",
            "0",
            "--out",
            str(tmp_path / "no" / "x.h5"),
        ],
        capture_output=True,
        text=True,
    )
    assert (
        proc.returncode == 2
        and proc.stderr.startswith("error: ")
        and "Traceback" not in proc.stderr
    )
