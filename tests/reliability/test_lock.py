"""One writer per run folder: while a process trains in a folder (started by the GUI, the
command line or a sweep), a second writer gets a one-line error naming the holder's pid and
changes nothing; the lock is released however the holder ends."""

from __future__ import annotations

import json
import threading
import time

import pytest
from helpers import invoke, one_line_error, rnnzoo_process, small

from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.runs import PID_FILE, RunManager
from rnnzoo.training.results import read_runs

WAIT_S = 180


def wait_for(condition, what):
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def records(run):
    path = run / "metrics.jsonl"
    return path.read_text().splitlines() if path.is_file() else []


def test_second_writer_is_refused_while_a_gui_run_trains(tmp_path):
    manager = RunManager(tmp_path / "runs")
    config = small(max_steps=1_000_000, lr=1e-6, eval_every=2, checkpoint_every=2)
    run = manager.start("a", config)
    try:
        wait_for(lambda: len(records(run)) >= 2, "the GUI's run to train")
        holder = int((run / PID_FILE).read_text())
        saved = (run / "config.yaml").read_text()
        # the command line resuming the GUI's run, in this process and as a real process
        line = one_line_error(invoke("train", "--out", str(run), "--resume", "--no-report"))
        assert f"in use by process {holder}" in line
        other = rnnzoo_process("train", "--out", str(run), "--seed", "5", "--no-report")
        _, stderr = other.communicate(timeout=WAIT_S)
        assert other.returncode == 2 and f"in use by process {holder}" in stderr, stderr
        assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
        assert (run / "config.yaml").read_text() == saved  # the holder's config, untouched
    finally:
        manager.stop(run)
        wait_for(lambda: not manager.is_alive(run), "the GUI's run to stop")
    rows = read_runs(tmp_path / "runs" / "results.sqlite")
    assert [r["status"] for r in rows] == ["interrupted"]  # one row, final: no orphan
    steps = [json.loads(x)["step"] for x in records(run)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # one writer's records
    # the lock went with its holder: the command line resumes the run now
    result = invoke("train", "--out", str(run), "--resume", "--max-steps", str(steps[-1] + 2))
    assert result.exit_code == 0, result.output


def test_lock_is_reentrant_in_a_thread_and_exclusive_across_threads(tmp_path):
    from rnnzoo.training.lock import LOCK_FILE, run_lock

    run = tmp_path / "run"
    errors = []

    def other_thread():
        try:
            with run_lock(run):
                pass
        except InvalidParameterError as exc:
            errors.append(str(exc))

    with run_lock(run), run_lock(run):  # the sweep worker around the trainer
        (run / "config.yaml").write_text("x")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert len(errors) == 1 and "in use by process" in errors[0]
    assert (run / LOCK_FILE).is_file()  # kept: the folder holds a run


def test_a_refused_start_leaves_no_folder(tmp_path):
    from rnnzoo.training.lock import run_lock

    run = tmp_path / "new"
    with pytest.raises(RuntimeError), run_lock(run):
        raise RuntimeError("the run failed before writing anything")
    assert not run.exists()


def test_a_waiting_writer_gets_the_lock_when_the_holder_ends(tmp_path):
    """`run_lock(wait=True)` (a second sweep's worker) blocks while another holds the folder."""
    from rnnzoo.training.lock import run_lock

    run = tmp_path / "run"
    order = []

    def waiter():
        with run_lock(run, wait=True):
            order.append("waiter")

    with run_lock(run):
        (run / "config.yaml").write_text("x")  # a run's folder: kept when the holder ends
        thread = threading.Thread(target=waiter)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()  # still waiting: the holder has not ended
        order.append("holder")
    thread.join(WAIT_S)
    assert order == ["holder", "waiter"]
