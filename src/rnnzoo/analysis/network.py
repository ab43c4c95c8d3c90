"""How the analyses see a network: one standalone network (an ensemble member picked out), its
one-step map F(x, u), its time base, and noise-free simulation to NumPy arrays.

Shapes: S state size (N, or 2N for the LSTM), I inputs, O outputs, T steps, B trials.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network

CONTINUOUS_KINDS = ("leaky_rate", "leaky_current")


def single_network(net: Network, member: int | None = None) -> Network:
    """The standalone network to analyse: ``net`` itself, or member ``member`` of an ensemble
    (member 0 when None).  A member index on a standalone network must be 0 or None."""
    if net.config.ensemble is None:
        if member not in (None, 0):
            raise InvalidParameterError(
                f"'member' must be 0 or None for a standalone network; got {member}"
            )
        return net
    return net.member(0 if member is None else member)


def is_continuous(net: Network) -> bool:
    """True for the leaky (continuous-time, Euler) kinds, False for vanilla/GRU/LSTM."""
    return net.kind in CONTINUOUS_KINDS


def step_map(net: Network, inputs: Tensor) -> Callable[[Tensor], Tensor]:
    """F(x): one noise-free step of ``net`` at the constant input ``inputs`` (I,) for a batch of
    states x (K, S) -> (K, S)."""
    u = inputs.reshape(1, 1, -1)

    def forward(states: Tensor) -> Tensor:
        return net.step(states.unsqueeze(0), u.expand(1, states.shape[0], -1))[0]

    return forward


class Simulation(NamedTuple):
    """A noise-free run: states (T, B, S), rates (T, B, N) and outputs (T, B, O), float64."""

    states: np.ndarray
    rates: np.ndarray
    outputs: np.ndarray


def simulate(
    net: Network,
    inputs: np.ndarray,
    initial_state: np.ndarray | None = None,
    stimuli: np.ndarray | None = None,
) -> Simulation:
    """Run a standalone ``net`` without noise on ``inputs`` (T, B, I) from ``initial_state``
    (B, S) (zeros when None); ``stimuli`` (B, K, C, H, W) for image tasks."""
    if net.config.ensemble is not None:
        raise InvalidParameterError("simulate needs a standalone network; use net.member(i)")
    dtype = next(net.parameters()).dtype
    x = torch.as_tensor(np.asarray(inputs), dtype=dtype)
    h0 = None if initial_state is None else torch.as_tensor(initial_state, dtype=dtype)
    with torch.no_grad():
        extra = {} if stimuli is None else {"stimuli": torch.as_tensor(stimuli, dtype=dtype)}
        out = net(x, initial_state=h0, return_states=True, noise=False, **extra)
        rates = net.rates(out.states.unsqueeze(0))[0]
    return Simulation(
        out.states.double().numpy(), rates.double().numpy(), out.outputs.double().numpy()
    )


def as_float64(net: Network) -> Network:
    """A float64 copy of ``net`` with frozen parameters (fixed points and Jacobians need the
    precision; gradients flow to states only)."""
    import copy

    copied = copy.deepcopy(net).double()
    for param in copied.parameters():
        param.requires_grad_(False)
    return copied
