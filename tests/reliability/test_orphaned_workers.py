"""After the sweep runner is killed (kill -9), its orphaned worker checkpoints, records its
run as interrupted and exits quietly: no BrokenPipeError traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import env

from rnnzoo.training.results import read_runs

pytestmark = pytest.mark.slow
WAIT_S = 180


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended (nobody may reap it in a container)


def job_processes(pid: int) -> list[int]:
    """The worker processes (multiprocessing spawn children running a job) of process pid."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def test_an_orphaned_worker_ends_quietly(tmp_path):
    sweep = {
        "name": "orphans",
        "results": str(tmp_path / "results"),
        "tasks": [{"task": "flipflop", "params": {"n_bits": 1}}],
        "models": [{"kind": "leaky_rate", "options": {"n_hidden": 8}}],
        "train": {"max_steps": 1_000_000, "lr": 1e-6, "batch_size": 4, "eval_every": 5,
                  "eval_batch_size": 8, "checkpoint_every": 5},
    }  # fmt: skip
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    with open(tmp_path / "stderr.txt", "w") as err:  # inherited by the worker
        runner = subprocess.Popen(
            [sys.executable, "-m", "rnnzoo.cli.main", "bench", "run", str(tmp_path / "sweep.yaml")],
            stdout=subprocess.DEVNULL, stderr=err, env=env(),
        )  # fmt: skip
    runs = tmp_path / "results" / "runs"
    deadline = time.monotonic() + WAIT_S
    while not any(p.read_text() for p in runs.glob("*/metrics.jsonl")):  # a worker trains
        assert runner.poll() is None, (tmp_path / "stderr.txt").read_text()
        assert time.monotonic() < deadline, "the sweep did not start training"
        time.sleep(0.1)
    (run_dir,) = runs.iterdir()
    (worker,) = job_processes(runner.pid)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    while alive(worker):
        assert time.monotonic() < deadline, "the orphaned worker did not stop"
        time.sleep(0.1)
    stderr = (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    (row,) = read_runs(tmp_path / "results" / "results.sqlite")
    assert row["status"] == "interrupted"
    pointer = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    assert pointer["step"] > 0  # it checkpointed on its way out
