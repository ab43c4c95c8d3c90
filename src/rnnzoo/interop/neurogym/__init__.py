"""neurogym environments as rnnzoo tasks (``pip install "rnnzoo[neurogym]"``).

>>> from rnnzoo import tasks
>>> task = tasks.make("neurogym/PerceptualDecisionMaking", dt_ms=20)   # doctest: +SKIP
>>> from rnnzoo.interop.neurogym import neurogym_task
>>> task = neurogym_task(my_env)                                       # doctest: +SKIP

See `rnnzoo.interop.neurogym.task` for how trials are seeded and laid out.
"""

from __future__ import annotations

from typing import Any

from rnnzoo.interop.neurogym.registration import (
    PREFIX,
    installed,
    neurogym_task_names,
    task_class,
    task_name,
)


def neurogym_task(env: Any, version: str = "vanilla", **params: Any):
    """An rnnzoo task from a neurogym environment: a registered name (``"PerceptualDecision
    Making"``, its ``-v0`` id, or ``"neurogym/..."``) or an instance of a ``TrialEnv``.

    ``params`` are the task's parameters (``dt_ms`` and the environment's keyword arguments).
    An instance is copied (unwrapped; the copy's timing functions rebound to the copy, so the
    instance itself is never drawn from or changed); rnnzoo cannot see the
    arguments it was built with, so pass them in ``params`` too if the task's config must
    rebuild it (`Task.config` records ``params``, and ``dt_ms`` is read from the instance).
    """
    from rnnzoo import tasks

    if isinstance(env, str):
        name = env if env.startswith(PREFIX) else PREFIX + env
        return tasks.make(name, version, **params)
    from rnnzoo.interop.neurogym.task import NeurogymTask, copy_env
    from rnnzoo.tasks.params import validate_params

    raw = env.unwrapped if hasattr(env, "unwrapped") else env
    if not hasattr(raw, "new_trial"):
        from rnnzoo.errors import InvalidParameterError

        raise InvalidParameterError(
            f"neurogym_task: expected a neurogym TrialEnv or its name; got {type(env).__name__}"
        )
    cls = task_class(type(raw), task_name(f"{type(raw).__name__}-v0"))
    values = {**cls.versions[version].overrides, "dt_ms": float(raw.dt), **params}
    validated = validate_params(f"{cls.name}/{version}", cls.Params, values)
    task: NeurogymTask = cls(validated, version=version, env=copy_env(raw))
    return task


__all__ = ["PREFIX", "installed", "neurogym_task", "neurogym_task_names", "task_class"]
