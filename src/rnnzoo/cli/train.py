"""`rnnzoo train`: train a network on a task; the run directory ends with summary.json.

With no options beyond ``--out`` it trains the main job: a leaky firing-rate network on the
3-bit flip-flop to performance >= 0.999 on held-out trials, then writes report.png.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rnnzoo.cli._common import one_line_errors, parse_sets
from rnnzoo.errors import InvalidParameterError, did_you_mean

DEFAULT_TASK = "flipflop"
DEFAULT_MODEL = "leaky_rate"
DEFAULT_RULE = "bptt"
# Main-job defaults (see README): train the 3-bit flip-flop to 0.999 held-out accuracy (beyond
# the task's 0.95 criterion) in seconds on one core, so that the network has settled into its
# 8 stable memory states (`rnnzoo analyze` finds them; at 0.95 some are still slow points).
DEFAULT_MODEL_OPTIONS = {"n_hidden": 64, "tau_ms": 50.0}
DEFAULT_TRAIN = {
    "lr": 0.01,
    "batch_size": 32,
    "eval_every": 10,
    "eval_batch_size": 128,
    "target_performance": 0.999,
}


def _route(sets: dict[str, Any], task_cls: Any, model_cls: Any) -> dict[str, dict[str, Any]]:
    """Split --set values into task, model, train, method and rule settings (see `train`)."""
    from rnnzoo.training.config import TrainConfig

    sections = {
        "model": set(model_cls.Options.model_fields),
        "task": set(task_cls.Params.model_fields) if task_cls is not None else set(),
        "train": set(TrainConfig.model_fields),
    }
    routed: dict[str, dict[str, Any]] = {
        "task": {},
        "model": {},
        "train": {},
        "method": {},
        "rule": {},
    }
    for key, value in sets.items():
        prefix, dot, name = key.partition(".")
        if dot and prefix in routed:
            if prefix in sections and name not in sections[prefix]:
                hint = did_you_mean(name, sections[prefix])
                raise InvalidParameterError(f"--set: unknown {prefix} setting '{name}'{hint}")
            routed[prefix][name] = value
            continue
        for section in ("model", "task", "train"):
            if key in sections[section]:
                routed[section][key] = value
                break
        else:
            every = set().union(*sections.values())
            hint = did_you_mean(key, every)
            raise InvalidParameterError(
                f"--set: unknown setting '{key}'{hint} (task parameters, model options, training "
                "settings; prefix with task., model., train., method. or rule.)"
            )
    return routed


def build_config(
    *,
    task: str | None,
    version: str | None,
    model: str | None,
    sets: list[str] | None,
    config_file: Path | None,
    method: str | None,
    ensemble: int | None,
    max_steps: int | None,
    target_perf: float | None,
    seed: int | None,
    device: str | None,
    rule: str | None = None,
) -> Any:
    """The `RunConfig` the command line describes (file, then options, then --set)."""
    from rnnzoo.models import get_model_class
    from rnnzoo.tasks import get_task_class
    from rnnzoo.training.config import RunConfig, run_config

    if config_file is not None:
        data = RunConfig.from_yaml(config_file).model_dump(mode="json")
    else:
        data = {
            "task": {"task": DEFAULT_TASK, "version": "vanilla"},
            "model": {"kind": DEFAULT_MODEL, "options": dict(DEFAULT_MODEL_OPTIONS)},
            "method": {"name": "control"},
            "train": dict(DEFAULT_TRAIN),
        }
    if task is not None or version is not None:
        data["task"] = {
            "task": task or data["task"].get("task", DEFAULT_TASK),
            "version": version or "vanilla",
            "params": {} if task is not None else data["task"].get("params", {}),
        }
    if model is not None and model != data["model"].get("kind"):
        data["model"] = {"kind": model, "ensemble": data["model"].get("ensemble"), "options": {}}
    if ensemble is not None:
        data["model"]["ensemble"] = ensemble
    if method is not None:
        data["method"] = {"name": method, "hyperparameters": {}}
    if rule is not None and rule != data.get("rule", {}).get("name", DEFAULT_RULE):
        data["rule"] = {"name": rule, "hyperparameters": {}}
    train = data.setdefault("train", {})
    for key, value in (
        ("max_steps", max_steps),
        ("target_performance", target_perf),
        ("seed", seed),
        ("device", device),
    ):
        if value is not None:
            train[key] = value
    task_cls = get_task_class(data["task"]["task"]) if "task" in data["task"] else None
    if task_cls is not None:
        data["task"]["task"] = task_cls.name
    routed = _route(parse_sets(sets), task_cls, get_model_class(data["model"].get("kind", "")))
    if routed["task"]:
        if task_cls is None:
            raise InvalidParameterError("--set task.* needs a single task, not a composition")
        data["task"]["params"] = {**data["task"].get("params", {}), **routed["task"]}
    data["model"]["options"] = {**data["model"].get("options", {}), **routed["model"]}
    data["train"] = {**train, **routed["train"]}
    data["method"]["hyperparameters"] = {
        **data["method"].get("hyperparameters", {}),
        **routed["method"],
    }
    rule_spec = data.setdefault("rule", {"name": DEFAULT_RULE})
    rule_spec["hyperparameters"] = {**rule_spec.get("hyperparameters", {}), **routed["rule"]}
    config = run_config(data, owner="rnnzoo train")
    from rnnzoo.tasks import from_config
    from rnnzoo.training.rules import rule_params

    from_config(config.task)  # validate the task parameters now (one-line error)
    rule_params(config.rule.name, **config.rule.hyperparameters)  # and the rule's
    return config


def train(
    out: Annotated[Path, typer.Option("--out", help="run directory (created)")],
    task: Annotated[str | None, typer.Option("--task", help="task name (default flipflop)")] = None,
    version: Annotated[str | None, typer.Option("--version", help="task version")] = None,
    model: Annotated[str | None, typer.Option("--model", help="network kind")] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="KEY=VALUE: model option, task parameter or training setting; method.KEY and "
            "rule.KEY for the method's and the rule's hyperparameters",
        ),
    ] = None,
    config_file: Annotated[
        Path | None, typer.Option("--config", help="a run config.yaml to start from")
    ] = None,
    method: Annotated[str | None, typer.Option("--method", help="control|cd|sctt|dasc")] = None,
    rule: Annotated[
        str | None,
        typer.Option(
            "--rule",
            help="learning rule: bptt|force|full_force|rflo|eprop|node_perturbation "
            "(hyperparameters: --set rule.NAME=VALUE; see `rnnzoo rules show NAME`)",
        ),
    ] = None,
    ensemble: Annotated[int | None, typer.Option("--ensemble", help="train M networks")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="most steps")] = None,
    target_perf: Annotated[
        float | None, typer.Option("--target-perf", help="stop at this held-out performance")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed of weights and trials")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu|cuda|auto")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue the run in --out")] = False,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite results table (default OUT/../results.sqlite)"),
    ] = None,
    report: Annotated[bool, typer.Option(help="write report.png at the end")] = True,
) -> None:
    """Train a network on a task; writes OUT/config.yaml, checkpoints/, metrics.jsonl,
    model.safetensors, summary.json (and report.png)."""
    _run(**locals())


@one_line_errors
def _run(*, out: Path, resume: bool, db: Path | None, report: bool, **options: Any) -> None:
    import torch

    from rnnzoo.training import train as run_training
    from rnnzoo.training.config import RunConfig

    torch.set_num_threads(1)
    given = any(v is not None for v in options.values())
    if resume and not given and (out / "config.yaml").is_file():
        config = RunConfig.from_yaml(out / "config.yaml")
    else:
        config = build_config(**options)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'--out': '{out}' is a file, not a folder")
    if not resume and (out / "checkpoints" / "latest.json").is_file():
        raise InvalidParameterError(
            f"'--out': '{out}' already holds a run; continue it with --resume or choose a new folder"
        )
    result = run_training(config, out, resume=resume, db=db)
    perf = "n/a" if result.final_performance is None else f"{result.final_performance:.3f}"
    typer.echo(
        f"{result.status}: {result.steps} steps, {result.wall_clock_s:.1f} s, performance {perf} "
        f"(target {result.target_performance:g}); run in {out}"
    )
    if result.status == "interrupted":
        typer.echo(f"continue with: rnnzoo train --out {out} --resume", err=True)
        raise typer.Exit(code=130)
    if report and result.status != "diverged":
        from rnnzoo.training.report import plot_report, report_data

        plot_report(report_data(out), out / "report.png")
        typer.echo(f"report: {out / 'report.png'}")
    if result.status == "diverged":
        raise InvalidParameterError(f"training diverged: {result.divergence}")
