"""Helpers of the GUI tests: waiting for a condition, and finding and driving page elements
with NiceGUI's simulated user."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np

WAIT_S = 180.0  # generous (a loaded machine): a deadline for a condition, never a speed check


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


def element(user, marker: str):
    (found,) = user.find(marker=marker).elements
    return found


def set_text(user, marker: str, text: str) -> None:
    user.find(marker=marker).clear().type(text)


def choose(user, marker: str, label: str) -> None:
    user.find(marker=marker).click()
    user.find(label).click()


def series_data(chart, name: str) -> np.ndarray:
    (series,) = [s for s in chart.options["series"] if s["name"] == name]
    return np.asarray(series["data"], dtype=float)


def row_of(user, name: str) -> dict | None:
    table = element(user, "runs")
    return next((r for r in table.rows if r["name"] == name), None)
