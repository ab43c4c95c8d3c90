"""Small trained teachers for the latent-method tests, made by the real `rnnzoo train`."""

import pytest
from typer.testing import CliRunner

from rnnzoo.cli.main import app

SHORT_TASK = ["--set", "n_bits=2", "--set", "trial_ms=500", "--set", "input_end_ms=450"]


def train_teacher(out, *args):
    """Train a 16-neuron leaky tanh network on a short 2-bit flip-flop into ``out``."""
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--out",
            str(out),
            "--no-report",
            *SHORT_TASK,
            "--set",
            "n_hidden=16",
            "--set",
            "activation=tanh",
            "--set",
            "tau_ms=50",
            "--set",
            "target_performance=0.97",
            "--max-steps",
            "400",
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def full_teacher(tmp_path_factory):
    """A full-rank teacher (latent system: K = N_s = 16, identity encoding)."""
    return train_teacher(tmp_path_factory.mktemp("teacher") / "full")


@pytest.fixture(scope="session")
def rank2_teacher(tmp_path_factory):
    """A rank-2 teacher (exact latent system: E = n^T / N_s, M = m)."""
    return train_teacher(tmp_path_factory.mktemp("teacher") / "rank2", "--set", "rank=2")
