"""Seed 004's staged initialisation: each stage does what it claims, the stages are one
resumable run, and bad set-ups are refused before any training."""

import copy
import json

import numpy as np
import pytest
import torch

from rnnzoo import InvalidParameterError
from rnnzoo.models import load_model
from rnnzoo.models.cordsnet.layers import conv_same
from rnnzoo.training import staged, train
from rnnzoo.training.config import run_config

PROTOCOL = {"spontaneous_ms": 10, "image_ms": 20, "after_ms": 10, "score_ms": 6, "return_ms": 4}
NETWORK = {
    "preset": "R2",
    "channels": [8, 8],
    "stem_kernel": 3,
    "stem_stride": 1,
    "stem_pool": False,
}


def staged_config(**stages):
    options = {
        **NETWORK,
        "init": "staged",
        "stage1_steps": 100,
        "stage1_lr": 0.1,
        "stage2_steps": 30,
        "stage3_steps": 3,
        "stage4_steps": 1,
        "stage1_batch_size": 32,
        **stages,
    }
    return run_config(
        {
            "task": {"task": "image_classification", "version": "digits", "params": PROTOCOL},
            "model": {"kind": "cordsnet", "options": options},
            "train": {
                "loss": "cross_entropy",
                "batch_size": 8,
                "max_steps": 3,
                "eval_every": 20,
                "eval_batch_size": 16,
                "checkpoint_every": 20,
                "lr": 1e-3,
            },
        }
    )


@pytest.mark.slow
def test_stages_run_as_one_run_and_resume_skips_the_finished_ones(tmp_path, monkeypatch):
    config = staged_config()
    first = train(config, tmp_path / "a", progress=False)
    root = tmp_path / "a" / "stages"
    summary = json.loads((root / "stages.json").read_text())
    assert list(summary["stages"]) == list(staged.STAGES)
    cnn = summary["stages"]["1_cnn"]
    assert cnn["validation_accuracy"] > 0.3  # digits, chance 0.1
    assert cnn["folded_minus_cnn_max_abs"] < 1e-4
    assert first.wall_clock_s >= summary["wall_clock_s"]  # the run's clock includes the stages
    linear = json.loads((root / "3_linear" / "summary.json").read_text())
    assert linear["steps"] == 3
    annealed = load_model(root / "4_anneal" / "model.safetensors")
    assert annealed.options.activation == "prelu" and float(annealed.activation_slope[0]) == 0.0
    assert load_model(tmp_path / "a" / "model.safetensors").options.activation == "relu"

    calls = []
    original = staged._trainer_stage

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(staged, "_trainer_stage", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "stages" / "2_steady_state" / "done.json").is_file()
    with pytest.raises(InvalidParameterError, match="already holds a staged run"):
        train(config, tmp_path / "b", progress=False)
    second = train(config, tmp_path / "b", resume=True, progress=False)
    for key, value in first.net.state_dict().items():
        assert torch.equal(value, second.net.state_dict()[key]), key


@pytest.mark.slow
def test_the_linear_networks_steady_state_fits_the_cnns_activations(tmp_path):
    from rnnzoo.models.cordsnet.cnn import fold_batch_norm, load_feedforward_weights
    from rnnzoo.training.build import build_network, build_task

    config = staged_config(stage1_steps=60, stage2_steps=150)
    task = build_task(config)
    net = build_network(config, task)
    cnn = staged._train_cnn(staged._Stage(tmp_path, "1"), net, task, config)
    folded = fold_batch_norm(cnn)
    load_feedforward_weights(net, folded)
    images, _ = staged._images(task, 32, 5, split="validation")
    start = copy.deepcopy(net)  # where the fit starts: the kernels scaled down
    for conv in start.recurrent:
        conv.assign(conv.effective().detach() * staged.INITIAL_RECURRENT_SCALE)
    with torch.no_grad():
        _, _, before = staged.steady_state_terms(start, folded, images)
    net = staged._fit_steady_state(staged._Stage(tmp_path, "2"), net, folded, task, config)
    with torch.no_grad():
        _, _, after = staged.steady_state_terms(net, folded, images)
        _, acts = folded.forward(images)
        for i, area in enumerate(net.arch.areas):  # the true steady state of the linear area
            weight, bias = net.recurrent[i].effective()[0], net.biases[i][0]
            r = torch.zeros_like(acts["pre"][i])
            for _ in range(300):
                r = conv_same(r, weight, 1, 1) + bias + acts["drive"][i]
            gap = float((r - acts["pre"][i]).norm() / acts["pre"][i].norm())
            assert gap < 1.05 * after[i] + 0.02, (area, gap, after[i])
    assert all(a < 0.8 * b for a, b in zip(after, before, strict=True)), (before, after)
    assert max(after) < 0.8
    assert np.isfinite(after).all()


def test_bad_staged_set_ups_are_refused(tmp_path):
    vector = run_config(
        {"task": {"task": "pdm"}, "model": {"kind": "cordsnet", "options": {"init": "staged"}}}
    )
    with pytest.raises(InvalidParameterError, match="init=staged needs an image task"):
        train(vector, tmp_path / "v", progress=False)
    data = staged_config().model_dump(mode="json")
    data["model"]["ensemble"] = 2
    with pytest.raises(InvalidParameterError, match="init=staged trains one network"):
        train(run_config(data), tmp_path / "e", progress=False)
    data = staged_config().model_dump(mode="json")
    data["model"]["options"]["activation"] = "tanh"
    with pytest.raises(InvalidParameterError, match="activation must be relu"):
        train(run_config(data), tmp_path / "t", progress=False)
    from rnnzoo.training.trainer import Trainer

    with pytest.raises(InvalidParameterError, match="init=staged runs through"):
        Trainer(staged_config())
