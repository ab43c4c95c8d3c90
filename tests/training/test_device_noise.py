"""Input noise drawn on the training device: the same trials, the law of the task card, seeds
that reproduce, training that resumes exactly, and clear errors where noise cannot be deferred."""

import json
import math

import numpy as np
import pytest
import torch
from tests.training.test_trainer import TASK
from tests.training.test_trainer import small as trainer_config

from rnnzoo import tasks
from rnnzoo.datasets import save_batch
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.noise import InputNoise
from rnnzoo.training import Trainer, train
from rnnzoo.training.device_noise import draw_noise, input_tensor


def small(**train_options):
    """test_trainer's small flip-flop run, with the noise drawn on the device."""
    return trainer_config(**{"noise_on_device": True, **train_options})


def test_deferred_batches_hold_the_same_trials_and_a_seed_of_the_batch():
    task = tasks.make("evidence_accumulation", dt_ms=10)
    clean = tasks.make("evidence_accumulation", dt_ms=10, add_noise=False).generate(32, 5, index=3)
    deferred = task.generate(32, 5, index=3, defer_noise=True)
    assert np.array_equal(deferred.inputs, clean.inputs)
    assert np.array_equal(deferred.targets, clean.targets)
    assert deferred.input_noise == task.generate(32, 5, index=3, defer_noise=True).input_noise
    assert deferred.input_noise.std == task.params.input_noise_std
    others = {task.generate(32, 5, index=k, defer_noise=True).input_noise.seed for k in range(4)}
    assert len(others) == 4
    assert task.generate(32, 5, index=3).input_noise is None  # the default is unchanged
    quiet = tasks.make("evidence_accumulation", add_noise=False)
    assert quiet.generate(4, 0, defer_noise=True).input_noise is None


def test_white_noise_has_the_cards_law_and_is_zero_on_padding():
    owed = InputNoise(seed=11, std=0.3, decay_ms=0.0, dt_ms=10.0)
    lengths = torch.tensor([400] * 63 + [250])
    noise = draw_noise(owed, lengths, (400, 64, 8), torch.float32, torch.device("cpu"))
    assert torch.count_nonzero(noise[250:, 63]) == 0
    body = noise[:, :63].double()
    n = body.numel()
    assert abs(float(body.mean())) < 5 * 0.3 / math.sqrt(n)
    assert abs(float(body.std()) - 0.3) < 5 * 0.3 / math.sqrt(2 * n)
    lag = float((body[1:] * body[:-1]).mean()) / 0.09
    assert abs(lag) < 5 / math.sqrt(n)


def test_ou_noise_is_stationary_with_the_cards_autocorrelation():
    owed = InputNoise(seed=2, std=0.5, decay_ms=50.0, dt_ms=10.0)
    noise = draw_noise(
        owed, torch.tensor([300] * 256), (300, 256, 4), torch.float64, torch.device("cpu")
    )
    a = math.exp(-10.0 / 50.0)
    first, last = noise[0].std().item(), noise[-50:].std().item()
    assert abs(first - 0.5) < 0.03 and abs(last - 0.5) < 0.02
    for k in (1, 3):
        rho = float((noise[k:] * noise[:-k]).mean() / noise.square().mean())
        assert abs(rho - a**k) < 0.02


def test_the_same_seed_gives_the_same_numbers_and_inputs_carry_them():
    task = tasks.make("flipflop", **TASK["params"])
    batch = task.generate(8, 1, defer_noise=True)
    one, two = input_tensor(batch, "cpu"), input_tensor(batch, "cpu")
    assert torch.equal(one, two)
    added = one - torch.from_numpy(batch.inputs)
    assert float(added.std()) > 0.5 * task.params.input_noise_std
    other = input_tensor(task.generate(8, 2, defer_noise=True), "cpu")
    assert not torch.equal(one, other)


def test_a_deferred_batch_is_not_saved_or_split_without_its_noise(tmp_path):
    batch = tasks.make("flipflop").generate(4, 0, defer_noise=True)
    with pytest.raises(InvalidParameterError, match="deferred"):
        save_batch(batch, tmp_path / "b.h5")
    assert not (tmp_path / "b.h5").exists()
    with pytest.raises(InvalidParameterError, match="deferred"):
        batch.select([0, 1])


def test_training_with_device_noise_reproduces_resumes_and_differs_from_host_noise(tmp_path):
    cfg = small()
    full = train(cfg, tmp_path / "full")
    again = train(cfg)
    host = train(small(noise_on_device=False))
    a, b, c = full.net.state_dict(), again.net.state_dict(), host.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["w_rec"], c["w_rec"])

    def interrupt(info):
        if info["step"] == 7:
            raise KeyboardInterrupt

    part = train(cfg, tmp_path / "part", callback=interrupt)
    assert part.status == "interrupted"
    done = train(cfg, tmp_path / "part", resume=True)
    d = done.net.state_dict()
    assert all(torch.equal(a[k], d[k]) for k in a)
    saved = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert saved["steps"] == 12


def test_compositions_cannot_defer_their_noise():
    cfg = small().model_copy(
        update={"task": {"compose": {"tasks": [TASK, TASK], "mode": "interleave"}}}
    )
    with pytest.raises(InvalidParameterError, match=r"noise_on_device.*composition"):
        Trainer(cfg)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_noise_is_drawn_on_a_cuda_device():
    batch = tasks.make("flipflop", **TASK["params"]).generate(16, 4, defer_noise=True)
    inputs = input_tensor(batch, "cuda")
    assert inputs.is_cuda and torch.equal(inputs, input_tensor(batch, "cuda"))
    added = inputs.cpu() - torch.from_numpy(batch.inputs)
    assert abs(float(added.std()) - batch.input_noise.std) < 0.1 * batch.input_noise.std
