"""Values that pass validation but cannot run: every duration and count is bounded, and the
memory a configuration needs is estimated (from the config and the task and model schemas)
and checked against a stated budget before any file is written."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest
import yaml
from helpers import files_under, invoke, one_line_error, small
from schema_values import unbounded_leaves

from rnnzoo.bench.sweep import SeedRange, Sweep
from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.runs import RunManager
from rnnzoo.models import get_model_class, model_kinds
from rnnzoo.models.base import ModelConfig
from rnnzoo.tasks import get_task_class, task_names
from rnnzoo.training.build import build_task
from rnnzoo.training.config import ModelSpec, Ramp, TrainConfig
from rnnzoo.training.methods import make_method

BUDGET_ENV = "RNNZOO_MEMORY_GB"
VALIDATED = {"SkipParams.skip_steps (int: {})"}  # bounded by its validator (see the fuzz test)


def test_every_numeric_setting_has_both_bounds():
    schemas = {get_task_class(name).Params for name in task_names()}
    schemas |= {get_model_class(kind).Options for kind in model_kinds()}
    schemas |= {type(make_method(name).params) for name in ("control", "cd", "sctt", "dasc")}
    schemas |= {TrainConfig, Ramp, ModelSpec, ModelConfig, Sweep, SeedRange}
    missing = [m for schema in schemas for m in unbounded_leaves(schema) if m not in VALIDATED]
    assert not missing


MEMORY = ("needs about", "more than the budget", BUDGET_ENV)
REFUSED = {
    # the examples: the `rnnzoo train` arguments and words of the one-line error
    "dt 1e-6 ms": (["--set", "dt_ms=1e-6"], ["'trial_ms'", "more than 100000 steps"]),
    "trial 1e12 ms": (["--set", "trial_ms=1e12"], ["'trial_ms'", "more than 100000 steps"]),
    "trial 1e9 ms": (["--set", "trial_ms=1e9"], ["'trial_ms'", "more than 100000 steps"]),
    "interval 1e308 ms": (["--set", "interval_ms=1e308"], ["'interval_ms'", "more than 100000"]),
    "interval inf": (["--set", "interval_ms=inf"], ["'interval_ms'"]),
    "a million units": (["--set", "n_hidden=1000000"], ["weights and optimiser state", *MEMORY]),
    "long trials x 1e5": (["--version", "long", "--set", "batch_size=100000"], ["activations", *MEMORY]),
    "eval batch 1e9": (["--set", "eval_batch_size=1000000000"], ["'eval_batch_size'", "<= 100000"]),
    "seed 1e30": (["--seed", "1" + "0" * 30], ["'seed'", "<= 4294967295"]),
    "seed 1e30 by --set": (["--set", "seed=1" + "0" * 30], ["'seed'", "<= 4294967295"]),
    "an ensemble of 1e6": (["--ensemble", "1000000"], ["'ensemble'"]),
    "100k steps x 32k units": (["--set", "n_hidden=32768", "--ensemble", "64"], MEMORY),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_values_that_cannot_run_are_refused_before_any_file(tmp_path, case):
    args, words = REFUSED[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy cast warning on the way either
        line = one_line_error(invoke("train", "--out", str(tmp_path / "run"), *args))
    assert all(w in line for w in words), line
    assert files_under(tmp_path) == []


def test_export_of_a_million_long_trials_is_refused(tmp_path):
    out = tmp_path / "x.h5"
    args = ["tasks", "export", "flipflop", "--version", "long", "-b", "1000000", "--seed", "0"]
    line = one_line_error(invoke(*args, "--out", str(out)))
    assert "a batch of 1000000 trials of flipflop" in line and all(w in line for w in MEMORY)
    assert files_under(tmp_path) == []


def test_the_budget_is_stated_and_can_be_changed(tmp_path, monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "0.001")
    line = one_line_error(invoke("train", "--out", str(tmp_path / "r"), "--max-steps", "1"))
    assert f"budget of 1 MB ({BUDGET_ENV}=0.001)" in line and files_under(tmp_path) == []
    monkeypatch.setenv(BUDGET_ENV, "lots")
    line = one_line_error(invoke("train", "--out", str(tmp_path / "r"), "--max-steps", "1"))
    assert f"{BUDGET_ENV} must be a number of gigabytes > 0; got 'lots'" in line
    monkeypatch.setenv(BUDGET_ENV, "1000")
    result = invoke("train", "--out", str(tmp_path / "r"), "--max-steps", "1", "--no-report")
    assert result.exit_code == 0, result.output


def test_gui_and_sweeps_check_the_budget_before_writing(tmp_path, monkeypatch):
    monkeypatch.setenv(BUDGET_ENV, "0.0001")
    manager = RunManager(tmp_path / "runs")
    with pytest.raises(InvalidParameterError, match="more than the budget"):
        manager.start("big", small())
    assert not (tmp_path / "runs" / "big").exists()
    sweep = {
        "name": "s",
        "results": str(tmp_path / "bench"),
        "tasks": [{"task": "flipflop"}],
        "models": [{"kind": "leaky_rate", "options": {"n_hidden": 8}}],
        "train": {"max_steps": 2},
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(sweep))
    line = one_line_error(invoke("bench", "run", str(tmp_path / "s.yaml")))
    assert line.startswith("error: job ") and "more than the budget" in line
    assert not (tmp_path / "bench").exists()


def test_no_drawn_trial_is_longer_than_the_probe():
    """For every task at its defaults, the memory estimate's trial length is at least that of
    64 drawn training trials (a task whose length is a random count overrides
    `Task.longest_conditions`)."""
    from rnnzoo.memory import longest_trial_steps
    from rnnzoo.tasks import make

    for name in task_names():
        task = make(name)
        assert task.generate(64, seed=0).n_steps <= longest_trial_steps(task), name


def test_a_random_corridor_length_counts_at_its_longest():
    """The probe of the memory estimate takes the T-maze's longest corridor (N + j positions),
    not a random one: no drawn trial is longer."""
    from rnnzoo.memory import longest_trial_steps
    from rnnzoo.tasks import make

    task = make("tmaze", corridor_length=10, corridor_length_jitter=8)
    steps = longest_trial_steps(task)
    assert steps == max(task.generate(512, seed=s).n_steps for s in range(2)) == 240


def measured_peak(data: dict) -> float:
    """`benchmarks/bench_memory_estimate.py`'s measurement: peak RSS growth of a real run."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_memory_estimate.py"
    spec = importlib.util.spec_from_file_location("bench_memory_estimate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.measured_peak(data)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["leaky_rate", "lstm"])
def test_the_estimate_is_close_to_the_measured_peak(kind):
    """The estimate is at least the memory a run takes (peak RSS growth of a real run) and
    not more than 3 times it, for the fused leaky core and for the LSTM."""
    data = {
        "task": {"task": "flipflop", "params": {"trial_ms": 8000.0, "input_end_ms": 7900.0}},
        "model": {"kind": kind, "options": {"n_hidden": 128}},
        "train": {"batch_size": 64, "eval_batch_size": 64, "max_steps": 2, "eval_every": 1},
    }
    from rnnzoo.training.budget import run_memory

    config = small().model_validate(data)
    estimate = sum(run_memory(config, build_task(config), 800).values())
    measured = measured_peak(data)
    assert measured <= estimate <= 3 * measured, (measured, estimate)
