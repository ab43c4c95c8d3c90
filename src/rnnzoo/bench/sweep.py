"""Sweep files: the validated grid of a benchmark study and its expansion into runs and jobs.

A sweep names tasks (with versions and parameter overrides), models (with options), methods
(with hyperparameters), learning rules (with hyperparameters and their own training settings),
shared training settings and seeds.  Every (task, model, method, rule, seed) is one *run*: a
standalone `RunConfig` whose id is a hash of its content, so a rerun of the sweep finds it (a
BPTT run keeps the id it had before rules existed).  With ``stages:`` every run is a stage
sequence instead (task, model, method, rule, sequence, seed): one network trained on each
stage's task in turn (`rnnzoo.bench.stages`), its id a hash of all its stages' configs.
Seed ``s`` is the network's initial-weight stream ``s`` (`ModelConfig.member`) of
``data_seed``; trials, evaluation batches and network noise come from ``data_seed`` and are
shared by all seeds of a cell.  Runs that differ only by seed are therefore grouped into *jobs*
that train them as one ensemble (member i of an ensemble is initialised exactly as the
standalone network with ``member=i``; gradients, clipping and Adam never mix members).  An
ensemble job trains until every member has reached the target (statistic ``min``); each run's
row is derived from its member's evaluations (see `rnnzoo.bench.worker`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from rnnzoo.bench.mechanisms import AnalysisSection, check_section
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error
from rnnzoo.tasks.seeding import MAX_SEED
from rnnzoo.training.config import (
    RuleSpec,
    RunConfig,
    TrainConfig,
    read_yaml,
    run_config,
    train_config,
)

RUNNER_SETTINGS = {
    "seed": "use 'data_seed' (trials and noise) and 'seeds' (initial weights)",
    "statistic": "each seed is judged on its own; ensembles train until every member is done",
}


class TaskEntry(BaseModel):
    """A task of the grid: name, version, parameter overrides and a table label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: str
    version: str = "vanilla"
    params: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, description="row name in the report (default: task)")
    compose: dict[str, Any] | None = Field(
        None,
        description="with task 'compose': a composition as `rnnzoo.tasks.compose` configs it "
        "(tasks, labels, mode, channels, rule_inputs, weights, silenced)",
    )

    def build(self) -> Any:
        """The task of this entry (a composition when ``compose`` is given)."""
        from rnnzoo.tasks import from_config, make

        if self.task == "compose" or self.compose is not None:
            if self.compose is None or self.task != "compose" or self.params:
                raise InvalidParameterError(
                    "a composition needs task: compose and a 'compose' mapping (its tasks "
                    "carry their own params)"
                )
            return from_config({"compose": self.compose})
        return make(self.task, self.version, **self.params)


class ModelEntry(BaseModel):
    """A network of the grid: kind, options (n_inputs/n_outputs/dt_ms come from the task)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = "leaky_rate"
    options: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, description="name in the report (default: kind)")


class MethodEntry(BaseModel):
    """A training method of the grid and its hyperparameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "control"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, description="column name in the report (default: name)")


class RuleEntry(BaseModel):
    """A learning rule of the grid, its hyperparameters, training settings that differ for it
    (e.g. lr, batch_size, max_steps; they override the sweep's ``train``) and a label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "bptt"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig overrides")
    label: str | None = Field(None, description="column name in the report (default: name)")


class SeedRange(BaseModel):
    """Seeds ``start, ..., start + count - 1``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(0, ge=0, le=MAX_SEED)
    count: int = Field(ge=1, le=100_000)


class DaskSettings(BaseModel):
    """The Dask cluster `rnnzoo bench run --executor dask` starts when no --scheduler is given:
    a LocalCluster on 127.0.0.1, or a Slurm cluster (dask-jobqueue's SLURMCluster, keyword
    arguments in ``slurm``, scaled to ``jobs`` Slurm jobs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cluster: Literal["local", "slurm"] = "local"
    slurm: dict[str, Any] = Field(default_factory=dict, description="SLURMCluster arguments")
    jobs: int = Field(1, ge=1, le=10_000, description="Slurm jobs to request (cluster: slurm)")


class StageEntry(BaseModel):
    """One stage of a sequence: the sweep's composition with other sampling ``weights`` (one
    per composed task, 0 leaves a task out), or a ``task`` entry of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: tuple[Annotated[float, Field(ge=0)], ...] | None = Field(
        None, description="the sweep's composition with these sampling weights"
    )
    task: TaskEntry | None = Field(None, description="a task entry trained in this stage")

    def task_entry(self, base: TaskEntry) -> TaskEntry:
        """The task entry of this stage for the sweep's task entry ``base``."""
        if (self.weights is None) == (self.task is None):
            raise InvalidParameterError("a stage names either 'weights' or 'task' (exactly one)")
        if self.task is not None:
            return self.task
        if base.compose is None:
            raise InvalidParameterError(
                f"'weights' re-weights a composition, but task {task_label(base)!r} is not one "
                "(task: compose); name the stage's 'task' instead"
            )
        return base.model_copy(update={"compose": {**base.compose, "weights": list(self.weights)}})


