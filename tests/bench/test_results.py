"""The results table (upserts, migration of old tables, concurrent writers) and the report
tables computed from a constructed table, checked against hand-computed values."""

from __future__ import annotations

import csv
import multiprocessing as mp
import sqlite3

import pytest
from typer.testing import CliRunner

from rnnzoo.bench.report import cell_stats, format_cell, markdown_table
from rnnzoo.cli.main import app
from rnnzoo.training.results import NAMES, read_runs, record_run, record_runs

OLD_COLUMNS = (  # the table as the training issue created it
    "run_id TEXT PRIMARY KEY, task TEXT, version TEXT, model TEXT, method TEXT, seed INTEGER, "
    "status TEXT, steps INTEGER, wall_clock_s REAL, final_performance REAL, flops REAL, "
    "run_dir TEXT, created TEXT"
)


def test_old_tables_gain_the_new_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE runs ({OLD_COLUMNS})")
    con.execute(
        "INSERT INTO runs (run_id, task, status, steps) VALUES ('a', 'flipflop', 'reached', 7)"
    )
    con.commit()
    con.close()
    rows = read_runs(path)
    assert rows == [
        {**dict.fromkeys(NAMES), "run_id": "a", "task": "flipflop", "status": "reached", "steps": 7}
    ]
    record_run(path, {"run_id": "a", "error": "boom", "sweep": "s"})
    (row,) = read_runs(path, sweep="s")
    assert row["steps"] == 7 and row["error"] == "boom"  # an update keeps the other columns
    con = sqlite3.connect(path)
    assert {r[1] for r in con.execute("PRAGMA table_info(runs)")} == set(NAMES)
    con.close()


def _writer(args):
    path, worker = args
    for i in range(15):  # every worker updates the same 5 runs, each its own column set
        record_runs(
            path,
            [
                {
                    "run_id": f"r{i % 5}",
                    f"{'steps' if worker % 2 else 'seed'}": i,
                    "status": "running",
                    "created": "x",
                },
                {"run_id": f"w{worker}-{i}", "task": "t", "status": "reached"},
            ],
        )


def test_concurrent_writers_do_not_corrupt_the_table(tmp_path):
    path = tmp_path / "results.sqlite"
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_writer, [(path, w) for w in range(4)])
    rows = read_runs(path)
    assert len(rows) == 5 + 4 * 15
    shared = [r for r in rows if r["run_id"].startswith("r")]
    assert sorted(r["run_id"] for r in shared) == [f"r{i}" for i in range(5)]
    assert all(r["steps"] in (i for i in range(15) if i % 5 == int(r["run_id"][1])) for r in shared)
    assert all(r["seed"] in (i for i in range(15) if i % 5 == int(r["run_id"][1])) for r in shared)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def _row(task, method, seed, reached, steps, wall, flops, perf, status=None):
    return {
        **dict.fromkeys(NAMES),
        "run_id": f"{task}-{method}-{seed}",
        "task_label": task,
        "model_label": "leaky",
        "method_label": method,
        "seed": seed,
        "status": status or ("reached" if reached else "max_steps"),
        "reached_criterion": int(reached),
        "steps": steps,
        "final_performance": perf,
        "steps_to_criterion": steps if reached else None,
        "wall_clock_to_criterion_s": wall if reached else None,
        "flops_to_criterion": flops if reached else None,
    }


ROWS = [
    _row("go", "Control", 0, True, 100, 10.0, 1e9, 0.95),
    _row("go", "Control", 1, True, 300, 20.0, 3e9, 0.91),
    _row("go", "Control", 2, False, 1000, 50.0, 1e10, 0.40),
    _row("go", "DASC_40", 0, True, 50, 6.0, 5e8, 0.92),
    _row("go", "DASC_40", 1, True, 150, 12.0, 1.5e9, 0.93),
    _row("anti", "Control", 0, False, 1000, 50.0, 1e10, 0.2),
    _row("anti", "DASC_40", 0, True, 400, 30.0, 4e9, 0.9),
    _row("anti", "DASC_40", 1, False, 0, 0.0, 0.0, None, status="failed"),  # left out
]


