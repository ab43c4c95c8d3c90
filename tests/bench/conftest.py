"""Fixtures of the benchmark-runner tests."""

from pathlib import Path

import pytest
from bench_helpers import tiny_sweep, write_sweep


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    return write_sweep(tmp_path / "tiny.yaml", tiny_sweep(tmp_path / "results"))
