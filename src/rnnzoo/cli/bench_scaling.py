"""`rnnzoo bench scaling`: the learning-rate collapse study (plan, run, report), the memory of
one step against N in fresh processes, and the one-step diagnostic."""

from __future__ import annotations

import json as json_lib
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnzoo._atomic import atomic_path
from rnnzoo.cli._common import JsonOpt, one_line_errors, print_json
from rnnzoo.errors import InvalidParameterError

app = typer.Typer(
    help="Learning-rate collapse: sweep lr x N, report eta_max(N), memory, diagnostic.",
    no_args_is_help=True,
)

StudyFile = Annotated[Path, typer.Argument(help="scaling file (YAML)")]
Out = Annotated[Path, typer.Option("--out", help="folder for tables and figures")]


@app.command("plan")
def plan(file: StudyFile, json: JsonOpt = False) -> None:
    """The sweeps, runs and jobs of the grid (the rescaling arms add one run per model, N and
    seed after the grid)."""
    _plan(file, json)


@one_line_errors
def _plan(file: Path, as_json: bool) -> None:
    from rnnzoo.bench.scaling import grid_sweeps, load_study
    from rnnzoo.bench.sweep import expand

    study = load_study(file)
    sweeps = grid_sweeps(study)
    jobs = [job for sweep in sweeps for job in expand(sweep)]
    runs = sum(len(job.runs) for job in jobs)
    data = {
        "name": study.name,
        "results": study.results,
        "sizes": list(study.n_hidden),
        "learning_rates": study.rates(),
        "models": [m.label for m in study.models],
        "grid_sweeps": len(sweeps),
        "grid_runs": runs,
        "grid_jobs": len(jobs),
        "rescaling_runs": _rescaling_runs(study),
    }
    if as_json:
        print_json(data)
        return
    typer.echo(
        f"study {study.name}: {runs} grid runs in {len(jobs)} jobs ({len(study.rates())} rates x "
        f"{len(study.n_hidden)} sizes x {len(study.models)} models x seeds), then "
        f"{data['rescaling_runs']} rescaling runs -> {study.results}"
    )


def _rescaling_runs(study: Any) -> int:
    if study.rescaling is None:
        return 0
    seeds = len(study.seeds) if isinstance(study.seeds, tuple) else study.seeds.count
    dense = sum(1 for m in study.models if m.options.get("rank") is None)
    per_n = (len(study.models) if "lr_rescaled" in study.rescaling.arms else 0) + (
        dense if "param_rescaled" in study.rescaling.arms else 0
    )
    return per_n * len(study.n_hidden) * seeds


@app.command("run")
def run(
    file: StudyFile,
    workers: Annotated[int | None, typer.Option("--workers", help="parallel workers")] = None,
) -> None:
    """Run the grid and the rescaling arms on local worker processes (resumable)."""
    _run(file, workers)


@one_line_errors
def _run(file: Path, workers: int | None) -> None:
    import torch

    from rnnzoo.bench.executors import LocalExecutor, interrupt_on_signals
    from rnnzoo.bench.scaling import load_study, run_study

    torch.set_num_threads(1)
    interrupt_on_signals()
    study = load_study(file)

    def report(result: dict[str, Any]) -> None:
        text = ", ".join(dict.fromkeys(result["statuses"]))
        typer.echo(f"job {result['job_id']}: {text}")

    try:
        outcome = run_study(study, LocalExecutor(workers), on_done=report)
    except KeyboardInterrupt:
        typer.echo(f"interrupted; rerun `rnnzoo bench scaling run {file}` to continue", err=True)
        raise typer.Exit(code=130) from None
    typer.echo(
        f"study {study.name}: {outcome['jobs']} jobs, {outcome['ran']} run; lr_0 = "
        f"{outcome['lr0']}; results in {study.results_dir / 'results.sqlite'}"
    )


@app.command("report")
def report(
    file: StudyFile,
    out: Out,
    boot: Annotated[int, typer.Option("--boot", help="bootstrap resamples of the seeds")] = 2000,
) -> None:
    """eta_max(N), beta with its bootstrap interval, steps to criterion per arm; tables
    (scaling.json, scaling.md) and figures."""
    _report(file, out, boot)


