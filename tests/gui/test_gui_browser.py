"""The GUI in a real browser (Playwright driving Debian's Chromium) against `rnnzoo gui` run
as a separate process: choose the flip-flop, change a parameter and see the preview change, a
bad value's message, start a short run, see its curve get points, stop, resume; the run keeps
training when the browser is closed and when the GUI stops, and a new GUI stops it. The
screenshots are kept in test-artifacts/gui/."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from gui_helpers import wait_until
from playwright.sync_api import Page, expect

from rnnzoo import tasks
from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.curves import read_curves
from rnnzoo.gui.runs import PID_FILE, RunManager
from rnnzoo.training.results import read_runs

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "gui"
WAIT_MS = 180_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def stop_gui(process: subprocess.Popen) -> None:
    """Ctrl-C the GUI server and wait for it to end."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def server(tmp_path: Path):
    """`rnnzoo gui` on a free local port over tmp_path/runs; yields (url, runs folder, the
    server's process)."""
    port, runs = free_port(), tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    command = [sys.executable, "-m", "rnnzoo.cli.main", "gui", "--port", str(port)]
    with open(tmp_path / "gui.log", "wb") as log:
        process = subprocess.Popen(
            [*command, "--runs-dir", str(runs)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: answers(url) or process.poll() is not None, "the GUI server")
        assert process.poll() is None, (tmp_path / "gui.log").read_text()
        yield url, runs, process
    finally:
        if process.poll() is None:
            stop_gui(process)
        manager = RunManager(runs)  # a run left training by a failed test
        for pid_file in runs.glob(f"*/{PID_FILE}"):
            manager.stop(pid_file.parent)


def chart_points(page: Page) -> int:
    """Points in the live loss curve, read from the page's ECharts instance."""
    return page.locator(".rnnzoo-curves").evaluate(
        "el => getElement(el).chart.getOption().series[0].data.length"
    )


def test_browser_flow_with_screenshot(server, page: Page):
    url, runs, gui_process = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1500, "height": 1300})
    page.goto(url)
    caption = page.locator("text=N-bit flip-flop (flipflop/vanilla)")
    expect(caption).to_contain_text("3 inputs, 3 outputs", timeout=WAIT_MS)

    # choose another task, then the flip-flop
    page.get_by_label("task", exact=True).click()
    page.get_by_role("option", name="sine_generator: Sine-wave generator").click()
    expect(page.get_by_label("freq_min_hz", exact=True)).to_be_visible()
    page.get_by_label("task", exact=True).click()
    page.get_by_role("option", name="flipflop: N-bit flip-flop").click()
    expect(caption).to_contain_text("3 inputs, 3 outputs")

    # change a parameter: the preview follows
    page.get_by_label("n_bits", exact=True).fill("2")
    expect(caption).to_contain_text("2 inputs, 2 outputs")
    series = page.locator(".rnnzoo-preview").first.evaluate(
        "el => getElement(el).chart.getOption().series.map(s => s.name)"
    )
    assert [s for s in series if s.startswith("inputs")] == ["inputs: pulse_0", "inputs: pulse_1"]

    # a bad value shows the library's message under the field
    with pytest.raises(InvalidParameterError) as info:
        tasks.make("flipflop", "vanilla", n_bits=2, dt_ms=250)
    page.get_by_label("dt_ms", exact=True).fill("250")
    expect(page.get_by_text(str(info.value), exact=True)).to_be_visible()
    page.get_by_label("dt_ms", exact=True).fill("10")
    expect(page.get_by_text(str(info.value), exact=True)).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "new_run.png", full_page=True)

    # a tiny run that learns next to nothing, so it runs until stopped
    for label, text in (
        ("n_hidden", "8"),
        ("g", "0.5"),
        ("batch_size", "4"),
        ("lr", "1e-6"),
        ("eval_every", "2"),
        ("eval_batch_size", "8"),
        ("max_steps", "100000"),
    ):
        page.get_by_label(label, exact=True).fill(text)
    page.get_by_label("run name", exact=True).fill("browser_run")
    page.get_by_role("button", name="Start training").click()
    title = page.get_by_text("browser_run: ", exact=False).first
    expect(title).to_have_text("browser_run: running", timeout=WAIT_MS)
    wait_until(lambda: chart_points(page) >= 2, "points on the live curve")
    page.screenshot(path=ARTIFACTS / "runs.png", full_page=True)

    page.get_by_role("button", name="Stop").click()
    expect(title).to_have_text("browser_run: interrupted", timeout=WAIT_MS)
    run_dir = runs / "browser_run"
    first_steps = read_curves(run_dir).steps
    stopped = len(first_steps)
    assert [r["status"] for r in read_runs(runs / "results.sqlite")] == ["interrupted"]

    page.get_by_role("button", name="Resume").click()
    expect(title).to_have_text("browser_run: running", timeout=WAIT_MS)
    wait_until(lambda: chart_points(page) >= stopped + 2, "points after resuming")
    page.screenshot(path=ARTIFACTS / "resumed.png", full_page=True)

    # closing the browser, and even stopping the GUI, leaves the run training
    page.close()
    grows_from = len(read_curves(run_dir).steps)
    wait_until(lambda: len(read_curves(run_dir).steps) > grows_from + 1, "training, no browser")
    stop_gui(gui_process)
    manager = RunManager(runs)  # a new GUI finds the process from its pid file
    assert manager.is_alive(run_dir)
    grows_from = len(read_curves(run_dir).steps)
    wait_until(lambda: len(read_curves(run_dir).steps) > grows_from + 1, "training, no GUI")
    assert manager.stop(run_dir)
    wait_until(lambda: not manager.is_alive(run_dir), "the run to end")
    assert [r["status"] for r in read_runs(runs / "results.sqlite")] == ["interrupted"]
    steps = read_curves(run_dir).steps
    assert steps[:stopped] == first_steps and steps == sorted(set(steps)) and len(steps) > stopped
