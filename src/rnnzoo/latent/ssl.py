"""Step I, self-supervised transfer: train the large network's latent state kappa = n^T r / N
to follow the teacher's latents z (poster, "SSL framework").

The loss is normalised, L = sum |kappa - z|^2 / sum |z - mean z|^2 over the valid steps of
a batch (so L = 1 - R^2), free-running from rest (kappa_0 = z_0 = 0) in latent-checkpointed
form, or teacher-forced one step from sampled z_t.  The encoding is stored as n (order 1) and
divided by N in the forward pass, so one Adam learning rate serves every N (an encoding
stored at its 1/N scale collapses under Adam: reference notes, sec. 2.6).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.latent.system import LatentData
from rnnzoo.models import Network
from rnnzoo.models.base import seeded_generator
from rnnzoo.models.latent_form import network_latent_rollout

SSL_PARAMETERS = ("m", "n", "w_in", "bias")


def trainable(net: Network, names: tuple[str, ...]) -> list[torch.nn.Parameter]:
    """Switch gradients on for the parameters ``names`` (of m, n, w_in, bias) and off for all
    others; returns them in that order."""
    unknown = sorted(set(names) - set(SSL_PARAMETERS))
    if unknown or not names:
        raise InvalidParameterError(
            f"'ssl_train' must name some of {', '.join(SSL_PARAMETERS)}; got {list(names)}"
        )
    for name, param in net.named_parameters():
        param.requires_grad_(name in names)
    return [getattr(net, name) for name in names]


def _tensors(data: LatentData, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    return (
        torch.from_numpy(data.batch.inputs).to(dtype),
        torch.from_numpy(data.z).to(dtype),
        torch.from_numpy(data.batch.valid),
    )


def normalised_loss(kappa: Tensor, z: Tensor, valid: Tensor) -> Tensor:
    """sum |kappa - z|^2 / sum |z - mean z|^2 over the valid entries (T, B) of (T, B, K)."""
    zv = z[valid]
    total = (zv - zv.mean(dim=0)).square().sum().clamp_min(1e-30)
    return (kappa[valid] - zv).square().sum() / total


def free_running_loss(net: Network, data: LatentData) -> Tensor:
    """The normalised latent loss of ``net`` run from rest on ``data``'s inputs."""
    inputs, z, valid = _tensors(data, net.m.dtype)
    return normalised_loss(network_latent_rollout(net, inputs).kappa, z, valid)


def teacher_forced_loss(net: Network, data: LatentData, samples: int, seed: int, step: int):
    """The normalised one-step loss at ``samples`` valid (t, b) drawn (stream ``step`` of
    ``seed``): kappa_{t+1} predicted from z_t and u_t against z_{t+1}."""
    inputs, z, valid = _tensors(data, net.m.dtype)
    points = valid.nonzero()
    gen = seeded_generator(seed, 5, step)
    points = points[torch.randint(len(points), (samples,), generator=gen)]
    t, b = points[:, 0], points[:, 1]
    z_prev = torch.cat([torch.zeros_like(z[:1]), z[:-1]])
    start = z_prev[t, b]
    one_step = network_latent_rollout(net, inputs[t, b].unsqueeze(0), kappa0=start).kappa[0]
    target = z[t, b]
    return normalised_loss(one_step[None], target[None], torch.ones(1, samples, dtype=torch.bool))


def finite(value: float) -> bool:
    return bool(np.isfinite(value))
