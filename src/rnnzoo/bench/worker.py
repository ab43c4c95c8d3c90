"""One job in a worker process: train (or resume) it in its run directory and record one row
per run (network) in the sweep's results table.

Rows of a job's runs: at start "running"; at the end each member's row is derived from the
member's held-out evaluations in metrics.jsonl, as the standalone run would have recorded it:
a member that reached the target at evaluation step s has status "reached", steps s, the
wall-clock and FLOPs at s (FLOPs per network: the ensemble's count / M; wall-clock: the job's,
shared by its members) and the performance at s.  A member that never reached it takes the
job's end: "max_steps", "interrupted" or "diverged".  A member that diverges stops alone (its
row: "diverged" at the step it diverged, with the reason in ``error``) while the other members
train on; "stopped" remains for members of an ensemble that ended otherwise.  A job that raises
is recorded as "failed" with the error, and the worker returns normally.

A stage sequence (`rnnzoo.bench.stages`) trains its stages in ``<run_dir>/stage<i>/``; its
rows are the last stage's with the per-stage performances.

A job holds an exclusive lock on ``<run_dir>/.lock`` while it trains, so a second sweep (or an
orphan of a killed one) never trains the same directory at once; a worker whose parent process
died checkpoints and stops at the next step.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rnnzoo.bench.sweep import Job, Run
from rnnzoo.training.lock import run_lock
from rnnzoo.training.results import record_runs

FINISHED = ("reached", "max_steps", "diverged", "stopped")


@dataclass(frozen=True)
class JobTask:
    """What a worker needs: the job, where it trains and where its rows go (picklable)."""

    job: Job
    sweep: str
    run_dir: Path
    db: Path
    jobs_db: Path
    plugins: tuple[str, ...] = ()  # loaded in the worker (it may run on another machine)
    analysis: Any = None  # the sweep's AnalysisSection (rnnzoo.bench.mechanisms), or None
    analyse_only: bool = False  # training finished before: run the missing analyses only


def run_job(task: JobTask) -> dict[str, Any]:
    """Train ``task.job`` (resuming from its latest checkpoint) and record its rows.

    Returns {"job_id", "status" (done, interrupted or failed), "resumed_from" (step or None),
    "statuses" (one per run), "error"}.
    """
    import torch

    from rnnzoo.plugins import add_plugins

    torch.set_num_threads(1)
    job = task.job
    try:
        add_plugins(task.plugins)  # the user's tasks and networks, as in the sweep's process
    except Exception as exc:
        return record_end(task, "failed", error_line(exc))
    if task.analyse_only:
        return _analyse(
            task,
            {
                "job_id": job.job_id,
                "status": "done",
                "resumed_from": None,
                "statuses": ["analysed"] * len(job.runs),
                "error": None,
            },
        )
    record_rows(task, [{"status": "running"} for _ in job.runs])
    try:
        with run_lock(task.run_dir, wait=True):  # a second sweep waits for this job
            resumed_from, rows = _train(task)
    except KeyboardInterrupt:
        return record_end(task, "interrupted")
    except Exception as exc:
        return record_end(task, "failed", error_line(exc))
    record_rows(task, [{"error": None, **row} for row in rows])
    outcome = {
        "job_id": job.job_id,
        "status": "done",
        "resumed_from": resumed_from,
        "statuses": [row["status"] for row in rows],
        "error": None,
    }
    return outcome if task.analysis is None else _analyse(task, outcome)


def _analyse(task: JobTask, outcome: dict[str, Any]) -> dict[str, Any]:
    """Run the sweep's analyses on the job's trained networks (`rnnzoo.bench.mechanisms`):
    a failure makes the job "failed" with the error (its training rows stay), an interrupt
    "interrupted"."""
    from rnnzoo.bench.mechanisms import analyse_job

    try:
        with run_lock(task.run_dir, wait=True):
            result = analyse_job(task, task.analysis)
    except KeyboardInterrupt:
        return {**outcome, "status": "interrupted"}
    if result["status"] == "failed":
        return {**outcome, "status": "failed", "error": f"analysis: {result['error']}"}
    return outcome


def error_line(exc: BaseException) -> str:
    """An exception as one line: "Type: first line of the message"."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def record_end(task: JobTask, status: str, error: str | None = None) -> dict[str, Any]:
    """Record every run of a job that did not finish as ``status`` ("interrupted", or "failed"
    with ``error``) and return the job's result."""
    record_rows(task, [{"status": status, "error": error} for _ in task.job.runs])
    return {
        "job_id": task.job.job_id,
        "status": status,
        "resumed_from": None,
        "statuses": [status] * len(task.job.runs),
        "error": error,
    }


