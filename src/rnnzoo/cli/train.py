"""`rnnzoo train`: train a network on a task; the run directory ends with summary.json.

The defaults are those of every entry point (Python `train`, ``--config``, the GUI, bench):
`rnnzoo.training.TrainConfig`'s settings, the model options' defaults, and the task metric's
criterion as the target.  ``--recommended`` takes the task's own set-up from its source (the
Yang et al. rules: 256 units, tau 100 ms, sigmoid read-out, recurrent noise, lr 1e-3).  The
main job (`scripts/main.sh`) passes its settings in examples/main_job.yaml.
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


def settings_help() -> str:
    """The training settings with their defaults, for ``rnnzoo train --help``."""
    from rnnzoo.training.config import TrainConfig

    lines = [
        "Training settings (--set NAME=VALUE, or train.NAME=VALUE), NAME = default: what it "
        "is. Model options: `rnnzoo models show KIND`; task parameters and a task's recommended "
        "set-up (taken with --recommended): `rnnzoo tasks show NAME`.",
        "\b",
    ]
    for name, info in TrainConfig.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = "the task's criterion" if name == "target_performance" else default
        lines.append(f"  {name} = {shown}: {info.description or ''}")
    return "\n".join(lines)


def _route(
    sets: dict[str, Any], task_cls: Any, model_cls: Any, notes: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Split --set values into task, model, train, method and rule settings (see `train`); a bare
    name that several sections have goes to the first (model, task, train) and ``notes``
    says so."""
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
        owners = [section for section in ("model", "task", "train") if key in sections[section]]
        if owners:
            routed[owners[0]][key] = value
            if len(owners) > 1 and notes is not None:
                others = " and ".join(f"{o}.{key}" for o in owners[1:])
                notes.append(
                    f"--set {key} went to the {owners[0]} setting; {others} has the same name and "
                    f"was left unchanged (set it with --set {owners[1]}.{key}=...)"
                )
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
    task: str | None = None,
    version: str | None = None,
    model: str | None = None,
    sets: list[str] | None = None,
    config_file: Path | None = None,
    method: str | None = None,
    ensemble: int | None = None,
    max_steps: int | None = None,
    target_perf: float | None = None,
    seed: int | None = None,
    device: str | None = None,
    recommended: bool = False,
    notes: list[str] | None = None,
    base: Any = None,
    rule: str | None = None,
) -> Any:
    """The `RunConfig` the command line describes: the file (or the defaults, or ``base``, a
    `RunConfig` such as the run's own when resuming), then the options, then the task's
    recommended set-up (``recommended``), then --set.  Messages for the user (where an
    ambiguous --set went, what --recommended set) are added to ``notes``."""
    from rnnzoo.models import get_model_class
    from rnnzoo.tasks import from_config, get_task_class, make
    from rnnzoo.training.config import RunConfig, run_config
    from rnnzoo.training.recommended import apply_recommended
    from rnnzoo.training.rules import rule_params

    if config_file is not None:
        data = RunConfig.from_yaml(config_file).model_dump(mode="json")
    elif base is not None:
        data = base.model_dump(mode="json")
    else:
        data = {
            "task": {"task": DEFAULT_TASK, "version": "vanilla"},
            "model": {"kind": DEFAULT_MODEL, "options": {}},
            "method": {"name": "control"},
            "train": {},
        }
    if task is not None or version is not None:
        data["task"] = {
            "task": task or data["task"].get("task", DEFAULT_TASK),
            "version": version or "vanilla",
            "params": {} if task is not None else data["task"].get("params", {}),
        }
        if "+" in data["task"]["task"]:  # a composition by name: its full config
            data["task"] = make(data["task"]["task"], data["task"]["version"]).config()
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
    if recommended:
        data, said = apply_recommended(data, from_config(data["task"]), keep_kind=model is not None)
        train = data["train"]
        if notes is not None:
            notes.extend(said)
    kind_cls = get_model_class(data["model"].get("kind", ""))
    routed = _route(parse_sets(sets), task_cls, kind_cls, notes)
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
            help="learning rule: bptt|force|full_force|rflo|eprop|node_perturbation|a2c "
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
    recommended: Annotated[
        bool,
        typer.Option(
            "--recommended",
            help="take the network and training set-up the task's source states (see `rnnzoo "
            "tasks show NAME`); --set still overrides it",
        ),
    ] = False,
) -> None:
    """Train a network on a task; writes OUT/config.yaml, checkpoints/, metrics.jsonl,
    model.safetensors, summary.json (and report.png).  Defaults: the settings below, the
    model's option defaults, and the task's criterion as the target."""
    _run(**locals())


@one_line_errors
def _run(
    *, out: Path, resume: bool, db: Path | None, report: bool, recommended: bool, **options: Any
) -> None:
    import torch

    from rnnzoo.training import train as run_training
    from rnnzoo.training.checkpoint import latest_checkpoint
    from rnnzoo.training.config import RunConfig
    from rnnzoo.training.lock import check_not_in_use
    from rnnzoo.training.results import RESERVED_NAMES

    torch.set_num_threads(1)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'--out': '{out}' is a file, not a folder")
    if out.name.lower() in RESERVED_NAMES:
        raise InvalidParameterError(f"'--out': '{out.name}' is the name of the results table")
    check_not_in_use(out)  # another writer is named before the folder is read
    notes: list[str] = []
    if resume:  # the run's own config, with the changes given (checked by the trainer)
        if latest_checkpoint(out / "checkpoints") is None or not (out / "config.yaml").is_file():
            raise InvalidParameterError(
                f"'--out': '{out}' holds no run to resume (no checkpoint and config.yaml); "
                "start one there without --resume"
            )
        own = RunConfig.from_yaml(out / "config.yaml")
        config = build_config(**options, recommended=recommended, notes=notes, base=own)
    else:
        if (out / "checkpoints" / "latest.json").is_file():
            raise InvalidParameterError(
                f"'--out': '{out}' already holds a run; continue it with --resume or choose a "
                "new folder"
            )
        config = build_config(**options, recommended=recommended, notes=notes)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    result = run_training(config, out, resume=resume, db=db, report=report)
    perf = "n/a" if result.final_performance is None else f"{result.final_performance:.3f}"
    typer.echo(
        f"{result.status}: {result.steps} steps, {result.wall_clock_s:.1f} s, performance {perf} "
        f"(target {result.target_performance:g}); run in {out}"
    )
    for line in ensemble_notes(result):
        typer.echo(f"note: {line}", err=True)
    if result.status == "interrupted":
        typer.echo(f"continue with: rnnzoo train --out {out} --resume", err=True)
        raise typer.Exit(code=130)
    if (out / "report.png").is_file() and report and result.status != "diverged":
        typer.echo(f"report: {out / 'report.png'}")
    if result.status == "diverged":
        raise InvalidParameterError(result.divergence["message"])


def ensemble_notes(result: Any) -> list[str]:
    """What the user should know about the members of a finished run: which ones diverged
    (stopped alone) and which stopped learning."""
    lines = [
        f"member {d['member']} diverged at step {d['step']} ({d['reason']}) and was stopped; "
        "the others trained on"
        for d in result.diverged_members
    ]
    if result.stalled_members:
        members = ", ".join(map(str, result.stalled_members))
        lines.append(
            f"member(s) {members} stopped learning (no gain over the last evaluations; see "
            "report.png)"
        )
    return lines
