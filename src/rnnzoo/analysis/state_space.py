"""State space: PCA of trajectories, participation ratio, activity autocorrelation and the
largest Lyapunov exponent.

Trajectories are time-major arrays (T, B, N) (steps, trials, neurons), as `simulate` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnzoo.analysis.network import as_float64, single_network, step_map
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.models.base import seeded_generator

_EPSILON = 1e-7  # size of the tangent perturbation (relative to O(1) states, float64)


def _samples(activity: np.ndarray) -> np.ndarray:
    """(T, B, N) or (K, N) -> (K, N) float64 samples."""
    x = np.asarray(activity, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] < 1 or x.size == 0:
        raise InvalidParameterError(f"activity must have shape (T, B, N) or (K, N); got {x.shape}")
    return x.reshape(-1, x.shape[-1])


@dataclass(frozen=True)
class PCA:
    """Principal axes of activity: mean (N,), components (k, N) unit rows (sign fixed so the
    largest-magnitude loading is positive), explained_variance_ratio (k,) of the total."""

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, activity: np.ndarray) -> np.ndarray:
        """Project (..., N) activity (or fixed points) onto the components -> (..., k)."""
        return (np.asarray(activity, dtype=np.float64) - self.mean) @ self.components.T


def pca(activity: np.ndarray, n_components: int = 3) -> PCA:
    """PCA of activity (T, B, N) or (K, N) (eigendecomposition of the N x N scatter matrix),
    keeping ``n_components``."""
    x = _samples(activity)
    if not 1 <= n_components <= x.shape[1]:
        raise InvalidParameterError(
            f"'n_components' must be in [1, {x.shape[1]}]; got {n_components}"
        )
    mean = x.mean(axis=0)
    variance, vectors = _covariance_eigh(x - mean)
    vt = vectors[:, :n_components].T
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]
    ratio = variance[:n_components] / max(variance.sum(), 1e-300)
    return PCA(mean, vt, ratio)


def _covariance_eigh(centred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending, >= 0) and eigenvectors (N, N) of the scatter matrix of
    centred samples (K, N): an N x N problem, cheap for K >> N."""
    values, vectors = np.linalg.eigh(centred.T @ centred)
    return np.maximum(values[::-1], 0.0), vectors[:, ::-1]


def participation_ratio(activity: np.ndarray) -> float:
    """(sum lambda)^2 / sum lambda^2 over the eigenvalues lambda of the covariance of activity
    (T, B, N): 1 when one direction carries all variance, N when all carry the same."""
    x = _samples(activity)
    variance = _covariance_eigh(x - x.mean(axis=0))[0]
    total = (variance**2).sum()
    if total == 0:
        raise InvalidParameterError("participation ratio of activity with zero variance")
    return float(variance.sum() ** 2 / total)


def autocorrelation(activity: np.ndarray, max_lag: int) -> np.ndarray:
    """Population autocorrelation C(lag) for lag = 0..max_lag steps of activity (T, B, N):
    each neuron's trial-wise deviation from its time average, correlated over time, summed over
    neurons and trials, normalised so C(0) = 1.  Returns (max_lag + 1,)."""
    x = np.asarray(activity, dtype=np.float64)
    if x.ndim != 3:
        raise InvalidParameterError(f"activity must have shape (T, B, N); got {x.shape}")
    if not 0 <= max_lag < x.shape[0]:
        raise InvalidParameterError(f"'max_lag' must be in [0, {x.shape[0] - 1}]; got {max_lag}")
    x = x - x.mean(axis=0)
    steps = x.shape[0]
    c = np.array([(x[: steps - lag] * x[lag:]).sum() / (steps - lag) for lag in range(max_lag + 1)])
    if c[0] == 0:
        raise InvalidParameterError("autocorrelation of activity that does not vary in time")
    return c / c[0]


def autocorrelation_time(correlation: np.ndarray, dt_ms: float) -> float:
    """The first lag (ms) at which ``correlation`` falls below 1/e (linear interpolation);
    inf when it never does."""
    below = np.nonzero(correlation < np.exp(-1))[0]
    if len(below) == 0:
        return float("inf")
    i = int(below[0])
    c0, c1 = correlation[i - 1], correlation[i]
    return float((i - 1 + (c0 - np.exp(-1)) / (c0 - c1)) * dt_ms)


def lyapunov_exponent(
    net: Network,
    initial_state: np.ndarray | None = None,
    inputs: np.ndarray | None = None,
    *,
    n_steps: int = 2000,
    transient_steps: int = 500,
    seed: int = 0,
    member: int | None = None,
) -> float:
    """Largest Lyapunov exponent (1/s) of the noise-free dynamics at constant ``inputs`` (I,)
    (zeros when None), by Benettin's method: a unit perturbation of size 1e-7 (float64; a
    finite-difference Jacobian-vector product) is pushed through each step and renormalised;
    the exponent is the mean log growth per step over ``n_steps`` (after ``transient_steps`` for
    the state and again for the perturbation's direction), divided by dt.  Positive means
    chaotic; negative means trajectories converge.  ``initial_state`` (S,) defaults to a seeded
    N(0, 1) draw."""
    if n_steps < 1 or transient_steps < 0:
        raise InvalidParameterError(
            f"'n_steps' must be >= 1 and 'transient_steps' >= 0; got {n_steps}, {transient_steps}"
        )
    net = as_float64(single_network(net, member))
    size = net.state_size
    gen = seeded_generator(seed, 7)
    if initial_state is None:
        x = torch.randn(1, size, generator=gen, dtype=torch.float64)
    else:
        x = torch.as_tensor(np.asarray(initial_state, dtype=np.float64)).reshape(1, size)
    u = torch.zeros(net.config.n_inputs, dtype=torch.float64)
    if inputs is not None:
        u = torch.as_tensor(np.asarray(inputs, dtype=np.float64)).reshape(-1)
    step = step_map(net, u)
    tangent = torch.randn(1, size, generator=gen, dtype=torch.float64)
    tangent /= tangent.norm()
    total = 0.0
    with torch.no_grad():
        for _ in range(transient_steps):
            x = step(x)
        for k in range(transient_steps + n_steps):
            pair = step(torch.cat([x, x + _EPSILON * tangent]))
            x, tangent = pair[:1], (pair[1:] - pair[:1]) / _EPSILON
            norm = float(tangent.norm())
            if norm == 0:
                return float("-inf")
            tangent /= norm
            if k >= transient_steps:
                total += np.log(norm)
    return float(total / n_steps / (net.config.dt_ms / 1000.0))
