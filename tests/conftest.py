"""Test-wide settings: one torch thread (2 shared cores), headless matplotlib."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the tasks layer is tested without torch too
    pass


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say where the GUI tests' browser screenshots are (kept as test artifacts)."""
    from pathlib import Path

    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts" / "gui"
    if artifacts.is_dir() and any(artifacts.glob("*.png")):
        terminalreporter.write_line(f"GUI screenshots: {artifacts}")
