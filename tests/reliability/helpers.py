"""Helpers of the reliability tests: a tiny run config, the CLI in-process and in a real
subprocess, and the files of a folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.training import RunConfig

SRC = str(Path(__file__).resolve().parents[2] / "src")
TASK = {"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}}
MODEL = {"kind": "leaky_rate", "options": {"n_hidden": 16, "recurrent_noise": 0.05}}
TINY_CLI = [  # `rnnzoo train` options of a tiny, quick run
    "--set", "n_hidden=16",
    "--set", "trial_ms=600",
    "--set", "input_end_ms=500",
    "--set", "batch_size=4",
    "--set", "eval_batch_size=8",
    "--set", "eval_every=2",
    "--target-perf", "1.0",
    "--no-report",
]  # fmt: skip


def small(**train: Any) -> RunConfig:
    """A 16-unit leaky network on a short flip-flop, a few steps (``train`` settings changed)."""
    settings = {"batch_size": 8, "max_steps": 12, "eval_every": 4, "eval_batch_size": 16}
    settings.update(checkpoint_every=5, target_performance=1.0)
    return RunConfig(task=TASK, model=MODEL, train={**settings, **train})


def invoke(*args: str) -> Any:
    """`rnnzoo ARGS` in this process; the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(app, list(args))


def one_line_error(result: Any) -> str:
    """The single ``error:`` line of a refused command (asserting exit 2, no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def env() -> dict[str, str]:
    """Environment of subprocesses: this checkout's sources first, one torch thread."""
    variables = dict(os.environ)
    variables["PYTHONPATH"] = SRC + os.pathsep + variables.get("PYTHONPATH", "")
    variables["OMP_NUM_THREADS"] = "1"
    return variables


def rnnzoo_process(*args: str, **popen: Any) -> subprocess.Popen:
    """`rnnzoo ARGS` as a real process (stdout and stderr captured as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "rnnzoo.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        **popen,
    )


def files_under(folder: Path) -> list[str]:
    """Every path under ``folder``, relative and sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
