"""Activation functions of the leaky networks, with the in-place forms the fused core uses.

``prelu`` is max(z, 0) + slope * min(z, 0): slope 1 is linear, slope 0 is ReLU, so annealing the
slope from 1 to 0 takes a network from linear to rectified dynamics.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional


def activate(name: str, z: Tensor, slope: float = 0.0) -> Tensor:
    """f(z) as a new tensor (differentiable by autograd)."""
    if name == "relu":
        return torch.relu(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "softplus":
        return functional.softplus(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "prelu":
        return torch.where(z > 0, z, z * slope)
    raise ValueError(f"unknown activation '{name}'")


def activate_(name: str, z: Tensor, slope: float = 0.0) -> Tensor:
    """f(z) written into ``z`` (no autograd)."""
    if name == "relu":
        return z.relu_()
    if name == "tanh":
        return z.tanh_()
    if name == "sigmoid":
        return z.sigmoid_()
    if name == "prelu":
        return torch.where(z > 0, z, z * slope, out=z)
    if name == "softplus":
        return z.copy_(functional.softplus(z))
    raise ValueError(f"unknown activation '{name}'")


def activate_into(name: str, x: Tensor, out: Tensor, slope: float = 0.0) -> Tensor:
    """f(x) written into ``out`` (a possibly strided view; no autograd)."""
    if name == "relu":
        return torch.clamp(x, min=0, out=out)
    if name == "tanh":
        return torch.tanh(x, out=out)
    if name == "sigmoid":
        return torch.sigmoid(x, out=out)
    if name == "prelu":
        return torch.where(x > 0, x, x * slope, out=out)
    if name == "softplus":
        return out.copy_(functional.softplus(x))
    raise ValueError(f"unknown activation '{name}'")


def derivative_from_output_(name: str, phi: Tensor, slope: float = 0.0) -> Tensor:
    """f'(z) from phi = f(z) alone, written into ``phi`` (so the core stores f(z), not z)."""
    if name == "relu":
        return phi.gt_(0)
    if name == "tanh":
        return phi.mul_(phi).neg_().add_(1)
    if name == "sigmoid":
        return phi.sub_(phi * phi)
    if name == "softplus":  # f'(z) = sigmoid(z) = 1 - exp(-f(z))
        return phi.neg_().expm1_().neg_()
    if name == "prelu":
        positive = phi > 0
        return phi.fill_(slope).masked_fill_(positive, 1.0)
    raise ValueError(f"unknown activation '{name}'")