@one_line_errors
def _report(file: Path, out: Path, boot: int) -> None:
    from rnnzoo.bench.scaling import load_study, reference_rate
    from rnnzoo.bench.scaling_plots import plot_eta_max, plot_steps, plot_success_maps
    from rnnzoo.bench.scaling_results import (
        as_dicts,
        beta_fits,
        eta_max_table,
        steps_table,
        study_rows,
        success_table,
    )
    from rnnzoo.training.results import read_runs

    if boot < 1:
        raise InvalidParameterError(f"'--boot' must be >= 1; got {boot}")
    study = load_study(file)
    db = study.results_dir / "results.sqlite"
    if not db.is_file():
        raise InvalidParameterError(f"no results yet for study {study.name} ({db}); run it first")
    lr0 = reference_rate(study)
    runs = study_rows(study, read_runs(db), lr0)
    if not runs:
        raise InvalidParameterError(f"study {study.name}: no finished runs in {db}")
    _folder(out)
    table = success_table(runs)
    etas = eta_max_table(table)
    fits = beta_fits(runs, study.fit_min_n, n_boot=boot)
    steps = steps_table(runs, lr0)
    data = {
        "study": study.name,
        "lr0": lr0,
        "fit_min_n": study.fit_min_n,
        "beta": as_dicts(fits),
        "eta_max": as_dicts(etas),
        "steps_to_criterion": as_dicts(steps),
        "success": [
            {"model": m, "n_hidden": n, "lr": lr, "fraction": f} for (m, n, lr), f in table.items()
        ],
        "statuses": _status_counts(runs),
    }
    _write(out / "scaling.json", json_lib.dumps(data, indent=2) + "\n")
    _write(out / "scaling.md", _markdown(data))
    for path in (
        plot_success_maps(table, etas, out / "success.png"),
        plot_eta_max(etas, fits, out / "eta_max.png"),
        plot_steps(steps, out / "steps.png"),
    ):
        typer.echo(str(path))
    typer.echo(str(out / "scaling.json"))


