"""Build the pieces of a run from its config: task, network, method, learning rule, device,
target."""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network, make_model
from rnnzoo.training.config import RunConfig

DEFAULT_TARGET = 0.95  # for tasks without a metric criterion (compositions)


class Method(Protocol):
    """What the trainer needs from a training method (`rnnzoo.training.methods`)."""

    name: str

    def outputs(
        self,
        net: Network,
        inputs: Tensor,
        progress: float,
        generator: torch.Generator,
        *,
        conditions: dict[str, Any] | None = None,
    ) -> Tensor: ...


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda`` (error when unavailable) or ``auto`` (cuda when present)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError("'device' is 'cuda' but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise InvalidParameterError(f"'device' must be one of cpu, cuda, auto; got {name!r}")
    return torch.device(name)


def build_task(config: RunConfig) -> Any:
    """The task (or composition) of a run config."""
    from rnnzoo.tasks import from_config

    return from_config(config.task)


def task_dt_ms(task: Any) -> float:
    """The sampling period of a task or composition (ms)."""
    return float(task.dt_ms if hasattr(task, "dt_ms") else task.params.dt_ms)


def build_network(config: RunConfig, task: Any) -> Network:
    """The freshly initialised network of a run config for ``task``."""
    from rnnzoo.models import get_model_class

    spec = config.model
    options = get_model_class(spec.kind).options_for_task(
        spec.options, getattr(task, "stimulus_shape", None)
    )
    return make_model(
        spec.kind,
        task.n_inputs,
        task.n_outputs,
        dt_ms=task_dt_ms(task),
        ensemble=spec.ensemble,
        seed=config.train.seed,
        **options,
    )


def build_method(config: RunConfig) -> Method:
    """The training method of a run config."""
    from rnnzoo.training.methods import make_method

    return make_method(config.method.name, **config.method.hyperparameters)


def build_learner(
    config: RunConfig,
    net: Network,
    method: Method,
    noise: torch.Generator,
    task: Any,
    device: torch.device,
) -> Any:
    """The learning rule of a run config bound to ``net`` (checked against the network, the
    method and the training settings first); ``task()`` gives the current task."""
    from rnnzoo.training.rules import LearnerContext, make_learner

    context = LearnerContext(net, config.train, method, noise, task, device)
    return make_learner(config.rule.name, config.rule.hyperparameters, context)


def task_view(config: RunConfig, task: Any) -> Any:
    """``task`` as the network of the run's rule sees it (`Learner.task_view`: the task itself,
    or ``a2c``'s policy view with action logits and a value output)."""
    from rnnzoo.training.rules import get_rule_class, rule_params

    params = rule_params(config.rule.name, **config.rule.hyperparameters)
    return get_rule_class(config.rule.name).task_view(task, params)


def check_rule(config: RunConfig) -> None:
    """Raise the one-line error the run's learning rule gives for its network, method and
    settings, without training (the GUI and the benchmark runner check before they start)."""
    from rnnzoo.models.base import seeded_generator
    from rnnzoo.training.rules import LearnerContext, get_rule_class, rule_params

    task = task_view(config, build_task(config))  # the network is built for the rule's view
    net = build_network(config, task)
    context = LearnerContext(
        net, config.train, build_method(config), seeded_generator(0, 1), lambda: task
    )
    params = rule_params(config.rule.name, **config.rule.hyperparameters)
    get_rule_class(config.rule.name).check(params, context)


def target_performance(config: RunConfig, task: Any) -> float:
    """The configured target, else the task metric's criterion (0.95 for compositions)."""
    if config.train.target_performance is not None:
        return float(config.train.target_performance)
    metric = getattr(task, "metric", None)
    return float(metric.criterion) if metric is not None else DEFAULT_TARGET


def check_fits(net: Network, config: RunConfig, task: Any) -> None:
    """Raise unless ``net`` is the network ``config`` would build for ``task`` (kind, sizes)."""
    want = {
        "kind": config.model.kind,
        "n_inputs": task.n_inputs,
        "n_outputs": task.n_outputs,
        "ensemble": config.model.ensemble,
        "dt_ms": task_dt_ms(task),
    }
    have = {
        "kind": net.config.kind,
        "n_inputs": net.config.n_inputs,
        "n_outputs": net.config.n_outputs,
        "ensemble": net.config.ensemble,
        "dt_ms": float(net.config.dt_ms),
    }
    diff = [
        f"{k}: network {have[k]!r}, task/config {want[k]!r}" for k in want if have[k] != want[k]
    ]
    if diff:
        raise InvalidParameterError(
            "the network does not fit this run's task/model: " + "; ".join(diff)
        )
