"""The task registry: names, aliases, versions, and `make`.

Versions are frozen: changing a version's numbers means adding a new version (a golden test
pins the hash of one seeded batch per task and version).
"""

from __future__ import annotations

from typing import Any

from rnnzoo.errors import InvalidParameterError, UnknownNameError, did_you_mean
from rnnzoo.tasks.base import VERSION_NAMES, Task
from rnnzoo.tasks.params import validate_params

_TASKS: dict[str, type[Task]] = {}
_ALIASES: dict[str, str] = {}


def register(cls: type[Task]) -> type[Task]:
    """Class decorator adding a task to the registry (checks its declarations)."""
    names = list(cls.versions)
    if names[: len(VERSION_NAMES)] != list(VERSION_NAMES):
        raise TypeError(f"{cls.__name__}: versions must start with {VERSION_NAMES}; got {names}")
    for key in (cls.name, *cls.aliases):
        if key in _TASKS or key in _ALIASES:
            raise TypeError(f"task name or alias '{key}' is registered twice")
    _TASKS[cls.name] = cls
    for alias in cls.aliases:
        _ALIASES[alias] = cls.name
    return cls


def task_names() -> list[str]:
    """Registered task names (without aliases), sorted."""
    _load_zoo()
    return sorted(_TASKS)


def get_task_class(name: str) -> type[Task]:
    """The class registered under ``name`` or one of its aliases."""
    _load_zoo()
    key = _ALIASES.get(name, name)
    if key not in _TASKS:
        hint = did_you_mean(name, [*_TASKS, *_ALIASES])
        raise UnknownNameError(f"unknown task '{name}'{hint} (see `rnnzoo tasks list`)")
    return _TASKS[key]


def make(name: str, version: str = "vanilla", **overrides: Any) -> Task:
    """Build task ``name`` in ``version`` with parameter ``overrides`` (validated once, here).

    ``name`` may be a registered suite (e.g. ``yang2019``, a `MultiTask`) or tasks joined by
    ``+`` (``"fdgo+fdanti"``): their composition, every task in ``version`` with the
    ``overrides``, interleaved trials; channels shared when the tasks have the same channel
    names (then without extra rule inputs, e.g. Yang et al.'s rules), else separate with
    one-hot rule inputs (see `rnnzoo.tasks.compose`).

    Raises
    ------
    UnknownNameError
        For an unknown task or version (with a suggestion).
    InvalidParameterError
        For a bad parameter, naming it, its allowed range and the value given.
    """
    if "+" in name and name not in _TASKS and name not in _ALIASES:
        return _compose_by_name(name, version, overrides)
    cls = get_task_class(name)
    if version not in cls.versions:
        hint = did_you_mean(version, cls.versions)
        raise UnknownNameError(
            f"task '{cls.name}' has no version '{version}'{hint}; versions: {', '.join(cls.versions)}"
        )
    values = {**cls.versions[version].overrides, **overrides}
    params = validate_params(f"{cls.name}/{version}", cls.Params, values)
    return cls(params, version=version)


def _compose_by_name(name: str, version: str, overrides: dict[str, Any]) -> Any:
    """The composition ``a+b+...`` (see `make`)."""
    from rnnzoo.tasks.compose import compose

    parts = name.split("+")
    if any(not part for part in parts):
        raise InvalidParameterError(f"task '{name}': join task names with '+', as in 'fdgo+fdanti'")
    members = [make(part, version, **overrides) for part in parts]
    same = all(
        (t.input_names, t.output_names) == (members[0].input_names, members[0].output_names)
        for t in members
    )
    if same:
        return compose(members, channels="shared", rule_inputs=False)
    return compose(members)


def from_config(config: dict[str, Any]) -> Task:
    """Rebuild a task from `Task.config()` (or a composition from its config)."""
    if not isinstance(config, dict):
        raise InvalidParameterError(f"a task config must be a dict; got {type(config).__name__}")
    if "compose" in config:
        from rnnzoo.tasks.compose import MultiTask

        return MultiTask.from_config(config)
    try:
        name = config["task"]
    except KeyError:
        raise InvalidParameterError("a task config needs the key 'task'") from None
    return make(name, config.get("version", "vanilla"), **config.get("params", {}))


def describe_all() -> list[dict[str, Any]]:
    """One dict per task: name, aliases, title, versions, channels (for `rnnzoo tasks list`)."""
    rows = []
    for name in task_names():
        task = make(name)
        rows.append(
            {
                "name": name,
                "aliases": list(task.aliases),
                "title": task.title,
                "versions": list(task.versions),
                "inputs": task.n_inputs,
                "outputs": task.n_outputs,
                "metric": task.metric.name,
            }
        )
    return rows


_loaded = False


def _load_zoo() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import rnnzoo.tasks.zoo  # noqa: F401  (registers the built-in tasks)
    from rnnzoo.plugins import load_plugins

    load_plugins()  # the user's own tasks (entry points, RNNZOO_PLUGINS, --plugin)


__all__ = [
    "describe_all",
    "from_config",
    "get_task_class",
    "make",
    "register",
    "task_names",
]
