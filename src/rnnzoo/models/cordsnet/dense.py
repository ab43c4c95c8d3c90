"""A convolution as the matrix it is (seed 004 appendix B.1): the "same"-padded conv of a
(C_in, H, W) map with a (C_out, C_in, k, k) kernel and stride s is the
(C_out H' W') x (C_in H W) matrix K_flat with

    K_flat[(o, y, x), (i, y s + a - p, x s + b - p)] = K[o, i, a, b]

for every tap that lands inside the input (p = (k - 1) // 2 zeros before; flattening is
channel-major, then rows, then columns, as torch's ``reshape``).  The entries are gathered from
the kernel by fixed indices, so the matrix is differentiable in the kernel; the single-area
network of appendix B.3 runs its recurrence as this dense matrix in the fused leaky core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnzoo.models.cordsnet.architecture import conv_size


@dataclass(frozen=True)
class ConvIndex:
    """Where each kernel tap lands: ``rows``/``cols`` (P,) positions in the matrix, ``taps``
    (P,) indices into the flattened kernel, and the matrix shape."""

    rows: np.ndarray
    cols: np.ndarray
    taps: np.ndarray
    shape: tuple[int, int]


def conv_index(c_out: int, c_in: int, size: int, kernel: int, stride: int = 1) -> ConvIndex:
    """The index of a "same"-padded conv on a size x size input (see the module docstring)."""
    out = conv_size(size, kernel, stride)
    low = (kernel - 1) // 2
    o, y, x, i, a, b = np.meshgrid(
        np.arange(c_out),
        np.arange(out),
        np.arange(out),
        np.arange(c_in),
        np.arange(kernel),
        np.arange(kernel),
        indexing="ij",
    )
    iy, ix = y * stride + a - low, x * stride + b - low
    inside = (iy >= 0) & (iy < size) & (ix >= 0) & (ix < size)
    rows = ((o * out + y) * out + x)[inside]
    cols = ((i * size + iy) * size + ix)[inside]
    taps = (((o * c_in + i) * kernel + a) * kernel + b)[inside]
    return ConvIndex(rows, cols, taps, (c_out * out * out, c_in * size * size))


def dense_matrix(weight: Tensor, index: ConvIndex) -> Tensor:
    """K_flat of kernels ``weight`` (M, C_out, C_in, k, k) -> (M, rows, cols), differentiable
    in ``weight``."""
    members = weight.shape[0]
    values = weight.reshape(members, -1)[:, torch.as_tensor(index.taps, device=weight.device)]
    flat = torch.as_tensor(index.rows * index.shape[1] + index.cols, device=weight.device)
    matrix = weight.new_zeros(members, index.shape[0] * index.shape[1])
    matrix = matrix.index_add(1, flat, values)
    return matrix.view(members, *index.shape)


def conv_to_matrix(weight: Tensor, size: int, stride: int = 1) -> Tensor:
    """The dense matrix of one kernel (C_out, C_in, k, k) acting on (C_in, size, size) maps."""
    c_out, c_in, kernel = weight.shape[0], weight.shape[1], weight.shape[-1]
    return dense_matrix(weight.unsqueeze(0), conv_index(c_out, c_in, size, kernel, stride))[0]