class StageSequence(BaseModel):
    """A stage sequence of the ``stages:`` axis: its label and its stages (trained in order,
    each starting from the previous stage's final weights)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="name in the report")
    stages: tuple[StageEntry, ...] = Field(min_length=2, max_length=20)


class Sweep(BaseModel):
    """A benchmark study: the grid tasks x models x methods x seeds and where results go."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="sweep id (letters, digits, _.-)")
    results: str = Field(description="folder of results.sqlite and runs/ (relative to the cwd)")
    tasks: tuple[TaskEntry, ...] = Field(min_length=1)
    models: tuple[ModelEntry, ...] = Field((ModelEntry(),), min_length=1)
    methods: tuple[MethodEntry, ...] = Field((MethodEntry(),), min_length=1)
    rules: tuple[RuleEntry, ...] = Field((RuleEntry(),), min_length=1)
    train: dict[str, Any] = Field(default_factory=dict, description="TrainConfig settings")
    seeds: tuple[Annotated[int, Field(ge=0, le=MAX_SEED)], ...] | SeedRange = Field(
        (0,), description="network seeds"
    )
    data_seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of trials, evaluation and noise")
    ensemble: Annotated[bool, Strict()] | Annotated[int, Field(ge=1, le=100_000)] = Field(
        True,
        description="true: the seeds of a cell train as one ensemble; false or 1: one "
        "network per job; k: at most k members per job",
    )
    dask: DaskSettings = Field(default_factory=DaskSettings)
    recommended: bool = Field(
        False,
        description="start every run from its task's recommended set-up (model options and "
        "training settings its source states); the entries' options and 'train' go over it",
    )
    analysis: AnalysisSection | None = Field(
        None,
        description="analyses run on every trained network after its training "
        "(rnnzoo.bench.mechanisms); none when absent",
    )
    stages: tuple[StageSequence, ...] | None = Field(
        None,
        min_length=1,
        description="stage sequences: every run trains one network on each stage in turn "
        "(rnnzoo.bench.stages); plain runs when absent",
    )

    def seed_list(self) -> list[int]:
        """The network seeds, in order."""
        if isinstance(self.seeds, SeedRange):
            return list(range(self.seeds.start, self.seeds.start + self.seeds.count))
        return list(self.seeds)

    @property
    def results_dir(self) -> Path:
        return Path(self.results)

    @property
    def db_path(self) -> Path:
        """The results table: one row per run (network)."""
        return self.results_dir / "results.sqlite"

    @property
    def jobs_db_path(self) -> Path:
        """The trainer's own table: one row per job (ensemble), as `rnnzoo train` writes."""
        return self.results_dir / "jobs.sqlite"


@dataclass(frozen=True)
class Run:
    """One network of the sweep: a standalone run config and its content id."""

    run_id: str
    config: RunConfig
    seed: int
    task_label: str
    model_label: str
    method_label: str
    rule_label: str = "bptt"
    sequence_label: str | None = None
    stages: tuple[RunConfig, ...] = ()  # a stage sequence's configs (config: stages[0])


@dataclass(frozen=True)
class Job:
    """One training process: runs that differ only by seed, as an ensemble (member i =
    ``runs[i]``), or a single run (then ``job_id == runs[0].run_id``)."""

    job_id: str
    config: RunConfig
    runs: tuple[Run, ...]
    stages: tuple[RunConfig, ...] = ()  # the stages' configs of a stage sequence

    def run_dir(self, sweep: Sweep) -> Path:
        return sweep.results_dir / "runs" / self.job_id


