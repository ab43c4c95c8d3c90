"""Node alignment of two latent circuits: the permutation and signs of one circuit's nodes
that best match the other's, so their connectivity can be compared entry by entry.

A latent circuit's nodes have no order: two fits of the same mechanism (two networks, two
architectures) may number them differently, and an unstructured fit may flip a node's sign
(its input row, output column and embedding column change sign together).  `align_nodes`
matches node i of ``a`` to node p_i of ``b`` with sign s_i by the Hungarian assignment
(`scipy.optimize.linear_sum_assignment`) on the absolute cosine similarity of the nodes'
input/output loadings (w_in rows, w_out columns), then refines it on the loadings together with
the rows and columns of w_rec under the current matching, until the matching stops changing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from rnnzoo.analysis.latent_circuit import LatentCircuit
from rnnzoo.errors import InvalidParameterError

MAX_REFINEMENTS = 20


@dataclass(frozen=True)
class NodeAlignment:
    """permutation (n,): node p_i of ``b`` matches node i of ``a``; signs (n,) +-1;
    node_similarity (n,): |cosine| of the matched nodes' features (loadings and aligned w_rec
    rows and columns); w_rec_correlation: Pearson correlation of a.w_rec and the aligned
    b.w_rec over all n^2 entries; w_rec_correlation_unaligned: the same before aligning."""

    permutation: np.ndarray
    signs: np.ndarray
    node_similarity: np.ndarray
    w_rec_correlation: float
    w_rec_correlation_unaligned: float

    def apply(self, circuit: LatentCircuit) -> LatentCircuit:
        """``circuit`` (the ``b`` of `align_nodes`) with its nodes reordered and re-signed."""
        p, s = self.permutation, self.signs
        return dataclasses.replace(
            circuit,
            w_rec=s[:, None] * circuit.w_rec[np.ix_(p, p)] * s[None, :],
            w_in=s[:, None] * circuit.w_in[p],
            w_out=circuit.w_out[:, p] * s[None, :],
            q=circuit.q[:, p] * s[None, :],
        )


def _cosine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, n) cosine similarity of the rows of x and y (0 for a zero row)."""
    nx = np.linalg.norm(x, axis=1, keepdims=True)
    ny = np.linalg.norm(y, axis=1, keepdims=True)
    return (x / np.where(nx > 0, nx, 1)) @ (y / np.where(ny > 0, ny, 1)).T


def _loadings(c: LatentCircuit) -> np.ndarray:
    return np.concatenate([c.w_in, c.w_out.T], axis=1)


def _features(c: LatentCircuit, order: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Per node: loadings, its w_rec row and column with the other nodes in ``order`` (the
    partner's numbering) and re-signed by ``signs``."""
    w = c.w_rec[:, order] * signs[None, :]
    v = c.w_rec[order, :].T * signs[None, :]
    return np.concatenate([_loadings(c), w, v], axis=1)


def _assign(similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = linear_sum_assignment(-np.abs(similarity))
    perm = cols[np.argsort(rows)]
    signs = np.sign(similarity[np.arange(len(perm)), perm])
    return perm, np.where(signs == 0, 1.0, signs)


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x.ravel() - x.mean(), y.ravel() - y.mean()
    norm = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / norm) if norm > 0 else float("nan")


def align_nodes(a: LatentCircuit, b: LatentCircuit) -> NodeAlignment:
    """Match the nodes of ``b`` to those of ``a`` (same numbers of nodes, inputs and outputs):
    see the module docstring.  ``alignment.apply(b)`` is ``b`` in ``a``'s numbering."""
    if a.w_rec.shape != b.w_rec.shape or a.w_in.shape != b.w_in.shape:
        raise InvalidParameterError(
            "circuits to align need the same nodes and inputs: w_rec "
            f"{a.w_rec.shape} vs {b.w_rec.shape}, w_in {a.w_in.shape} vs {b.w_in.shape}"
        )
    if a.w_out.shape != b.w_out.shape:
        raise InvalidParameterError(
            f"circuits to align need the same outputs: w_out {a.w_out.shape} vs {b.w_out.shape}"
        )
    n = a.n_nodes
    perm, signs = _assign(_cosine(_loadings(a), _loadings(b)))
    identity = np.arange(n)
    for _ in range(MAX_REFINEMENTS):
        # b's w_rec with its other nodes in a's numbering (b's node p_k is a's node k)
        similarity = _cosine(_features(a, identity, np.ones(n)), _features(b, perm, signs))
        new_perm, new_signs = _assign(similarity)
        if np.array_equal(new_perm, perm) and np.array_equal(new_signs, signs):
            break
        perm, signs = new_perm, new_signs
    result = NodeAlignment(
        permutation=perm,
        signs=signs,
        node_similarity=np.abs(similarity[identity, perm]),
        w_rec_correlation=float("nan"),
        w_rec_correlation_unaligned=_correlation(a.w_rec, b.w_rec),
    )
    aligned = result.apply(b)
    return dataclasses.replace(result, w_rec_correlation=_correlation(a.w_rec, aligned.w_rec))
