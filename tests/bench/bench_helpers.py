"""Helpers of the benchmark-runner tests: tiny sweeps (flip-flop, N = 8, a few steps) and the
CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SRC = str(Path(__file__).resolve().parents[2] / "src")


def tiny_sweep(results: Path, **changes: Any) -> dict[str, Any]:
    """A sweep dict: 1-bit flip-flop, leaky N = 8, control and SCTT, seeds 0-2."""
    data: dict[str, Any] = {
        "name": "tiny",
        "results": str(results),
        "tasks": [{"task": "flipflop", "params": {"n_bits": 1}}],
        "models": [{"kind": "leaky_rate", "options": {"n_hidden": 8}}],
        "methods": [
            {"name": "control"},
            {"name": "sctt", "hyperparameters": {"theta": 5}, "label": "SCTT_5"},
        ],
        "train": {
            "max_steps": 20,
            "batch_size": 8,
            "eval_every": 5,
            "eval_batch_size": 16,
            "lr": 0.02,
            "target_performance": 0.8,
            "checkpoint_every": 5,
        },
        "seeds": {"start": 0, "count": 3},
    }
    data.update(changes)
    return data


def write_sweep(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def rnnzoo_env() -> dict[str, str]:
    """Environment for subprocesses: this checkout's sources first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def cli(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run `rnnzoo ...` in a subprocess (real processes, real signals)."""
    proc = subprocess.run(
        [sys.executable, "-m", "rnnzoo.cli.main", *args],
        capture_output=True,
        text=True,
        env=rnnzoo_env(),
        cwd=cwd,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"rnnzoo {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc
