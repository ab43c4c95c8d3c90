"""Weight analysis: the recurrent connectivity, its eigenvalue spectrum and singular values,
and matrix-free extremal eigenvalues (ARPACK's implicitly restarted Arnoldi through
`scipy.sparse.linalg.eigs`) on a `LinearOperator` that never forms a low-rank W = m n^T / N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigs

from rnnzoo.analysis.network import is_continuous, single_network
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network

# The square hidden-to-hidden block of each gate, in the order of ``w_rec``'s G*N axis.
_GATES = {"gru": ("r", "z", "n"), "lstm": ("i", "f", "g", "o")}
# The block whose spectrum describes the dynamics: the candidate (GRU) or cell input (LSTM).
_MAIN_GATE = {"gru": "W_hn", "lstm": "W_hg"}


def recurrent_blocks(net: Network, member: int | None = None) -> dict[str, np.ndarray]:
    """The recurrent weights as named square (N, N) float64 matrices: {"W": W} for leaky and
    vanilla networks (effective W: Dale signs, masks, m n^T / N), one per gate for GRU/LSTM
    ("W_hr", "W_hz", "W_hn" or "W_hi", "W_hf", "W_hg", "W_ho")."""
    net = single_network(net, member)
    if hasattr(net, "recurrent_matrix"):
        return {"W": net.recurrent_matrix()[0].detach().double().numpy()}
    w = net.w_rec[0].detach().double().numpy()
    gates = _GATES.get(net.kind)
    if gates is None:
        return {"W": w}
    return {f"W_h{g}": block for g, block in zip(gates, np.split(w, len(gates)), strict=True)}


def main_block(net: Network, member: int | None = None) -> tuple[str, np.ndarray]:
    """(name, matrix) of the block whose spectrum the summary reports."""
    blocks = recurrent_blocks(net, member)
    name = _MAIN_GATE.get(net.kind, "W")
    return name, blocks[name]


def recurrent_operator(net: Network, member: int | None = None) -> LinearOperator:
    """W as a matrix-free operator v -> W v (float64): a low-rank W applies m (n^T v) / N in
    O(N R) and is never formed; other networks apply their effective (main) matrix."""
    net = single_network(net, member)
    if getattr(net.options, "rank", None) is not None:
        m, n = (t[0].detach().double().numpy() for t in net.recurrent_weights())
        size = m.shape[0]

        def matvec(v: np.ndarray) -> np.ndarray:
            return m @ (n.T @ v) / size

        def rmatvec(v: np.ndarray) -> np.ndarray:
            return n @ (m.T @ v) / size

        return LinearOperator((size, size), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)
    w = main_block(net)[1]
    return LinearOperator(w.shape, matvec=lambda v: w @ v, rmatvec=lambda v: w.T @ v, dtype=w.dtype)


def top_eigenvalues(
    operator: LinearOperator | np.ndarray,
    k: int = 6,
    *,
    which: str = "LM",
    tol: float = 1e-10,
    seed: int = 0,
) -> np.ndarray:
    """The ``k`` extremal eigenvalues (complex, sorted by decreasing modulus or real part) of a
    square operator, by ARPACK (`scipy.sparse.linalg.eigs`) from a seeded start vector.
    ``which``: "LM" largest modulus, "LR" largest real part.  ARPACK needs k < N - 1; larger k
    falls back to a dense eig of the operator applied to the identity."""
    size = operator.shape[0]
    if operator.shape != (size, size):
        raise InvalidParameterError(f"operator must be square; got shape {operator.shape}")
    if not 1 <= k <= size:
        raise InvalidParameterError(f"'k' must be in [1, {size}]; got {k}")
    if which not in ("LM", "LR"):
        raise InvalidParameterError(f"'which' must be 'LM' or 'LR'; got {which!r}")
    if k < size - 1:
        start = np.random.default_rng(seed).standard_normal(size)
        values = eigs(operator, k=k, which=which, tol=tol, v0=start, return_eigenvectors=False)
    else:
        dense = operator @ np.eye(size) if isinstance(operator, LinearOperator) else operator
        values = np.linalg.eigvals(dense)
    key = -np.abs(values) if which == "LM" else -values.real
    return values[np.argsort(key, kind="stable")][:k]


@dataclass(frozen=True)
class WeightSpectrum:
    """Eigenvalues (N,) complex and singular values (N,) of a recurrent matrix, with the
    stability reference: the line Re = 1 for leaky networks (the linearisation at rest of
    tau dx/dt = -x + W f(x) with f' = 1), the unit circle for discrete ones."""

    name: str
    eigenvalues: np.ndarray
    singular_values: np.ndarray
    continuous: bool

    @property
    def spectral_radius(self) -> float:
        return float(np.abs(self.eigenvalues).max())

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable numbers."""
        return {
            "matrix": self.name,
            "spectral_radius": self.spectral_radius,
            "max_real_eigenvalue": float(self.eigenvalues.real.max()),
            "largest_singular_value": float(self.singular_values[0]),
            "stability_reference": "Re = 1" if self.continuous else "unit circle",
        }


def weight_spectrum(net: Network, member: int | None = None) -> WeightSpectrum:
    """Dense eigenvalues and singular values of the main recurrent matrix (small and medium
    N; use `top_eigenvalues(recurrent_operator(net))` for large or low-rank networks)."""
    net = single_network(net, member)
    name, w = main_block(net)
    values = np.linalg.eigvals(w)
    values = values[np.argsort(-np.abs(values), kind="stable")]
    return WeightSpectrum(name, values, np.linalg.svd(w, compute_uv=False), is_continuous(net))
