"""Plugins: the user's own tasks and networks, registered by importing their module.

A plugin is a Python module (or a ``.py`` file) that registers tasks with
`rnnzoo.tasks.register` and networks with `rnnzoo.models.registry.register` when imported.
rnnzoo imports plugins from three places, once each, before the registries are first used:

- installed packages' entry points in the group ``rnnzoo.plugins``, e.g. in their
  pyproject.toml: ``[project.entry-points."rnnzoo.plugins"] my_tasks = "my_package.tasks"``;
- the environment variable ``RNNZOO_PLUGINS``: module names or ``.py`` files separated by
  commas;
- `add_plugins` (``rnnzoo --plugin MODULE_OR_FILE COMMAND ...``), which imports them at once
  and adds them to ``RNNZOO_PLUGINS``, so that every process a command starts (the GUI's
  training processes, the bench workers) loads them too.

Module names are imported with the current folder on the path; files are imported by path.
A plugin that cannot be imported is a one-line `InvalidParameterError` naming it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ENV = "RNNZOO_PLUGINS"
GROUP = "rnnzoo.plugins"

_loaded: dict[str, ModuleType] = {}
_entry_points_done = False
_loading = False


def plugin_specs() -> list[str]:
    """The plugins named in ``RNNZOO_PLUGINS`` (module names or .py files), in order."""
    text = os.environ.get(ENV, "")
    return [item.strip() for item in text.replace(os.pathsep, ",").split(",") if item.strip()]


def add_plugins(specs: list[str] | tuple[str, ...]) -> None:
    """Import the plugins ``specs`` now and add them to ``RNNZOO_PLUGINS`` (files as absolute
    paths) for the processes started later."""
    from rnnzoo.errors import InvalidParameterError

    known = plugin_specs()
    for spec in specs:
        spec = spec.strip()
        if not spec:
            raise InvalidParameterError("'--plugin' needs a module name or a .py file")
        if spec.endswith(".py"):
            spec = str(Path(spec).resolve())
        _import(spec, "--plugin")
        if spec not in known:
            known.append(spec)
    os.environ[ENV] = ",".join(known)


def load_plugins() -> None:
    """Import the entry-point plugins (once) and every plugin in ``RNNZOO_PLUGINS`` not yet
    imported.  Called by the task and model registries before a lookup."""
    global _entry_points_done, _loading
    if _loading:
        return
    _loading = True
    try:
        if not _entry_points_done:
            _entry_points_done = True
            for point in importlib.metadata.entry_points(group=GROUP):
                key = f"entry point {point.name}"
                if key not in _loaded:
                    _loaded[key] = _load_entry_point(point)
        for spec in plugin_specs():
            _import(spec, ENV)
    finally:
        _loading = False


def loaded_plugins() -> list[str]:
    """What has been imported as a plugin so far (entry points and modules or files)."""
    return list(_loaded)


def active_plugins() -> list[str]:
    """The modules and files this process has loaded or will load as plugins (``--plugin``,
    `add_plugins`, ``RNNZOO_PLUGINS``), for a process elsewhere to load the same; entry points
    are left out: every process finds those of its own installed packages."""
    named = [key for key in _loaded if not key.startswith("entry point ")]
    return named + [spec for spec in plugin_specs() if spec not in named]


def _load_entry_point(point: importlib.metadata.EntryPoint) -> ModuleType:
    from rnnzoo.errors import InvalidParameterError

    try:
        loaded = point.load()
    except Exception as exc:
        dist = getattr(point.dist, "name", "?")
        raise InvalidParameterError(
            f"plugin entry point '{point.name}' of package '{dist}' ({point.value}) cannot be "
            f"imported: {type(exc).__name__}: {exc}".splitlines()[0]
        ) from None
    return loaded if isinstance(loaded, ModuleType) else sys.modules[point.module]


def _import(spec: str, where: str) -> ModuleType:
    """Import the plugin ``spec`` (a module name or a .py file) once."""
    from rnnzoo.errors import InvalidParameterError

    if spec.endswith(".py"):
        spec = str(Path(spec).resolve())
    if spec in _loaded:
        return _loaded[spec]
    try:
        if spec.endswith(".py"):
            module = _import_file(Path(spec))
        else:
            cwd = os.getcwd()
            added = cwd not in sys.path
            if added:
                sys.path.append(cwd)
            try:
                module = importlib.import_module(spec)
            finally:
                if added:
                    sys.path.remove(cwd)
    except InvalidParameterError:
        raise
    except Exception as exc:
        raise InvalidParameterError(
            f"plugin '{spec}' (from {where}) cannot be imported: "
            f"{type(exc).__name__}: {exc}".splitlines()[0]
        ) from None
    _loaded[spec] = module
    return module


def _import_file(path: Path) -> ModuleType:
    from rnnzoo.errors import InvalidParameterError

    if not path.is_file():
        raise InvalidParameterError(f"plugin file '{path}' does not exist")
    name = f"rnnzoo_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidParameterError(f"plugin file '{path}' cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


__all__ = [
    "ENV",
    "GROUP",
    "active_plugins",
    "add_plugins",
    "load_plugins",
    "loaded_plugins",
    "plugin_specs",
]
