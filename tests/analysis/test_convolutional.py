"""The convolutional toolkit: matrix-free operator, its dense forms, ARPACK eigenpairs with
residuals against dense eigenvalues, the linearised network, regimes, noise robustness and
`rnnzoo analyze` on CordsNet runs."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rnnzoo import InvalidParameterError
from rnnzoo.analysis.convolutional import (
    conv_matrix,
    conv_operator,
    dynamical_regime,
    eigenpairs,
    linearised_operator,
    probe_dense,
)
from rnnzoo.cli.main import app
from rnnzoo.models import make_model


@pytest.mark.parametrize("kernel", [3, 4])
def test_operator_probed_and_index_built_matrices_agree(kernel):
    net = make_model("cordsnet", 1, 1, dt_ms=10, channels=[3], grid_size=5, kernel_size=kernel)
    op = conv_operator(net)
    dense = probe_dense(op)
    assert np.array_equal(dense, conv_matrix(net))
    v = np.random.default_rng(0).standard_normal(op.shape[0])
    assert np.allclose(op.rmatvec(v), dense.T @ v, atol=1e-12)


@pytest.mark.parametrize("which", ["LR", "LM"])
def test_arnoldi_eigenvalues_match_the_dense_ones(which):
    net = make_model("cordsnet", 1, 1, dt_ms=10, channels=[6], grid_size=7, kernel_size=3, gain=1.3)
    op = conv_operator(net)
    pairs = eigenpairs(op, 8, which=which)
    dense = np.linalg.eigvals(conv_matrix(net))
    key = -dense.real if which == "LR" else -np.abs(dense)
    reference = dense[np.argsort(key, kind="stable")][:8]
    for value in pairs.eigenvalues:  # each Arnoldi eigenvalue within 1e-6 of a dense one
        assert np.min(np.abs(dense - value)) / abs(value) < 1e-6
    crit = pairs.eigenvalues.real if which == "LR" else np.abs(pairs.eigenvalues)
    ref_crit = reference.real if which == "LR" else np.abs(reference)
    assert np.allclose(np.sort(crit), np.sort(ref_crit), rtol=1e-8)
    assert pairs.residuals.max() < 1e-8 and pairs.applications > 8
    with pytest.raises(InvalidParameterError, match="'k' must be in"):
        eigenpairs(op, op.shape[0])


def test_linearised_network_is_the_jacobian_of_one_step():
    torch.manual_seed(0)
    net = make_model(
        "cordsnet",
        2,
        1,
        dt_ms=10,
        channels=[2, 2],
        grid_size=3,
        areas=2,
        strides=[1, 1],
        activation="tanh",
        engine="conv",
    )
    state = np.random.default_rng(1).standard_normal(net.state_size)
    inputs = np.array([0.3, -0.2])
    op = linearised_operator(net, state, inputs)
    jac = torch.autograd.functional.jacobian(
        lambda s: net.double().step(s.view(1, 1, -1), torch.tensor(inputs).view(1, 1, -1))[0, 0],
        torch.tensor(state),
    ).numpy()
    assert np.allclose(probe_dense(op), jac, atol=1e-10)


def test_random_tanh_networks_are_stable_at_low_gain_and_chaotic_at_high_gain():
    def regime(gain):
        net = make_model(
            "cordsnet",
            1,
            1,
            dt_ms=1,
            channels=[4],
            grid_size=5,
            kernel_size=3,
            activation="tanh",
            gain=gain,
        )
        return dynamical_regime(net, steps=600, seed=0)

    low, high = regime(0.3), regime(8.0)
    assert low.regime == "stable" and low.lyapunov_exponent_per_s < 0
    assert high.regime == "chaotic" and high.lyapunov_exponent_per_s > 0
    assert high.participation_ratio > 1.5


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    from rnnzoo.training import train
    from rnnzoo.training.config import run_config

    out = tmp_path_factory.mktemp("cordsnet") / "run"
    protocol = {
        "spontaneous_ms": 10,
        "image_ms": 20,
        "after_ms": 10,
        "score_ms": 6,
        "return_ms": 4,
        "test_size": 20,
    }
    config = run_config(
        {
            "task": {"task": "image_classification", "version": "digits", "params": protocol},
            "model": {
                "kind": "cordsnet",
                "options": {
                    "preset": "R2",
                    "channels": [3, 3],
                    "stem_kernel": 3,
                    "stem_stride": 1,
                    "stem_pool": False,
                    "init": "staged",
                    "stage1_steps": 10,
                    "stage2_steps": 5,
                    "stage3_steps": 2,
                    "stage4_steps": 0,
                },
            },
            "train": {
                "loss": "cross_entropy",
                "batch_size": 4,
                "max_steps": 2,
                "eval_every": 2,
                "eval_batch_size": 8,
            },
        }
    )
    train(config, out, progress=False)
    return out


def test_analyze_writes_the_convolutional_summary(image_run):
    result = CliRunner().invoke(app, ["analyze", str(image_run), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == "cordsnet" and len(summary["areas"]) == 2
    for area in summary["areas"]:
        assert area["spectrum"]["max_residual"] < 1e-6 and len(area["spectrum"]["eigenvalues"]) > 0
    for name in ("trials", "areas", "spectrum", "pca"):
        assert (image_run / "analysis" / summary["figures"][name]).is_file()
    assert 0 <= summary["performance"] <= 1


def test_noise_robustness_compares_with_the_stage_one_cnn(image_run):
    from rnnzoo.analysis.robustness import noise_robustness

    rows = noise_robustness(image_run, (0.0, 0.5, 3.0), n_images=12)
    assert rows[0]["cordsnet_deviation"] == 0 and rows[0]["cnn_deviation"] == 0
    assert 0 < rows[1]["cordsnet_deviation"] < rows[2]["cordsnet_deviation"]
    assert 0 < rows[1]["cnn_deviation"] < rows[2]["cnn_deviation"]
    with pytest.raises(InvalidParameterError, match="noise levels must be >= 0"):
        noise_robustness(image_run, (-1.0,))
