"""Similarity between networks: CCA, Procrustes shape distance (with cross-validation), a
DSA-style dynamical similarity, and a distance matrix over many networks.

Representations are matched samples: activity (K, N) or (T, B, N) (time x trials flattened to
K rows; the same conditions and times in every network); networks may differ in N.
- `shape_distance` is the angular shape metric of Williams et al. 2021: centre, partially
  whiten with alpha (alpha = 1: rotations only, i.e. Procrustes; alpha = 0: any invertible
  linear map, i.e. CCA), rotate optimally, then arccos of the normalised inner product.  It is
  invariant to translation, isotropic scaling and rotation (and reflection) for every alpha.
- `dsa_distance` (after Ostrow et al. 2023): delay-embed, keep the top-r temporal SVD
  coordinates, fit a linear (DMD) operator A per system by least squares, and compare
  A_x and A_y up to an orthogonal change of coordinates, min_C |A_x - C A_y C^T| (angular).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.linalg import expm

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.base import seeded_generator


def _matrix(activity: np.ndarray, name: str = "activity") -> np.ndarray:
    x = np.asarray(activity, dtype=np.float64)
    if x.ndim < 2 or x.size == 0:
        raise InvalidParameterError(f"'{name}' must have shape (K, N) or (T, B, N); got {x.shape}")
    return x.reshape(-1, x.shape[-1])


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = _matrix(x, "x"), _matrix(y, "y")
    if len(x) != len(y):
        raise InvalidParameterError(
            f"x and y must have the same number of samples (matched conditions and times); "
            f"got {len(x)} and {len(y)}"
        )
    return x, y


def canonical_correlations(
    x: np.ndarray, y: np.ndarray, n_components: int | None = None
) -> np.ndarray:
    """Canonical correlations (descending, in [0, 1]) of x (K, N_x) and y (K, N_y), each first
    reduced to its top ``n_components`` principal components (all when None): the singular
    values of Q_x^T Q_y for orthonormal bases Q of the centred data (Raghu et al. 2017)."""
    x, y = _pair(x, y)
    bases = [_principal_basis(a, n_components) for a in (x, y)]
    return np.clip(np.linalg.svd(bases[0].T @ bases[1], compute_uv=False), 0.0, 1.0)


def _principal_basis(a: np.ndarray, k: int | None) -> np.ndarray:
    """Orthonormal basis (K, k) of the top-k principal directions in sample space."""
    u, s, _ = np.linalg.svd(a - a.mean(axis=0), full_matrices=False)
    rank = int((s > s[0] * 1e-10).sum()) if s[0] > 0 else 0
    if k is not None:
        if k < 1:
            raise InvalidParameterError(f"'n_components' must be >= 1; got {k}")
        rank = min(rank, k)
    return u[:, :rank]


def cca_similarity(x: np.ndarray, y: np.ndarray, n_components: int | None = None) -> float:
    """Mean canonical correlation (SVCCA): 1 for representations equal up to an invertible
    linear map."""
    return float(canonical_correlations(x, y, n_components).mean())


@dataclass(frozen=True)
class ShapeMetric:
    """Angular shape distance with partial whitening ``alpha`` in [0, 1] (Williams et al.
    2021).  `fit(x, y)` learns the centring, whitening and rotation on training samples;
    `score(x, y)` applies them to (held-out) samples; `fit_score` does both on the same data."""

    alpha: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.alpha <= 1:
            raise InvalidParameterError(f"'alpha' must be in [0, 1]; got {self.alpha}")

    def fit(self, x: np.ndarray, y: np.ndarray) -> _FittedShape:
        x, y = _pair(x, y)
        mx, my = x.mean(axis=0), y.mean(axis=0)
        wx, wy = self._whitening(x - mx), self._whitening(y - my)
        xt, yt = _pad((x - mx) @ wx, (y - my) @ wy)
        u, _, vt = np.linalg.svd(xt.T @ yt)
        return _FittedShape(mx, my, wx, wy, u, vt.T)

    def score(self, fitted: _FittedShape, x: np.ndarray, y: np.ndarray) -> float:
        x, y = _pair(x, y)
        return fitted.distance(x, y)

    def fit_score(self, x: np.ndarray, y: np.ndarray) -> float:
        return self.score(self.fit(x, y), x, y)

    def _whitening(self, a: np.ndarray) -> np.ndarray:
        """Z = V diag(alpha + (1 - alpha) lambda^-1/2) V^T scaled to keep the total variance."""
        if self.alpha == 1:
            return np.eye(a.shape[1])
        lam, v = np.linalg.eigh(a.T @ a / len(a))
        lam = np.maximum(lam, 1e-7 * max(lam.max(), 1e-300))
        z = (v * (self.alpha + (1 - self.alpha) / np.sqrt(lam))) @ v.T
        before, after = np.trace(a.T @ a), np.trace(z.T @ a.T @ a @ z)
        return z * np.sqrt(before / after)


@dataclass(frozen=True)
class _FittedShape:
    mean_x: np.ndarray
    mean_y: np.ndarray
    whiten_x: np.ndarray
    whiten_y: np.ndarray
    rotate_x: np.ndarray
    rotate_y: np.ndarray

    def distance(self, x: np.ndarray, y: np.ndarray) -> float:
        xt, yt = _pad((x - self.mean_x) @ self.whiten_x, (y - self.mean_y) @ self.whiten_y)
        a, b = xt @ self.rotate_x, yt @ self.rotate_y
        norm = np.linalg.norm(a) * np.linalg.norm(b)
        if norm == 0:
            raise InvalidParameterError("shape distance of a representation with zero variance")
        return float(np.arccos(np.clip((a * b).sum() / norm, -1.0, 1.0)))


def _pad(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad the narrower of two (K, N) matrices to the same width."""
    width = max(a.shape[1], b.shape[1])
    return (
        np.pad(a, ((0, 0), (0, width - a.shape[1]))),
        np.pad(b, ((0, 0), (0, width - b.shape[1]))),
    )


