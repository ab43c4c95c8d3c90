"""Test-wide settings: one torch thread (2 shared cores), headless matplotlib."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the tasks layer is tested without torch too
    pass


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say where the GUI tests' browser screenshots are (kept as test artifacts)."""
    from pathlib import Path

    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts" / "gui"
    if artifacts.is_dir() and any(artifacts.glob("*.png")):
        terminalreporter.write_line(f"GUI screenshots: {artifacts}")


@pytest.fixture
def plugin_registry(monkeypatch):
    """Load plugins in a test (`rnnzoo.plugins.add_plugins`, --plugin, entry points): the task
    and network registries, the plugin bookkeeping and RNNZOO_PLUGINS are restored afterwards, or earlier by
    calling the function this fixture gives."""
    import sys

    from rnnzoo import plugins
    from rnnzoo.models import registry as model_registry
    from rnnzoo.tasks import registry

    monkeypatch.setenv(plugins.ENV, "")  # no plugin from outside; restored after the test
    registry.task_names()  # the built-in tasks registered before the snapshot
    model_registry.model_kinds()  # and the built-in networks
    tasks_before, aliases_before = dict(registry._TASKS), dict(registry._ALIASES)
    kinds_before = dict(model_registry._KINDS)
    loaded_before, modules_before = dict(plugins._loaded), set(sys.modules)

    def restore() -> None:
        registry._TASKS.clear()
        registry._TASKS.update(tasks_before)
        registry._ALIASES.clear()
        registry._ALIASES.update(aliases_before)
        model_registry._KINDS.clear()
        model_registry._KINDS.update(kinds_before)
        plugins._loaded.clear()
        plugins._loaded.update(loaded_before)
        os.environ[plugins.ENV] = ""
        for name in set(sys.modules) - modules_before:
            if name.startswith(("rnnzoo_plugin_", "rsg_tasks")):
                del sys.modules[name]

    yield restore
    restore()
