"""`rnnzoo bench`: plan, run and report a sweep over task x model x method x rule x seed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnzoo.cli import bench_scaling
from rnnzoo.cli._common import JsonOpt, fail, one_line_errors, print_json
from rnnzoo.errors import InvalidParameterError

app = typer.Typer(help="Benchmark sweeps: plan, run, report.", no_args_is_help=True)
app.add_typer(bench_scaling.app, name="scaling")

SweepFile = Annotated[Path, typer.Argument(help="sweep file (YAML)")]
Workers = Annotated[
    int | None, typer.Option("--workers", help="parallel workers (default: this machine's CPUs)")
]


@app.command("plan")
def plan(file: SweepFile, json: JsonOpt = False, workers: Workers = None) -> None:
    """The runs a sweep expands to and an estimate of their cost."""
    _plan(file, json, workers)


@one_line_errors
def _plan(file: Path, as_json: bool, workers: int | None) -> None:
    from rnnzoo.bench.cost import job_cost, total_seconds
    from rnnzoo.bench.executors import default_workers
    from rnnzoo.bench.sweep import expand, load_sweep

    if workers is not None and workers < 1:
        raise InvalidParameterError(f"'--workers' must be >= 1; got {workers}")
    sweep = load_sweep(file)
    jobs = expand(sweep)
    costs = [job_cost(job) for job in jobs]
    workers = workers or default_workers()
    total = total_seconds(costs, workers)
    if as_json:
        print_json(
            {
                "sweep": sweep.name,
                "results": str(sweep.results_dir),
                "runs": [_run_json(run) for job in jobs for run in job.runs],
                "jobs": [
                    {**cost.as_dict(), "runs": [r.run_id for r in job.runs], **_labels(job)}
                    for job, cost in zip(jobs, costs, strict=True)
                ],
                "total_flops": sum(c.flops for c in costs),
                "workers": workers,
                "estimated_seconds": total,
            }
        )
        return
    n_runs = sum(len(job.runs) for job in jobs)
    typer.echo(f"sweep {sweep.name}: {n_runs} runs in {len(jobs)} jobs -> {sweep.results_dir}")
    typer.echo(
        f"{'job':16}  {'task':14} {'model':12} {'method':10} {'rule':10} {'seeds':>9} "
        f"{'T':>6} {'flops':>9} {'est. s':>8}"
    )
    for job, cost in zip(jobs, costs, strict=True):
        seeds = [r.seed for r in job.runs]
        span = f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}"
        labels = _labels(job)
        typer.echo(
            f"{job.job_id:16}  {labels['task']:14} {labels['model']:12} {labels['method']:10} "
            f"{labels['rule']:10} "
            f"{span:>9} {cost.time_steps:6.0f} {cost.flops:9.3g} {cost.seconds:8.0f}"
        )
    typer.echo(
        f"total: {sum(c.flops for c in costs):.3g} flops at most (full step budgets); about "
        f"{total / 60:.1f} min on {workers} workers (estimate, see rnnzoo.bench.cost)"
    )
    if any(job.config.train.device != "cpu" for job in jobs):
        typer.echo("(the seconds are CPU estimates; this sweep trains on cuda/auto)")


def _labels(job: Any) -> dict[str, str]:
    run = job.runs[0]
    return {
        "task": run.task_label,
        "model": run.model_label,
        "method": run.method_label,
        "rule": run.rule_label,
    }


def _run_json(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "task": run.task_label,
        "model": run.model_label,
        "method": run.method_label,
        "rule": run.rule_label,
        "seed": run.seed,
    }


@app.command("run")
def run(
    file: SweepFile,
    executor: Annotated[
        str, typer.Option("--executor", help="local (worker processes) or dask")
    ] = "local",
    workers: Workers = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="address of a running Dask scheduler (tcp://host:port)"),
    ] = None,
    results: Annotated[
        Path | None, typer.Option("--results", help="results folder (overrides the file's)")
    ] = None,
) -> None:
    """Run the sweep: skips finished runs, resumes unfinished ones from their checkpoints."""
    _run(file, executor, workers, scheduler, results)


@one_line_errors
def _run(
    file: Path, executor: str, workers: int | None, scheduler: str | None, results: Path | None
) -> None:
    import torch

    from rnnzoo.bench.executors import DaskExecutor, LocalExecutor, interrupt_on_signals
    from rnnzoo.bench.runner import run_sweep
    from rnnzoo.bench.sweep import load_sweep

    torch.set_num_threads(1)
    interrupt_on_signals()
    if executor not in ("local", "dask"):
        raise InvalidParameterError(f"'--executor' must be local or dask; got {executor!r}")
    if scheduler is not None and executor != "dask":
        raise InvalidParameterError("'--scheduler' needs '--executor dask'")
    sweep = load_sweep(file)
    if results is not None:
        sweep = sweep.model_copy(update={"results": str(results)})
    if executor == "local":
        chosen: Any = LocalExecutor(workers)
    else:
        chosen = DaskExecutor(scheduler, workers, sweep.dask)

    def report(result: dict[str, Any]) -> None:
        resumed = result.get("resumed_from")
        how = f" (resumed from step {resumed})" if resumed else ""
        text = ", ".join(dict.fromkeys(result["statuses"]))
        error = f": {result['error']}" if result.get("error") else ""
        typer.echo(f"job {result['job_id']}: {text}{how}{error}")

    try:
        outcome = run_sweep(sweep, chosen, on_done=report)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; rerun `rnnzoo bench run {file}` to continue", err=True)
        raise typer.Exit(code=130) from None
    ran = len(outcome.results)
    typer.echo(
        f"sweep {sweep.name}: {outcome.jobs} jobs, {len(outcome.skipped)} skipped (finished), "
        f"{ran} run, {len(outcome.failed)} failed; results in {sweep.db_path}"
    )
    if outcome.interrupted:
        typer.echo(f"interrupted; rerun `rnnzoo bench run {file}` to continue", err=True)
        raise typer.Exit(code=130)
    if outcome.failed:
        fail(f"{len(outcome.failed)} job(s) failed; their rows hold the error")


@app.command("report")
def report(
    source: Annotated[Path, typer.Argument(help="sweep file (YAML) or results table (.sqlite)")],
    out: Annotated[Path, typer.Option("--out", help="folder for the tables and figures")],
    color_by: Annotated[
        str | None,
        typer.Option(
            "--color-by",
            help="sweep axis colouring the MDS plot of analysed networks: model, method, "
            "rule, task or seed (default: the sweep's analysis.color_by, else model)",
        ),
    ] = None,
) -> None:
    """Tables (Markdown, CSV) shaped like seed 002's Table 1, and figures; with analyses in
    the sweep, the mechanism tables and figures too."""
    _report(source, out, color_by)


@one_line_errors
def _report(source: Path, out: Path, color_by: str | None = None) -> None:
    from rnnzoo.bench.mechanisms import AXES
    from rnnzoo.bench.report import write_report
    from rnnzoo.bench.sweep import grid_order, load_sweep
    from rnnzoo.training.results import read_runs

    if not source.is_file():
        raise InvalidParameterError(f"'{source}' does not exist")
    if color_by is not None and color_by not in AXES:
        raise InvalidParameterError(f"'--color-by' must be one of {list(AXES)}; got {color_by!r}")
    mechanisms: dict[str, Any] = {}
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'--out': '{out}' is a file, not a folder")
    if source.suffix.lower() in (".yaml", ".yml"):
        sweep = load_sweep(source)
        if not sweep.db_path.is_file():
            raise InvalidParameterError(
                f"no results yet for sweep {sweep.name} ({sweep.db_path}); run it first"
            )
        rows, title = read_runs(sweep.db_path, sweep=sweep.name), f"Sweep {sweep.name}"
        rows.sort(key=lambda row: grid_order(sweep, row))  # tables follow the file's order
        if sweep.analysis is not None:
            section = sweep.analysis
            mechanisms = {
                "metrics": section.similarity,
                "color_by": section.color_by,
                "max_trials": section.analysis_settings().max_trials,
                "seed": section.seed,
            }
            if section.complexity is not None:
                mechanisms["complexity"] = (
                    section.complexity.metric,
                    section.complexity.threshold,
                )
    elif source.suffix.lower() in (".sqlite", ".db", ".sqlite3"):
        rows, title = read_runs(source), f"Results of {source.name}"
    else:
        raise InvalidParameterError(
            f"'{source}': give a sweep file (.yaml) or a results table (.sqlite)"
        )
    if not rows:
        raise InvalidParameterError(f"'{source}': the results table has no runs")
    if color_by is not None:
        mechanisms["color_by"] = color_by
    paths = write_report(rows, out, title, mechanisms)
    for path in paths.values():
        typer.echo(str(path))


@app.command("similarity")
def similarity(
    file: SweepFile,
    reference: Annotated[
        str, typer.Option("--reference", help="model label the others are compared with")
    ],
    out: Annotated[Path, typer.Option("--out", help="folder for distances.md and .csv")],
) -> None:
    """Mean Procrustes distance of each model's trained networks to the reference model's
    (seed 004 Table S2), per task and activation."""
    _similarity(file, reference, out)


@one_line_errors
def _similarity(file: Path, reference: str, out: Path) -> None:
    import torch

    from rnnzoo.bench.similarity import architecture_distances, write_distances
    from rnnzoo.bench.sweep import load_sweep

    torch.set_num_threads(1)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'--out': '{out}' is a file, not a folder")
    rows = architecture_distances(load_sweep(file), reference)
    for path in write_distances(rows, out, reference).values():
        typer.echo(str(path))
