"""The GUI offers a plugin's task, previews it, and its training process (a separate
`rnnzoo train`) finds the plugin too; the recommended set-up fills the forms."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import pytest_asyncio
from gui_helpers import choose, element, eventually, set_text
from nicegui.testing import user_simulation

from rnnzoo import plugins
from rnnzoo.gui import setup_view
from rnnzoo.gui.app import create_root
from rnnzoo.training.config import RunConfig

pytestmark = pytest.mark.asyncio
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "ready_set_go.py"


@pytest.fixture
def plugin_loaded(plugin_registry):
    setup_view.task_menu.cache_clear()
    plugins.add_plugins([str(EXAMPLE)])
    yield
    plugin_registry()
    setup_view.task_menu.cache_clear()


@pytest_asyncio.fixture
async def plugin_user(plugin_loaded, manager):
    async with user_simulation(root=create_root(manager)) as simulated:
        await simulated.open("/")
        yield simulated


async def test_a_plugin_task_is_offered_previewed_and_trained(plugin_user, manager):
    user = plugin_user
    assert "ready_set_go" in element(user, "task").options
    choose(user, "task", "ready_set_go: Ready-Set-Go interval reproduction")
    await user.should_see(marker="task.interval_ms")
    await user.should_see("2 inputs, 1 outputs")
    for marker, text in {
        "model.n_hidden": "8",
        "train.batch_size": "4",
        "train.eval_every": "2",
        "train.eval_batch_size": "8",
        "train.max_steps": "4",
    }.items():
        set_text(user, marker, text)
    set_text(user, "run_name", "rsg")
    user.find(marker="start").click()
    await user.should_see("Started run rsg")
    run = manager.runs_dir / "rsg"
    assert os.environ[plugins.ENV] == str(EXAMPLE)  # what the training process inherits
    await eventually(lambda: (run / "summary.json").is_file(), "the run's summary")
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["task"], summary["status"]) == ("ready_set_go", "max_steps")


async def test_the_recommended_switch_fills_the_forms_from_the_tasks_source(user):
    assert not element(user, "recommended").enabled  # the flip-flop's source states none
    choose(user, "task", "dm1: DM 1 (Yang et al. 2019)")
    await user.should_see("Yang et al. (2019) Methods")
    switch = element(user, "recommended")
    assert switch.enabled
    switch.value = True
    await eventually(lambda: element(user, "model.n_hidden").value == "256", "recommended N")
    assert element(user, "model.readout").value == "sigmoid"
    assert element(user, "train.lr").value == "0.001"
    assert element(user, "model.recurrent_noise").value == "0.05"
    switch.value = False
    await eventually(lambda: element(user, "model.n_hidden").value == "128", "the defaults")
    assert element(user, "train.lr").value == "0.003"


async def test_the_forms_start_at_the_library_defaults(user, manager):
    set_text(user, "run_name", "plain")
    user.find(marker="start").click()
    await user.should_see("Started run plain")
    config = RunConfig.from_yaml(manager.runs_dir / "plain" / "config.yaml")
    assert (
        config.model.options == {}
        and config.train.model_dump() == RunConfig(task={"task": "flipflop"}).train.model_dump()
    )
    manager.stop(manager.runs_dir / "plain")