def _train(task: JobTask) -> tuple[int | None, list[dict[str, Any]]]:
    """Train the job (a plain run, or a stage sequence's unfinished stages,
    `rnnzoo.bench.stages`); returns (the step it resumed from or None, one row per run)."""
    from rnnzoo.bench.stages import train_stages

    job = task.job
    if job.stages:
        return train_stages(task, _train_dir)
    resumed_from, result, records = _train_dir(task, job.config, task.run_dir, job.job_id)
    return resumed_from, member_rows(job, result, records)


def _train_dir(
    task: JobTask, config: Any, run_dir: Path, run_id: str, net: Any = None
) -> tuple[int | None, Any, list[dict[str, Any]]]:
    """Train (or resume) ``config`` in ``run_dir`` from ``net`` (None: its seeded
    initialisation); returns (resumed from step or None, TrainResult, evaluation records)."""
    from rnnzoo.training.checkpoint import latest_checkpoint
    from rnnzoo.training.trainer import Trainer

    parent = os.getppid()

    def stop_when_orphaned(_record: dict[str, Any]) -> None:
        if os.getppid() != parent:
            raise KeyboardInterrupt  # the trainer checkpoints and ends as "interrupted"

    trainer = Trainer(
        config, run_dir, db=task.jobs_db, progress=False, callback=stop_when_orphaned, net=net
    )
    trainer.run_id = run_id
    latest = latest_checkpoint(run_dir / "checkpoints")
    resumed_from = None
    if latest is not None:
        resumed_from = int(json.loads((latest.parent / "latest.json").read_text())["step"])
    result = trainer.run(resume=latest is not None)
    if result.status == "interrupted":
        raise KeyboardInterrupt
    return resumed_from, result, read_metrics(run_dir)


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The evaluation records of a run directory's metrics.jsonl (events left out)."""
    from rnnzoo.training.metrics import METRICS_FILE, read_metrics

    return [r for r in read_metrics(run_dir / METRICS_FILE) if "performance_members" in r]


def member_rows(job: Job, result: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One results row per run of ``job`` from the job's result and evaluation records."""
    members = len(job.runs)
    target = result.target_performance
    batch_size = job.config.train.batch_size
    alone = {d["member"]: d for d in result.diverged_members}
    diverged = set((result.divergence or {}).get("members", [])) | set(alone)
    rows = []
    for i in range(members):
        scores = [(r, r["performance_members"][i]) for r in records]
        hit = next((r for r, v in scores if v is not None and v >= target), None)
        common = {"target_performance": target, "reached_criterion": hit is not None}
        if hit is not None:
            flops = hit.get("flops")
            rows.append(
                {
                    **common,
                    "status": "reached",
                    "steps": hit["step"],
                    "wall_clock_s": hit["wall_clock_s"],
                    "final_performance": hit["performance_members"][i],
                    "flops": None if flops is None else flops / members,
                    "steps_to_criterion": hit["step"],
                    "trials_to_criterion": hit["step"] * batch_size,
                    "wall_clock_to_criterion_s": hit["wall_clock_s"],
                    "flops_to_criterion": None if flops is None else flops / members,
                }
            )
            continue
        status = result.status
        if status == "diverged" or i in alone:
            status = "diverged" if i in diverged or members == 1 else "stopped"
        last = next((v for _r, v in reversed(scores) if v is not None), None)
        rows.append(
            {
                **common,
                "status": status,
                "steps": alone[i]["step"] if i in alone else result.steps,
                "wall_clock_s": result.wall_clock_s,
                "final_performance": last,
                "flops": result.flops / members,
                "steps_to_criterion": None,
                "trials_to_criterion": None,
                "wall_clock_to_criterion_s": None,
                "flops_to_criterion": None,
                "error": None
                if status != "diverged"
                else json.dumps(alone.get(i, result.divergence)),
            }
        )
    return rows


def _identity(task: JobTask, index: int) -> dict[str, Any]:
    run: Run = task.job.runs[index]
    return {
        "run_id": run.run_id,
        **run.config.identity(),
        "seed": run.seed,
        "sweep": task.sweep,
        "member": index,
        "task_label": run.task_label,
        "model_label": run.model_label,
        "method_label": run.method_label,
        "rule_label": run.rule_label,
        "sequence_label": run.sequence_label,
        "run_dir": str(task.run_dir.resolve()),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def record_rows(task: JobTask, rows: list[dict[str, Any]]) -> None:
    """Write one row per run of the job (``rows[i]`` for member i) with its identity columns."""
    record_runs(task.db, [{**_identity(task, i), **row} for i, row in enumerate(rows)])