def shape_distance(x: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> float:
    """Angular shape distance in [0, pi/2]-ish (0 = same shape) fitted and scored on the same
    samples; ``alpha`` = 1 Procrustes (rotations), 0 CCA-like (invertible linear maps)."""
    return ShapeMetric(alpha).fit_score(x, y)


def cross_validated_shape_distance(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = 1.0,
    *,
    n_folds: int = 5,
    groups: np.ndarray | None = None,
) -> float:
    """Mean held-out shape distance: the samples (rows) are split into ``n_folds`` folds
    (contiguous, or by ``groups`` (K,), e.g. the trial or condition of each row, so no group
    is split); each fold is scored with the alignment fitted on the others."""
    x, y = _pair(x, y)
    labels = np.arange(len(x)) if groups is None else np.asarray(groups).reshape(-1)
    if len(labels) != len(x):
        raise InvalidParameterError(f"'groups' must have {len(x)} entries; got {len(labels)}")
    unique = np.unique(labels)
    if not 2 <= n_folds <= len(unique):
        raise InvalidParameterError(f"'n_folds' must be in [2, {len(unique)}]; got {n_folds}")
    metric = ShapeMetric(alpha)
    scores = []
    for fold in np.array_split(unique, n_folds):
        test = np.isin(labels, fold)
        fitted = metric.fit(x[~test], y[~test])
        scores.append(metric.score(fitted, x[test], y[test]))
    return float(np.mean(scores))


@dataclass(frozen=True)
class LinearDynamics:
    """A DMD fit: operator (r, r) on the top-r delay-embedded SVD coordinates."""

    operator: np.ndarray
    explained_variance: float


def fit_dmd(trajectories: np.ndarray, rank: int, n_delays: int = 1, ridge: float = 1e-8):
    """Fit x_{t+1} = A x_t in the top-``rank`` temporal SVD coordinates of the delay embedding
    (``n_delays`` copies) of trajectories (T, B, N), by ridge least squares over all trials.
    The coordinates are whitened (unit-norm SVD vectors), so A is unchanged, up to an
    orthogonal change of coordinates, by any invertible linear map of the neurons."""
    x = np.asarray(trajectories, dtype=np.float64)
    if x.ndim != 3:
        raise InvalidParameterError(f"trajectories must have shape (T, B, N); got {x.shape}")
    steps = x.shape[0] - n_delays + 1
    if n_delays < 1 or steps < 2:
        raise InvalidParameterError(f"'n_delays' must be in [1, {x.shape[0] - 1}]; got {n_delays}")
    embedded = np.concatenate([x[d : d + steps] for d in range(n_delays)], axis=2)
    flat = embedded.reshape(-1, embedded.shape[2])
    u, s, _ = np.linalg.svd(flat - flat.mean(axis=0), full_matrices=False)
    if not 1 <= rank <= len(s):
        raise InvalidParameterError(f"'rank' must be in [1, {len(s)}]; got {rank}")
    coords = u[:, :rank].reshape(steps, x.shape[1], rank) * np.sqrt(len(flat))
    before, after = coords[:-1].reshape(-1, rank), coords[1:].reshape(-1, rank)
    gram = before.T @ before + ridge * np.eye(rank)
    operator = np.linalg.solve(gram, before.T @ after).T
    return LinearDynamics(operator, float((s[:rank] ** 2).sum() / (s**2).sum()))


def _angular(a: np.ndarray, b: np.ndarray) -> float:
    cos = (a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.arccos(np.clip(cos, -1.0, 1.0)))


def vector_field_distance(
    a: np.ndarray, b: np.ndarray, *, n_iters: int = 200, n_restarts: int = 4, seed: int = 0
) -> float:
    """min over orthogonal C of the angle between A and C B C^T (Ostrow et al.'s Procrustes
    over vector fields).  C = expm(S - S^T) (rotations) optimised by L-BFGS from the identity and
    ``n_restarts`` - 1 seeded random starts, each also with B conjugated by a reflection
    (det -1 component); the smallest angle is returned."""
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InvalidParameterError(
            f"operators must be square of one shape; got {a.shape}, {b.shape}"
        )
    size = a.shape[0]
    flip = np.eye(size)
    flip[0, 0] = -1
    gen = seeded_generator(seed, 13)
    best = np.inf
    for b_variant in (b, flip @ b @ flip):
        for restart in range(n_restarts):
            start = (
                0 if restart == 0 else torch.randn(size, size, generator=gen, dtype=torch.float64)
            )
            c = _best_rotation(a, b_variant, start, n_iters)
            best = min(best, _angular(a, c @ b_variant @ c.T))
    return float(best)


def _best_rotation(a: np.ndarray, b: np.ndarray, start: float | torch.Tensor, n_iters: int):
    """The rotation C = expm(S - S^T) minimising |A - C B C^T|^2 (A, B normalised), by L-BFGS
    with a strong-Wolfe line search from S = ``start`` (at most ``n_iters`` iterations)."""
    ta, tb = torch.as_tensor(a), torch.as_tensor(b)
    ta, tb = ta / ta.norm(), tb / tb.norm()
    flat = (torch.zeros_like(ta) + start).reshape(-1).clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS(
        [flat],
        lr=1.0,
        max_iter=n_iters,
        tolerance_grad=1e-12,
        tolerance_change=1e-15,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        s = flat.view(ta.shape)
        c = torch.linalg.matrix_exp(s - s.T)
        loss = ((ta - c @ tb @ c.T) ** 2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    skew = flat.detach().view(ta.shape).numpy()
    return expm(skew - skew.T)


def dsa_distance(
    x: np.ndarray,
    y: np.ndarray,
    *,
    rank: int = 6,
    n_delays: int = 1,
    n_iters: int = 200,
    n_restarts: int = 4,
    seed: int = 0,
) -> float:
    """Dynamical similarity (angle, 0 = same dynamics up to a change of coordinates) of
    trajectories x (T, B, N_x) and y (T', B', N_y): DMD operators of rank ``rank`` from
    ``n_delays``-delay embeddings, compared by `vector_field_distance`.  The whitened SVD
    coordinates make it invariant to any invertible linear map of the same trajectories;
    other trials of the same dynamics give a small, sample-dependent distance."""
    a = fit_dmd(x, rank, n_delays).operator
    b = fit_dmd(y, rank, n_delays).operator
    return vector_field_distance(a, b, n_iters=n_iters, n_restarts=n_restarts, seed=seed)


METRICS: dict[str, Callable[..., float]] = {
    "procrustes": lambda x, y, **kw: shape_distance(x, y, alpha=1.0, **kw),
    "cca": lambda x, y, **kw: shape_distance(x, y, alpha=0.0, **kw),
    "dsa": dsa_distance,
}


def distance_matrix(activities: Sequence[np.ndarray], metric: str = "procrustes", **options):
    """Symmetric (K, K) matrix of pairwise distances between K networks' activities (each
    (T, B, N_k), matched trials) under ``metric`` ("procrustes", "cca" = shape distance with
    alpha 1 or 0, or "dsa"); ``options`` go to the metric."""
    if metric not in METRICS:
        raise InvalidParameterError(f"'metric' must be one of {sorted(METRICS)}; got {metric!r}")
    k = len(activities)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = METRICS[metric](activities[i], activities[j], **options)
    return out
