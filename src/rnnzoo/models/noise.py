"""Network noise: white or Ornstein-Uhlenbeck, drawn from a `torch.Generator`.

Convention (Yang et al. 2019; seed 002): noise eta enters the drive of each Euler step, which is
multiplied by alpha = dt/tau, with per-step std sigma * sqrt(2/alpha).  The state then receives
alpha * eta, of std sigma * sqrt(2 alpha): the Euler discretisation of tau dx = ... dt +
sigma sqrt(2 tau) dW, so sigma is the stationary std of a leaky integrator of that noise,
independent of dt.  Ornstein-Uhlenbeck noise with correlation time tau_noise keeps the same
stationary std and has autocorrelation exp(-|lag| / tau_noise).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from rnnzoo.models.workspace import WORKSPACE


def draw_noise(
    shape: tuple[int, ...],
    scale: Tensor,
    decay: float,
    generator: torch.Generator,
    like: Tensor,
    time_dim: int,
) -> Tensor:
    """Noise of ``shape`` times ``scale`` (broadcast), white when ``decay`` = 0, else OU with
    per-step decay factor ``decay`` = exp(-dt / tau_noise) along ``time_dim``."""
    noise = WORKSPACE.get(shape, like)
    if like.device.type == "cpu" and like.dtype in (torch.float32, torch.float64):
        torch.randn(shape, generator=generator, dtype=like.dtype, out=noise)
    else:  # generators live on the CPU; draw there and move
        noise.copy_(torch.randn(shape, generator=generator, dtype=like.dtype))
    if decay > 0:
        steps = noise.unbind(time_dim)
        innovation = math.sqrt(1 - decay**2)
        for previous, current in itertools.pairwise(steps):
            current.mul_(innovation).add_(previous, alpha=decay)
    return noise.mul_(scale)
