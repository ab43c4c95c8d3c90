"""Training settings (`TrainConfig`) and the complete, rerunnable run description (`RunConfig`).

A `RunConfig` is what a run directory's ``config.yaml`` holds: the task config (as
`Task.config()` writes it, or a composition), the network (kind, ensemble size, options), the
training method with its hyperparameters, the training settings and the learning rule with its
hyperparameters (BPTT in files written before rules existed).  Loading that file and
training again reproduces the run bit for bit (same seed, same device kind).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error
from rnnzoo.tasks.seeding import MAX_SEED

STATISTICS = ("mean_10_90", "min", "mean", "median")
MAX_STEPS = 1_000_000_000  # steps of a run (and every step count of its settings)
MAX_BATCH = 100_000  # trials per training step or evaluation
MAX_ENSEMBLE = 100_000  # members of one ensemble


class Ramp(BaseModel):
    """One curriculum ramp: task parameter ``param`` goes from ``start`` to ``end`` over the
    first ``steps`` training steps and stays at ``end`` after; "linear" moves every step, "step"
    holds ``stages`` equal plateaus (start, ..., end).  See `rnnzoo.training.curriculum`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    param: str = Field(description="task parameter name (e.g. delay_ms)")
    start: float = Field(ge=-1e12, le=1e12, description="value at step 0 (ms for durations)")
    end: float = Field(ge=-1e12, le=1e12, description="value from step ``steps`` on")
    steps: int = Field(ge=1, le=MAX_STEPS, description="training steps over which the value ramps")
    schedule: Literal["linear", "step"] = Field("linear", description="linear or staircase")
    stages: int | None = Field(None, ge=2, le=10_000, description="plateaus of a 'step' schedule")

    @model_validator(mode="after")
    def _stages_iff_step(self) -> Ramp:
        if self.schedule == "step" and self.stages is None:
            raise ValueError("'stages' is required with schedule 'step' (number of plateaus)")
        if self.schedule == "linear" and self.stages is not None:
            raise ValueError("'stages' is only used with schedule 'step'")
        return self


class TrainConfig(BaseModel):
    """Settings of one training run (frozen; a misspelt name is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="optimiser")
    lr: float = Field(3e-3, gt=0, le=10, description="learning rate")
    weight_decay: float = Field(
        0.0, ge=0, le=1e3, description="decoupled (adamw) or L2 (adam, sgd) decay"
    )
    momentum: float = Field(0.0, ge=0, lt=1, description="SGD momentum")
    batch_size: int = Field(
        64, ge=1, le=MAX_BATCH, description="trials per step (shared by members)"
    )
    max_steps: int = Field(
        3000, ge=1, le=MAX_STEPS, description="stop after this many steps (updates)"
    )
    loss: Literal["mse", "cross_entropy"] = Field("mse", description="masked loss")
    l1_weights: float = Field(
        0.0, ge=0, le=1e3, description="L1 penalty on weight matrices (per member)"
    )
    l2_weights: float = Field(
        0.0, ge=0, le=1e3, description="L2 penalty on weight matrices (per member)"
    )
    l1_activity: float = Field(
        0.0, ge=0, le=1e3, description="L1 penalty on mean |rate| (control only)"
    )
    l2_activity: float = Field(
        0.0, ge=0, le=1e3, description="L2 penalty on mean rate^2 (control only)"
    )
    clip_grad_norm: float | None = Field(
        1.0,
        gt=0,
        le=1e6,
        description="max gradient norm of each ensemble member; None = no clipping",
    )
    eval_every: int = Field(25, ge=1, le=MAX_STEPS, description="steps between evaluations")
    eval_batch_size: int = Field(
        256, ge=1, le=MAX_BATCH, description="held-out trials per evaluation"
    )
    target_performance: float | None = Field(
        None,
        ge=-1e6,
        le=1,
        description="stop at this performance; None = the task metric's criterion",
    )
    statistic: Literal["mean_10_90", "min", "mean", "median"] = Field(
        "mean_10_90",
        description="ensemble statistic compared with the target (mean_10_90 = mean over the "
        "10th-90th percentile of members, as seed 002)",
    )
    anneal_steps: int | None = Field(
        None,
        ge=0,
        le=MAX_STEPS,
        description="steps over which a method's progress goes from 0 to 1 (0 = at once; None = "
        "the first half of max_steps, as seed 002 anneals over 20,000 of 40,000 steps)",
    )
    checkpoint_every: int = Field(200, ge=1, le=MAX_STEPS, description="steps between checkpoints")
    on_divergence: Literal["stop", "rollback"] = Field(
        "stop", description="on NaN/divergence: stop, or roll back with half the learning rate"
    )
    max_rollbacks: int = Field(
        3, ge=0, le=1000, description="rollbacks before the run stops as diverged"
    )
    divergence_loss: float = Field(
        1e6,
        gt=0,
        le=1e30,
        description="a loss above this (times the member's first loss, if > 1) is divergence",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of weights, trials and network noise")
    device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="where to train")
    noise_on_device: bool = Field(
        False,
        description="draw the training batches' input noise with torch on the training device "
        "(same law, seeded by the batch; other numbers than the host's NumPy draw)",
    )
    curriculum: tuple[Ramp, ...] = Field(
        (), description="task parameters ramped over training (see rnnzoo.training.curriculum)"
    )


class ModelSpec(BaseModel):
    """The network to train; n_inputs, n_outputs and dt_ms come from the task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = "leaky_rate"
    ensemble: int | None = Field(
        None, ge=1, le=MAX_ENSEMBLE, description="members M (None = one network)"
    )
    options: dict[str, Any] = Field(default_factory=dict)


