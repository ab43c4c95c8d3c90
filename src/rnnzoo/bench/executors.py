"""Executors: where the jobs of a sweep run.

- `LocalExecutor`: a pool of worker processes on this machine (spawn start method, one torch
  thread each, one fresh process per job so that a crash of one job, even a segfault, cannot
  take the pool down).  Ctrl-C forwards SIGINT to the running jobs, which checkpoint and end as
  "interrupted".
- `DaskExecutor`: a real Dask distributed cluster: an existing scheduler (``address``), a
  LocalCluster bound to 127.0.0.1, or a Slurm cluster through dask-jobqueue (the ``slurm``
  extra).  Workers need rnnzoo importable and the results folder on a shared filesystem.

Both call `on_done(result)` in the parent for every finished job, in completion order.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any

from rnnzoo.bench.sweep import DaskSettings
from rnnzoo.bench.worker import JobTask, error_line, record_end, run_job
from rnnzoo.errors import InvalidParameterError

Done = Callable[[dict[str, Any]], None]


def default_workers() -> int:
    """Worker processes that fit this machine: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def interrupt_on_signals() -> None:
    """Turn SIGINT and SIGTERM (Slurm's warning before a job is killed) into KeyboardInterrupt,
    so that training checkpoints and ends as "interrupted"."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def _job_entry(task: JobTask, pipe: Any) -> None:
    """Body of a local worker process: run the job, send its result to the parent (when the
    parent is gone, as after a kill -9 of the runner, the worker ends quietly: its rows are
    written).  The process leaves the terminal's process group, so a Ctrl-C reaches it once,
    forwarded by the parent (a second SIGINT could cut its checkpoint short)."""
    os.setpgid(0, 0)
    interrupt_on_signals()  # also when the sweep was started with SIGINT ignored (nohup, &)
    try:
        result = run_job(task)
    except KeyboardInterrupt:  # before training started (e.g. while importing torch)
        result = record_end(task, "interrupted")
    try:
        pipe.send(result)
        pipe.close()
    except OSError:  # the runner is gone (killed): the job's rows are written; end quietly
        pass


@dataclass
class _Worker:
    process: Any
    pipe: Any  # the parent's end: the job's result arrives here
    task: JobTask


class LocalExecutor:
    """Run jobs in at most ``workers`` processes at once on this machine."""

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise InvalidParameterError(f"'--workers' must be >= 1; got {workers}")
        self.workers = workers or default_workers()

    def run(self, tasks: list[JobTask], on_done: Done) -> None:
        ctx = mp.get_context("spawn")
        pending = list(reversed(tasks))
        running: list[_Worker] = []
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    task = pending.pop()
                    parent_end, child_end = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_job_entry, args=(task, child_end))
                    proc.start()
                    child_end.close()
                    running.append(_Worker(proc, parent_end, task))
                _collect(running, on_done)
        except KeyboardInterrupt:
            for worker in running:
                if worker.process.is_alive():
                    os.kill(worker.process.pid, signal.SIGINT)
            while running:  # each job checkpoints, records "interrupted" and reports
                _collect(running, on_done)
            raise


def _collect(running: list[_Worker], on_done: Done) -> None:
    """Wait until a job reports or its process ends; hand on its result (a process that ended
    without one, e.g. killed or crashed, is recorded as failed)."""
    ready = set(wait([w.pipe for w in running], timeout=1.0))
    for worker in list(running):
        if worker.pipe not in ready:
            continue
        try:
            result = worker.pipe.recv()
        except EOFError:  # the process died before sending its result
            worker.process.join()
            code = worker.process.exitcode
            result = record_end(worker.task, "failed", f"worker process died (exit code {code})")
        worker.process.join()
        worker.pipe.close()
        running.remove(worker)
        on_done(result)


class DaskExecutor:
    """Run jobs on a Dask distributed cluster (one job per Dask task)."""

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        settings: DaskSettings | None = None,
    ) -> None:
        if workers is not None and workers < 1:
            raise InvalidParameterError(f"'--workers' must be >= 1; got {workers}")
        self.address = address
        self.workers = workers or default_workers()
        self.settings = settings or DaskSettings()

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A connected `distributed.Client` (and the cluster it started, closed on exit)."""
        try:
            from distributed import Client
        except ImportError:
            raise InvalidParameterError(
                "the dask executor needs dask[distributed]: pip install 'rnnzoo[dask]'"
            ) from None
        if self.address is not None:
            try:
                client = Client(self.address, timeout="10s")
            except OSError as exc:
                raise InvalidParameterError(
                    f"'--scheduler': cannot reach '{self.address}': {exc}"
                ) from None
            with client:
                yield client
            return
        with self._cluster() as cluster, Client(cluster) as client:
            yield client

    @contextmanager
    def _cluster(self) -> Iterator[Any]:
        if self.settings.cluster == "slurm":
            cluster = slurm_cluster(self.settings)
            cluster.scale(jobs=self.settings.jobs)
        else:
            from distributed import LocalCluster

            cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
        with cluster:
            yield cluster

    def run(self, tasks: list[JobTask], on_done: Done) -> None:
        from distributed import as_completed

        with self.client() as client:
            futures = {
                client.submit(run_job, task, key=f"rnnzoo-{task.job.job_id}", pure=False): task
                for task in tasks
            }
            for future in as_completed(futures):
                task = futures[future]
                try:
                    on_done(future.result())
                except Exception as exc:  # the worker died (e.g. KilledWorker)
                    on_done(record_end(task, "failed", error_line(exc)))


def slurm_cluster(settings: DaskSettings) -> Any:
    """dask-jobqueue's SLURMCluster built from the sweep's ``dask.slurm`` arguments."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise InvalidParameterError(
            "'dask.cluster: slurm' needs dask-jobqueue: pip install 'rnnzoo[slurm]'"
        ) from None
    try:
        return SLURMCluster(**settings.slurm)
    except TypeError as exc:
        raise InvalidParameterError(f"'dask.slurm': {exc}") from None
