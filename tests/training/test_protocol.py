"""Image tasks in the trainer: images passed once, seed 004's spontaneous penalty, training,
evaluation and exact resume."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.models import make_model
from rnnzoo.tasks import StatePenalty
from rnnzoo.training import train
from rnnzoo.training.config import run_config
from rnnzoo.training.protocol import protocol_outputs

PROTOCOL = {"spontaneous_ms": 10, "image_ms": 20, "after_ms": 10, "score_ms": 6, "return_ms": 4}
NETWORK = {
    "preset": "R2",
    "channels": [3, 3],
    "stem_kernel": 3,
    "stem_stride": 1,
    "stem_pool": False,
}


def _manual_penalty(states, start, window, groups, weight):
    baseline = states[start - 1]
    per_group = [((states[window][..., g] - baseline[..., g]) ** 2).mean() for g in groups]
    return weight * torch.stack(per_group).mean()


def test_spontaneous_penalty_and_outputs_equal_one_full_run():
    task = tasks.make("image_classification", "digits", **PROTOCOL)
    net = make_model("cordsnet", 1, 10, dt_ms=2, input_size=8, **NETWORK)
    batch = task.generate(4, 0)
    outputs, penalty = protocol_outputs(net, task, batch, "cpu", torch.Generator())
    full = net(
        torch.from_numpy(batch.inputs), return_states=True, stimuli=torch.from_numpy(batch.stimuli)
    )
    assert torch.allclose(outputs, full.outputs, atol=1e-6)
    start, (w0, w1) = 5, batch.epochs["return"][0]
    expected = _manual_penalty(full.states, start, slice(w0, w1), net.state_groups(), 1e-3)
    assert torch.allclose(penalty, expected.reshape(1), rtol=1e-5)
    assert len(net.state_groups()) == 2  # averaged per area, as the seed


def test_networks_without_recorded_steps_get_the_penalty_from_all_states():
    net = make_model("leaky_rate", 2, 1, dt_ms=10, n_hidden=6)
    epochs = {"rest": np.tile([0, 4], (3, 1)), "back": np.tile([8, 10], (3, 1))}
    batch = SimpleNamespace(
        inputs=np.random.default_rng(0).standard_normal((10, 3, 2)).astype(np.float32),
        epochs=epochs,
        stimuli=None,
    )
    task = SimpleNamespace(state_penalty=StatePenalty(0.5, "rest", "back"))
    outputs, penalty = protocol_outputs(net, task, batch, "cpu", torch.Generator())
    full = net(torch.from_numpy(batch.inputs), return_states=True)
    assert torch.allclose(outputs, full.outputs, atol=1e-6)
    expected = _manual_penalty(full.states, 4, slice(8, 10), [slice(None)], 0.5)
    assert torch.allclose(penalty, expected.reshape(1), rtol=1e-5)
    epochs["rest"] = np.array([[0, 4], [0, 5], [0, 4]])
    with pytest.raises(InvalidParameterError, match="must sit at the same steps in every trial"):
        protocol_outputs(net, task, batch, "cpu", torch.Generator())


def _config(**train_settings):
    return run_config(
        {
            "task": {"task": "image_classification", "version": "digits", "params": PROTOCOL},
            "model": {"kind": "cordsnet", "options": NETWORK},
            "train": {
                "loss": "cross_entropy",
                "batch_size": 8,
                "eval_every": 3,
                "lr": 0.01,
                "eval_batch_size": 16,
                "checkpoint_every": 3,
                **train_settings,
            },
        }
    )


def test_a_cordsnet_trains_on_images_and_resumes_exactly(tmp_path):
    whole = train(_config(max_steps=6), tmp_path / "whole", progress=False)
    assert whole.net.options.input_size == 8 and whole.net.options.n_stimuli == 1
    train(_config(max_steps=3), tmp_path / "split", progress=False)
    resumed = train(_config(max_steps=6), tmp_path / "split", resume=True, progress=False)
    for key, value in whole.net.state_dict().items():
        assert torch.equal(value, resumed.net.state_dict()[key]), key
    assert resumed.flops > 0 and whole.final_loss is not None


def test_image_tasks_need_a_kind_that_sees_images(tmp_path):
    config = run_config(
        {
            "task": {"task": "image_classification", "version": "digits"},
            "model": {"kind": "leaky_rate"},
        }
    )
    with pytest.raises(InvalidParameterError, match="does not see images"):
        train(config, tmp_path / "x", progress=False)
    with pytest.raises(InvalidParameterError, match="'input_size' is for image tasks"):
        train(
            run_config(
                {
                    "task": {"task": "pdm"},
                    "model": {"kind": "cordsnet", "options": {"input_size": 8}},
                }
            ),
            tmp_path / "y",
            progress=False,
        )


def test_the_multi_area_network_trains_on_a_visual_task(tmp_path):
    config = run_config(
        {
            "task": {
                "task": "numerosity",
                "params": {
                    "image_size": 8,
                    "grid_cells": 2,
                    "max_count": 4,
                    "radius_max": 2.0,
                    "radius_min": 1.0,
                },
            },
            "model": {
                "kind": "cordsnet",
                "options": {
                    "preset": "R2",
                    "channels": [2, 2],
                    "stem_kernel": 3,
                    "stem_stride": 1,
                    "stem_pool": False,
                    "tau_ms": 20,
                    "backend_hidden": 8,
                },
            },
            "train": {
                "batch_size": 4,
                "max_steps": 3,
                "eval_every": 3,
                "eval_batch_size": 8,
                "lr": 0.01,
            },
        }
    )
    result = train(config, tmp_path / "n", progress=False)
    net = result.net
    assert net.n_gates == 1 and net.n_vector == 1 and hasattr(net, "w_bu")  # fixation -> back-end
    assert result.steps == 3 and np.isfinite(result.final_loss)
