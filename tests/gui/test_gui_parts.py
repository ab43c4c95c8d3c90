"""The GUI's parts without a page: schema forms' text round trip, preview data, curves, run
status, run management errors, the analysis summary reader and `rnnzoo gui`'s bad input."""

from __future__ import annotations

import json
import socket
from typing import Annotated

import numpy as np
import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

from rnnzoo import tasks
from rnnzoo.cli.main import app
from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.analysis import read_analysis
from rnnzoo.gui.curves import read_curves
from rnnzoo.gui.forms import field_specs, named_field, parse_text, value_text
from rnnzoo.gui.preview import trial_chart
from rnnzoo.gui.runs import RunManager, run_status
from rnnzoo.models import get_model_class, model_kinds
from rnnzoo.training.config import RunConfig, TrainConfig
from rnnzoo.training.methods import METHOD_NAMES, make_method


def reparsed(instance) -> dict:
    """Every field written as the form writes it, then read back as the form reads it."""
    return {
        name: parse_text(value_text(getattr(instance, name)))
        for name in type(instance).model_fields
    }


@pytest.mark.parametrize("name", tasks.task_names())
def test_every_task_parameter_survives_the_form_text(name):
    for version in tasks.get_task_class(name).versions:
        params = tasks.make(name, version).params
        assert tasks.make(name, version, **reparsed(params)).params == params


def assert_fields_survive_the_form_text(instance) -> None:
    """Each field alone (models refuse some options set explicitly, e.g. activation_slope
    without prelu, so fields are checked against their own type and constraints)."""
    for name, info in type(instance).model_fields.items():
        kind = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        adapter = TypeAdapter(kind)
        value = getattr(instance, name)
        assert adapter.validate_python(parse_text(value_text(value))) == value, name


def test_model_training_and_method_fields_survive_the_form_text():
    for kind in model_kinds():
        assert_fields_survive_the_form_text(get_model_class(kind).Options())
    assert_fields_survive_the_form_text(TrainConfig(lr=1e-4, clip_grad_norm=None))
    for method in METHOD_NAMES:
        assert_fields_survive_the_form_text(make_method(method).params)


def test_field_specs_carry_unit_default_range_and_choices():
    task = tasks.make("flipflop", "long")
    specs = {s.name: s for s in field_specs(task.Params, task.params)}
    assert (specs["dt_ms"].unit, specs["dt_ms"].allowed) == ("ms", "> 0 and <= 100")
    assert specs["trial_ms"].default == "6000"  # the version's value, not the class default
    assert (specs["trial_ms"].unit, specs["trial_ms"].allowed) == ("ms", "> 0")
    assert specs["blind_ms"].allowed == ">= 0"  # an epoch that may be absent
    assert specs["interval_ms"].allowed == "> 0, or a law"
    assert specs["interval_ms"].default == str(task.params.interval_ms)
    assert specs["add_noise"].is_bool
    train = {s.name: s for s in field_specs(TrainConfig, TrainConfig())}
    assert train["optimizer"].choices == ("adam", "adamw", "sgd")
    assert train["target_performance"].default == ""


def test_text_values():
    assert parse_text("") is None and parse_text("  ") is None
    assert parse_text("[1.5, 2]") == [1.5, 2] and parse_text("true") is True
    assert parse_text("uniform(200, 800)") == "uniform(200, 800)"
    assert value_text(0.05) == "0.05" and value_text(1e-6) == "1e-06"
    assert value_text(0.1 + 0.2) == repr(0.1 + 0.2)  # %g would lose digits
    assert named_field("x/v: 'b' must be <= 'a'; got 3.", ["a", "b"]) == "b"
    assert named_field("x/v: 'zz' must be > 0.", ["a"]) is None


def test_preview_series_are_the_trials_without_padding():
    batch = tasks.make("memory_pro").generate(3, seed=0)
    assert len(set(batch.lengths.tolist())) > 1
    for trial in range(3):
        options = trial_chart(batch, trial)
        steps = int(batch.lengths[trial])
        by_name = {s["name"]: np.asarray(s["data"]) for s in options["series"]}
        assert len(by_name) == len(batch.input_names) + 2 * len(batch.output_names)
        for c, channel in enumerate(batch.output_names):
            data = by_name[f"targets: {channel}"]
            np.testing.assert_allclose(data[:, 0], np.arange(steps) * batch.dt_ms)
            np.testing.assert_allclose(data[:, 1], batch.targets[:steps, trial, c], atol=1e-4)


