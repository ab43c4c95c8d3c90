"""Register neurogym environments as rnnzoo tasks named ``neurogym/NAME``.

``NAME`` is the environment's id without its ``-v0`` suffix (``neurogym/PerceptualDecisionMaking``;
the full id is an alias).  Classes are generated on first use, from the environment's class:
its card from its docstring and ``metadata`` (paper, tags), its parameters from its
constructor, its periods and channel names from a default instance.  Only the environments
that the installed neurogym registers (``neurogym.envs.registration.all_envs()``, its native
ones) are listed; any other ``TrialEnv`` can be wrapped with `neurogym_task`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from typing import Any

from rnnzoo.errors import InvalidParameterError, UnknownNameError, did_you_mean
from rnnzoo.interop._optional import require
from rnnzoo.tasks.base import Metric, Task, Version

PREFIX = "neurogym/"

VERSIONS = {
    "vanilla": Version("the environment's own defaults (its timing, noise and rewards)"),
    "realistic": Version(
        "rnnzoo's correlated input noise on top of the environment's own "
        "(std 0.1, Ornstein-Uhlenbeck with a 50 ms decay time)",
        {"add_noise": True, "noise_scale": 0.1, "noise_decay_ms": 50.0},
    ),
    "long": Version("every period three times as long (timing_scale = 3)", {"timing_scale": 3.0}),
}

ACCURACY = Metric(
    "accuracy",
    "decision accuracy: the argmax over the outputs (one per action, 0 = fixate) of their mean "
    "over the decision period (or, without one, the steps whose ground truth is not fixation) "
    "equals the ground truth there",
    criterion=0.8,
)
R2 = Metric("r2", "per-trial R^2 of the outputs against the continuous ground truth", 0.8)


def installed() -> bool:
    """True when neurogym can be imported."""
    return importlib.util.find_spec("neurogym") is not None


def env_entry_points() -> dict[str, str]:
    """Registered environment id -> ``module:Class`` of the installed neurogym (native envs)."""
    registration = require("neurogym.envs.registration")
    return {env_id: registration.ALL_NATIVE_ENVS[env_id] for env_id in registration.all_envs()}


def task_name(env_id: str) -> str:
    """``neurogym/NAME`` for a neurogym id ``NAME-v0``."""
    return PREFIX + re.sub(r"-v\d+$", "", env_id)


def neurogym_task_names() -> list[str]:
    """``neurogym/NAME`` of every registered environment (empty when neurogym is missing)."""
    if not installed():
        return []
    return sorted(task_name(env_id) for env_id in env_entry_points())


def register_env(name: str) -> None:
    """Generate and register the task class for ``neurogym/NAME`` (or its ``-v0`` alias)."""
    from rnnzoo.tasks.registry import register

    entry_points = env_entry_points()
    by_name = {task_name(env_id): env_id for env_id in entry_points}
    key = name if name in by_name else re.sub(r"-v\d+$", "", name)
    if key not in by_name:
        hint = did_you_mean(name, list(by_name))
        raise UnknownNameError(
            f"unknown neurogym environment '{name.removeprefix(PREFIX)}'{hint} "
            "(see `rnnzoo tasks list`)"
        )
    env_id = by_name[key]
    module_name, class_name = entry_points[env_id].split(":")
    env_class = getattr(require(module_name), class_name)
    register(task_class(env_class, key, env_id))


def _docstring(env_class: type) -> tuple[str, str, dict[str, str]]:
    """(title, summary, argument docs) from the environment's Google-style docstring."""
    text = inspect.cleandoc(env_class.__doc__ or env_class.__name__)
    head, _, rest = text.partition("\n\n")
    title = " ".join(head.split()).rstrip(".")
    summary_part = rest.split("Args:")[0]
    summary = " ".join(summary_part.split()) or title
    docs: dict[str, str] = {}
    if "Args:" in rest:
        current = None
        for line in rest.split("Args:", 1)[1].splitlines():
            match = re.match(r"\s{2,}(\w+):\s*(.*)", line)
            if match and not line.startswith(" " * 12):
                current = match.group(1)
                docs[current] = match.group(2).strip()
            elif current and line.strip():
                docs[current] += " " + line.strip()
            elif not line.strip():
                current = None
    return title, summary, docs


def _definition(env: Any, discrete: bool) -> str:
    timing = getattr(env, "timing", {})
    periods = ", ".join(f"{p} ({_timing_text(v)})" for p, v in timing.items())
    rewards = getattr(env, "rewards", None)
    outputs = (
        f"{env.action_space.n} outputs, one per action (0 = fixate), one-hot targets of the "
        "ground truth"
        if discrete
        else f"{int(env.action_space.shape[0])} continuous outputs, targets = the ground truth"
    )
    return (
        f"Trials are neurogym's own (`{type(env).__module__}.{type(env).__name__}.new_trial`), "
        f"one seeded trial at a time. Periods in ms at the default dt: {periods or 'none'} "
        "(neurogym truncates each duration to whole steps, t // dt * dt). "
        f"Inputs: the {int(env.observation_space.shape[0])} observation dimensions. "
        f"Outputs: {outputs}; loss weight 1 on every trial step, response_weight where the "
        f"ground truth is not fixation. Rewards of the environment (for RL): {rewards}."
    )


def _timing_text(spec: Any) -> str:
    if hasattr(spec, "vmean"):
        return f"truncated exponential, mean {spec.vmean:g}, in [{spec.vmin:g}, {spec.vmax:g}]"
    return str(spec)


def task_class(env_class: type, name: str, env_id: str | None = None) -> type[Task]:
    """The rnnzoo task class of a neurogym environment class (not registered)."""
    from rnnzoo.interop.neurogym.params import env_kwargs, params_model
    from rnnzoo.interop.neurogym.task import NeurogymTask

    title, summary, docs = _docstring(env_class)
    try:
        probe_params = params_model(env_class, (), docs)()
        probe = env_class(**env_kwargs(probe_params))
    except Exception as exc:
        raise InvalidParameterError(
            f"{name}: neurogym's {env_class.__name__} cannot be built with its defaults: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    action_space = probe.action_space
    discrete = hasattr(action_space, "n")
    if not discrete and len(getattr(action_space, "shape", ()) or ()) != 1:
        raise InvalidParameterError(
            f"{name}: only Discrete and 1-D Box action spaces convert; got {action_space}"
        )
    if len(getattr(probe.observation_space, "shape", ()) or ()) != 1:
        raise InvalidParameterError(
            f"{name}: only 1-D observation spaces convert; got {probe.observation_space}"
        )
    periods = tuple(getattr(probe, "timing", {}))
    metadata = getattr(env_class, "metadata", {}) or {}
    paper = " ".join(str(metadata.get("paper_name") or "no paper named").split())
    link = metadata.get("paper_link")
    tags = ", ".join(metadata.get("tags", []))
    namespace = {
        "name": name,
        "env_class": env_class,
        "env_id": env_id or f"{env_class.__name__}-v0",
        "discrete": discrete,
        "title": f"{title} (neurogym {env_class.__name__})",
        "summary": summary + (f" Tags: {tags}." if tags else ""),
        "source": f"{paper}" + (f" ({link})" if link else "") + "; environment from neurogym",
        "definition": _definition(probe, discrete),
        "Params": params_model(env_class, periods, docs),
        "versions": dict(VERSIONS),
        "metric": ACCURACY if discrete else R2,
        "aliases": (PREFIX + env_id,) if env_id and PREFIX + env_id != name else (),
    }
    return type(f"Neurogym{env_class.__name__}", (NeurogymTask,), namespace)
