"""The rank-1 mean-field check (Mastrogiuseppe & Ostojic 2018; reference notes, sec. 2.2):
with m ~ N(0, 1) and n = s m + noise, the fixed points of kappa = n^T tanh(m kappa) / N are
kappa = 0 for s < 1 and the two roots of 1 = s <phi'>(|kappa|) for s > 1, where
<phi'>(D) = E[1 - tanh^2(D z)], z ~ N(0, 1)."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from rnnzoo.models import make_model
from rnnzoo.models.latent_form import network_latent_rollout

N = 50_000


def mean_gain(delta: float) -> float:
    """<phi'>(delta) by 80-point Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    return float((w * (1 - np.tanh(delta * x) ** 2)).sum() / np.sqrt(2 * np.pi))


def mean_field_root(overlap: float) -> float:
    """|kappa*| solving 1 = overlap <phi'>(|kappa|) (sigma_m = 1), 0 when overlap <= 1."""
    if overlap <= 1:
        return 0.0
    return brentq(lambda k: overlap * mean_gain(k) - 1.0, 1e-9, 50.0)


@pytest.mark.parametrize("overlap", [0.8, 1.5, 2.5])
def test_rank_one_fixed_points_match_the_mean_field_root(overlap):
    net = make_model("leaky_rate", 1, 1, dt_ms=10, n_hidden=N, rank=1, activation="tanh", tau_ms=50)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        m = torch.randn(N, 1, generator=gen)
        net.m.copy_(m.unsqueeze(0))
        net.n.copy_((overlap * m + torch.randn(N, 1, generator=gen)).unsqueeze(0))
        net.bias.zero_()
        kappa = network_latent_rollout(
            net, torch.zeros(600, 2, 1), kappa0=torch.tensor([[1.0], [-1.0]])
        ).kappa[-1, :, 0]
    expected = mean_field_root(overlap)
    if expected == 0:
        assert kappa.abs().max() < 1e-3
    else:
        assert kappa[0] > 0 > kappa[1]
        np.testing.assert_allclose(kappa.abs().numpy(), expected, rtol=0.02)
