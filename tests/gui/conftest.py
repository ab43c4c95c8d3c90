"""GUI test helpers: NiceGUI's simulated user on a fresh runs folder, and waiting for runs."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import pytest_asyncio
from nicegui.testing import User, user_simulation

from rnnzoo.gui.app import create_root
from rnnzoo.gui.runs import PID_FILE, RunManager


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


@pytest.fixture
def page():
    """A page of Debian's Chromium driven by Playwright (never a downloaded browser).

    Started and closed within the test: Playwright's sync API runs an event loop while it is
    open, which would clash with the asyncio tests that run later in the same process."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(180_000)  # a deadline on a loaded machine, not a speed check
            yield page
        finally:
            browser.close()
