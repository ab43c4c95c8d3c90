"""Initial recurrent connectivity: random gain, sparse masks, Dale's law, low rank.

All functions take a `torch.Generator` and return float64 CPU tensors (cast by the caller), so
the same seed gives the same network on every machine and dtype.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def dale_signs(n_hidden: int, excitatory_fraction: float) -> Tensor:
    """(N,) +1 for the first round(f N) (excitatory) neurons, -1 for the rest (inhibitory)."""
    n_exc = round(n_hidden * excitatory_fraction)
    if not 0 < n_exc < n_hidden:
        raise ValueError(
            f"'excitatory_fraction' = {excitatory_fraction} leaves no excitatory or no inhibitory "
            f"neuron among n_hidden = {n_hidden}"
        )
    signs = torch.ones(n_hidden, dtype=torch.float64)
    signs[n_exc:] = -1
    return signs


def connection_mask(
    generator: torch.Generator, n_hidden: int, prob: float, self_connections: bool
) -> Tensor | None:
    """(N, N) 0/1 mask of existing connections (Bernoulli(prob)), or None when all exist."""
    if prob >= 1 and self_connections:
        return None
    mask = torch.rand(n_hidden, n_hidden, generator=generator, dtype=torch.float64) < prob
    mask = mask.to(torch.float64)
    if not self_connections:
        mask.fill_diagonal_(0)
    return mask


def random_recurrent(generator: torch.Generator, n_hidden: int, g: float, prob: float) -> Tensor:
    """(N, N) W_ij ~ N(0, g^2 / (prob N)): with the mask applied, the bulk of the spectrum is a
    disc of radius g (circular law), so g > 1 gives chaos for tanh networks."""
    std = g / math.sqrt(prob * n_hidden)
    return torch.randn(n_hidden, n_hidden, generator=generator, dtype=torch.float64) * std


def dale_magnitudes(generator: torch.Generator, signs: Tensor, g: float, mask: Tensor) -> Tensor:
    """(N, N) non-negative magnitudes for a balanced E/I network of bulk radius about g.

    Magnitudes |xi| * c on existing connections (``mask``); inhibitory weights are scaled per
    row so that every row's signed sum is exactly zero (Rajan & Abbott 2006: exact balance
    removes the outlier eigenvalues that make untuned Dale networks run away).  The overall
    scale sets radius^2 = sum_j Var(w_ij) = g^2, with Var = c_j^2 (p - 2 p^2 / pi) for density p
    and inhibitory scale c_I = c_E N_E / N_I on average.
    """
    n_hidden = signs.numel()
    excitatory = signs > 0
    n_exc = int(excitatory.sum())
    ratio = n_exc / (n_hidden - n_exc)
    prob = float(mask.mean())
    variance = prob - 2 * prob**2 / math.pi
    c_exc = g / math.sqrt(variance * (n_exc + (n_hidden - n_exc) * ratio**2))
    magnitudes = torch.randn(n_hidden, n_hidden, generator=generator, dtype=torch.float64).abs()
    magnitudes = magnitudes * mask * c_exc
    exc_sum = magnitudes[:, excitatory].sum(1, keepdim=True)
    inh_sum = magnitudes[:, ~excitatory].sum(1, keepdim=True).clamp_min(1e-12)
    magnitudes[:, ~excitatory] *= exc_sum / inh_sum
    return magnitudes


def low_rank_factors(generator: torch.Generator, n_hidden: int, rank: int) -> tuple[Tensor, Tensor]:
    """m, n (N, R) ~ N(0, 1) (Valente et al. 2022); W = m n^T / N."""
    m = torch.randn(n_hidden, rank, generator=generator, dtype=torch.float64)
    n = torch.randn(n_hidden, rank, generator=generator, dtype=torch.float64)
    return m, n
