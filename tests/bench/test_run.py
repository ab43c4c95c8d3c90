"""The runner end to end on tiny sweeps: local worker processes, ensembles equal to
standalone networks, skipping finished runs, crashed runs recorded as failed."""

from __future__ import annotations

import pytest
import torch
from bench_helpers import cli, tiny_sweep, write_sweep
from safetensors.torch import load_file

from rnnzoo.bench import LocalExecutor, expand, run_sweep, sweep_from_dict
from rnnzoo.bench.worker import read_metrics
from rnnzoo.training.results import read_runs


def _rows(db):
    return {r["run_id"]: r for r in read_runs(db)}


def test_local_sweep_end_to_end(tmp_path):
    sweep = sweep_from_dict(tiny_sweep(tmp_path / "res"))
    outcome = run_sweep(sweep, LocalExecutor(workers=2))
    assert outcome.jobs == 2 and not outcome.failed and not outcome.skipped
    rows = _rows(sweep.db_path)
    runs = [run for job in expand(sweep) for run in job.runs]
    assert set(rows) == {run.run_id for run in runs}
    for job in expand(sweep):
        metrics = read_metrics(job.run_dir(sweep))
        for i, run in enumerate(job.runs):
            row = rows[run.run_id]
            assert row["sweep"] == "tiny" and row["member"] == i and row["seed"] == run.seed
            assert row["method_label"] == run.method_label and row["error"] is None
            assert row["run_dir"] == str(job.run_dir(sweep).resolve())
            # the row follows the member's own evaluations
            perf = [m["performance_members"][i] for m in metrics]
            hits = [m["step"] for m, p in zip(metrics, perf, strict=True) if p >= 0.8]
            if hits:
                assert row["status"] == "reached" and row["steps_to_criterion"] == hits[0]
                assert row["final_performance"] == perf[hits[0] // 5 - 1]
            else:
                assert row["status"] == "max_steps" and row["steps"] == 20
                assert row["final_performance"] == perf[-1]
        assert (job.run_dir(sweep) / "model.safetensors").is_file()
    assert len(read_runs(sweep.jobs_db_path)) == 2  # the trainer's own rows, one per job
    # a rerun skips the finished runs: nothing is retrained
    model = expand(sweep)[0].run_dir(sweep) / "model.safetensors"
    stamp = model.stat().st_mtime_ns
    again = run_sweep(sweep, LocalExecutor(workers=2))
    assert len(again.skipped) == 2 and not again.results
    assert model.stat().st_mtime_ns == stamp and _rows(sweep.db_path) == rows


def test_ensemble_members_equal_standalone_networks(tmp_path):
    """Runs that differ only by seed give the same rows trained as one ensemble or apart."""
    train = {**tiny_sweep(tmp_path)["train"], "max_steps": 30, "target_performance": 0.85}
    common = {"methods": [{"name": "control"}], "train": train}
    ens = sweep_from_dict(tiny_sweep(tmp_path / "ens", **common))
    solo = sweep_from_dict(tiny_sweep(tmp_path / "solo", ensemble=False, **common))
    run_sweep(ens, LocalExecutor(workers=1))
    run_sweep(solo, LocalExecutor(workers=2))
    a, b = _rows(ens.db_path), _rows(solo.db_path)
    assert set(a) == set(b) and len(a) == 3
    keys = ("status", "steps", "steps_to_criterion", "final_performance", "reached_criterion")
    for run_id in a:
        assert {k: a[run_id][k] for k in keys} == {k: b[run_id][k] for k in keys}
    assert len({a[r]["run_dir"] for r in a}) == 1 and len({b[r]["run_dir"] for r in b}) == 3
    # a member that never reached the target trained as long as its standalone run: same weights
    for run_id, row in b.items():
        if row["status"] == "max_steps":
            member = a[run_id]["member"]
            alone = load_file(f"{row['run_dir']}/model.safetensors")
            together = load_file(f"{a[run_id]['run_dir']}/model.safetensors")
            for name, tensor in alone.items():
                torch.testing.assert_close(together[name][member], tensor[0], rtol=1e-5, atol=1e-6)


CRASHING_TASK = """
from rnnzoo.tasks import register
from rnnzoo.tasks.zoo.flipflop import FlipFlop


@register
class CrashingFlipFlop(FlipFlop):
    name = "crashing_flipflop"
    aliases = ()

    def generate(self, batch_size, seed, *args, index=0, split="train", **kwargs):
        if split == "train" and index >= 3:
            raise RuntimeError("the trial generator broke at step 3")
        return super().generate(batch_size, seed, *args, index=index, split=split, **kwargs)
"""


def test_a_crashing_run_is_recorded_as_failed_and_the_others_finish(tmp_path):
    # a plugin task whose generator raises at training step 3 (impossible combinations, such
    # as CD on a GRU, are refused when the sweep is loaded: tests/bench/test_sweep.py)
    plugin = tmp_path / "crashing.py"
    plugin.write_text(CRASHING_TASK)
    data = tiny_sweep(
        tmp_path / "res",
        tasks=[{"task": "flipflop", "params": {"n_bits": 1}}, {"task": "crashing_flipflop"}],
        methods=[{"name": "control"}],
        seeds=[0],
    )
    sweep_path = write_sweep(tmp_path / "crash.yaml", data)
    result = cli(
        "--plugin", str(plugin), "bench", "run", str(sweep_path), "--workers", "2",
        check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "error: 1 job(s) failed" in result.stderr
    rows = read_runs(tmp_path / "res" / "results.sqlite")
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 2 and len(failed) == 1
    assert failed[0]["task"] == "crashing_flipflop"
    assert "RuntimeError" in failed[0]["error"] and "step 3" in failed[0]["error"]
    assert all(r["status"] in ("reached", "max_steps") for r in rows if r not in failed)
    # the report leaves the failed run out and says so
    out = tmp_path / "report"
    cli(
        "--plugin", str(plugin), "bench", "report", str(sweep_path), "--out", str(out), cwd=tmp_path
    )
    assert "1 not finished" in (out / "table.md").read_text()


@pytest.mark.slow
def test_a_worker_process_that_dies_is_recorded_as_failed(tmp_path, monkeypatch):
    """A job whose process dies without reporting (here: killed) is failed; the pool goes on."""
    import os
    import signal
    import threading
    import time

    sweep = sweep_from_dict(
        tiny_sweep(
            tmp_path / "res",
            ensemble=False,
            seeds=[0, 1],
            methods=[{"name": "control"}],
            train={**tiny_sweep(tmp_path)["train"], "max_steps": 400, "target_performance": 1.0},
        )
    )
    executor = LocalExecutor(workers=1)
    killed = []

    def kill_first_worker():
        while not killed:
            for proc in __import__("multiprocessing").active_children():
                os.kill(proc.pid, signal.SIGKILL)
                killed.append(proc.pid)
                return
            time.sleep(0.05)

    threading.Thread(target=kill_first_worker, daemon=True).start()
    outcome = run_sweep(sweep, executor)
    assert len(outcome.failed) == 1 and "worker process died" in outcome.failed[0]["error"]
    rows = read_runs(sweep.db_path)
    assert sorted(r["status"] for r in rows)[0] == "failed"
    assert sorted(r["status"] for r in rows)[1] in ("max_steps", "reached")
