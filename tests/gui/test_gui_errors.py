"""Bad values are rejected inline, on the field they concern, with the library's own message."""

from __future__ import annotations

import pytest
from gui_helpers import choose, element, set_text

from rnnzoo import tasks
from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.runs import RunManager
from rnnzoo.models.options import LeakyRateOptions, validate_options
from rnnzoo.training.config import run_config, train_config
from rnnzoo.training.methods import make_method

pytestmark = pytest.mark.asyncio


def library_message(call, *args, **kwargs) -> str:
    with pytest.raises(InvalidParameterError) as info:
        call(*args, **kwargs)
    return str(info.value)


async def test_bad_values_show_the_library_message_on_their_field(user, manager: RunManager):
    caption = element(user, "preview.caption").text

    set_text(user, "task.dt_ms", "250")
    expected = library_message(tasks.make, "flipflop", "vanilla", dt_ms=250)
    assert expected == "flipflop/vanilla: 'dt_ms' must be > 0 and <= 100 (ms); got 250."
    await user.should_see(expected)
    assert element(user, "task.dt_ms").error == expected
    assert element(user, "preview.caption").text == caption  # the preview keeps the last good task

    set_text(user, "task.dt_ms", "10")
    assert element(user, "task.dt_ms").error is None

    # a cross-field check: the message names input_end_ms, so that field shows it
    set_text(user, "task.input_end_ms", "2500")
    expected = library_message(tasks.make, "flipflop", "vanilla", input_end_ms=2500)
    assert element(user, "task.input_end_ms").error == expected
    set_text(user, "task.input_end_ms", "1800")

    # a duration law that cannot be read
    set_text(user, "task.interval_ms", "uniform(400)")
    expected = library_message(tasks.make, "flipflop", "vanilla", interval_ms="uniform(400)")
    assert element(user, "task.interval_ms").error == expected
    set_text(user, "task.interval_ms", "uniform(400, 900)")
    assert element(user, "task.interval_ms").error is None
    await user.should_see("uniform(400, 900)")

    # model options, ensemble size, training settings and method hyperparameters
    set_text(user, "model.n_hidden", "0")
    expected = library_message(validate_options, "leaky_rate", LeakyRateOptions, {"n_hidden": 0})
    assert element(user, "model.n_hidden").error == expected

    set_text(user, "run.ensemble", "0")
    expected = library_message(
        run_config,
        {"task": {"task": "flipflop"}, "model": {"kind": "leaky_rate", "ensemble": 0}},
        owner="run",
    )
    assert element(user, "run.ensemble").error == expected

    set_text(user, "train.lr", "-1")
    expected = library_message(train_config, {"lr": -1}, owner="train")
    assert element(user, "train.lr").error == expected

    choose(user, "method", "cd")
    set_text(user, "method.theta", "0")
    expected = library_message(make_method, "cd", theta=0)
    assert element(user, "method.theta").error == expected

    # Start refuses while any value is bad: no run folder is written
    user.find(marker="start").click()
    await user.should_see("Fix the values marked in red first.")
    assert not manager.runs_dir.exists() or not any(manager.runs_dir.iterdir())

    # a run name that is not a plain folder name
    for marker, text in (
        ("model.n_hidden", "8"),
        ("run.ensemble", ""),
        ("train.lr", "0.01"),
        ("method.theta", "10"),
    ):
        set_text(user, marker, text)
    set_text(user, "run_name", "../escape")
    user.find(marker="start").click()
    assert element(user, "run_name").error.startswith("'name' must be 1-100 letters")
    assert not (manager.runs_dir.parent / "escape").exists()
