"""Sequential training: task A then task B on one network, with performance on A after B."""

import json

import pytest
import torch

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import load_model
from rnnzoo.tasks import from_config
from rnnzoo.training import RunConfig, Trainer, train_sequence
from rnnzoo.training.evaluation import evaluate_network
from rnnzoo.training.results import read_runs

A = {"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}}
B = {
    "task": "flipflop",
    "params": {"trial_ms": 200.0, "input_end_ms": 150.0, "pulse_amplitude": 2.0},
}
MODEL = {"kind": "leaky_rate", "options": {"n_hidden": 16, "recurrent_noise": 0.05}}
TRAIN = {
    "batch_size": 8,
    "max_steps": 6,
    "eval_every": 3,
    "eval_batch_size": 16,
    "target_performance": 1.0,
}


def config(task, model=MODEL, **train):
    return RunConfig(task=task, model=model, train={**TRAIN, **train})


def test_a_then_b_records_performance_on_a_after_b(tmp_path, control):
    record = train_sequence([config(A), config(B, seed=1)], tmp_path / "seq", method=control)
    saved = json.loads((tmp_path / "seq" / "sequence.json").read_text())
    assert saved == record
    first, second = record["stages"]
    assert [p["stage"] for p in first["performance"]] == [0]
    assert [p["stage"] for p in second["performance"]] == [0, 1]
    assert second["summary"]["status"] == "max_steps" and second["summary"]["steps"] == 6
    # the recorded numbers are the stage models' held-out (test split) performance
    for stage in (first, second):
        net = load_model(f"{stage['run_dir']}/model.safetensors")
        for p in stage["performance"]:
            task = from_config([A, B][p["stage"]])
            seed = [0, 1][p["stage"]]
            again = evaluate_network(net, task, 16, seed, "mean_10_90", split="test")
            assert again["statistic"] == p["performance"]
    # training on B changed the network, so its performance on A moved
    assert first["performance"][0]["performance"] != second["performance"][0]["performance"]
    assert len(read_runs(tmp_path / "seq" / "results.sqlite")) == 2


def test_stage_b_starts_from_the_weights_after_a(tmp_path, control):
    train_sequence([config(A), config(B)], tmp_path / "seq", method=control)
    after_a = load_model(tmp_path / "seq" / "stage0_flipflop" / "model.safetensors")
    alone = Trainer(config(B), method=control, net=after_a).run()
    after_b = load_model(tmp_path / "seq" / "stage1_flipflop" / "model.safetensors")
    a, b = alone.net.state_dict(), after_b.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    fresh = Trainer(config(B), method=control).run().net.state_dict()
    assert not torch.equal(fresh["w_rec"], b["w_rec"])


@pytest.mark.parametrize(
    ("second", "match"),
    [
        (config(B, model={**MODEL, "kind": "gru"}), "model"),
        (config(B, model={**MODEL, "options": {"n_hidden": 8}}), "model"),
        (config({"task": "memory_pro"}), "task sizes"),
    ],
)
def test_mismatched_stages_error_before_training(tmp_path, control, second, match):
    with pytest.raises(InvalidParameterError, match=match):
        train_sequence([config(A), second], tmp_path / "seq", method=control)
    assert not (tmp_path / "seq").exists()


def test_an_injected_network_must_fit(control):
    wrong = Trainer(config({"task": "memory_pro"})).net
    with pytest.raises(InvalidParameterError, match="n_outputs: network 2, task/config 3"):
        Trainer(config(A), method=control, net=wrong)