def test_table_values_match_hand_computation():
    stats = {(s.task, s.method): s for s in cell_stats(ROWS)}
    go = stats[("go", "Control")]
    assert (go.seeds, go.reached) == (3, 2)
    assert go.steps_mean == 200 and go.steps_sd == pytest.approx(141.42135623730951)
    assert go.wall_clock_mean == 15 and go.wall_clock_sd == pytest.approx(7.0710678118654755)
    assert go.flops_mean == 2e9 and go.final_performance_mean == pytest.approx(
        (0.95 + 0.91 + 0.40) / 3
    )
    dasc = stats[("go", "DASC_40")]
    assert dasc.steps_mean == 100 and dasc.steps_sd == pytest.approx(70.71067811865476)
    assert stats[("anti", "DASC_40")].seeds == 1 and stats[("anti", "DASC_40")].steps_sd is None
    assert format_cell(go, "steps", ".0f") == "200 ± 141 (2/3)"
    assert format_cell(dasc, "steps", ".0f") == "100 ± 71"
    assert format_cell(stats[("anti", "Control")], "steps", ".0f") == "failed"
    assert format_cell(stats[("anti", "DASC_40")], "wall_clock", ".1f") == "30.0"
    assert format_cell(None, "steps", ".0f") == "-"
    table = markdown_table(cell_stats(ROWS))
    assert table.splitlines()[0] == "| Task | Control | DASC_40 |"
    assert "| go | 200 ± 141 (2/3) | 100 ± 71 |" in table
    assert "| anti | failed | 400 |" in table
    assert "| go | 2e+09 ± 1.41e+09 (2/3) | 1e+09 ± 7.07e+08 |" in table


def test_networks_at_criterion_with_exact_intervals():
    from rnnzoo.bench.report import clopper_pearson

    # reference values of the exact binomial interval (e.g. 0/5: 1 - 0.025^(1/5) = 0.5218)
    assert clopper_pearson(0, 5) == pytest.approx((0.0, 1 - 0.025 ** (1 / 5)))
    assert clopper_pearson(5, 5) == pytest.approx((0.025 ** (1 / 5), 1.0))
    assert clopper_pearson(2, 3) == pytest.approx((0.094299, 0.991596), abs=1e-6)
    table = markdown_table(cell_stats(ROWS))
    assert "| go | 2/3 (0.09-0.99) | 2/2 (0.16-1.00) |" in table
    assert "| anti | 0/1 (0.00-0.97) | 1/1 (0.03-1.00) |" in table
    # no run directories: seed 002's ensemble statistic cannot be computed
    assert "| go | - | - |" in table and "| anti | - | - |" in table


def test_ensemble_steps_from_the_runs_curves(tmp_path):
    """mean over the 10th-90th percentile of 10 networks (the lowest and highest dropped) first
    >= 0.9 at step 20; a network that stopped at step 10 keeps its last value."""
    import json

    from rnnzoo.bench.report import ensemble_steps

    run_dir = tmp_path / "job"
    run_dir.mkdir()
    curves = {10: [0.0] + [0.5] * 8 + [1.0], 20: [0.0] + [0.95] * 8 + [1.0], 30: [1.0] * 10}
    with open(run_dir / "metrics.jsonl", "w") as f:
        for step, perf in curves.items():
            f.write(json.dumps({"step": step, "performance_members": perf}) + "\n")
    rows = [
        {"run_dir": str(run_dir), "member": m, "steps": 30, "target_performance": 0.9}
        for m in range(10)
    ]
    assert ensemble_steps(rows) == 20
    assert ensemble_steps([{**r, "target_performance": 0.99} for r in rows]) == 30
    assert ensemble_steps([{**r, "target_performance": 1.0, "steps": 20} for r in rows]) == float(
        "inf"
    )
    rows[0] = {**rows[0], "steps": 10}  # member 0 stopped at 10 (0.0): 9 at 0.95 and a 0.0
    assert ensemble_steps(rows) == 20
    assert ensemble_steps([{**rows[1], "run_dir": str(tmp_path / "gone")}]) is None


def test_report_cli_from_a_results_table(tmp_path):
    db = tmp_path / "results.sqlite"
    record_runs(db, ROWS)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["bench", "report", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "table.md").read_text()
    assert "| go | 200 ± 141 (2/3) | 100 ± 71 |" in text and "1 not finished" in text
    with open(out / "table.csv") as f:
        table = {(r["task"], r["method"]): r for r in csv.DictReader(f)}
    assert float(table[("go", "Control")]["steps_mean"]) == 200
    assert table[("anti", "Control")]["reached"] == "0"
    with open(out / "runs.csv") as f:
        assert len(list(csv.DictReader(f))) == len(ROWS)
    assert (out / "distributions.png").stat().st_size > 0
    # no run directories: no curves to draw, and no error
    assert not (out / "performance_vs_steps.png").exists()
    bad = CliRunner().invoke(
        app, ["bench", "report", str(tmp_path / "nope.sqlite"), "--out", str(out)]
    )
    assert bad.exit_code == 2 and "does not exist" in bad.stderr