def _status_counts(runs: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    return counts


def _markdown(data: dict[str, Any]) -> str:
    lines = ["| model | beta | 95% bootstrap interval | sizes in fit |", "|---|---:|---|---:|"]
    for fit in data["beta"]:
        beta = "n/a" if fit["beta"] is None else f"{fit['beta']:.2f}"
        ci = "n/a" if fit["ci_low"] is None else f"[{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]"
        lines.append(f"| {fit['model']} | {beta} | {ci} | {fit['n_sizes']} |")
    lines += [
        "",
        "| model | N | eta_max (0.5) | interpolated | eta_max (0.8) |",
        "|---|---:|---:|---:|---:|",
    ]
    for e in data["eta_max"]:

        def fmt(v: float | None) -> str:
            return "none" if v is None else f"{v:.3g}"

        top = fmt(e["eta_max"]) + (" (top of grid)" if e["censored"] else "")
        lines.append(
            f"| {e['model']} | {e['n_hidden']} | {top} | {fmt(e['interpolated'])} | "
            f"{fmt(e['eta_max_80'])} |"
        )
    lines += [
        "",
        "| arm | model | N | lr | reached | median steps | IQR |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for s in data["steps_to_criterion"]:
        med = "n/a" if s["median_steps"] is None else f"{s['median_steps']:.0f}"
        iqr = "" if s["q25"] is None else f"{s['q25']:.0f}-{s['q75']:.0f}"
        lines.append(
            f"| {s['arm']} | {s['model']} | {s['n_hidden']} | {s['lr']:.3g} | "
            f"{s['reached']}/{s['runs']} | {med} | {iqr} |"
        )
    return "\n".join(lines) + "\n"


@app.command("memory")
def memory(
    out: Out,
    sizes: Annotated[list[int], typer.Option("--n", help="sizes N (repeat)")],
    variants: Annotated[
        list[str] | None, typer.Option("--variant", help="dense|dense_recompute|low_rank|latent")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="trials B")] = 100,
    steps: Annotated[int, typer.Option("--steps", help="time steps T")] = 500,
    width: Annotated[int, typer.Option("--width", help="inputs = outputs D")] = 10,
    rank: Annotated[int, typer.Option("--rank", help="rank of the low-rank variants")] = 2,
    cap_gb: Annotated[float, typer.Option("--cap-gb", help="address-space cap per process")] = 4.0,
    device: Annotated[str, typer.Option("--device", help="cpu or cuda")] = "cpu",
) -> None:
    """Peak memory of one Adam step per (variant, N), each in a fresh process, with the
    analytical model; out-of-memory at the cap is a data point."""
    _memory(out, sizes, variants, batch, steps, width, rank, cap_gb, device)


@one_line_errors
def _memory(out, sizes, variants, batch, steps, width, rank, cap_gb, device) -> None:
    from rnnzoo.bench.scaling_memory import VARIANTS, measure_in_fresh_process
    from rnnzoo.bench.scaling_plots import plot_memory

    variants = variants or ["dense", "low_rank", "latent"]
    for name, value in (
        ("--batch", batch),
        ("--steps", steps),
        ("--width", width),
        ("--rank", rank),
    ):
        if value < 1:
            raise InvalidParameterError(f"'{name}' must be >= 1; got {value}")
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        raise InvalidParameterError(
            f"'--variant' must be one of {', '.join(VARIANTS)}; got {bad[0]}"
        )
    if any(n < 1 for n in sizes):
        raise InvalidParameterError(f"'--n' must be >= 1; got {min(sizes)}")
    if device not in ("cpu", "cuda"):
        raise InvalidParameterError(f"'--device' must be cpu or cuda; got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InvalidParameterError("'--device' is cuda but no CUDA device is available")
    _folder(out)
    rows = []
    for variant in variants:
        for n in sorted(sizes):
            row = measure_in_fresh_process(
                variant,
                n,
                batch=batch,
                steps=steps,
                width=width,
                rank=rank,
                device=device,
                cap_gb=cap_gb,
            )
            rows.append(row)
            typer.echo(_memory_line(row))
    _write(out / "memory.json", json_lib.dumps(rows, indent=2) + "\n")
    typer.echo(str(plot_memory(rows, out / "memory.png")))


def _memory_line(row: dict[str, Any]) -> str:
    model = row["model"]["total"] / 1e9
    if row["oom"]:
        return f"{row['variant']} N={row['n_hidden']}: out of memory at {row['cap_gb']:g} GB (model {model:.2f} GB)"
    rise = (row["peak_rss_bytes"] - row["rss_before_bytes"]) / 1e9
    return (
        f"{row['variant']} N={row['n_hidden']}: peak RSS rise {rise:.3f} GB, saved "
        f"{row['saved_bytes'] / 1e9:.3f} GB (model: saved {row['model']['saved'] / 1e9:.3f}, "
        f"total {model:.3f} GB)"
    )


@app.command("diagnostic")
def diagnostic(
    file: StudyFile,
    out: Out,
    lr: Annotated[float, typer.Option("--lr", help="learning rate of the step")] = 1e-3,
    seeds: Annotated[int, typer.Option("--seeds", help="seeds per size")] = 3,
    sizes: Annotated[
        list[int] | None, typer.Option("--n", help="sizes (default: the study's)")
    ] = None,
) -> None:
    """The change in recurrent drive after one Adam step against N for the study's models;
    its slope predicts beta."""
    _diagnostic(file, out, lr, seeds, sizes)


@one_line_errors
def _diagnostic(file: Path, out: Path, lr: float, seeds: int, sizes: list[int] | None) -> None:
    import torch

    from rnnzoo.bench.diagnostic import drive_change_slopes, drive_change_table
    from rnnzoo.bench.scaling import load_study
    from rnnzoo.bench.scaling_plots import plot_drive_change
    from rnnzoo.tasks import make

    torch.set_num_threads(1)
    if not 0 < lr <= 10:
        raise InvalidParameterError(f"'--lr' must be in (0, 10]; got {lr}")
    if seeds < 1:
        raise InvalidParameterError(f"'--seeds' must be >= 1; got {seeds}")
    study = load_study(file)
    task = make(study.task.task, study.task.version, **study.task.params)
    models = [(m.label, m.kind, m.options) for m in study.models]
    _folder(out)
    rows = drive_change_table(task, models, sorted(sizes or study.n_hidden), lr, list(range(seeds)))
    slopes = drive_change_slopes(rows)
    _write(
        out / "diagnostic.json", json_lib.dumps({"rows": rows, "slopes": slopes}, indent=2) + "\n"
    )
    typer.echo(str(plot_drive_change(rows, slopes, out / "diagnostic.png")))
    for model, slope in slopes.items():
        typer.echo(f"{model}: drive change ~ N^{slope:.2f} (predicted beta {slope:.2f})")


def _folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'--out': '{out}' is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)


def _write(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
