"""Initial recurrent connectivity: random gain, diagonal and orthogonal starts, sparse and
user-given masks, Dale's law, low rank.

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
    generator: torch.Generator,
    n_hidden: int,
    prob: float,
    self_connections: bool,
    given: Tensor | None = None,
) -> Tensor | None:
    """(N, N) 0/1 mask of existing connections: Bernoulli(prob) draws (none when prob = 1),
    times the user's ``given`` mask, without the diagonal unless ``self_connections``; None when
    every connection exists."""
    if prob >= 1 and self_connections and given is None:
        return None
    mask = torch.ones(n_hidden, n_hidden, dtype=torch.float64)
    if prob < 1:
        drawn = torch.rand(n_hidden, n_hidden, generator=generator, dtype=torch.float64) < prob
        mask = drawn.to(torch.float64)
    if given is not None:
        mask = mask * given
    if not self_connections:
        mask.fill_diagonal_(0)
    return mask


def random_recurrent(generator: torch.Generator, n_hidden: int, g: float, prob: float) -> Tensor:
    """(N, N) W_ij ~ N(0, g^2 / (prob N)): with the mask applied, the bulk of the spectrum is a
    disc of radius g (circular law), so g > 1 gives chaos for tanh networks."""
    std = g / math.sqrt(prob * n_hidden)
    return torch.randn(n_hidden, n_hidden, generator=generator, dtype=torch.float64) * std


def diagonal_recurrent(n_hidden: int, g: float) -> Tensor:
    """(N, N) g * I (Yang et al. 2019's ``diag``; Le et al. 2015's identity start for ReLU)."""
    return g * torch.eye(n_hidden, dtype=torch.float64)


def orthogonal_recurrent(generator: torch.Generator, n_hidden: int, g: float) -> Tensor:
    """(N, N) g * Q with Q drawn uniformly (Haar) from the orthogonal group (Yang et al. 2019's
    ``randortho``): QR of a Gaussian matrix, columns signed by diag(R)."""
    gauss = torch.randn(n_hidden, n_hidden, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gauss)
    return g * q * torch.sign(torch.diagonal(r)).view(1, -1)


def spectral_radius(w: Tensor, dense_up_to: int = 1500) -> float:
    """max |lambda| of a square float64 matrix (LAPACK up to N = ``dense_up_to``, ARPACK
    beyond)."""
    if w.shape[0] <= dense_up_to:
        return float(torch.linalg.eigvals(w).abs().max())
    from scipy.sparse.linalg import eigs

    values = eigs(w.numpy(), k=6, which="LM", return_eigenvectors=False, tol=1e-8)
    return float(abs(values).max())


def dale_magnitudes(generator: torch.Generator, signs: Tensor, g: float, mask: Tensor) -> Tensor:
    """(N, N) non-negative magnitudes of a balanced E/I network with spectral radius g.

    As the field initialises Dale networks (Song, Yang & Wang 2016; Langdon & Engel 2025):
    magnitudes |xi| on existing connections (``mask``); inhibitory weights scaled per row so
    that every row's inhibition equals its excitation (Rajan & Abbott 2006: exact balance
    removes the outlier eigenvalue that makes untuned Dale networks run away; inhibitory
    weights are then N_E/N_I times larger on average); then the whole matrix scaled so that the
    spectral radius of the signed W is exactly g.
    """
    n_hidden = signs.numel()
    excitatory = signs > 0
    magnitudes = torch.randn(n_hidden, n_hidden, generator=generator, dtype=torch.float64).abs()
    magnitudes = magnitudes * mask / math.sqrt(n_hidden)
    exc_sum = magnitudes[:, excitatory].sum(1, keepdim=True)
    inh_sum = magnitudes[:, ~excitatory].sum(1, keepdim=True).clamp_min(1e-12)
    magnitudes[:, ~excitatory] *= exc_sum / inh_sum
    radius = spectral_radius(magnitudes * signs.view(1, -1))
    return magnitudes * (g / radius) if radius > 0 else magnitudes


def low_rank_factors(generator: torch.Generator, n_hidden: int, rank: int) -> tuple[Tensor, Tensor]:
    """m, n (N, R) ~ N(0, 1) (Valente et al. 2022); W = m n^T / N."""
    m = torch.randn(n_hidden, rank, generator=generator, dtype=torch.float64)
    n = torch.randn(n_hidden, rank, generator=generator, dtype=torch.float64)
    return m, n
