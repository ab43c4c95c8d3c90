"""Similarity: invariances of CCA and the Procrustes shape distance, cross-validation against
overfitting, DSA under a change of basis, and the distance matrix."""

import numpy as np
import pytest

from rnnzoo.analysis import (
    canonical_correlations,
    cca_similarity,
    cross_validated_shape_distance,
    distance_matrix,
    dsa_distance,
    shape_distance,
)
from rnnzoo.errors import InvalidParameterError

RNG = np.random.default_rng(0)


def _orthogonal(n, seed):
    return np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))[0]


def _activity(samples=200, neurons=10, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(samples, 4)) @ rng.normal(size=(4, neurons)) + 0.1 * rng.normal(
        size=(samples, neurons)
    )


def test_procrustes_is_invariant_to_rotation_scaling_and_translation():
    x = _activity()
    y = 3.0 * x @ _orthogonal(10, 2) + 7.0
    assert shape_distance(x, x) == pytest.approx(0, abs=1e-6)
    assert shape_distance(x, y) == pytest.approx(0, abs=1e-6)
    # a non-orthogonal linear map changes the shape, unless whitened (alpha = 0, CCA-like)
    stretch = x @ np.diag(np.linspace(0.2, 3.0, 10)) @ _orthogonal(10, 3)
    assert shape_distance(x, stretch, alpha=1.0) > 0.1
    assert shape_distance(x, stretch, alpha=0.0) == pytest.approx(0, abs=1e-6)
    # different neuron counts are zero-padded; symmetric
    wide = x @ np.linalg.qr(RNG.normal(size=(15, 10)))[0].T
    assert shape_distance(x, wide) == pytest.approx(0, abs=1e-6)
    z = _activity(seed=5)
    assert shape_distance(x, z) == pytest.approx(shape_distance(z, x), rel=1e-9)
    assert shape_distance(x, z) > 0.3


def test_cca_finds_linearly_related_representations():
    x = _activity()
    mixed = x @ RNG.normal(size=(10, 10)) - 2.0
    np.testing.assert_allclose(canonical_correlations(x, mixed), 1.0, atol=1e-9)
    unrelated = np.random.default_rng(9).normal(size=(200, 10))
    assert cca_similarity(x, unrelated) < 0.35
    assert len(canonical_correlations(x, mixed, n_components=3)) == 3


def test_cross_validation_exposes_overfitting():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 25)), rng.normal(size=(60, 25))  # unrelated, few samples
    in_sample = shape_distance(x, y, alpha=0.0)
    held_out = cross_validated_shape_distance(x, y, alpha=0.0, n_folds=5)
    assert held_out > in_sample + 0.3  # in sample, whitening overfits to a small distance
    related = x @ _orthogonal(25, 6) + 0.05 * rng.normal(size=(60, 25))
    trials = np.repeat(np.arange(12), 5)  # folds keep each trial's 5 rows together
    assert cross_validated_shape_distance(x, related, groups=trials, n_folds=4) < 0.15
    with pytest.raises(InvalidParameterError, match="n_folds"):
        cross_validated_shape_distance(x, y, n_folds=1)


def _rotations(angles, steps=60, trials=8, seed=0):
    """Latent trajectories (T, B, 2k) of damped rotations at the given angles (rad/step)."""
    rng = np.random.default_rng(seed)
    blocks = [0.97 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) for a in angles]
    a = np.zeros((2 * len(angles),) * 2)
    for i, block in enumerate(blocks):
        a[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = block
    z = [rng.normal(size=(trials, len(a)))]
    for _ in range(steps - 1):
        z.append(z[-1] @ a.T)
    return np.stack(z)


def test_dsa_is_near_zero_for_the_same_dynamics_in_another_basis():
    z = _rotations([0.1, 0.3])
    x = z @ RNG.normal(size=(12, 4)).T  # two different (non-orthogonal) embeddings
    y = z @ RNG.normal(size=(9, 4)).T
    retrial = _rotations([0.1, 0.3], seed=1) @ RNG.normal(size=(12, 4)).T  # other trials
    other = _rotations([0.25, 0.6], seed=2) @ RNG.normal(size=(12, 4)).T
    assert dsa_distance(x, y, rank=4) < 1e-4
    matrix = distance_matrix([x, retrial, other], metric="dsa", rank=4, n_restarts=2)
    np.testing.assert_array_equal(matrix, matrix.T)
    assert np.all(np.diag(matrix) == 0)
    assert matrix[0, 1] < 0.05 and matrix[0, 2] > 0.2 and matrix[1, 2] > 0.2


def test_distance_matrix_metrics_and_errors():
    x = _activity()
    reps = [x, 2 * x @ _orthogonal(10, 7), _activity(seed=8)]
    matrix = distance_matrix(reps, metric="procrustes")
    assert matrix[0, 1] == pytest.approx(0, abs=1e-6) and matrix[0, 2] > 0.3
    with pytest.raises(InvalidParameterError, match="'metric'"):
        distance_matrix(reps, metric="cka")
    with pytest.raises(InvalidParameterError, match="same number of samples"):
        shape_distance(x, x[:-1])
