"""The trainer: losses, per-member clipping, thresholds, exact resume, NaN handling, run dirs."""

import json
import multiprocessing as mp

import numpy as np
import pytest
import torch

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import load_model, make_model
from rnnzoo.training import RunConfig, ensemble_statistic, train
from rnnzoo.training.config import run_config, train_config
from rnnzoo.training.losses import clip_grad_norm_per_member, masked_mse
from rnnzoo.training.methods import make_method
from rnnzoo.training.results import read_runs, record_run

TASK = {"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}}


def small(**train):
    base = {
        "batch_size": 8,
        "max_steps": 12,
        "eval_every": 4,
        "eval_batch_size": 16,
        "checkpoint_every": 5,
        "target_performance": 1.0,
    }
    return RunConfig(
        task=TASK,
        model={"kind": "leaky_rate", "options": {"n_hidden": 16, "recurrent_noise": 0.05}},
        train={**base, **train},
    )


def weights(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def assert_identical(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_masked_mse_ignores_zero_weight_steps():
    out = torch.zeros(5, 2, 3, 1)
    targets = torch.zeros(5, 3, 1)
    weights = torch.ones(5, 3, 1)
    weights[2:] = 0
    out[2:, 1] = 100.0  # member 1 is wrong only where nothing is scored
    out[0, 0] = 2.0  # member 0 is wrong on a scored step: 3 trials * 4 / 6 scored samples
    loss = masked_mse(out, targets, weights)
    assert loss[1] == 0 and loss[0] == pytest.approx(12 / 6)


def test_clipping_is_per_member():
    p = torch.zeros(2, 3, 3, requires_grad=True)
    q = torch.zeros(2, 4, requires_grad=True)
    p.grad = torch.ones(2, 3, 3) * 0.01
    q.grad = torch.ones(2, 4) * 0.01
    p.grad[1] = 1e3
    before0 = (p.grad[0].clone(), q.grad[0].clone())
    norms = clip_grad_norm_per_member([p, q], 1.0, 2)
    assert torch.equal(p.grad[0], before0[0]) and torch.equal(q.grad[0], before0[1])
    norm1 = torch.cat([p.grad[1].flatten(), q.grad[1].flatten()]).norm()
    assert norm1 == pytest.approx(1.0, rel=1e-5) and norms[1] > 1e3


def test_ensemble_member_independent_of_other_member(control):
    """A member's trajectory is the same whatever the other member does (here: a different
    initial seed), even with clipping on: gradients never mix across members."""
    cfg_a = small(max_steps=6, clip_grad_norm=0.01)
    cfg_a = cfg_a.model_copy(update={"model": cfg_a.model.model_copy(update={"ensemble": 2})})
    r_a = train(cfg_a, method=control)
    # same member 0, member 1 replaced by a much larger-weight member (g=5)
    opts = {"n_hidden": 16, "recurrent_noise": 0.05, "g": [1.0, 5.0]}
    cfg_b = cfg_a.model_copy(update={"model": cfg_a.model.model_copy(update={"options": opts})})
    r_b = train(cfg_b, method=control)
    w_a, w_b = weights(r_a.net.member(0)), weights(r_b.net.member(0))
    for k in w_a:
        if "noise" not in k:
            torch.testing.assert_close(w_a[k], w_b[k], rtol=0, atol=1e-6)
    assert not torch.allclose(
        r_a.net.member(1).state_dict()["w_rec"], r_b.net.member(1).state_dict()["w_rec"]
    )


def test_seeds_reproduce_and_differ(control):
    a = train(small(), method=control)
    b = train(small(), method=control)
    c = train(small(seed=1), method=control)
    assert_identical(weights(a.net), weights(b.net))
    assert a.final_performance == b.final_performance
    assert not torch.equal(weights(a.net)["w_rec"], weights(c.net)["w_rec"])


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_resume_equals_uninterrupted(tmp_path, control, optimizer):
    cfg = small(optimizer=optimizer, momentum=0.5 if optimizer == "sgd" else 0.0)
    full = train(cfg, tmp_path / "full", method=control)

    def interrupt(info):
        if info["step"] == 7:
            raise KeyboardInterrupt

    part = train(cfg, tmp_path / "part", method=control, callback=interrupt)
    assert part.status == "interrupted" and part.steps == 7
    summary = json.loads((tmp_path / "part" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    done = train(cfg, tmp_path / "part", method=control, resume=True)
    assert done.status == full.status == "max_steps" and done.steps == 12
    assert done.run_id == part.run_id
    assert_identical(weights(full.net), weights(done.net))
    saved = load_model(tmp_path / "part" / "model.safetensors")
    assert_identical(weights(full.net), weights(saved))
    lines = [json.loads(x) for x in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    full_lines = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    assert [x["step"] for x in lines] == [4, 8, 12] and len(full_lines) == 3
    assert [x["performance"] for x in lines] == [json.loads(x)["performance"] for x in full_lines]


def test_resume_rejects_a_changed_config(tmp_path, control):
    train(small(max_steps=4), tmp_path / "r", method=control)
    with pytest.raises(InvalidParameterError, match="differs"):
        train(small(max_steps=8, lr=0.5), tmp_path / "r", method=control, resume=True)


def test_stops_at_threshold_and_records_criterion(tmp_path, control):
    r = train(small(target_performance=0.0, max_steps=50), tmp_path / "t", method=control)
    assert r.status == "reached" and r.steps == 4 and r.reached_criterion
    assert r.steps_to_criterion == 4 and r.flops_to_criterion == r.flops
    assert r.flops == 6 * 1 * 8 * 16**2 * 30 * 4  # 300 ms at 10 ms = 30 steps
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    for key in (
        "status",
        "steps",
        "wall_clock_s",
        "final_performance",
        "task",
        "model",
        "method",
        "seed",
        "flops",
        "reached_criterion",
        "member_performance",
    ):
        assert key in summary
    assert summary["task"] == "flipflop" and summary["method"] == "control"
    rows = read_runs(tmp_path / "results.sqlite")
    assert len(rows) == 1 and rows[0]["run_id"] == r.run_id and rows[0]["status"] == "reached"
    cfg = RunConfig.from_yaml(tmp_path / "t" / "config.yaml")
    assert cfg == small(target_performance=0.0, max_steps=50)


class Exploding:
    name = "control"

    def __init__(self, at):
        self.at, self.calls = at, 0

    def outputs(self, net, inputs, progress, generator, *, conditions=None):
        self.calls += 1
        out = net(inputs, generator=generator).outputs
        return out * float("nan") if self.calls == self.at else out


def test_nan_stops_with_the_step(tmp_path):
    r = train(small(), tmp_path / "n", method=Exploding(at=6))
    assert r.status == "diverged" and r.steps == 5
    message = r.divergence.pop("message")
    assert r.divergence == {"step": 5, "reason": "non-finite loss", "members": [0]}
    assert message.startswith("training diverged at step 5: the network produced a non-finite")
    assert "lower the learning rate" in message
    assert json.loads((tmp_path / "n" / "summary.json").read_text())["divergence"]["step"] == 5


def test_nan_rolls_back_with_half_the_learning_rate(tmp_path):
    r = train(
        small(on_divergence="rollback", checkpoint_every=3), tmp_path / "b", method=Exploding(at=6)
    )
    assert r.status == "max_steps" and r.steps == 12 and r.rollbacks == 1
    assert r.divergence["step"] == 5
    events = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert {"event": "rollback", "step": 3, "lr": 0.0015} in events


def test_a_supercritical_relu_member_trains_instead_of_stopping_the_sweep_at_step_0():
    # g = 2.5 in a ReLU rate network runs away before any training: its first loss is ~5e16,
    # far above divergence_loss; measured against its own first loss it is not a divergence,
    # and a few steps bring it down (the g-sweep ensemble used to stop every member at step 0)
    cfg = RunConfig(
        task={"task": "dm1"},
        model={"kind": "leaky_rate", "ensemble": 2, "options": {"n_hidden": 64, "g": [0.5, 2.5]}},
        train={"batch_size": 16, "max_steps": 8, "eval_every": 8, "eval_batch_size": 16},
    )
    losses = []
    r = train(cfg, progress=False, callback=lambda info: losses.append(info["loss"]))
    assert r.status == "max_steps" and r.divergence is None and r.steps == 8
    assert losses[0] > 1e6 and losses[-1] < 1e-6 * losses[0]
    # a loss that grows a million-fold past its start still counts as divergence
    from rnnzoo.training.losses import divergence_limit

    limit = divergence_limit(1e6, [5e16, 0.2, float("nan")])
    assert limit.tolist() == [5e22, 1e6, 1e6]


def test_ensemble_statistics():
    perf = np.arange(11) / 10.0
    assert ensemble_statistic(perf, "mean_10_90") == pytest.approx(0.5)
    assert ensemble_statistic(np.array([0.0, 1, 1, 1, 1, 1, 1, 1, 1, 1]), "mean_10_90") == 1.0
    assert ensemble_statistic(perf, "min") == 0.0
    assert ensemble_statistic(perf, "median") == 0.5


def test_ensemble_trains_and_reports_members(control):
    cfg = small(max_steps=4, statistic="min")
    cfg = cfg.model_copy(update={"model": cfg.model.model_copy(update={"ensemble": 3})})
    r = train(cfg, method=control)
    assert len(r.member_performance) == 3
    assert r.final_performance == min(r.member_performance)


def test_regularisers_and_cross_entropy_run(control):
    r = train(
        small(
            max_steps=2,
            l1_weights=1e-3,
            l2_weights=1e-3,
            l1_activity=1e-3,
            l2_activity=1e-3,
            optimizer="adamw",
            weight_decay=0.01,
        ),
        method=control,
    )
    assert np.isfinite(r.final_loss)
    cfg = RunConfig(
        task={"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}},
        model={"options": {"n_hidden": 8, "readout": "softmax"}},
        train={
            "loss": "cross_entropy",
            "max_steps": 2,
            "batch_size": 4,
            "eval_every": 2,
            "eval_batch_size": 4,
        },
    )
    assert np.isfinite(train(cfg, method=control).final_loss)


def test_multitask_composition_trains(control):
    from rnnzoo.tasks import compose, make

    multi = compose(
        [
            make("flipflop", trial_ms=300.0, input_end_ms=250.0),
            make("flipflop", n_bits=2, trial_ms=300.0, input_end_ms=250.0),
        ]
    )
    cfg = RunConfig(
        task=multi.config(),
        model={"options": {"n_hidden": 8}},
        train={"max_steps": 2, "batch_size": 4, "eval_every": 2, "eval_batch_size": 8},
    )
    r = train(cfg, method=control)
    assert r.steps == 2 and 0 <= r.final_performance <= 1


def test_bad_settings_name_the_parameter():
    with pytest.raises(InvalidParameterError, match="'lr'"):
        train_config({"lr": -1})
    with pytest.raises(InvalidParameterError, match="did you mean 'batch_size'"):
        train_config({"batchsize": 3})
    with pytest.raises(InvalidParameterError, match=r"\[train\].*'optimizer'"):
        run_config({"task": TASK, "train": {"optimizer": "rmsprop"}})
    with pytest.raises(InvalidParameterError, match="l1_activity"):
        train(small(l1_activity=0.1), method=type("M", (), {"name": "cd"})())


def _write_rows(args):
    path, worker = args
    for i in range(10):
        record_run(
            path,
            {
                "run_id": f"{worker}-{i}",
                "task": "t",
                "status": "reached",
                "steps": i,
                "created": f"{worker}-{i}",
            },
        )


def test_sqlite_concurrent_writers(tmp_path):
    path = tmp_path / "results.sqlite"
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_write_rows, [(path, w) for w in range(4)])
    rows = read_runs(path)
    assert len(rows) == 40 and len({r["run_id"] for r in rows}) == 40


def test_model_of_run_loads_like_any_model(tmp_path, control):
    train(small(max_steps=2), tmp_path / "m", method=control)
    net = load_model(tmp_path / "m" / "model.safetensors")
    ref = make_model("leaky_rate", 3, 3, n_hidden=16, recurrent_noise=0.05)
    assert net.config.options == ref.config.options


@pytest.mark.parametrize(
    ("anneal", "expected"),
    [(None, [0.0, 1 / 6, 1.0, 1.0]), (0, [1.0] * 4), (4, [0.0, 0.25, 1.0, 1.0])],
)
def test_method_progress_anneals_over_the_first_half_of_training_by_default(
    tmp_path, anneal, expected
):
    from rnnzoo.training.trainer import Trainer

    seen = []

    class Recorder:
        name = "control"

        def outputs(self, net, inputs, progress, generator, *, conditions=None):
            seen.append(progress)
            return net(inputs, generator=generator).outputs

    Trainer(small(anneal_steps=anneal), tmp_path / "run", method=Recorder()).run()
    assert [seen[i] for i in (0, 1, 6, 11)] == pytest.approx(expected)


def test_a_running_run_has_a_row_that_its_end_replaces(tmp_path, control):
    seen = []

    def look(_record):
        seen.extend(read_runs(tmp_path / "results.sqlite"))

    train(small(max_steps=2, eval_every=1), tmp_path / "t", method=control, callback=look)
    assert [row["status"] for row in seen] == ["running", "running"]
    assert seen[0]["task"] == "flipflop" and seen[0]["run_dir"] == str((tmp_path / "t").resolve())
    rows = read_runs(tmp_path / "results.sqlite")
    assert len(rows) == 1 and rows[0]["status"] == "max_steps"
    assert rows[0]["run_id"] == seen[0]["run_id"] and rows[0]["created"] == seen[0]["created"]
    assert seen[0]["created"] is not None


def test_flops_count_the_coarse_steps_of_cd(tmp_path):
    cd = make_method("cd", theta=3, step_count=1)
    assert [cd.recurrent_steps(30, p) for p in (0.0, 0.49, 0.5, 1.0)] == [10, 10, 30, 30]
    assert cd.recurrent_steps(31, 0.0) == 11 and make_method("dasc").recurrent_steps(31, 0) == 31
    r = train(small(max_steps=4, anneal_steps=4), method=cd)
    # progress 0, 1/4 (theta 3: 10 updates of the 30-step trial), 1/2, 3/4 (theta 1: 30)
    assert r.flops == 6 * 1 * 8 * 16**2 * (10 + 10 + 30 + 30)
