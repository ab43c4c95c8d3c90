"""Closed-form fits for large networks: ridge regression in dual form over chunks of neurons
(never an N x N or S x N matrix in memory), and a small Gaussian mixture (EM) for per-neuron
loadings."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnzoo.errors import InvalidParameterError

CHUNK_ELEMENTS = 1 << 23  # elements of one (S, neurons) feature chunk (64 MiB in float64)

Features = Callable[[slice], np.ndarray]  # neurons -> features (S, n_chunk)


def dual_ridge(
    features: Features, n_features: int, targets: np.ndarray, ridge: float
) -> np.ndarray:
    """E (K, N) minimising |Y - Phi E^T|^2 + lam |E|^2 for features Phi (S, N) given chunk by
    chunk (``features(slice)`` -> (S, n_chunk)) and targets Y (S, K), in dual form:
    E = Y^T (Phi Phi^T + lam I)^-1 Phi, with lam = ``ridge`` * trace(Phi Phi^T) / S.
    Two passes over the chunks; memory O(S^2 + S * chunk)."""
    samples = targets.shape[0]
    if ridge <= 0:
        raise InvalidParameterError(f"'ridge' must be > 0; got {ridge}")
    chunk = max(1, CHUNK_ELEMENTS // samples)
    parts = [slice(s, min(s + chunk, n_features)) for s in range(0, n_features, chunk)]
    gram = np.zeros((samples, samples))
    for part in parts:
        phi = features(part)
        gram += phi @ phi.T
    lam = ridge * np.trace(gram) / samples
    gram[np.diag_indices(samples)] += lam
    dual = np.linalg.solve(gram, targets)  # (S, K)
    encoding = np.zeros((targets.shape[1], n_features))
    for part in parts:
        encoding[:, part] = dual.T @ features(part)
    return encoding


def fit_gaussian_mixture(
    x: np.ndarray, n_components: int, rng: np.random.Generator, n_init: int = 5, iters: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights (C,), means (C, D) and covariances (C, D, D) of a full-covariance Gaussian
    mixture fitted to x (S, D) by EM (``n_init`` seeded k-means++-style starts, the best
    likelihood kept; covariances regularised by 1e-6 of the mean variance)."""
    samples, dims = x.shape
    if not 1 <= n_components <= samples:
        raise InvalidParameterError(
            f"'components' must be in [1, {samples}] (the teacher's neurons); got {n_components}"
        )
    reg = 1e-6 * float(x.var(axis=0).mean() or 1.0)
    best, best_ll = None, -np.inf
    for _ in range(n_init):
        means = x[_plus_plus(x, n_components, rng)]
        weights = np.full(n_components, 1 / n_components)
        covs = np.repeat(
            (np.cov(x.T, bias=True).reshape(dims, dims) + reg * np.eye(dims))[None],
            n_components,
            axis=0,
        )
        previous = -np.inf
        for _ in range(iters):
            log_p = _log_density(x, means, covs) + np.log(weights)
            peak = log_p.max(axis=1, keepdims=True)
            ll = float((peak[:, 0] + np.log(np.exp(log_p - peak).sum(axis=1))).sum())
            resp = np.exp(log_p - peak)
            resp /= resp.sum(axis=1, keepdims=True)
            counts = resp.sum(axis=0) + 1e-12
            weights = counts / samples
            means = resp.T @ x / counts[:, None]
            for c in range(n_components):
                d = x - means[c]
                covs[c] = (resp[:, c, None] * d).T @ d / counts[c] + reg * np.eye(dims)
            if ll - previous < 1e-8 * abs(ll):
                break
            previous = ll
        if ll > best_ll:
            best, best_ll = (weights, means, covs.copy()), ll
    return best


def sample_gaussian_mixture(
    weights: np.ndarray, means: np.ndarray, covs: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` samples (size, D) of the mixture; component counts are multinomial."""
    counts = rng.multinomial(size, weights)
    out = []
    for c, count in enumerate(counts):
        root = np.linalg.cholesky(covs[c])
        out.append(means[c] + rng.standard_normal((count, means.shape[1])) @ root.T)
    samples = np.concatenate(out)
    return samples[rng.permutation(size)]


def _plus_plus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    picks = [int(rng.integers(len(x)))]
    for _ in range(1, k):
        dist = np.min(((x[:, None] - x[picks][None]) ** 2).sum(-1), axis=1)
        total = dist.sum()
        probs = dist / total if total > 0 else np.full(len(x), 1 / len(x))
        picks.append(int(rng.choice(len(x), p=probs)))
    return np.array(picks)


def _log_density(x: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """log N(x_s | mean_c, cov_c) (S, C)."""
    dims = x.shape[1]
    out = np.empty((len(x), len(means)))
    for c in range(len(means)):
        root = np.linalg.cholesky(covs[c])
        solved = np.linalg.solve(root, (x - means[c]).T)
        log_det = 2 * np.log(np.diag(root)).sum()
        out[:, c] = -0.5 * ((solved**2).sum(0) + log_det + dims * np.log(2 * np.pi))
    return out
