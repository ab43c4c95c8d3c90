"""The training form offers every learning rule with its generated hyperparameter form; bad
values and impossible combinations are refused before a run folder is written."""

from __future__ import annotations

import pytest
from gui_helpers import choose, element, eventually, row_of, set_text

from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.runs import RunManager
from rnnzoo.training.config import RunConfig
from rnnzoo.training.rules import rule_names, rule_params

pytestmark = pytest.mark.asyncio


async def test_rule_forms_errors_and_a_force_run(user, manager: RunManager):
    assert list(element(user, "rule").options) == rule_names()
    choose(user, "rule", "force")
    await user.should_see(marker="rule.alpha")
    await user.should_see(marker="rule.learn_every")

    set_text(user, "rule.alpha", "0")
    with pytest.raises(InvalidParameterError) as info:
        rule_params("force", alpha=0)
    assert element(user, "rule.alpha").error == str(info.value)
    set_text(user, "rule.alpha", "10")
    assert element(user, "rule.alpha").error is None

    # FORCE cannot fold its feedback into a Dale's-law W: refused on Start, nothing written
    user.find(marker="model.dale").click()
    set_text(user, "run_name", "dale_force")
    user.find(marker="start").click()
    await eventually(lambda: element(user, "run_name").error, "the combination error")
    assert "rule 'force'" in element(user, "run_name").error
    assert "dale=true" in element(user, "run_name").error
    assert not (manager.runs_dir / "dale_force").exists()

    user.find(marker="model.dale").click()
    for marker, text in {
        "model.n_hidden": "8",
        "train.max_steps": "2",
        "train.eval_every": "1",
        "train.eval_batch_size": "8",
        "train.batch_size": "2",
    }.items():
        set_text(user, marker, text)
    set_text(user, "run_name", "ff_force")
    user.find(marker="start").click()
    await user.should_see("Started run ff_force")
    config = RunConfig.from_yaml(manager.runs_dir / "ff_force" / "config.yaml")
    assert config.rule.name == "force" and config.rule.hyperparameters == {"alpha": 10}
    summary = manager.runs_dir / "ff_force" / "summary.json"
    await eventually(summary.is_file, "the FORCE run to finish")

    def recorded_row():  # the table refreshes every second: wait for the results row itself
        row = row_of(user, "ff_force")
        return row if row is not None and row.get("status") not in (None, "running") else None

    row = await eventually(recorded_row, "the run's results row in the runs table")
    assert row["rule"] == "force"
