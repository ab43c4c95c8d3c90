"""Curricula: ramped task parameters, the rebuilt task, validation and exact resume."""

import json

import pytest
import torch

from rnnzoo.errors import InvalidParameterError
from rnnzoo.training import RunConfig, Trainer, train
from rnnzoo.training.config import Ramp, run_config
from rnnzoo.training.curriculum import ramp_value

TASK = {"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}}
BASE = {
    "batch_size": 8,
    "max_steps": 12,
    "eval_every": 4,
    "eval_batch_size": 16,
    "checkpoint_every": 5,
    "target_performance": 1.0,
}


def config(*ramps, **train):
    return RunConfig(
        task=TASK,
        model={"kind": "leaky_rate", "options": {"n_hidden": 16, "recurrent_noise": 0.05}},
        train={**BASE, **train, "curriculum": list(ramps)},
    )


TRIAL = {"param": "trial_ms", "start": 300, "end": 500, "steps": 8}


def test_ramp_values_at_given_steps():
    linear = Ramp(param="x", start=100, end=500, steps=8)
    assert [ramp_value(linear, k) for k in (0, 2, 4, 8, 20)] == [100, 200, 300, 500, 500]
    stair = Ramp(param="x", start=100, end=400, steps=8, schedule="step", stages=4)
    values = [ramp_value(stair, k) for k in range(10)]
    assert values == [100, 100, 200, 200, 300, 300, 400, 400, 400, 400]
    down = Ramp(param="x", start=5, end=1, steps=4)
    assert [ramp_value(down, k, integer=True) for k in range(5)] == [5, 4, 3, 2, 1]
    assert isinstance(ramp_value(down, 1, integer=True), int)


def test_the_task_changes_with_the_step(control):
    trainer = Trainer(config(TRIAL, {"param": "max_pulses", "start": 1, "end": 5, "steps": 4}))
    seen = {}
    for step in (0, 2, 4, 8, 100):
        trainer.step = step
        task = trainer.current_task()
        seen[step] = (task.params.trial_ms, task.params.max_pulses, task.generate(2, 0).n_steps)
    assert seen[0] == (300.0, 1, 30) and seen[2] == (350.0, 3, 35)
    assert seen[4] == (400.0, 5, 40) and seen[8] == seen[100] == (500.0, 5, 50)
    assert isinstance(seen[2][1], int)


def test_training_uses_and_records_the_ramped_task(tmp_path, control):
    ramped = train(config(TRIAL), tmp_path / "r", method=control)
    plain = train(config(), tmp_path / "p", method=control)
    # flops count the trial length of every batch: 30..50 steps, then 50
    per_step = 6 * 8 * 16**2
    lengths = [30 + int(2.5 * k + 0.5) for k in range(8)] + [50] * 4  # the task rounds half up
    assert ramped.flops == pytest.approx(per_step * sum(lengths))
    assert plain.flops == pytest.approx(per_step * 30 * 12)
    records = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["curriculum"] for r in records] == [
        {"trial_ms": 400.0},
        {"trial_ms": 500.0},
        {"trial_ms": 500.0},
    ]
    assert "curriculum" not in (tmp_path / "p" / "metrics.jsonl").read_text()
    again = RunConfig.from_yaml(tmp_path / "r" / "config.yaml")
    assert again.train.curriculum == config(TRIAL).train.curriculum


@pytest.mark.parametrize(
    ("ramp", "match"),
    [
        ({"param": "delay_ms", "start": 1, "end": 2, "steps": 3}, r"curriculum\[0\].*no parameter"),
        ({**TRIAL, "start": 100}, r"curriculum\[0\] \('trial_ms'\) start = 100.*input_end_ms"),
        ({**TRIAL, "end": 200}, r"curriculum\[0\] \('trial_ms'\) end = 200"),
        ({"param": "n_bits", "start": 3, "end": 4, "steps": 3}, "inputs/outputs"),
        ({"param": "max_pulses", "start": 1.5, "end": 4, "steps": 3}, "integer"),
        ({"param": "dt_ms", "start": 10, "end": 5, "steps": 3}, "dt_ms"),
        ({**TRIAL, "schedule": "step"}, "stages"),
        ({**TRIAL, "steps": 0}, "steps"),
        ({**TRIAL, "schedule": "cubic"}, "schedule"),
    ],
)
def test_bad_ramps_error_before_training(ramp, match):
    with pytest.raises(InvalidParameterError, match=match):
        cfg = run_config({**config().model_dump(), "train": {**BASE, "curriculum": [ramp]}})
        Trainer(cfg)


def test_a_parameter_ramped_twice_is_an_error():
    with pytest.raises(InvalidParameterError, match="twice"):
        Trainer(config(TRIAL, {**TRIAL, "start": 310}))


def test_compositions_have_no_curriculum():
    cfg = config(TRIAL).model_copy(
        update={"task": {"compose": {"tasks": [TASK, TASK], "mode": "interleave"}}}
    )
    with pytest.raises(InvalidParameterError, match="composition"):
        Trainer(cfg)


def test_resume_is_exact_with_a_curriculum(tmp_path, control):
    stair = {**TRIAL, "schedule": "step", "stages": 3, "steps": 9}
    cfg = config(stair)
    full = train(cfg, tmp_path / "full", method=control)

    def interrupt(info):
        if info["step"] == 7:
            raise KeyboardInterrupt

    part = train(cfg, tmp_path / "part", method=control, callback=interrupt)
    assert part.status == "interrupted"
    done = train(cfg, tmp_path / "part", method=control, resume=True)
    assert done.steps == full.steps == 12 and done.flops == full.flops
    a, b = full.net.state_dict(), done.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)

    def records(run):
        lines = (tmp_path / run / "metrics.jsonl").read_text().splitlines()
        return [(r["step"], r["performance"], r["curriculum"]) for r in map(json.loads, lines)]

    assert records("part") == records("full")
    assert [c for _, _, c in records("full")] == [
        {"trial_ms": 400.0},
        {"trial_ms": 500.0},
        {"trial_ms": 500.0},
    ]