class MethodSpec(BaseModel):
    """A training method and its hyperparameters (see `rnnzoo.training.methods`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "control"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class RuleSpec(BaseModel):
    """A learning rule and its hyperparameters (see `rnnzoo.training.rules`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "bptt"
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class RunConfig(BaseModel):
    """Everything needed to rerun a training run (the run directory's config.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: dict[str, Any] = Field(description="task config: {task, version, params} or compose")
    model: ModelSpec = Field(default_factory=ModelSpec)
    method: MethodSpec = Field(default_factory=MethodSpec)
    train: TrainConfig = Field(default_factory=TrainConfig)
    rule: RuleSpec = Field(default_factory=RuleSpec)

    @model_validator(mode="after")
    def _task_has_a_name(self) -> RunConfig:
        if "task" not in self.task and "compose" not in self.task:
            raise ValueError("'task' must name a task ({task: NAME, ...}) or a composition")
        from rnnzoo.tasks.registry import check_task_config

        check_task_config(self.task)  # unknown keys and wrong types, before anything is built
        return self

    def to_yaml(self) -> str:
        """YAML text of the config (plain types only)."""
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)

    @classmethod
    def from_yaml(cls, path: str | Path) -> RunConfig:
        """Read a config.yaml (safe loader: plain data only)."""
        data = read_yaml(path, "config file")
        return run_config(data if data is not None else {}, owner=str(path))

    def identity(self) -> dict[str, str]:
        """The results-table columns that name what this config trains: task, version, model,
        method, rule."""
        labels = self.task.get("compose", {}).get("labels") or []
        return {
            "task": self.task.get("task") or "+".join(labels) or "compose",
            "version": str(self.task.get("version", "")),
            "model": self.model.kind,
            "method": self.method.name,
            "rule": self.rule.name,
        }


def read_yaml(path: str | Path, what: str) -> Any:
    """The plain data of the YAML file ``path`` through rnnzoo's one safe reader (size, depth
    and alias limits, duplicate keys an error; see `rnnzoo._yaml`); `InvalidParameterError`
    names ``what`` (e.g. "config file") and the file."""
    from rnnzoo._yaml import read_yaml as read

    return read(path, what)


def train_config(values: dict[str, Any], owner: str = "train") -> TrainConfig:
    """Build a `TrainConfig` or raise `InvalidParameterError` naming the setting."""
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(owner, TrainConfig, exc)) from None


def run_config(values: Any, owner: str = "run config") -> RunConfig:
    """Build a `RunConfig` from plain data or raise `InvalidParameterError`."""
    if not isinstance(values, dict):
        raise InvalidParameterError(f"{owner}: expected a mapping; got {type(values).__name__}")
    sections = {"model": ModelSpec, "method": MethodSpec, "train": TrainConfig, "rule": RuleSpec}
    for key, model in sections.items():
        if isinstance(values.get(key), dict):
            try:
                model(**values[key])
            except ValidationError as exc:
                msg = parse_validation_error(f"{owner} [{key}]", model, exc)
                raise InvalidParameterError(msg) from None
    try:
        return RunConfig(**values)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(owner, RunConfig, exc)) from None
