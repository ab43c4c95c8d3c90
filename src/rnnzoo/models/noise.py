"""Network noise: white or Ornstein-Uhlenbeck, drawn from a `torch.Generator`.

Noise is drawn on the generator's device: with a generator on the network's device (the
trainer's, on a GPU too) it is written in place, with no host work; a generator elsewhere (a
network's own CPU generator after ``.to("cuda")``) draws there and the result is copied over.

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
    if generator.device == like.device and like.dtype in (torch.float32, torch.float64):
        torch.randn(shape, generator=generator, dtype=like.dtype, out=noise)
    else:  # a generator elsewhere (a network's own CPU generator on a GPU): draw there, move
        noise.copy_(
            torch.randn(shape, generator=generator, dtype=like.dtype, device=generator.device)
        )
    if decay > 0:
        steps = noise.unbind(time_dim)
        innovation = math.sqrt(1 - decay**2)
        for previous, current in itertools.pairwise(steps):
            current.mul_(innovation).add_(previous, alpha=decay)
    return noise.mul_(scale)
