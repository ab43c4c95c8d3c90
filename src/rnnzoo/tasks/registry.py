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


TASK_CONFIG_KEYS = ("task", "version", "params")
COMPOSE_KEYS = ("tasks", "labels", "mode", "channels", "rule_inputs", "weights", "silenced")


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    )


_COMPOSE_TYPES = {  # key -> (check, what the value must be)
    "labels": (_texts, "a list of names"),
    "mode": (lambda v: isinstance(v, str), "text"),
    "channels": (lambda v: isinstance(v, str), "text"),
    "rule_inputs": (lambda v: isinstance(v, bool), "true or false"),
    "weights": (_numbers, "a list of numbers"),
    "silenced": (_texts, "a list of labels"),
}


def _known_keys(config: dict[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in config:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            raise InvalidParameterError(
                f"{where}: unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
            )


def check_task_config(config: Any, where: str = "task config") -> None:
    """Raise `InvalidParameterError` unless ``config`` has the shape `Task.config()` (or a
    composition's config) writes: known keys only, names and versions as text, ``params`` a
    mapping.  Nothing is built; `from_config` then validates the values."""
    if not isinstance(config, dict):
        raise InvalidParameterError(f"{where}: expected a mapping; got {type(config).__name__}")
    if "compose" in config:
        _known_keys(config, ("compose",), where)
        spec = config["compose"]
        if not isinstance(spec, dict):
            raise InvalidParameterError(
                f"{where}: 'compose' must be a mapping; got {type(spec).__name__}"
            )
        _known_keys(spec, COMPOSE_KEYS, f"{where} [compose]")
        tasks = spec.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            raise InvalidParameterError(
                f"{where} [compose]: 'tasks' must be a non-empty list of task configs; got {tasks!r}"
            )
        for key, (ok, what) in _COMPOSE_TYPES.items():
            if key in spec and not ok(spec[key]):
                raise InvalidParameterError(
                    f"{where} [compose]: {key!r} must be {what}; got {spec[key]!r}"
                )
        for i, item in enumerate(tasks):
            check_task_config(item, f"{where} [compose.tasks[{i}]]")
        return
    _known_keys(config, TASK_CONFIG_KEYS, where)
    if "task" not in config:
        raise InvalidParameterError(f"{where}: needs the key 'task' (a task name)")
    for key in ("task", "version"):
        if key in config and not isinstance(config[key], str):
            raise InvalidParameterError(f"{where}: {key!r} must be text; got {config[key]!r}")
    params = config.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise InvalidParameterError(
            f"{where}: 'params' must be a mapping of parameter names to values; got {params!r}"
        )


def from_config(config: dict[str, Any]) -> Task:
    """Rebuild a task from `Task.config()` (or a composition from its config); a key that is
    not part of that shape is an error (see `check_task_config`)."""
    check_task_config(config)
    if "compose" in config:
        from rnnzoo.tasks.compose import MultiTask

        return MultiTask.from_config(config)
    return make(config["task"], config.get("version", "vanilla"), **config.get("params", {}))


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
    from rnnzoo.plugins import load_plugins

    load_plugins()  # the user's own tasks (entry points, RNNZOO_PLUGINS, --plugin)


__all__ = [
    "check_task_config",
    "describe_all",
    "from_config",
    "get_task_class",
    "make",
    "register",
    "task_names",
]
