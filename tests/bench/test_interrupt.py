"""Interrupting a sweep (SIGINT, or SIGKILL of the runner) and running it again: finished runs
are skipped, unfinished ones resume from their checkpoints, and the final weights equal those
of an uninterrupted sweep."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bench_helpers import cli, rnnzoo_env, tiny_sweep, write_sweep
from safetensors.torch import load_file

from rnnzoo.bench import expand, sweep_from_dict
from rnnzoo.training.results import read_runs

pytestmark = pytest.mark.slow

FINAL = ("reached", "max_steps")


def _sweep_data(results: Path) -> dict:
    # one network per job, run one after the other; long enough to be caught mid-way
    train = {
        **tiny_sweep(results)["train"],
        "max_steps": 100,
        "target_performance": 1.0,
        "checkpoint_every": 10,
        "eval_every": 10,
    }
    return tiny_sweep(
        results, ensemble=False, seeds=[0, 1], methods=[{"name": "control"}], train=train
    )


def _weights(results: Path) -> dict[str, dict]:
    sweep = sweep_from_dict(_sweep_data(results))
    return {j.job_id: load_file(j.run_dir(sweep) / "model.safetensors") for j in expand(sweep)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("reference")
    path = write_sweep(root / "sweep.yaml", _sweep_data(root / "results"))
    cli("bench", "run", str(path), "--workers", "1")
    return _weights(root / "results")


def _checkpoint_step(run_dir: Path) -> int:
    pointer = run_dir / "checkpoints" / "latest.json"
    return json.loads(pointer.read_text())["step"] if pointer.is_file() else 0


@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_interrupted_sweep_resumes_to_the_same_weights(tmp_path, reference, how):
    results = tmp_path / "results"
    path = write_sweep(tmp_path / "sweep.yaml", _sweep_data(results))
    sweep = sweep_from_dict(_sweep_data(results))
    first, second = expand(sweep)
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnnzoo.cli.main", "bench", "run", str(path), "--workers", "1"],
        env=rnnzoo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    # wait until the first job is finished and the second has a checkpoint beyond step 0
    while (
        _checkpoint_step(second.run_dir(sweep)) == 0
        or not sweep.db_path.is_file()
        or not any(r["status"] in FINAL for r in read_runs(sweep.db_path))
    ):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT if how == "sigint" else signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    if how == "sigint":
        assert proc.returncode == 130 and "rerun `rnnzoo bench run" in err
        rows = {r["run_id"]: r["status"] for r in read_runs(sweep.db_path)}
        assert rows == {first.job_id: rows[first.job_id], second.job_id: "interrupted"}
    else:
        assert proc.returncode == -signal.SIGKILL
        # the orphaned worker notices, checkpoints and stops; the rerun waits for its lock
    assert read_runs(sweep.db_path)[0]["status"] in FINAL
    finished = first.run_dir(sweep) / "model.safetensors"
    stamp = finished.stat().st_mtime_ns
    saved = _checkpoint_step(second.run_dir(sweep))
    assert 0 < saved < 100

    again = cli("bench", "run", str(path), "--workers", "1")
    assert "2 jobs, 1 skipped (finished), 1 run" in again.stdout
    resumed = int(again.stdout.split("resumed from step ")[1].split(")")[0])
    assert resumed >= saved
    assert finished.stat().st_mtime_ns == stamp  # not retrained
    assert {r["status"] for r in read_runs(sweep.db_path)} <= set(FINAL)
    weights = _weights(results)
    assert weights.keys() == reference.keys()
    for job_id, tensors in weights.items():
        for name, tensor in tensors.items():
            assert tensor.equal(reference[job_id][name]), (job_id, name)
