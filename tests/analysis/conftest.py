"""Shared fixtures: small trained flip-flop runs, made by the real `rnnzoo train` command."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rnnzoo.cli.main import app

MAIN_JOB = Path(__file__).resolve().parents[2] / "examples" / "main_job.yaml"


def train_run(out, *args):
    """Train with the CLI into ``out`` (no report); returns ``out``."""
    result = CliRunner().invoke(app, ["train", "--out", str(out), "--no-report", *args])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def two_bit_run(tmp_path_factory):
    """The main job's network and training on the 2-bit flip-flop (about 50 steps)."""
    out = tmp_path_factory.mktemp("ff2") / "run"
    return train_run(out, "--config", str(MAIN_JOB), "--set", "n_bits=2")


@pytest.fixture(scope="session")
def tiny_ensemble_run(tmp_path_factory):
    """Two barely trained 12-neuron networks on a short 1-bit flip-flop (shapes and errors)."""
    return train_run(
        tmp_path_factory.mktemp("ens") / "run",
        "--ensemble",
        "2",
        "--max-steps",
        "4",
        "--set",
        "n_bits=1",
        "--set",
        "n_hidden=12",
        "--set",
        "trial_ms=400",
        "--set",
        "input_end_ms=300",
        "--set",
        "batch_size=8",
        "--set",
        "eval_batch_size=8",
    )
