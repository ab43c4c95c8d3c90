"""Recursive least squares with B samples at a time, one inverse correlation matrix per member.

For regressors R (B, K) and errors before the update E = R W^T - Y (B, O), one step is

    S = I_B + R P R^T,   G = P R^T S^{-1} (= P_new R^T),   P <- P - G R P,   W <- W - E^T G^T

which for B = 1 is Sussillo & Abbott's k = P r, c = 1 / (1 + r^T k), P <- P - c k k^T,
w <- w - c e k.  Starting from P(0) = I / alpha and W(0), after samples (X, Y) whose regressors
do not depend on W the result is the regularised least-squares solution
W^T = (alpha I + X^T X)^{-1} (alpha W(0)^T + X^T Y) (tested against it).  A zero row of R (an
unscored trial) changes nothing.  Memory: M K^2 numbers for P.
"""

from __future__ import annotations

import torch
from torch import Tensor


def initial_inverse_correlation(
    members: int, size: int, alpha: float, dtype: torch.dtype = torch.float64
) -> Tensor:
    """P(0) = I / alpha for each member: (M, K, K)."""
    eye = torch.eye(size, dtype=dtype) / alpha
    return eye.expand(members, size, size).clone()


def rls_gain(p: Tensor, regressors: Tensor) -> Tensor:
    """Update ``p`` (M, K, K) in place with regressors (M, B, K); returns the gain G (M, K, B)
    with which every weight fitted on these regressors moves: W^T <- W^T - G E."""
    pr = torch.bmm(p, regressors.transpose(1, 2))  # (M, K, B)
    s = torch.bmm(regressors, pr)
    s.diagonal(dim1=1, dim2=2).add_(1.0)
    gain = torch.linalg.solve(s, pr.transpose(1, 2)).transpose(1, 2)  # P R^T S^-1 (S symmetric)
    p.sub_(torch.bmm(gain, pr.transpose(1, 2)))
    return gain


def rls_correction(gain: Tensor, errors: Tensor) -> Tensor:
    """The change of a weight matrix (M, O, K) fitted with this gain: -E^T G^T, errors (M, B, O)."""
    return -torch.bmm(errors.transpose(1, 2), gain.transpose(1, 2))
