"""Input noise: stationary std, OU autocorrelation, only on trial steps, reproducible."""

import numpy as np
import pytest

from rnnzoo import tasks
from rnnzoo.tasks.noise import input_noise


def test_white_noise_statistics():
    x = input_noise(np.random.default_rng(0), (2000, 64, 2), 0.3, 0.0, 10.0).astype(np.float64)
    assert abs(x.std() - 0.3) < 0.005
    lag1 = np.mean(x[1:] * x[:-1]) / x.var()
    assert abs(lag1) < 0.01


@pytest.mark.parametrize(("tau", "dt"), [(20.0, 10.0), (100.0, 1.0)])
def test_ou_noise_has_the_documented_autocorrelation(tau, dt):
    x = input_noise(np.random.default_rng(1), (4000, 64, 1), 0.5, tau, dt).astype(np.float64)
    assert abs(x.std() - 0.5) < 0.02
    for k in (1, 3):
        rho = np.mean(x[k:] * x[:-k]) / x.var()
        assert abs(rho - np.exp(-k * dt / tau)) < 0.03


def test_noise_is_added_to_inputs_only_and_not_on_padding():
    task = tasks.make("flipflop", noise_scale=0.2)
    noisy = task.generate(16, 3)
    clean = task.from_conditions(noisy.conditions)
    diff = noisy.inputs - clean.inputs
    assert abs(diff[noisy.valid].std() - 0.2) < 0.01
    assert np.array_equal(noisy.targets, clean.targets) and np.array_equal(
        noisy.weights, clean.weights
    )


def test_add_noise_false_gives_clean_inputs():
    task = tasks.make("flipflop", add_noise=False, noise_scale=0.5)
    batch = task.generate(4, 0)
    assert np.array_equal(batch.inputs, task.from_conditions(batch.conditions).inputs)
