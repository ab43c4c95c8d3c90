"""Node alignment of latent circuits: a planted permutation and sign flip is recovered
exactly, also from loadings alone and under small noise; shapes that differ are refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnnzoo.analysis.alignment import align_nodes
from rnnzoo.analysis.latent_circuit import LatentCircuit
from rnnzoo.errors import InvalidParameterError


def _circuit(rng, n=6, n_in=3, n_out=2, n_units=20) -> LatentCircuit:
    q, _ = np.linalg.qr(rng.normal(size=(n_units, n)))
    return LatentCircuit(
        w_rec=rng.normal(size=(n, n)),
        w_in=rng.normal(size=(n, n_in)),
        w_out=rng.normal(size=(n_out, n)),
        q=q,
        alpha=0.1,
        embedding_r2=1.0,
        subspace_r2=1.0,
        output_r2=1.0,
        loss=0.0,
        restart_losses=np.zeros(1),
        structured=False,
    )


def _planted(a: LatentCircuit, order: np.ndarray, signs: np.ndarray) -> LatentCircuit:
    """b's node j is a's node order[j] times signs[j]."""
    return dataclasses.replace(
        a,
        w_rec=signs[:, None] * a.w_rec[np.ix_(order, order)] * signs[None, :],
        w_in=signs[:, None] * a.w_in[order],
        w_out=a.w_out[:, order] * signs[None, :],
        q=a.q[:, order] * signs[None, :],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planted_permutation_and_signs_recovered_exactly(seed):
    rng = np.random.default_rng(seed)
    a = _circuit(rng)
    order = rng.permutation(a.n_nodes)
    signs = rng.choice([-1.0, 1.0], size=a.n_nodes)
    b = _planted(a, order, signs)
    result = align_nodes(a, b)
    np.testing.assert_array_equal(result.permutation, np.argsort(order))
    np.testing.assert_array_equal(result.signs, signs[result.permutation])
    aligned = result.apply(b)
    for name in ("w_rec", "w_in", "w_out", "q"):
        np.testing.assert_array_equal(getattr(aligned, name), getattr(a, name))
    assert result.w_rec_correlation == pytest.approx(1.0)
    assert result.w_rec_correlation_unaligned < 0.9
    np.testing.assert_allclose(result.node_similarity, 1.0)


def test_alignment_under_noise_and_from_w_rec_when_loadings_tie():
    rng = np.random.default_rng(5)
    a = _circuit(rng, n=5)
    order, signs = np.array([3, 0, 4, 1, 2]), np.array([1.0, -1, -1, 1, 1])
    noisy = _planted(a, order, signs)
    noisy = dataclasses.replace(noisy, w_rec=noisy.w_rec + 0.05 * rng.normal(size=(5, 5)))
    result = align_nodes(a, noisy)
    np.testing.assert_array_equal(result.permutation, np.argsort(order))
    assert 0.95 < result.w_rec_correlation < 1.0
    # two nodes with identical loadings are told apart by their recurrent connections
    tied = dataclasses.replace(a, w_in=a.w_in.copy(), w_out=a.w_out.copy())
    tied.w_in[1], tied.w_out[:, 1] = tied.w_in[0], tied.w_out[:, 0]
    swap = np.array([1, 0, 2, 3, 4])
    result = align_nodes(tied, _planted(tied, swap, np.ones(5)))
    np.testing.assert_array_equal(result.permutation, swap)


def test_circuits_of_other_shapes_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidParameterError, match="same nodes and inputs"):
        align_nodes(_circuit(rng, n=4), _circuit(rng, n=5))
    with pytest.raises(InvalidParameterError, match="same outputs"):
        align_nodes(_circuit(rng, n_out=2), _circuit(rng, n_out=3))
