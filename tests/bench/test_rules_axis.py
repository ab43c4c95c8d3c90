"""The sweep's `rules:` axis: expansion, per-rule training settings, ids that BPTT runs keep,
impossible combinations refused at load, report columns per rule, and a real run."""

from __future__ import annotations

import pytest
from bench_helpers import tiny_sweep

from rnnzoo.bench import LocalExecutor, expand, run_sweep, sweep_from_dict
from rnnzoo.bench.cost import RULE_FACTOR, job_cost
from rnnzoo.bench.report import cell_stats, markdown_table
from rnnzoo.bench.sweep import run_configs
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.results import read_runs

RULES = [
    {"name": "bptt"},
    {
        "name": "force",
        "hyperparameters": {"alpha": 5.0},
        "train": {"batch_size": 2},
        "label": "FORCE",
    },
    {"name": "rflo", "train": {"lr": 0.05}},
]


def rules_sweep(tmp_path, **changes):
    data = tiny_sweep(
        tmp_path / "res",
        methods=[{"name": "control"}],
        models=[{"kind": "leaky_current", "options": {"n_hidden": 8, "g": 1.5}}],
        rules=RULES,
        seeds=[0, 1],
    )
    data.update(changes)
    return data


def test_rules_expand_with_their_settings_and_bptt_ids_are_unchanged(tmp_path):
    sweep = sweep_from_dict(rules_sweep(tmp_path))
    runs = run_configs(sweep)
    assert [(r.rule_label, r.seed) for r in runs] == [
        ("bptt", 0),
        ("bptt", 1),
        ("FORCE", 0),
        ("FORCE", 1),
        ("rflo", 0),
        ("rflo", 1),
    ]
    by_rule = {r.rule_label: r.config for r in runs}
    assert by_rule["FORCE"].rule.name == "force" and by_rule["FORCE"].rule.hyperparameters[
        "alpha"
    ] == pytest.approx(5.0)
    assert by_rule["FORCE"].train.batch_size == 2 and by_rule["bptt"].train.batch_size == 8
    assert by_rule["rflo"].train.lr == 0.05 and by_rule["bptt"].train.lr == 0.02
    assert [len(j.runs) for j in expand(sweep)] == [2, 2, 2]  # seeds of a cell: one ensemble
    plain = sweep_from_dict({k: v for k, v in rules_sweep(tmp_path).items() if k != "rules"})
    assert [r.run_id for r in run_configs(plain)] == [r.run_id for r in runs[:2]]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"models": [{"kind": "leaky_current", "options": {"n_hidden": 8, "dale": True}}]},
            r"flipflop / leaky_current / control / FORCE: rule 'force'.*dale=true",
        ),
        (
            {"methods": [{"name": "control"}, {"name": "cd"}]},
            r"rules\[1\]: rule 'force' runs the true dynamics, but methods\[1\] is 'cd'",
        ),
        (
            {"rules": [{"name": "force", "hyperparameters": {"alpha": -1}}]},
            r"rules\[0\]: force: 'alpha' must be > 0",
        ),
        ({"rules": [{"name": "force", "train": {"seed": 3}}]}, r"rules\[0\]: train.seed is set"),
        ({"rules": [{"name": "force", "train": {"lr": -1}}]}, r"rules\[0\]: train.*'lr'"),
        ({"rules": [{"name": "rflo"}, {"name": "rflo"}]}, "two entries labelled 'rflo'"),
        ({"rules": [{"name": "hebb"}]}, r"rules\[0\]: 'rule' must be one of"),
    ],
)
def test_bad_rule_entries_fail_when_the_sweep_is_loaded(tmp_path, change, message):
    with pytest.raises(InvalidParameterError, match=message):
        sweep_from_dict(rules_sweep(tmp_path, **change))


def test_the_plan_counts_the_rules_own_cost(tmp_path):
    data = rules_sweep(tmp_path, rules=[{"name": "bptt"}, {"name": "full_force"}])
    data["train"] = {**data["train"], "eval_every": 1000}  # no evaluation (BPTT's dynamics)
    bptt, full = (job_cost(job) for job in expand(sweep_from_dict(data)))
    assert full.flops == bptt.flops  # the flops estimate is BPTT's budget
    assert full.seconds == pytest.approx(RULE_FACTOR["full_force"] * bptt.seconds)


def _row(rule, method, reached, steps=10):
    return {
        "status": "reached" if reached else "max_steps",
        "task": "ff",
        "model": "m",
        "method": method,
        "rule": rule,
        "reached_criterion": reached,
        "steps_to_criterion": steps if reached else None,
        "trials_to_criterion": 4 * steps if reached else None,
        "wall_clock_to_criterion_s": 1.0 if reached else None,
        "flops_to_criterion": 1e6 if reached else None,
        "final_performance": 0.9,
    }


def test_report_columns_are_rules_and_trials_are_counted():
    rows = [
        _row("bptt", "control", True, 10),
        _row("bptt", "control", True, 20),
        _row("force", "control", True, 3),
        _row("force", "control", False),
    ]
    stats = {s.method: s for s in cell_stats(rows)}
    assert set(stats) == {"bptt", "force"}
    assert stats["bptt"].trials_mean == 60 and stats["force"].reached == 1
    table = markdown_table(list(stats.values()))
    assert "| Task | bptt | force |" in table and "| **Training trials** |" in table
    assert "| ff | 60 ± 28 | 12 (1/2) |" in table
    assert (
        "| **Final performance (mean over seeds)** |" in table and "| ff | 0.900 | 0.900 |" in table
    )
    both = [*rows, _row("bptt", "cd", True)]
    assert {s.method for s in cell_stats(both)} == {
        "bptt / control",
        "force / control",
        "bptt / cd",
    }
    old = [{**r, "rule": None} for r in rows[:2]] + [_row("bptt", "cd", True)]  # before rules
    assert {s.method for s in cell_stats(old)} == {"control", "cd"}


def test_a_sweep_over_rules_runs_and_records_the_rule(tmp_path):
    data = rules_sweep(tmp_path, rules=RULES[:2])
    data["train"] = {**data["train"], "max_steps": 6, "eval_every": 3}
    sweep = sweep_from_dict(data)
    outcome = run_sweep(sweep, LocalExecutor(workers=2))
    assert outcome.jobs == 2 and not outcome.failed
    rows = read_runs(sweep.db_path)
    assert sorted((r["rule"], r["rule_label"], r["seed"]) for r in rows) == [
        ("bptt", "bptt", 0),
        ("bptt", "bptt", 1),
        ("force", "FORCE", 0),
        ("force", "FORCE", 1),
    ]
    for r in rows:
        if r["reached_criterion"]:
            batch = 2 if r["rule"] == "force" else 8
            assert r["trials_to_criterion"] == r["steps_to_criterion"] * batch
