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


INTEROP_PREFIX = "neurogym/"
"""Names of tasks bridged from neurogym (`rnnzoo.interop.neurogym`), resolved on first use."""


def task_names(interop: bool = False) -> list[str]:
    """Registered task names (without aliases), sorted; with ``interop``, the installed
    neurogym environments (``neurogym/NAME``) too."""
    _load_zoo()
    names = sorted(n for n in _TASKS if not n.startswith(INTEROP_PREFIX))
    if interop:
        from rnnzoo.interop.neurogym.registration import neurogym_task_names

        names += neurogym_task_names()
    return names


def get_task_class(name: str) -> type[Task]:
    """The class registered under ``name`` or one of its aliases."""
    _load_zoo()
    key = _ALIASES.get(name, name)
    if key not in _TASKS and key.startswith(INTEROP_PREFIX):
        from rnnzoo.interop.neurogym.registration import register_env

        register_env(key)  # generates and registers the class (or says why not)
        key = _ALIASES.get(key, key)
    if key not in _TASKS:
        hint = did_you_mean(name, [*_TASKS, *_ALIASES])
        raise UnknownNameError(f"unknown task '{name}'{hint} (see `rnnzoo tasks list`)")
    return _TASKS[key]


def make(name: str, version: str = "vanilla", **overrides: Any) -> Task:
    """Build task ``name`` in ``version`` with parameter ``overrides`` (validated once, here).

    Raises
    ------
    UnknownNameError
        For an unknown task or version (with a suggestion).
    InvalidParameterError
        For a bad parameter, naming it, its allowed range and the value given.
    """
    cls = get_task_class(name)
    if version not in cls.versions:
        hint = did_you_mean(version, cls.versions)
        raise UnknownNameError(
            f"task '{cls.name}' has no version '{version}'{hint}; versions: {', '.join(cls.versions)}"
        )
    values = {**cls.versions[version].overrides, **overrides}
    params = validate_params(f"{cls.name}/{version}", cls.Params, values)
    return cls(params, version=version)


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


def describe_all(interop: bool = False) -> list[dict[str, Any]]:
    """One dict per task: name, aliases, title, versions, channels (for `rnnzoo tasks list`);
    ``interop`` adds the neurogym environments (see `task_names`): one that does not convert
    is a row with its name and ``error`` only."""
    rows = []
    for name in task_names(interop):
        try:
            task = make(name)
        except InvalidParameterError as exc:
            if not name.startswith(INTEROP_PREFIX):
                raise
            rows.append({"name": name, "error": str(exc)})  # a neurogym env that does not convert
            continue
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


__all__ = [
    "describe_all",
    "from_config",
    "get_task_class",
    "make",
    "register",
    "task_names",
]
