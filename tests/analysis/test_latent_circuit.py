"""Latent circuit inference: a planted circuit embedded in a random orthonormal basis is
recovered up to permutation; the perturbation test predicts an exactly embedded network."""

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from rnnzoo.analysis import LatentCircuit, fit_latent_circuit, perturbation_test
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model

ALPHA = 0.2
# Inputs drive nodes 0 and 1; nodes 2 and 3 (read out) inhibit each other: a decision circuit
# with the paper's structure (one node per input, one per output, non-negative in/out weights).
W_REC = np.array([[0.3, 0, 0, 0], [0, 0.3, 0, 0], [1.0, 0, 0.2, -0.6], [0, 1.0, -0.6, 0.2]])
W_IN = np.array([[1.0, 0], [0, 0.8], [0, 0], [0, 0]])
W_OUT = np.array([[0, 0, 1.0, 0], [0, 0, 0, 1.5]])


def _circuit_run(w_rec, inputs):
    """x_{t+1} = (1 - a) x_t + a relu(w_rec x_t + W_in u_t), written out independently."""
    x, states = np.zeros((inputs.shape[1], 4)), []
    for u in inputs:
        x = (1 - ALPHA) * x + ALPHA * np.maximum(x @ w_rec.T + u @ W_IN.T, 0)
        states.append(x)
    return np.stack(states)


def _pulses(steps=40, trials=32, seed=0):
    rng = np.random.default_rng(seed)
    u = np.zeros((steps, trials, 2))
    u[8:24] = rng.uniform(0, 1, (trials, 2))
    return u


@pytest.mark.slow
def test_planted_circuit_is_recovered_up_to_permutation():
    u = _pulses()
    x = _circuit_run(W_REC, u)
    q_true = np.linalg.qr(np.random.default_rng(1).normal(size=(40, 4)))[0]
    circuit = fit_latent_circuit(  # without regularisation: an exact fit exists
        x @ q_true.T,
        u,
        x @ W_OUT.T,
        n_nodes=4,
        alpha=ALPHA,
        n_restarts=4,
        n_iters=800,
        weight_decay=0.0,
        latent_noise=0.0,
    )
    assert circuit.embedding_r2 > 0.999 and circuit.output_r2 > 0.999
    overlap = np.abs(circuit.q.T @ q_true)  # (fitted node, true node)
    rows, perm = linear_sum_assignment(-overlap)
    assert overlap[rows, perm].min() > 0.99
    recovered = circuit.w_rec[np.ix_(np.argsort(perm), np.argsort(perm))]
    np.testing.assert_allclose(recovered, W_REC, atol=0.05)
    assert len(circuit.restart_losses) == 4 and circuit.loss == circuit.restart_losses.min()


def test_restarts_on_a_planted_circuit_agree_with_the_papers_objective():
    """The paper's defaults (summed output error, weight decay 1e-3, latent noise 0.15): four
    restarts find one circuit (the planted one) and the fit result says so."""
    u = _pulses(steps=40, trials=16)
    x = _circuit_run(W_REC, u)
    q_true = np.linalg.qr(np.random.default_rng(1).normal(size=(40, 4)))[0]
    y = x @ q_true.T + 0.01 * np.random.default_rng(2).normal(size=(40, 16, 40))
    circuit = fit_latent_circuit(y, u, x @ W_OUT.T, n_nodes=4, alpha=ALPHA, n_iters=300)
    assert (circuit.weight_decay, circuit.latent_noise, circuit.output_error) == (1e-3, 0.15, "sum")
    assert circuit.restart_w_rec.shape == (4, 4, 4)
    pairs = [
        np.corrcoef(circuit.restart_w_rec[i].ravel(), circuit.restart_w_rec[j].ravel())[0, 1]
        for i in range(4)
        for j in range(i + 1, 4)
    ]
    assert circuit.restart_agreement == pytest.approx(np.mean(pairs))
    assert circuit.restart_agreement > 0.9 and min(pairs) > 0.8
    assert circuit.restart_subspace_overlap > 0.95
    assert np.corrcoef(circuit.w_rec.ravel(), W_REC.ravel())[0, 1] > 0.9
    summary = circuit.summary()
    assert summary["restart_agreement"] == circuit.restart_agreement
    assert summary["latent_noise"] == 0.15 and summary["weight_decay"] == 1e-3


def test_the_objective_sums_the_output_error_over_outputs():
    """The kept restart's loss is sum_o mean_{t,b} (w_out x - z)^2 + |Qx - y|^2 / |y - ybar|^2
    of the noise-free circuit, recomputed here from the returned circuit ("mean": over O)."""
    u = _pulses(steps=30, trials=8)
    x = _circuit_run(W_REC, u)
    y = x @ np.linalg.qr(np.random.default_rng(3).normal(size=(12, 4)))[0].T
    z = x @ W_OUT.T + 0.05
    for output_error, scale in (("sum", 1.0), ("mean", 0.5)):
        c = fit_latent_circuit(
            y, u, z, n_nodes=4, alpha=ALPHA, n_restarts=2, n_iters=20, output_error=output_error
        )
        latent = c.simulate(u)
        outputs = ((latent @ c.w_out.T - z) ** 2).sum(axis=2).mean() * scale
        embedding = ((latent @ c.q.T - y) ** 2).sum() / ((y - y.mean(axis=(0, 1))) ** 2).sum()
        assert c.loss == pytest.approx(outputs + embedding, rel=1e-4)


