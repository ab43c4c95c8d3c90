"""`rnnzoo latent expand`: build a large low-rank network from a trained teacher's latent
dynamics (Step I SSL, Step II readout, inference) into a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnzoo.cli._common import JsonOpt, one_line_errors, parse_sets, print_json
from rnnzoo.errors import InvalidParameterError, did_you_mean

app = typer.Typer(
    help="The latent method: large networks from a small teacher's latent dynamics.",
    no_args_is_help=True,
)


@app.command("expand")
def expand(
    out: Annotated[Path, typer.Option("--out", help="run directory of the large network")],
    teacher: Annotated[
        Path | None, typer.Option("--teacher", help="run directory of the trained teacher")
    ] = None,
    n_hidden: Annotated[int | None, typer.Option("--n-hidden", help="neurons N")] = None,
    init: Annotated[
        str | None, typer.Option("--init", help="resample|gmm|ridge|random (default ridge)")
    ] = None,
    rank: Annotated[
        int | None, typer.Option("--rank", help="latent dimension K (SVD truncation)")
    ] = None,
    ssl_steps: Annotated[int | None, typer.Option("--ssl-steps", help="Step I steps")] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Step I learning rate")] = None,
    readout: Annotated[
        str | None, typer.Option("--readout", help="Step II reads kappa or rates")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed")] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="task name (default: the teacher's task)")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="task version")] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE: a LatentConfig field, or task.PARAM=VALUE"),
    ] = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="a latent.yaml to start from")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in --out")] = False,
    estimate: Annotated[
        bool, typer.Option("--estimate", help="print the memory estimate and stop")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Extract the teacher's latent system, build the N-neuron network, train Step I, fit
    Step II, evaluate on held-out trials; OUT ends as an ordinary rnnzoo run."""
    _expand(**locals())


def request(
    *,
    out: Path,
    teacher: Path | None,
    n_hidden: int | None,
    init: str | None,
    rank: int | None,
    ssl_steps: int | None,
    lr: float | None,
    readout: str | None,
    seed: int | None,
    task: str | None,
    version: str | None,
    sets: list[str] | None,
    config_file: Path | None,
    resume: bool,
) -> dict[str, Any]:
    """The request the command line describes: latent.yaml (--config, or OUT's when
    resuming), then the options, then --set."""
    from rnnzoo.latent.config import LatentConfig
    from rnnzoo.training.config import read_yaml

    data: dict[str, Any] = {}
    if config_file is not None:
        data = dict(read_yaml(config_file, "latent config") or {})
    elif resume and (out / "latent.yaml").is_file():
        data = dict(read_yaml(out / "latent.yaml", "latent config") or {})
    options = {
        "teacher": None if teacher is None else str(teacher),
        "n_hidden": n_hidden,
        "init": init,
        "rank": rank,
        "ssl_steps": ssl_steps,
        "ssl_lr": lr,
        "readout_on": readout,
        "seed": seed,
    }
    data.update({k: v for k, v in options.items() if v is not None})
    task_params: dict[str, Any] = {}
    for key, value in parse_sets(sets).items():
        if key.startswith("task."):
            task_params[key[5:]] = value
        elif key in LatentConfig.model_fields:
            data[key] = value
        else:
            hint = did_you_mean(key, LatentConfig.model_fields)
            raise InvalidParameterError(
                f"--set: unknown latent setting '{key}'{hint} (task parameters: task.NAME)"
            )
    if task is not None or version is not None or task_params:
        base = data.get("task") or {}
        if task is None and "task" not in base:
            base = _teacher_task(data.get("teacher"))
        data["task"] = {
            "task": task or base.get("task"),
            "version": version or base.get("version", "vanilla"),
            "params": {**(base.get("params", {}) if task is None else {}), **task_params},
        }
    for key in ("teacher", "n_hidden"):
        if key not in data:
            raise InvalidParameterError(f"'--{key.replace('_', '-')}' is required")
    return data


def _teacher_task(teacher: str | None) -> dict[str, Any]:
    from rnnzoo.training.config import RunConfig

    if teacher is None:
        raise InvalidParameterError("'--teacher' is required")
    path = Path(teacher) / "config.yaml"
    if not path.is_file():
        raise InvalidParameterError(f"'--teacher': '{teacher}' has no config.yaml")
    return dict(RunConfig.from_yaml(path).task)


@one_line_errors
def _expand(*, out: Path, estimate: bool, json: bool, **options: Any) -> None:
    import torch

    from rnnzoo.bench.executors import interrupt_on_signals
    from rnnzoo.latent.run import expand_run, prepare

    torch.set_num_threads(1)
    interrupt_on_signals()  # Ctrl-C and SIGTERM checkpoint, also when SIGINT was ignored (&)
    data = request(out=out, **options)
    if estimate:
        prepared = prepare(data)
        memory = prepared.memory
        if json:
            print_json(memory)
        else:
            parts = ", ".join(f"{k} {v / 1e9:.3f}" for k, v in memory.items() if k != "total")
            typer.echo(f"estimated peak memory {memory['total'] / 1e9:.2f} GB ({parts} GB)")
        return

    def progress(record: dict[str, Any]) -> None:
        if not json:
            typer.echo(
                f"step {record['step']}: loss {record['loss']:.4f}, held-out SSL loss "
                f"{record['ssl_loss']:.4f}, performance {record['performance']:.3f}",
                err=True,
            )

    try:
        summary = expand_run(data, out, resume=options["resume"], progress=progress)
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted; continue with: rnnzoo latent expand --out {out} --resume", err=True
        )
        raise typer.Exit(code=130) from None
    if json:
        print_json(summary)
        return
    latent, test = summary["latent"], summary["latent"]["test"] or {}
    perf = summary["final_performance"]
    typer.echo(
        f"{summary['status']}: N = {latent['n_hidden']}, K = {latent['rank']} ({latent['kind']}, "
        f"init {latent['init']}), {summary['steps']} SSL steps; held-out latent R^2 "
        f"{test.get('latent_r2', float('nan')):.4f}, performance "
        f"{'n/a' if perf is None else f'{perf:.3f}'} (teacher "
        f"{test.get('teacher_performance', float('nan')):.3f}), participation ratio "
        f"{test.get('participation_ratio', float('nan')):.1f}, peak RSS "
        f"{latent['peak_rss_bytes'] / 1e9:.2f} GB, {summary['wall_clock_s']:.0f} s; run in {out}"
    )
    if summary["status"] == "diverged":
        raise InvalidParameterError("Step I diverged (non-finite latent loss)")
