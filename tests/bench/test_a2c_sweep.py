"""A sweep over the reward-trained rule: ``rules: [{name: a2c}]`` on a decision task runs in the
benchmark's worker processes and its rows carry the rule; a task without a decision is refused
when the sweep is loaded."""

from __future__ import annotations

import pytest
from bench_helpers import tiny_sweep

from rnnzoo.bench import LocalExecutor, run_sweep, sweep_from_dict
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.results import read_runs

PDM = {"task": "perceptual_decision_making", "params": {"dt_ms": 50, "decision_ms": 200}}


def a2c_sweep(tmp_path, tasks):
    data = tiny_sweep(tmp_path / "res", tasks=tasks, methods=[{"name": "control"}],
                      rules=[{"name": "a2c", "hyperparameters": {"entropy_coef": 0.05}}],
                      seeds=[0, 1])  # fmt: skip
    data["train"] = {**data["train"], "max_steps": 4, "eval_every": 2, "checkpoint_every": 2}
    return data


def test_a_sweep_of_a2c_on_a_decision_task_runs_and_records_the_rule(tmp_path):
    sweep = sweep_from_dict(a2c_sweep(tmp_path, [PDM]))
    outcome = run_sweep(sweep, LocalExecutor(workers=1))
    assert outcome.jobs == 1 and not outcome.failed
    rows = read_runs(sweep.db_path)
    assert sorted((r["rule"], r["seed"], r["steps"]) for r in rows) == [
        ("a2c", 0, 4),
        ("a2c", 1, 4),
    ]
    assert {r["task"] for r in rows} == {"perceptual_decision_making"}


def test_a2c_on_a_task_without_a_decision_is_refused_at_load(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"rule 'a2c' needs a task with a decision"):
        sweep_from_dict(a2c_sweep(tmp_path, [{"task": "flipflop", "params": {"n_bits": 1}}]))