def content_id(config: RunConfig) -> str:
    """A stable id of a run config: the first 16 hex digits of the SHA-256 of its JSON (without
    the rule section when it is plain BPTT, so ids from before rules existed stay valid)."""
    data = config.model_dump(mode="json")
    if data["rule"] == RuleSpec().model_dump(mode="json"):
        del data["rule"]
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sequence_id(label: str, configs: tuple[RunConfig, ...]) -> str:
    """The id of a stage sequence: 16 hex digits of the SHA-256 of its label and its stages'
    content ids."""
    text = json.dumps({"sequence": label, "stages": [content_id(c) for c in configs]})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file (YAML); `InvalidParameterError` names the bad key."""
    data = read_yaml(path, "sweep file")
    return sweep_from_dict(data, owner=f"sweep file '{path}'")


def sweep_from_dict(data: Any, owner: str = "sweep") -> Sweep:
    """Validate plain data as a `Sweep`: every entry, its task parameters, model options,
    method hyperparameters and training settings."""
    if not isinstance(data, dict):
        raise InvalidParameterError(f"{owner}: expected a mapping; got {type(data).__name__}")
    entries = {"tasks": TaskEntry, "models": ModelEntry, "methods": MethodEntry, "rules": RuleEntry}
    for key, model in entries.items():
        items = data.get(key)
        if isinstance(items, list):
            for i, item in enumerate(items):
                item = {"task": item} if key == "tasks" and isinstance(item, str) else item
                _validated(model, item, f"{owner}: {key}[{i}]")
    if isinstance(data.get("tasks"), list):
        data = {**data, "tasks": [{"task": t} if isinstance(t, str) else t for t in data["tasks"]]}
    sweep = _validated(Sweep, data, owner)
    _check_contents(sweep, owner)
    _check_combinations(sweep, owner)
    return sweep


def _validated(model: type[BaseModel], values: Any, owner: str) -> Any:
    if not isinstance(values, dict):
        raise InvalidParameterError(f"{owner}: expected a mapping; got {values!r}")
    try:
        return model(**values)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(owner, model, exc)) from None


def _check_contents(sweep: Sweep, owner: str) -> None:
    from rnnzoo.models import get_model_class
    from rnnzoo.models.options import validate_options
    from rnnzoo.training.methods import make_method

    for key, why in RUNNER_SETTINGS.items():
        if key in sweep.train:
            raise InvalidParameterError(f"{owner}: train.{key} is set by the runner ({why})")
    train_config(sweep.train, owner=f"{owner}: train")
    for i, task in enumerate(sweep.tasks):
        built = _with_owner(f"{owner}: tasks[{i}]", task.build)
        _with_owner(f"{owner}: tasks[{i}]", _recommended, sweep, built)
    for i, model in enumerate(sweep.models):
        where = f"{owner}: models[{i}]"
        cls = _with_owner(where, get_model_class, model.kind)
        if "member" in model.options:
            raise InvalidParameterError(f"{where}: 'member' is set by the runner (from 'seeds')")
        _with_owner(where, validate_options, model.kind, cls.Options, model.options)
    for i, method in enumerate(sweep.methods):
        _with_owner(f"{owner}: methods[{i}]", make_method, method.name, **method.hyperparameters)
    _check_rules(sweep, owner)
    _check_stages(sweep, owner)
    if sweep.analysis is not None:
        check_section(sweep.analysis, owner)
        _check_conditions(sweep, owner)
    seeds = sweep.seed_list()
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds) or not seeds:
        raise InvalidParameterError(f"{owner}: 'seeds' must be distinct integers >= 0; got {seeds}")
    for key, labels in (
        ("tasks", [task_label(t) for t in sweep.tasks]),
        ("models", [model_label(m) for m in sweep.models]),
        ("methods", [method_label(m) for m in sweep.methods]),
        ("rules", [rule_label(r) for r in sweep.rules]),
    ):
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            raise InvalidParameterError(
                f"{owner}: {key} has two entries labelled '{twice[0]}'; give them distinct 'label's"
            )


def _check_rules(sweep: Sweep, owner: str) -> None:
    """Each rule's hyperparameters and training settings; a non-BPTT rule only with methods
    that run the true dynamics (seed 002's methods are BPTT's)."""
    from rnnzoo.training.rules import rule_params

    for i, rule in enumerate(sweep.rules):
        where = f"{owner}: rules[{i}]"
        _with_owner(where, rule_params, rule.name, **rule.hyperparameters)
        for key, why in RUNNER_SETTINGS.items():
            if key in rule.train:
                raise InvalidParameterError(f"{where}: train.{key} is set by the runner ({why})")
        train_config({**sweep.train, **rule.train}, owner=f"{where}: train")
        if rule.name == "bptt":
            continue
        for j, method in enumerate(sweep.methods):
            if method.name != "control":
                raise InvalidParameterError(
                    f"{where}: rule '{rule.name}' runs the true dynamics, but methods[{j}] is "
                    f"'{method.name}' (seed 002's methods are BPTT's): sweep such rules with "
                    "method control only"
                )


def _check_stages(sweep: Sweep, owner: str) -> None:
    """Every stage builds its task for every task entry, and sequence labels are distinct."""
    for k, sequence in enumerate(sweep.stages or ()):
        for j, stage in enumerate(sequence.stages):
            where = f"{owner}: stages[{k}] ({sequence.label}): stages[{j}]"
            for i, task in enumerate(sweep.tasks):
                entry = _with_owner(where, stage.task_entry, task)
                _with_owner(f"{where} (for tasks[{i}])", entry.build)
    labels = [sequence.label for sequence in sweep.stages or ()]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise InvalidParameterError(
            f"{owner}: stages has two sequences labelled '{twice[0]}'; give them distinct labels"
        )


def _check_conditions(sweep: Sweep, owner: str) -> None:
    """The psychometric conditions of ``analysis`` name the sweep's tasks by label."""
    conditions = sweep.analysis.psychometric if sweep.analysis is not None else None
    if isinstance(conditions, dict):
        labels = [task_label(t) for t in sweep.tasks]
        for label in conditions:
            if label not in labels:
                raise InvalidParameterError(
                    f"{owner}: analysis.psychometric names task {label!r}; the sweep's task "
                    f"labels are {labels}"
                )