def test_preview_draws_rings_as_heat_maps_with_their_direction():
    from rnnzoo.gui.preview import MAX_MAP_COLUMNS, chart_height_px

    batch = tasks.make("fdgo").generate(3, seed=0)
    options = trial_chart(batch, 0)
    by_name = {s["name"]: s for s in options["series"]}
    maps = [s for s in options["series"] if s["type"] == "heatmap"]
    assert [s["name"] for s in maps] == ["inputs: ring1", "inputs: ring2", "targets: ring"]
    steps = int(batch.lengths[0])
    columns = min(steps, MAX_MAP_COLUMNS)
    assert len(maps[0]["data"]) == columns * 32  # time bins x units
    # the plain inputs are lines, every one of them (fixation and the 20 rule units)
    lines = [s["name"] for s in options["series"] if s["name"].startswith("inputs")]
    lines = [n for n in lines if not n.startswith(("inputs: ring1", "inputs: ring2"))]
    assert len(lines) == 21
    # the target ring carries its direction once the response starts, none before
    direction = np.array(
        [np.nan if p is None else p for _, p in by_name["targets: ring direction"]["data"]]
    )
    expected = batch.conditions["response_loc"][0] * 32 / (2 * np.pi)
    assert np.nanmedian(direction) == pytest.approx(expected, abs=0.05)
    assert np.isnan(direction[0])
    ring_index = next(i for i, s in enumerate(options["series"]) if s["name"] == "targets: ring")
    assert [v["seriesIndex"] for v in options["visualMap"]][2] == ring_index
    assert chart_height_px(batch) > chart_height_px(tasks.make("flipflop").generate(1, 0))


def test_curves_skip_events_and_a_line_being_written(tmp_path):
    records = [
        {"step": 2, "loss": 1.0, "performance": 0.1},
        {"event": "rollback", "step": 2, "lr": 0.5},
        {"step": 4, "loss": 0.5, "performance": 0.3},
    ]
    text = "".join(json.dumps(r) + "\n" for r in records) + '{"step": 6, "lo'
    (tmp_path / "metrics.jsonl").write_text(text)
    curves = read_curves(tmp_path)
    assert (curves.steps, curves.loss, curves.performance) == ([2, 4], [1.0, 0.5], [0.1, 0.3])
    assert read_curves(tmp_path / "missing").steps == []


@pytest.mark.parametrize(
    ("recorded", "alive", "ended", "code", "shown"),
    [
        (None, True, False, None, "running"),
        ("running", True, False, None, "running"),
        ("reached", True, False, None, "finishing"),
        ("interrupted", False, True, 130, "interrupted"),
        ("running", False, True, 1, "failed (exit code 1)"),
        (None, False, True, 2, "failed (exit code 2)"),
        ("running", False, True, None, "failed"),
        ("running", False, False, None, "running"),  # a command-line run elsewhere
    ],
)
def test_run_status(recorded, alive, ended, code, shown):
    assert run_status(recorded, alive, ended, code) == shown


def test_run_manager_rejects_bad_names_taken_names_and_resume_without_checkpoint(tmp_path):
    manager = RunManager(tmp_path / "runs")
    config = RunConfig(task={"task": "flipflop"})
    for bad in ("", "../x", "a/b", ".hidden", "x" * 101):
        with pytest.raises(InvalidParameterError, match="'name' must be"):
            manager.start(bad, config)
    (manager.runs_dir / "taken").mkdir(parents=True)
    with pytest.raises(InvalidParameterError, match="already exists"):
        manager.start("taken", config)
    with pytest.raises(InvalidParameterError, match="no checkpoint"):
        manager.resume(manager.runs_dir / "taken")
    assert not manager.stop(manager.runs_dir / "taken")
    assert manager.runs() == []
    assert sorted(p.name for p in manager.runs_dir.iterdir()) == ["taken"]


def test_analysis_summary_is_read_as_the_contract_says(tmp_path):
    assert read_analysis(tmp_path) is None
    folder = tmp_path / "analysis"
    folder.mkdir()
    for name in ("pca.png", "trials.png"):
        (folder / name).write_bytes(b"\x89PNG")
    summary = {
        "n_fixed_points": 8,
        "n_stable": 8,
        "participation_ratio": 2.5,
        "figures": {"pca": "pca.png", "trials": "trials.png", "spectrum": "missing.png"},
    }
    (folder / "summary.json").write_text(json.dumps(summary))
    analysis = read_analysis(tmp_path)
    assert analysis.numbers == {"n_fixed_points": 8, "n_stable": 8, "participation_ratio": 2.5}
    assert list(analysis.figures) == ["trials", "pca"]  # display order; missing files left out
    (folder / "summary.json").write_text("{not json")
    assert read_analysis(tmp_path) is None


def test_gui_command_rejects_bad_input_with_one_line(tmp_path):
    runner = CliRunner()
    a_file = tmp_path / "file"
    a_file.write_text("")
    result = runner.invoke(app, ["gui", "--port", "0", "--runs-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip() == "error: '--port' must be >= 1 and <= 65535; got 0"
    result = runner.invoke(app, ["gui", "--runs-dir", str(a_file)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: '--runs-dir': '{a_file}' is a file, not a folder"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["gui", "--port", str(port), "--runs-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: '--port': cannot listen on 127.0.0.1:{port}")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()
