"""Training the Yang suite by name: one-rule batches, per-rule performance in metrics.jsonl,
summary.json, the results table, the report and the GUI curves."""

import json

from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.gui.curves import curves_chart, read_curves
from rnnzoo.tasks.yang2019 import RULES
from rnnzoo.tasks.yang2019.suite import Yang2019Suite
from rnnzoo.training import RunConfig, train
from rnnzoo.training.report import report_data
from rnnzoo.training.results import read_runs

runner = CliRunner()
TINY = ["n_hidden=8", "batch_size=4", "eval_batch_size=20", "eval_every=1", "readout=sigmoid"]


def test_the_trainer_draws_one_rule_per_batch(monkeypatch, control):
    seen = []
    original = Yang2019Suite.generate

    def spy(self, batch_size, seed, *, split="train", index=0):
        batch = original(self, batch_size, seed, split=split, index=index)
        seen.append(set(batch.conditions["task_index"].tolist()))
        return batch

    monkeypatch.setattr(Yang2019Suite, "generate", spy)
    config = RunConfig(
        task={"task": "yang2019"},
        model={"options": {"n_hidden": 8}},
        train={"max_steps": 6, "batch_size": 8, "eval_every": 6, "eval_batch_size": 20},
    )
    train(config, method=control, progress=False)
    assert len(seen) == 6 and all(len(rules) == 1 for rules in seen)
    assert len({next(iter(rules)) for rules in seen}) > 1  # different rules on different steps


def test_per_rule_performance_everywhere(tmp_path):
    out = tmp_path / "runs" / "suite"
    args = ["train", "--out", str(out), "--task", "yang2019", "--max-steps", "2"]
    result = runner.invoke(app, [*args, *[x for s in TINY for x in ("--set", s)]])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        assert list(record["performance_tasks"]) == list(RULES)
        members = record["performance_tasks_members"]
        assert all(
            len(members[r]) == 1 and members[r][0] == record["performance_tasks"][r] for r in RULES
        )
        # a balanced evaluation batch: the overall score is the mean over the rules
        overall = sum(record["performance_tasks"].values()) / 20
        assert abs(record["performance"] - overall) < 1e-9
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["task"] == "yang2019"
        and summary["task_performance"] == records[-1]["performance_tasks"]
    )
    (row,) = read_runs(tmp_path / "runs" / "results.sqlite")
    assert row["task"] == "yang2019"
    assert json.loads(row["task_performance"]) == summary["task_performance"]
    assert list(report_data(out)["curves"]["tasks"]) == list(RULES)
    assert (out / "report.png").is_file()
    curves = read_curves(out)
    assert list(curves.tasks) == list(RULES) and len(curves.tasks["dm1"]) == 2
    chart = curves_chart(curves)
    assert len(chart["grid"]) == 3 and {"dm1", "fdgo"} <= {s["name"] for s in chart["series"]}
    config = (out / "config.yaml").read_text()
    assert len(config.splitlines()) < 80  # the suite by name, not 20 task configs
