"""Convolutions and linear maps of M ensemble members at once, with optional weight
normalisation (w = g v / |v| per output channel, as ``torch.nn.utils.weight_norm`` with dim 0).

Member m's weights are slice m of a (M, C_out, C_in, k, k) tensor; the M members run as one
grouped convolution on activity laid out (B, M * C, H, W) (member-major channels), so an
ensemble of M networks costs one conv call per layer.  Padding is "same": k - 1 zeros in all,
the extra one after for even kernels (the seed's 4x4 kernels of appendix B.3).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional


class EnsembleConv(nn.Module):
    """M independent 2-D convolutions (no bias) applied as one grouped conv."""

    def __init__(self, init: Tensor, *, stride: int, weight_norm: bool, trainable: bool) -> None:
        super().__init__()
        self.members, self.out_channels, self.in_channels, self.kernel = init.shape[:4]
        self.stride = stride
        self.weight_norm = weight_norm
        if weight_norm:
            self.direction = nn.Parameter(init.clone(), requires_grad=trainable)
            self.magnitude = nn.Parameter(_norms(init), requires_grad=trainable)
        else:
            self.weight = nn.Parameter(init.clone(), requires_grad=trainable)

    def effective(self) -> Tensor:
        """(M, C_out, C_in, k, k) weights actually applied."""
        if not self.weight_norm:
            return self.weight
        norms = _norms(self.direction).clamp_min(1e-12)
        return self.direction * (self.magnitude / norms)[..., None, None, None]

    def assign(self, weight: Tensor) -> None:
        """Set the effective weights to ``weight`` (M, C_out, C_in, k, k) (no gradient)."""
        with torch.no_grad():
            if self.weight_norm:
                self.direction.copy_(weight)
                self.magnitude.copy_(_norms(weight))
            else:
                self.weight.copy_(weight)

    def conv(self, x: Tensor, weight: Tensor) -> Tensor:
        """Convolve x (N, M * C_in, H, W) with effective ``weight`` -> (N, M * C_out, H', W')."""
        return conv_same(x, weight.reshape(-1, *weight.shape[2:]), self.stride, self.members)


def conv_same(x: Tensor, weight: Tensor, stride: int, groups: int) -> Tensor:
    """ "Same"-padded grouped conv of x (N, G * C_in, H, W) with weight (G * C_out, C_in, k, k)."""
    k = weight.shape[-1]
    if k % 2 == 1:
        return functional.conv2d(x, weight, stride=stride, padding=k // 2, groups=groups)
    low, high = (k - 1) // 2, k // 2
    return functional.conv2d(
        functional.pad(x, (low, high, low, high)), weight, stride=stride, groups=groups
    )


class EnsembleLinear(nn.Module):
    """M independent linear maps (M, O, F) with optional weight normalisation per row."""

    def __init__(self, init: Tensor, *, weight_norm: bool, trainable: bool) -> None:
        super().__init__()
        self.weight_norm = weight_norm
        if weight_norm:
            self.direction = nn.Parameter(init.clone(), requires_grad=trainable)
            self.magnitude = nn.Parameter(init.norm(dim=-1), requires_grad=trainable)
        else:
            self.weight = nn.Parameter(init.clone(), requires_grad=trainable)

    def effective(self) -> Tensor:
        if not self.weight_norm:
            return self.weight
        norms = self.direction.norm(dim=-1).clamp_min(1e-12)
        return self.direction * (self.magnitude / norms)[..., None]

    def assign(self, weight: Tensor) -> None:
        with torch.no_grad():
            if self.weight_norm:
                self.direction.copy_(weight)
                self.magnitude.copy_(weight.norm(dim=-1))
            else:
                self.weight.copy_(weight)


def _norms(weight: Tensor) -> Tensor:
    """|v| over (C_in, k, k) per member and output channel -> (M, C_out)."""
    return weight.flatten(2).norm(dim=-1)
