"""GUI test helpers: NiceGUI's simulated user on a fresh runs folder, and waiting for runs."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_asyncio

from nicegui.testing import User, user_simulation

from rnnzoo.gui.app import create_root
from rnnzoo.gui.runs import PID_FILE, RunManager

WAIT_S = 90.0  # generous: a deadline for a condition, never a speed check


@pytest.fixture
def manager(tmp_path: Path) -> RunManager:
    """A run manager on an empty runs folder; any training process still alive at the end is
    stopped (SIGINT, then SIGKILL)."""
    runs = RunManager(tmp_path / "runs")
    yield runs
    for pid_file in runs.runs_dir.glob(f"*/{PID_FILE}"):
        run_dir = pid_file.parent
        if runs.stop(run_dir):
            deadline = time.monotonic() + 20
            while runs.is_alive(run_dir) and time.monotonic() < deadline:
                time.sleep(0.1)
        if runs.is_alive(run_dir):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


@pytest_asyncio.fixture
async def user(manager: RunManager) -> User:
    """NiceGUI's simulated user (nicegui.testing.User) on the rnnzoo GUI over ``manager``."""
    async with user_simulation(root=create_root(manager)) as simulated:
        await simulated.open("/")
        yield simulated


async def eventually(condition: Callable[[], object], what: str, timeout_s: float = WAIT_S):
    """Wait (letting the GUI's timers run) until ``condition()`` is truthy; return its value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = WAIT_S):
    """Like `eventually`, for synchronous tests (e.g. with a real browser)."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return value


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # Debian's Chromium in a container, headless, no network of its own
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's Chromium (never a downloaded browser)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
