"""The resumable sweep runner: expand the sweep, skip finished runs, run the rest on an
executor, and record every run in the sweep's results table.

A run is finished when its row has a final status (reached, max_steps, diverged, stopped);
a job is skipped when all its runs are finished (and, with an ``analysis:`` section, hold its
current analysis; a trained job without it runs the missing analyses only).  Every other job
(never started, running when the sweep was killed, interrupted, failed) runs again and
resumes from its latest checkpoint, so that its final weights equal those of an
uninterrupted sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rnnzoo.bench.sweep import Job, Sweep, expand
from rnnzoo.bench.worker import FINISHED, JobTask
from rnnzoo.training.results import read_runs


class Executor(Protocol):
    def run(self, tasks: list[JobTask], on_done: Callable[[dict[str, Any]], None]) -> None: ...


@dataclass
class SweepOutcome:
    """What a `run_sweep` call did."""

    jobs: int
    skipped: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] == "failed"]

    @property
    def interrupted(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] == "interrupted"]


def finished_run_ids(sweep: Sweep) -> set[str]:
    """Ids of the runs whose rows in the sweep's results table have a final status."""
    if not sweep.db_path.is_file():
        return set()
    return {row["run_id"] for row in read_runs(sweep.db_path) if row["status"] in FINISHED}


def analysed_run_ids(sweep: Sweep) -> set[str]:
    """Ids of the runs whose rows hold the sweep's current analysis, done or skipped
    (`rnnzoo.bench.mechanisms`); empty without an analysis section."""
    from rnnzoo.bench.mechanisms import DONE

    if sweep.analysis is None or not sweep.db_path.is_file():
        return set()
    current = sweep.analysis.analysis_id()
    return {
        row["run_id"]
        for row in read_runs(sweep.db_path)
        if row["analysis_id"] == current and row["analysis_status"] in DONE
    }


def job_tasks(sweep: Sweep, jobs: list[Job], trained: set[str] = frozenset()) -> list[JobTask]:
    """The worker payloads of ``jobs`` (absolute paths: workers may run elsewhere), with the
    plugins this process has loaded (`rnnzoo.plugins`) and the sweep's analysis section; a
    job whose runs are all in ``trained`` only runs its analyses."""
    from rnnzoo.plugins import active_plugins

    return [
        JobTask(
            job=job,
            sweep=sweep.name,
            run_dir=job.run_dir(sweep).resolve(),
            db=sweep.db_path.resolve(),
            jobs_db=sweep.jobs_db_path.resolve(),
            plugins=tuple(active_plugins()),
            analysis=sweep.analysis,
            analyse_only=all(run.run_id in trained for run in job.runs),
        )
        for job in jobs
    ]


def check_jobs_fit(jobs: list[Job]) -> None:
    """Raise `InvalidParameterError` naming the first job that needs more memory than the
    budget (`rnnzoo.training.budget`), before any job starts or any file is written."""
    from rnnzoo.errors import InvalidParameterError
    from rnnzoo.training.budget import check_config_fits

    for job in jobs:
        try:
            check_config_fits(job.config)
        except InvalidParameterError as exc:
            run = job.runs[0]
            labels = f"{run.task_label} x {run.model_label} x {run.method_label}"
            raise InvalidParameterError(f"job {job.job_id} ({labels}): {exc}") from None


def run_sweep(
    sweep: Sweep,
    executor: Executor,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> SweepOutcome:
    """Run every unfinished job of ``sweep`` on ``executor``; ``on_done`` sees each job's
    result as it finishes.  KeyboardInterrupt propagates after the running jobs checkpointed."""
    jobs = expand(sweep)
    trained = finished_run_ids(sweep)
    done = trained & analysed_run_ids(sweep) if sweep.analysis is not None else trained
    finished = {job.job_id for job in jobs if all(run.run_id in done for run in job.runs)}
    todo = [job for job in jobs if job.job_id not in finished]
    check_jobs_fit(todo)
    outcome = SweepOutcome(jobs=len(jobs), skipped=sorted(finished))

    def collect(result: dict[str, Any]) -> None:
        outcome.results.append(result)
        if on_done is not None:
            on_done(result)

    sweep.results_dir.mkdir(parents=True, exist_ok=True)
    executor.run(job_tasks(sweep, todo, trained), collect)
    return outcome