def test_latent_noise_and_weight_decay_change_the_fit_and_are_seeded():
    u = _pulses(steps=30, trials=8)
    x = _circuit_run(W_REC, u)
    y = x @ np.linalg.qr(np.random.default_rng(3).normal(size=(12, 4)))[0].T

    def fit(**kw):
        return fit_latent_circuit(
            y, u, x @ W_OUT.T, n_nodes=4, alpha=ALPHA, n_restarts=2, n_iters=30, **kw
        ).w_rec

    np.testing.assert_array_equal(fit(), fit())  # the noise comes from the seed
    assert not np.array_equal(fit(), fit(seed=1))
    assert not np.array_equal(fit(), fit(latent_noise=0.0))
    assert not np.array_equal(fit(latent_noise=0.0), fit(latent_noise=0.0, weight_decay=0.0))
    for bad in ({"latent_noise": -0.1}, {"weight_decay": -1.0}, {"output_error": "max"}):
        with pytest.raises(InvalidParameterError, match=next(iter(bad))):
            fit(**bad)


@pytest.mark.parametrize("size", [50, 200, 1000])
def test_the_start_keeps_the_principal_subspace_for_large_networks(size):
    """Principal axes + per-entry noise of 0.3/sqrt(N): the start's overlap with the top-n
    principal subspace (root mean square cosine of the principal angles) stays near
    1/sqrt(1 + 0.09) = 0.96 whatever N (with 0.3 per entry it fell to 0.52, 0.27 and 0.13 at
    N = 50, 200, 1000)."""
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(size, 4)))[0]
    latent = rng.normal(size=(20, 8, 4)) * np.array([3.0, 2.5, 2.0, 1.5])
    y = latent @ basis.T + 0.01 * rng.normal(size=(20, 8, size))
    u, z = rng.uniform(size=(20, 8, 2)), rng.uniform(size=(20, 8, 2))
    overlaps = []
    for seed in range(3):  # one Adam step of lr 1e-9 leaves the start as it was
        c = fit_latent_circuit(
            y,
            u,
            z,
            n_nodes=4,
            alpha=ALPHA,
            n_restarts=1,
            n_iters=1,
            lr=1e-9,
            seed=seed,
            latent_noise=0.0,
        )
        overlaps.append(np.sqrt(np.sum((basis.T @ c.q) ** 2) / 4))
    assert 0.93 < np.mean(overlaps) < 0.99


def _embedded_network(groups=5):
    """A leaky ReLU rate network that IS the circuit: node k is a group of `groups` neurons
    with Q[:, k] = 1/sqrt(groups) on them (disjoint, non-negative, so relu(Q v) = Q relu(v)),
    W = Q W_rec Q^T, W_in = Q W_in, W_out = W_out Q^T."""
    n = 4 * groups
    q = np.kron(np.eye(4), np.ones((groups, 1))) / np.sqrt(groups)
    net = make_model("leaky_rate", 2, 2, dt_ms=10, n_hidden=n, tau_ms=50.0)  # alpha 0.2
    with torch.no_grad():
        net.w_rec.copy_(torch.tensor(q @ W_REC @ q.T).unsqueeze(0))
        net.w_in.copy_(torch.tensor(q @ W_IN).unsqueeze(0))
        net.w_out.copy_(torch.tensor(W_OUT @ q.T).unsqueeze(0))
        net.b_out.zero_()
    circuit = LatentCircuit(W_REC, W_IN, W_OUT, q, ALPHA, 1.0, 1.0, 1.0, 0.0, np.zeros(1), True)
    return net, circuit


def test_perturbation_test_predicts_an_embedded_network():
    net, circuit = _embedded_network()
    delta = np.zeros((4, 4))
    delta[2, 3] = 0.5  # remove most of the inhibition from node 3 to node 2
    result = perturbation_test(net, circuit, _pulses(), delta)
    assert result["r2"] > 0.999 and result["correlation"] > 0.999
    assert result["network_change_rms"] > 0.01  # the perturbation did change the outputs
    # with nodes 2 and 3 swapped in the embedding, the network is perturbed on the other
    # connection and the circuit's prediction fails
    from dataclasses import replace

    swapped = replace(circuit, q=circuit.q[:, [0, 1, 3, 2]])
    assert perturbation_test(net, swapped, _pulses(), delta)["r2"] < 0.5


def test_bad_sizes_are_named():
    u = _pulses()
    x = _circuit_run(W_REC, u)
    with pytest.raises(InvalidParameterError, match="n_nodes"):
        fit_latent_circuit(x, u, x[..., :2], n_nodes=1, alpha=ALPHA)
    net, circuit = _embedded_network()
    with pytest.raises(InvalidParameterError, match="delta"):
        perturbation_test(net, circuit, u, np.zeros((3, 3)))
    dale = make_model("leaky_rate", 2, 2, dt_ms=10, n_hidden=20, dale=True)
    with pytest.raises(InvalidParameterError, match="dense, unconstrained"):
        perturbation_test(dale, circuit, u, np.zeros((4, 4)))
