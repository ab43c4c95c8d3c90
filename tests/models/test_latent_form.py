"""The latent-checkpointed simulation of low-rank rate networks: it equals the unrolled
N-dimensional network, its gradients equal plain autograd's, and it saves O(B T (K + O))."""

import pytest
import torch

import rnnzoo.models.latent_form as latent_form
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model
from rnnzoo.models.latent_form import network_latent_rollout


def _net(activation="tanh", n_hidden=200, rank=3, **options):
    torch.set_default_dtype(torch.float64)
    try:
        net = make_model(
            "leaky_rate",
            3,
            2,
            dt_ms=10,
            n_hidden=n_hidden,
            rank=rank,
            tau_ms=40.0,
            activation=activation,
            **options,
        )
    finally:
        torch.set_default_dtype(torch.float32)
    with torch.no_grad():  # a nontrivial network: m and n aligned (bistable latent dynamics)
        net.n.add_(1.5 * net.m)
        net.bias.normal_(0.0, 0.3)
    return net


def _unrolled_loss(net, inputs, w_kappa, w_out, initial=None):
    out = net(inputs, return_states=True, initial_state=initial)
    kappa = out.states @ net.n[0] / net.options.n_hidden
    return (kappa * w_kappa).sum() + (out.outputs * w_out).sum(), kappa, out.outputs


@pytest.mark.parametrize("activation", ["tanh", "relu", "softplus"])
def test_latent_form_equals_unrolled_network_and_its_gradients(activation, monkeypatch):
    monkeypatch.setattr(latent_form, "BLOCK_ELEMENTS", 3 * 5 * 200)  # backward in blocks of 3 steps
    net = _net(activation)
    inputs = torch.randn(25, 5, 3, dtype=torch.float64)
    w_kappa, w_out = (
        torch.randn(25, 5, 3, dtype=torch.float64),
        torch.randn(25, 5, 2, dtype=torch.float64),
    )
    run = network_latent_rollout(net, inputs)
    loss = (run.kappa * w_kappa).sum() + (run.linear * w_out).sum()
    loss.backward()
    latent_grads = {k: p.grad.clone() for k, p in net.named_parameters()}
    net.zero_grad()
    reference, kappa, outputs = _unrolled_loss(net, inputs, w_kappa, w_out)
    reference.backward()
    torch.testing.assert_close(run.kappa, kappa, rtol=0, atol=1e-12)
    torch.testing.assert_close(run.linear, outputs, rtol=0, atol=1e-12)
    for name, param in net.named_parameters():
        torch.testing.assert_close(latent_grads[name], param.grad, rtol=1e-10, atol=1e-12)
        assert param.grad.abs().max() > 0, name


def test_latent_form_from_an_initial_state_and_its_gradient():
    net = _net()
    inputs = torch.randn(10, 4, 3, dtype=torch.float64)
    r0 = torch.rand(4, 200, dtype=torch.float64, requires_grad=True)
    w_kappa, w_out = (
        torch.randn(10, 4, 3, dtype=torch.float64),
        torch.randn(10, 4, 2, dtype=torch.float64),
    )
    run = network_latent_rollout(net, inputs, initial_state=r0)
    ((run.kappa * w_kappa).sum() + (run.linear * w_out).sum()).backward()
    latent_grad = r0.grad.clone()
    r0.grad = None
    reference, kappa, _ = _unrolled_loss(net, inputs, w_kappa, w_out, initial=r0)
    reference.backward()
    torch.testing.assert_close(run.kappa, kappa, rtol=0, atol=1e-12)
    torch.testing.assert_close(latent_grad, r0.grad, rtol=1e-10, atol=1e-12)


def test_latent_form_saves_no_b_t_n_tensor():
    net = make_model("leaky_rate", 2, 2, n_hidden=4000, rank=2, activation="tanh")
    inputs = torch.randn(50, 8, 2)
    saved = []

    def pack(tensor):
        saved.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        network_latent_rollout(net, inputs).kappa.sum().backward()
    steps, batch, size, rank, width = 50, 8, 4000, 2, 2
    # kept: [kappa, u, 1] (T, B, K + I + 1), [kappa, rho] (T + 1, B, K + O), the loadings
    # [m, W_in, b] (N, K + I + 1) and [n / N, W_out^T] (N, K + O); nothing of size B x T x N
    largest = max(steps * batch * (rank + width + 1), size * (rank + width + 1))
    assert max(saved) <= largest
    assert sum(saved) < steps * batch * size / 30


def test_networks_without_a_latent_form_are_refused():
    with pytest.raises(InvalidParameterError, match="low-rank leaky_rate"):
        network_latent_rollout(make_model("leaky_rate", 2, 2, n_hidden=8), torch.zeros(3, 1, 2))
    noisy = make_model("leaky_rate", 2, 2, n_hidden=8, rank=1, recurrent_noise=0.1)
    with pytest.raises(InvalidParameterError, match="recurrent_noise"):
        network_latent_rollout(noisy, torch.zeros(3, 1, 2))
    ensemble = make_model("leaky_rate", 2, 2, n_hidden=8, rank=1, ensemble=2)
    with pytest.raises(InvalidParameterError, match="standalone"):
        network_latent_rollout(ensemble, torch.zeros(3, 1, 2))
