"""Step II, the input-output fit: with the recurrence frozen, fit the readout of the large
network on the task's targets, from kappa (W_out = A n^T / N; A is O x K) or from the rates
(W_out, O x N), by weighted least squares / ridge, or by a few Adam steps on the task loss.

Adam on a readout from N rates would move every entry by about lr, a change of order lr N in
the output (the learning-rate collapse); it therefore trains V = N W_out (order 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnzoo.analysis.large import rates_of, simulate_latent
from rnnzoo.errors import InvalidParameterError
from rnnzoo.latent.fits import dual_ridge
from rnnzoo.latent.system import least_squares_readout
from rnnzoo.models import Network
from rnnzoo.models.latent_form import latent_rollout, network_latent_rollout
from rnnzoo.training.losses import masked_mse

READOUT_INDEX = 1 << 21  # train-stream batch indices of the readout fit's trials


def set_latent_readout(net: Network, readout: np.ndarray, bias: np.ndarray) -> None:
    """W_out = A n^T / N and b_out = bias: the readout reads A kappa + bias."""
    n = net.n[0].detach().double()
    w_out = torch.from_numpy(readout) @ n.T / net.options.n_hidden
    with torch.no_grad():
        net.w_out.copy_(w_out.to(net.w_out.dtype).unsqueeze(0))
        net.b_out.copy_(torch.from_numpy(bias).to(net.b_out.dtype).unsqueeze(0))


def latent_readout_of(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) with W_out = A n^T / N when the readout lies in the span of n (least squares)."""
    n = net.n[0].detach().double().numpy()
    w_out = net.output_weights()[0].detach().double().numpy()
    readout = np.linalg.lstsq(n / net.options.n_hidden, w_out.T, rcond=None)[0].T
    return readout, net.b_out[0].detach().double().numpy()


def fit_readout(
    net: Network,
    task: Any,
    seed: int,
    *,
    on: str = "kappa",
    method: str = "lstsq",
    trials: int = 64,
    steps: int = 200,
    lr: float = 1e-2,
    ridge: float = 1e-6,
    max_samples: int = 4096,
) -> dict[str, float]:
    """Fit the readout of ``net`` in place on ``trials`` trials of ``task``'s train stream;
    returns {"readout_loss": masked MSE on those trials after the fit}."""
    if on not in ("kappa", "rates"):
        raise InvalidParameterError(f"'readout_on' must be kappa or rates; got {on!r}")
    if method not in ("lstsq", "adam"):
        raise InvalidParameterError(f"'readout_method' must be lstsq or adam; got {method!r}")
    if method == "lstsq" and net.options.readout != "linear":
        raise InvalidParameterError(
            f"'readout_method' lstsq needs a linear readout; the network's is "
            f"'{net.options.readout}' (use adam)"
        )
    for param in net.parameters():
        param.requires_grad_(False)
    batch = task.generate(trials, seed, split="train", index=READOUT_INDEX)
    if method == "lstsq":
        if on == "kappa":
            _lstsq_kappa(net, batch)
        else:
            _ridge_rates(net, batch, ridge, max_samples, seed)
    else:
        _adam(net, task, seed, on, trials, steps, lr)
    return {"readout_loss": readout_loss(net, batch)}


def readout_loss(net: Network, batch: Any) -> float:
    """Masked MSE of the network's outputs on ``batch``."""
    sim = simulate_latent(net, batch.inputs)
    outputs = torch.from_numpy(sim.outputs).unsqueeze(1)
    targets, weights = (torch.from_numpy(a).double() for a in (batch.targets, batch.weights))
    return float(masked_mse(outputs, targets, weights)[0])


def _lstsq_kappa(net: Network, batch: Any) -> None:
    sim = simulate_latent(net, batch.inputs)
    scored = batch.weights.max(axis=2) > 0
    readout, bias = least_squares_readout(
        sim.kappa[1:][scored], batch.targets[scored], batch.weights[scored]
    )
    set_latent_readout(net, readout, bias)


def _ridge_rates(net: Network, batch: Any, ridge: float, max_samples: int, seed: int) -> None:
    """Ridge regression of the targets on the rates of all neurons at sampled scored steps
    (dual form, chunks of neurons); the bias absorbs the means."""
    sim = simulate_latent(net, batch.inputs)
    points = np.argwhere(batch.weights.max(axis=2) > 0)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11,)))
    if len(points) > max_samples:
        points = points[np.sort(rng.choice(len(points), max_samples, replace=False))]
    t, b = torch.from_numpy(points[:, 0]), torch.from_numpy(points[:, 1])
    targets = batch.targets[points[:, 0], points[:, 1]].astype(np.float64)
    means = np.zeros(net.options.n_hidden)

    def features(part: slice) -> np.ndarray:
        x = rates_of(net, sim, part)[t, b].double().numpy()
        means[part] = x.mean(axis=0)
        return x - means[part]

    target_mean = targets.mean(axis=0)
    w_out = dual_ridge(features, net.options.n_hidden, targets - target_mean, ridge)
    with torch.no_grad():
        net.w_out.copy_(torch.from_numpy(w_out).to(net.w_out.dtype).unsqueeze(0))
        bias = target_mean - w_out @ means
        net.b_out.copy_(torch.from_numpy(bias).to(net.b_out.dtype).unsqueeze(0))


def _adam(net: Network, task: Any, seed: int, on: str, trials: int, steps: int, lr: float):
    size = net.options.n_hidden
    if on == "kappa":
        readout, bias = latent_readout_of(net)
        weight = torch.tensor(readout, dtype=net.m.dtype, requires_grad=True)
    else:
        bias = net.b_out[0].detach().double().numpy()
        weight = (net.output_weights()[0].detach() * size).clone().requires_grad_(True)
    offset = torch.tensor(bias, dtype=net.m.dtype, requires_grad=True)
    optimiser = torch.optim.Adam([weight, offset], lr=lr)
    n = net.n[0].detach()
    for step in range(steps):
        batch = task.generate(trials, seed, split="train", index=READOUT_INDEX + 1 + step)
        inputs = torch.from_numpy(batch.inputs)
        if on == "kappa":
            linear = _kappa_readout(net, inputs, weight, offset)
        else:
            linear = _rates_readout(net, inputs, weight / size, offset)
        outputs = net.readout_activation(linear).unsqueeze(1)
        targets, weights = (torch.from_numpy(a) for a in (batch.targets, batch.weights))
        loss = masked_mse(outputs, targets, weights)[0]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        w_out = weight @ n.T / size if on == "kappa" else weight / size
        net.w_out.copy_(w_out.unsqueeze(0))
        net.b_out.copy_(offset.unsqueeze(0))


def _kappa_readout(net: Network, inputs, weight: torch.Tensor, bias: torch.Tensor):
    """A kappa + b with A differentiable (kappa from the frozen recurrence)."""
    with torch.no_grad():
        kappa = network_latent_rollout(net, inputs).kappa
    return kappa @ weight.T + bias


def _rates_readout(net: Network, inputs, w_out: torch.Tensor, bias: torch.Tensor):
    """W_out r + b with W_out differentiable: the latent form's readout state rho."""
    m, n = (w[0].detach() for w in net.recurrent_weights())
    inputs = inputs.to(m.dtype)
    run = latent_rollout(
        inputs,
        m.new_zeros(inputs.shape[1], m.shape[1]),
        m,
        n,
        net.input_weights()[0].detach(),
        net.bias[0].detach(),
        w_out,
        bias,
        alpha=float(net.alpha.flatten()[0]),
        activation=net.options.activation,
        slope=float(net.activation_slope[0]),
    )
    return run.linear