def _check_combinations(sweep: Sweep, owner: str) -> None:
    """Every cell's rule can train its network with its method and settings (one network
    built per cell), so that an impossible combination fails before the sweep starts."""
    from rnnzoo.training.build import check_rule
    from rnnzoo.training.sequence import check_sequence

    n_seeds = len(sweep.seed_list())
    runs = run_configs(sweep)
    for first in runs[::n_seeds]:
        cell = (
            f"{first.task_label} / {first.model_label} / {first.method_label} / {first.rule_label}"
        )
        if first.sequence_label is not None:
            cell += f" / stages {first.sequence_label}"
            _with_owner(f"{owner}: {cell}", check_sequence, first.stages)
        for config in first.stages or (first.config,):
            _with_owner(f"{owner}: {cell}", check_rule, config)


def _with_owner(owner: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    from rnnzoo.errors import RnnzooError

    try:
        return func(*args, **kwargs)
    except RnnzooError as exc:
        raise InvalidParameterError(f"{owner}: {exc}") from None


def task_label(entry: TaskEntry) -> str:
    return entry.label or entry.task


def model_label(entry: ModelEntry) -> str:
    return entry.label or entry.kind


def method_label(entry: MethodEntry) -> str:
    return entry.label or entry.name


def rule_label(entry: RuleEntry) -> str:
    return entry.label or entry.name


def grid_order(sweep: Sweep, row: dict[str, Any]) -> tuple[int, ...]:
    """Sort key of a results row: the sweep file's order of tasks, models, methods, rules,
    stage sequences, seeds."""

    def index(labels: list[str], label: str | None) -> int:
        return labels.index(label) if label in labels else len(labels)

    return (
        index([task_label(t) for t in sweep.tasks], row.get("task_label")),
        index([model_label(m) for m in sweep.models], row.get("model_label")),
        index([method_label(m) for m in sweep.methods], row.get("method_label")),
        index([rule_label(r) for r in sweep.rules], row.get("rule_label") or "bptt"),
        index([q.label for q in sweep.stages or ()], row.get("sequence_label")),
        row.get("seed") or 0,
    )


def run_configs(sweep: Sweep) -> list[Run]:
    """Every run of the sweep (tasks x models x methods x rules x stage sequences x seeds, in
    that order)."""
    from rnnzoo.models import get_model_class
    from rnnzoo.models.options import validate_options
    from rnnzoo.training.methods import make_method
    from rnnzoo.training.rules import rule_params

    def train_for(rule: RuleEntry) -> dict[str, Any]:
        settings = TrainConfig(**{**sweep.train, **rule.train}).model_dump(mode="json")
        return {**settings, "seed": sweep.data_seed, "statistic": "min"}

    runs = []
    for task in sweep.tasks:
        built = task.build()
        rec = _recommended(sweep, built)
        sequences = _stage_tasks(sweep, task, built)
        for model in sweep.models:
            fields = get_model_class(model.kind).Options.model_fields
            given = {k: v for k, v in rec.get("options", {}).items() if k in fields}
            options = validate_options(
                model.kind, get_model_class(model.kind).Options, {**given, **model.options}
            ).model_dump(mode="json", exclude_defaults=True)
            for method in sweep.methods:
                params = make_method(method.name, **method.hyperparameters).params
                for rule in sweep.rules:
                    hyper = rule_params(rule.name, **rule.hyperparameters).model_dump(mode="json")
                    for sequence, task_configs in sequences:
                        for seed in sweep.seed_list():
                            configs = tuple(
                                run_config(
                                    {
                                        "task": task_config,
                                        "model": {
                                            "kind": model.kind,
                                            "options": _with_member(options, seed),
                                        },
                                        "method": {
                                            "name": method.name,
                                            "hyperparameters": params.model_dump(),
                                        },
                                        "train": {**train_for(rule), **_unless(rec, rule)},
                                        "rule": {"name": rule.name, "hyperparameters": hyper},
                                    }
                                )
                                for task_config in task_configs
                            )
                            labels = (
                                task_label(task),
                                model_label(model),
                                method_label(method),
                                rule_label(rule),
                            )
                            runs.append(_run(configs, seed, labels, sequence))
    return runs


def _stage_tasks(
    sweep: Sweep, task: TaskEntry, built: Any
) -> list[tuple[StageSequence | None, list[dict[str, Any]]]]:
    """Per stage sequence of the sweep: the task config of each stage ([(None, [the task's
    config])] for plain runs)."""
    if sweep.stages is None:
        return [(None, [built.config()])]
    return [
        (sequence, [stage.task_entry(task).build().config() for stage in sequence.stages])
        for sequence in sweep.stages
    ]


def _run(
    configs: tuple[RunConfig, ...],
    seed: int,
    labels: tuple[str, str, str, str],
    sequence: StageSequence | None,
) -> Run:
    """The run of one seed: a plain run (one config) or a stage sequence."""
    if sequence is None:
        return Run(content_id(configs[0]), configs[0], seed, *labels)
    run_id = sequence_id(sequence.label, configs)
    return Run(run_id, configs[0], seed, *labels, sequence.label, configs)


def _recommended(sweep: Sweep, task: Any) -> dict[str, dict[str, Any]]:
    """With ``sweep.recommended``: the task's recommended options and the training settings
    it names that neither the sweep's ``train`` nor the runner sets; else {}."""
    if not sweep.recommended:
        return {}
    from rnnzoo.training.recommended import recommendation

    rec = recommendation(task)
    keep = {k: v for k, v in rec.train.items() if k not in sweep.train and k not in RUNNER_SETTINGS}
    return {
        "options": dict(rec.options),
        "train": train_config(keep).model_dump(mode="json", include=set(keep)),
    }


def _unless(rec: dict[str, dict[str, Any]], rule: RuleEntry) -> dict[str, Any]:
    """The recommended training settings that the rule's own ``train`` does not set."""
    return {k: v for k, v in rec.get("train", {}).items() if k not in rule.train}


def _with_member(options: dict[str, Any], seed: int) -> dict[str, Any]:
    return {**options, "member": seed} if seed else dict(options)


def expand(sweep: Sweep) -> list[Job]:
    """The jobs of the sweep: per cell, runs with consecutive seeds grouped into ensembles of
    at most ``sweep.ensemble`` members (all when true, one when false)."""
    limit = 1 if sweep.ensemble is False else None if sweep.ensemble is True else sweep.ensemble
    jobs: list[Job] = []
    runs = run_configs(sweep)
    n_seeds = len(sweep.seed_list())
    for start in range(0, len(runs), n_seeds):
        for group in _groups(runs[start : start + n_seeds], limit):
            jobs.append(_job(group))
    return jobs


def _groups(runs: list[Run], limit: int | None) -> list[list[Run]]:
    """Split runs (one cell) into chunks of consecutive seeds, at most ``limit`` long."""
    groups: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: r.seed):
        last = groups[-1] if groups else None
        if last and last[-1].seed + 1 == run.seed and (limit is None or len(last) < limit):
            last.append(run)
        else:
            groups.append([run])
    return groups


def _job(group: list[Run]) -> Job:
    first = group[0]
    if len(group) == 1:
        return Job(first.run_id, first.config, (first,), first.stages)
    stages = tuple(_ensemble(config, len(group)) for config in first.stages)
    config = stages[0] if stages else _ensemble(first.config, len(group))
    job_id = content_id(config) if not stages else sequence_id(first.sequence_label or "", stages)
    return Job(job_id, config, tuple(group), stages)


def _ensemble(config: RunConfig, members: int) -> RunConfig:
    """``config`` training an ensemble of ``members`` networks."""
    data = config.model_dump(mode="json")
    data["model"]["ensemble"] = members
    return run_config(data)
