"""Fuzz `rnnzoo train` with bad values built from the parameter schemas themselves.

For every numeric field (and every duration) of every task's parameters, every network kind's
options, the training settings and every method's hyperparameters: values below, above and
far beyond the declared range, NaN, infinity and a value of the wrong type, given with
``--set``; and the command's own numeric options.  Every one must give exactly one line
``error: ...`` on stderr, exit status 2, no traceback, and no new file anywhere.  The CLI is
invoked in-process (typer's runner), so the whole sweep takes seconds.
"""

from __future__ import annotations

import pytest
from helpers import files_under
from schema_values import (
    NumericField,
    as_text,
    bad_values,
    duration_fields,
    numeric_fields,
)
from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.models import get_model_class, model_kinds
from rnnzoo.tasks import get_task_class, make, task_names
from rnnzoo.training.config import ModelSpec, TrainConfig
from rnnzoo.training.methods import make_method

runner = CliRunner()
MAX_SKIP_STEP = 10_000_000  # rnnzoo.training.methods: skip_steps is bounded by its validator


def _task_cases() -> list[tuple[list[str], NumericField]]:
    """One task per parameter class (tasks sharing a class share its fields)."""
    cases, seen = [], set()
    for name in task_names():
        params = get_task_class(name).Params
        if params in seen:
            continue
        seen.add(params)
        dt_ms = params().dt_ms
        if dt_ms is None:  # a suite: each task's own step
            dt_ms = min(t.params.dt_ms for t in make(name).tasks)
        fields = numeric_fields(params) + duration_fields(params, dt_ms)
        cases += [(["--task", name], field) for field in fields]
    return cases


def _model_cases() -> list[tuple[list[str], NumericField]]:
    return [
        (["--model", kind], field)
        for kind in model_kinds()
        for field in numeric_fields(get_model_class(kind).Options)
    ]


def _method_cases() -> list[tuple[list[str], NumericField]]:
    cases = []
    for name in ("cd", "sctt", "dasc"):
        fields = numeric_fields(type(make_method(name).params))
        fields = [f for f in fields if f.name != "skip_steps"]
        fields.append(NumericField("skip_steps", int, ("ge", 0), ("le", MAX_SKIP_STEP), True))
        cases += [(["--method", name], field) for field in fields]
    return cases


SECTIONS = {
    "task": _task_cases(),
    "model": _model_cases(),
    "train": [([], field) for field in numeric_fields(TrainConfig)],
    "method": _method_cases(),
}
OPTIONS = {  # the command's own numeric options and the settings they set
    "--max-steps": next(f for f in numeric_fields(TrainConfig) if f.name == "max_steps"),
    "--seed": next(f for f in numeric_fields(TrainConfig) if f.name == "seed"),
    "--target-perf": next(f for f in numeric_fields(TrainConfig) if f.name == "target_performance"),
    "--ensemble": next(f for f in numeric_fields(ModelSpec) if f.name == "ensemble"),
}


def assert_refused(args: list[str], folder) -> None:
    """One ``error:`` line, exit status 2, no traceback, no new file under ``folder``."""
    before = files_under(folder)
    result = runner.invoke(app, ["train", "--out", str(folder / "run"), *args])
    lines = result.stderr.strip().splitlines()
    what = f"rnnzoo train {' '.join(args)}"
    assert result.exit_code == 2, f"{what}: exit {result.exit_code}\n{result.output}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{what}: {result.stderr!r}"
    assert "Traceback" not in result.output, what
    assert result.exception is None or isinstance(result.exception, SystemExit), what
    assert files_under(folder) == before, f"{what} left files behind"


def test_every_schema_section_has_cases():
    """The sweep below covers every section (a schema change that hid its fields fails)."""
    kinds = {args[1] for args, _ in SECTIONS["model"]}
    assert kinds == set(model_kinds())
    tasks = {get_task_class(args[1]).Params for args, _ in SECTIONS["task"]}
    assert tasks == {get_task_class(name).Params for name in task_names()}
    assert {f.name for _, f in SECTIONS["train"]} >= {"lr", "batch_size", "seed", "max_steps"}
    assert {args[1] for args, _ in SECTIONS["method"]} == {"cd", "sctt", "dasc"}


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_bad_set_values_are_one_line_errors(tmp_path, section):
    for prefix_args, field in SECTIONS[section]:
        for value in bad_values(field):
            assert_refused(
                [*prefix_args, "--set", f"{section}.{field.name}={as_text(value)}"], tmp_path
            )


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_bad_option_values_are_one_line_errors(tmp_path, option):
    for value in bad_values(OPTIONS[option]):
        assert_refused([option, as_text(value)], tmp_path)


def test_an_unknown_option_is_one_line(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "run"), "--bogus", "1"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and lines == [lines[0]] and "No such option: --bogus" in lines[0]
    assert lines[0].startswith("error: ") and files_under(tmp_path) == []
