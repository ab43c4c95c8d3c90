"""Ensembles: a diverged member stops alone, the loss is logged per member, members that
stop learning are flagged, and a divergence is explained in words."""

import json

import pytest
import torch
from typer.testing import CliRunner

from rnnzoo.bench.sweep import Job, Run
from rnnzoo.bench.worker import member_rows
from rnnzoo.cli.main import app
from rnnzoo.gui.curves import curves_chart, read_curves
from rnnzoo.training import RunConfig, TrainResult, train
from rnnzoo.training.diagnostics import stalled_members
from rnnzoo.training.report import report_data

TASK = {"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}}
runner = CliRunner()


def ensemble(members=3, **train_settings):
    base = {"batch_size": 8, "max_steps": 8, "eval_every": 2, "eval_batch_size": 16}
    return RunConfig(
        task=TASK,
        model={"kind": "leaky_rate", "ensemble": members, "options": {"n_hidden": 16}},
        train={**base, "target_performance": 1.0, **train_settings},
    )


class ExplodingMember:
    """The control method, except that the outputs of ``members`` are NaN at call ``at``."""

    name = "control"

    def __init__(self, at, members):
        self.at, self.members, self.calls = at, members, 0

    def outputs(self, net, inputs, progress, generator, *, conditions=None):
        self.calls += 1
        out = net(inputs, generator=generator).outputs
        if self.calls == self.at:
            out = out.clone()
            out[:, self.members] = float("nan")
        return out


def test_a_diverged_member_stops_alone_and_the_others_train_on(tmp_path, control):
    result = train(
        ensemble(), tmp_path / "e", method=ExplodingMember(at=4, members=[1]), report=False
    )
    assert result.status == "max_steps" and result.steps == 8 and result.divergence is None
    assert result.diverged_members == [{"member": 1, "step": 3, "reason": "non-finite loss"}]
    clean = train(ensemble(), method=control)
    for m in (0, 2):  # the others trained exactly as without the explosion
        torch.testing.assert_close(
            result.net.member(m).state_dict(), clean.net.member(m).state_dict(), rtol=0, atol=1e-6
        )
    # member 1 kept the weights it had when it diverged (after 3 updates)
    before = train(ensemble(max_steps=3), method=control)
    torch.testing.assert_close(
        result.net.member(1).state_dict(), before.net.member(1).state_dict(), rtol=0, atol=1e-6
    )
    records = [json.loads(x) for x in (tmp_path / "e" / "metrics.jsonl").read_text().splitlines()]
    assert {"event": "member_diverged", "step": 3, "reason": "non-finite loss", "members": [1]} in (
        records
    )
    last = records[-1]
    assert last["performance_members"][1] is None and last["loss_members"][1] is None
    summary = json.loads((tmp_path / "e" / "summary.json").read_text())
    assert summary["diverged_members"] == result.diverged_members
    assert summary["member_performance"][1] is None


def test_every_member_diverging_stops_the_run_with_an_explanation(control):
    result = train(ensemble(members=2), method=ExplodingMember(at=3, members=[0, 1]))
    assert result.status == "diverged" and result.divergence["members"] == [0, 1]
    assert result.divergence["message"].startswith(
        "training diverged at step 2: members 0, 1 produced a non-finite (NaN or infinite) loss."
    )


def test_resume_after_a_member_diverged_equals_uninterrupted(tmp_path):
    cfg = ensemble(max_steps=10, checkpoint_every=2)
    full = train(cfg, tmp_path / "full", method=ExplodingMember(at=3, members=[2]), report=False)

    def interrupt(info):
        if info["step"] == 6:
            raise KeyboardInterrupt

    part = train(
        cfg,
        tmp_path / "part",
        method=ExplodingMember(at=3, members=[2]),
        callback=interrupt,
        report=False,
    )
    assert part.status == "interrupted"
    done = train(cfg, tmp_path / "part", method=ExplodingMember(at=0, members=[]), resume=True)
    assert done.diverged_members == full.diverged_members
    a, b = full.net.state_dict(), done.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_loss_is_logged_as_the_mean_over_members(tmp_path, control):
    result = train(ensemble(members=3, max_steps=4), tmp_path / "m", method=control, report=False)
    records = [json.loads(x) for x in (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        assert len(record["loss_members"]) == 3
        assert record["loss"] == pytest.approx(sum(record["loss_members"]) / 3)
    single = train(
        ensemble(members=3, max_steps=4).model_copy(
            update={"model": ensemble().model.model_copy(update={"ensemble": None})}
        ),
        tmp_path / "s",
        method=control,
        report=False,
    )
    assert result.final_loss < 3 * single.final_loss  # a mean, not the sum of three
    one = [json.loads(x) for x in (tmp_path / "s" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["loss_members"][0] == pytest.approx(one[-1]["loss"], rel=1e-4)


def test_stalled_members_rule():
    flat = [[0.1 * i, 0.0] for i in range(12)]
    assert stalled_members(flat, target=0.95) == [1]  # member 0 is still learning
    assert stalled_members(flat[:10], target=0.95) == []  # not enough evaluations yet
    done = [[1.0, 0.0]] * 12
    assert stalled_members(done, target=0.95) == [1]  # member 0 reached the target
    plateau = [[0.5 + 0.0005 * i] for i in range(15)]  # +0.005 over the last 10: too little
    assert stalled_members(plateau, target=0.95) == [0]
    assert stalled_members([[None]] * 12, target=0.95) == []  # stopped members are not flagged


def test_a_member_stuck_at_zero_is_flagged_in_metrics_summary_and_cli(tmp_path):
    out = tmp_path / "stuck"
    args = ["train", "--out", str(out), "--task", "fdgo", "--ensemble", "2", "--max-steps", "28"]
    sets = ["n_hidden=32", "readout=sigmoid", "batch_size=16", "eval_every=2", "lr=0.02"]
    sets.append("eval_batch_size=32")
    result = runner.invoke(app, [*args, *[x for s in sets for x in ("--set", s)], "--no-report"])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    perf = [r["performance_members"] for r in records]
    # with this seed member 0 falls to 0.0 at step 6 and stays there; member 1 learns
    assert all(p[0] == 0.0 for p in perf[2:]) and perf[-1][1] > max(p[1] for p in perf[:4])
    assert records[-1]["stalled_members"] == [0]
    assert next(r["step"] for r in records if r["stalled_members"]) == 22  # 10 evaluations on
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stalled_members"] == [0]
    assert "member(s) 0 stopped learning" in result.stderr
    names = [s["name"] for s in curves_chart(read_curves(out))["series"]]
    assert "member 0 (stopped learning)" in names and "member 1" in names
    data = report_data(out)["curves"]
    assert data["performance_members"].shape == (14, 2) and data["stalled"] == [0]


def test_the_command_line_explains_a_divergence(tmp_path):
    out = tmp_path / "d"
    result = runner.invoke(
        app,
        ["train", "--out", str(out), "--set", "n_hidden=8", "--set", "g=60", "--max-steps", "3"],
    )
    assert result.exit_code == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: training diverged at step 0: the network produced a non-finite")
    assert "What usually fixes it: at the first step it is the initial network" in line
    assert "Traceback" not in result.output


def test_bench_rows_of_an_ensemble_with_a_member_that_stopped_alone():
    config = ensemble(members=2)
    runs = tuple(Run(f"r{i}", config, i, "ff", "leaky", "control") for i in range(2))
    result = TrainResult(
        run_id="j",
        status="max_steps",
        steps=8,
        wall_clock_s=1.0,
        final_performance=0.5,
        member_performance=[0.5, None],
        reached_criterion=False,
        target_performance=1.0,
        statistic="min",
        diverged_members=[{"member": 1, "step": 3, "reason": "non-finite loss"}],
    )
    records = [
        {"step": 2, "performance_members": [0.2, 0.1], "wall_clock_s": 0.2, "flops": 1.0},
        {"step": 4, "performance_members": [0.5, None], "wall_clock_s": 0.5, "flops": 2.0},
    ]
    rows = member_rows(Job("j", config, runs), result, records)
    assert [r["status"] for r in rows] == ["max_steps", "diverged"]
    assert rows[1]["steps"] == 3 and rows[1]["final_performance"] == 0.1
    assert json.loads(rows[1]["error"])["reason"] == "non-finite loss"
