"""Masked losses per ensemble member, regularisers and per-member gradient clipping.

Shapes: outputs (T, M, B, O) (a standalone network's (T, B, O) gets M = 1 first); targets and
weights (T, B, O), shared by every member.  Every function returns one value per member (M,) so
that the total loss is their sum and a member's gradient depends on its own loss only.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn


def masked_mse(outputs: Tensor, targets: Tensor, weights: Tensor) -> Tensor:
    """sum(w * (y - yhat)^2) / sum(w) per member: outputs (T, M, B, O) -> (M,)."""
    w = weights.unsqueeze(1)
    err = (outputs - targets.unsqueeze(1)).square() * w
    return err.sum(dim=(0, 2, 3)) / weights.sum().clamp_min(1e-12)


def masked_cross_entropy(
    outputs: Tensor, targets: Tensor, weights: Tensor, softmax: bool
) -> Tensor:
    """Cross-entropy between target distributions and outputs over the O channels, per member.

    ``outputs`` are probabilities when the readout is a softmax (``softmax=True``), logits
    otherwise.  A step's weight is the largest of its channels' weights; (T, M, B, O) -> (M,).
    """
    log_p = outputs.clamp_min(1e-12).log() if softmax else torch.log_softmax(outputs, dim=-1)
    step_w = weights.amax(dim=-1)  # (T, B)
    ce = -(targets.unsqueeze(1) * log_p).sum(dim=-1)  # (T, M, B)
    return (ce * step_w.unsqueeze(1)).sum(dim=(0, 2)) / step_w.sum().clamp_min(1e-12)


def weight_matrices(net: nn.Module) -> list[Tensor]:
    """Trainable weight matrices (leading M axis, >= 2 more dims): biases are not penalised."""
    return [p for p in net.parameters() if p.requires_grad and p.dim() >= 3]


def weight_penalty(net: nn.Module, l1: float, l2: float, n_models: int) -> Tensor:
    """l1 * sum|W| + l2 * sum W^2 over the weight matrices, per member (M,)."""
    total = torch.zeros(n_models, dtype=torch.float32)
    for w in weight_matrices(net):
        flat = w.reshape(w.shape[0], -1)
        total = total.to(flat.device)
        if l1:
            total = total + l1 * flat.abs().sum(dim=1)
        if l2:
            total = total + l2 * flat.square().sum(dim=1)
    return total


def activity_penalty(rates: Tensor, weights: Tensor, l1: float, l2: float) -> Tensor:
    """l1 * mean|r| + l2 * mean r^2 over scored steps (any weight > 0): rates (T, M, B, N) -> (M,)."""
    valid = (weights.amax(dim=-1) > 0).to(rates.dtype).unsqueeze(1).unsqueeze(-1)  # (T,1,B,1)
    count = valid.sum() * rates.shape[-1]
    total = torch.zeros(rates.shape[1], dtype=rates.dtype, device=rates.device)
    if l1:
        total = total + l1 * (rates.abs() * valid).sum(dim=(0, 2, 3)) / count.clamp_min(1)
    if l2:
        total = total + l2 * (rates.square() * valid).sum(dim=(0, 2, 3)) / count.clamp_min(1)
    return total


@torch.no_grad()
def member_grad_norms(params: Iterable[Tensor], n_models: int) -> Tensor:
    """Gradient norm of each member (M,): over that member's slice of every parameter."""
    sq = None
    for p in params:
        if p.grad is None:
            continue
        s = p.grad.reshape(n_models, -1).double().square().sum(dim=1)
        sq = s if sq is None else sq + s
    if sq is None:
        return torch.zeros(n_models, dtype=torch.float64)
    return sq.sqrt()


@torch.no_grad()
def clip_grad_norm_per_member(params: Iterable[Tensor], max_norm: float, n_models: int) -> Tensor:
    """Scale each member's gradient to norm <= ``max_norm`` independently; returns the norms
    before clipping (M,).  Every parameter has the member axis first, so member m's slice
    ``p.grad[m]`` is scaled by its own factor only."""
    params = [p for p in params if p.grad is not None]
    norms = member_grad_norms(params, n_models)
    scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for p in params:
        shape = (n_models,) + (1,) * (p.grad.dim() - 1)
        p.grad.mul_(scale.to(device=p.grad.device, dtype=p.grad.dtype).reshape(shape))
    return norms


def divergence_limit(divergence_loss: float, initial_loss: list[float]) -> Tensor:
    """Per-member loss (M,) above which a member counts as diverged: ``divergence_loss`` times
    its loss at the first step when that was above 1.  An untrained network's loss is where
    training starts, not a divergence: a ReLU network with a supercritical gain (g = 2) starts
    with losses of 1e4-1e7, and training brings them down within a few steps."""
    first = torch.tensor(initial_loss, dtype=torch.float64)
    first = torch.where(torch.isfinite(first), first, torch.ones_like(first))
    return divergence_loss * first.clamp_min(1.0)
