"""The convolutional analysis toolkit (seed 004 section 4, appendix B.1-B.2) for CordsNets.

- The recurrent operator of an area, v -> Rec_l(v) on vectors of n = C H W units, as a scipy
  `LinearOperator` that applies the convolution (never forming the n x n matrix); its
  transpose applies the transposed convolution.
- Its eigenvalues by ARPACK's implicitly restarted Arnoldi (`scipy.sparse.linalg.eigs`): the k
  of largest real part or modulus, each eigenpair with its relative residual
  |A v - lambda v| / (|lambda| |v|) computed afresh with the operator (the authors' fixed
  300-step Arnoldi reported none).
- The dense matrix, built by the index rule of appendix B.1 (`rnnzoo.models.cordsnet.dense`)
  or by probing the operator with unit vectors (n applications, O(n^2) memory: small sizes).
- The linearised dynamics of the whole network at a state, matrix-free (a Jacobian-vector
  product of one Euler step per application).
- Dynamical regimes of random tanh CordsNets by gain (stable, oscillatory, chaotic), from the
  participation ratio, the autocorrelation and the largest Lyapunov exponent of the analysis
  layer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigs

from rnnzoo.analysis.network import single_network
from rnnzoo.analysis.state_space import autocorrelation, lyapunov_exponent, participation_ratio
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.models.cordsnet.dense import conv_to_matrix
from rnnzoo.models.cordsnet.layers import conv_same


def _cordsnet(net: Network, member: int | None) -> Network:
    if net.kind != "cordsnet":
        raise InvalidParameterError(f"the convolutional toolkit needs a cordsnet; got {net.kind}")
    return single_network(net, member)


def conv_operator(net: Network, area: int = 0, member: int | None = None) -> LinearOperator:
    """Area ``area``'s recurrent convolution as a float64 operator on (C H W,) vectors
    (channel-major flattening, as the network's states)."""
    net = _cordsnet(net, member)
    weight = net.area_weights(area)["recurrent"].double()
    shape = net.arch.areas[area]
    dims = (1, shape.channels, shape.size, shape.size)
    n = shape.units
    flipped = weight.transpose(0, 1).flip(-1, -2)  # the transposed "same" conv (odd kernels)
    even = weight.shape[-1] % 2 == 0

    def matvec(v: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(dims))
        with torch.no_grad():
            return conv_same(x, weight, 1, 1).reshape(-1).numpy()

    def rmatvec(v: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(dims))
        if even:  # asymmetric padding: the transpose through autograd
            x0 = torch.zeros(dims, dtype=torch.float64, requires_grad=True)
            (grad,) = torch.autograd.grad(conv_same(x0, weight, 1, 1), x0, x)
            return grad.reshape(-1).numpy()
        with torch.no_grad():
            return conv_same(x, flipped, 1, 1).reshape(-1).numpy()

    return LinearOperator((n, n), matvec=matvec, rmatvec=rmatvec, dtype=np.float64)


def probe_dense(operator: LinearOperator) -> np.ndarray:
    """The dense matrix of ``operator`` by applying it to each unit vector (column j = A e_j)."""
    n = operator.shape[1]
    if n > 20_000:
        raise InvalidParameterError(f"probing builds an n x n matrix: n = {n} is too large")
    eye = np.zeros(n)
    columns = []
    for j in range(n):
        eye[j] = 1.0
        columns.append(operator.matvec(eye))
        eye[j] = 0.0
    return np.stack(columns, axis=1)


def conv_matrix(net: Network, area: int = 0, member: int | None = None) -> np.ndarray:
    """Area ``area``'s recurrent matrix by appendix B.1's index rule (float64, n x n)."""
    net = _cordsnet(net, member)
    weight = net.area_weights(area)["recurrent"].double()
    return conv_to_matrix(weight, net.arch.areas[area].size).numpy()


@dataclass(frozen=True)
class Eigenpairs:
    """Extremal eigenvalues (k,) complex, sorted by the criterion, their relative residuals
    (k,), and the cost: operator applications and seconds."""

    eigenvalues: np.ndarray
    residuals: np.ndarray
    which: str
    n: int
    applications: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {
            "which": self.which,
            "n": self.n,
            "eigenvalues": [[float(v.real), float(v.imag)] for v in self.eigenvalues],
            "max_residual": float(self.residuals.max()) if len(self.residuals) else 0.0,
            "spectral_abscissa": float(self.eigenvalues.real.max()),
            "largest_modulus": float(np.abs(self.eigenvalues).max()),
            "applications": self.applications,
            "seconds": self.seconds,
        }


def eigenpairs(
    operator: LinearOperator,
    k: int = 6,
    *,
    which: str = "LR",
    tol: float = 1e-10,
    seed: int = 0,
    ncv: int | None = None,
) -> Eigenpairs:
    """The ``k`` eigenvalues of largest real part ("LR") or modulus ("LM") of a square
    operator by ARPACK, from a seeded start vector, with residuals checked by applying the
    operator to each returned eigenvector."""
    n = operator.shape[0]
    if operator.shape != (n, n):
        raise InvalidParameterError(f"operator must be square; got {operator.shape}")
    if not 1 <= k < n - 1:
        raise InvalidParameterError(
            f"'k' must be in [1, {n - 2}] (ARPACK needs k < n - 1); got {k}"
        )
    if which not in ("LR", "LM"):
        raise InvalidParameterError(f"'which' must be 'LR' or 'LM'; got {which!r}")
    counter = _Counting(operator)
    start = np.random.default_rng(seed).standard_normal(n)
    tick = time.perf_counter()
    values, vectors = eigs(counter, k=k, which=which, tol=tol, v0=start, ncv=ncv)
    seconds = time.perf_counter() - tick
    key = -values.real if which == "LR" else -np.abs(values)
    order = np.argsort(key, kind="stable")
    values, vectors = values[order], vectors[:, order]
    residuals = np.array([_residual(operator, values[i], vectors[:, i]) for i in range(k)])
    return Eigenpairs(values, residuals, which, n, counter.calls, seconds)


def _residual(operator: LinearOperator, value: complex, vector: np.ndarray) -> float:
    applied = operator.matvec(vector.real) + 1j * operator.matvec(vector.imag)
    scale = max(abs(value), 1e-300) * np.linalg.norm(vector)
    return float(np.linalg.norm(applied - value * vector) / scale)


class _Counting(LinearOperator):
    """``operator`` counting its applications."""

    def __init__(self, operator: LinearOperator) -> None:
        super().__init__(operator.dtype, operator.shape)
        self.operator, self.calls = operator, 0

    def _matvec(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.operator.matvec(x)


def linearised_operator(
    net: Network, state: np.ndarray, inputs: np.ndarray | None = None, member: int | None = None
) -> LinearOperator:
    """The Jacobian of one noise-free Euler step F at ``state`` (S,) and constant ``inputs``
    (I,), v -> J_F v, by automatic differentiation (never formed).  Continuous-time
    eigenvalues are (lambda - 1) / dt of its eigenvalues lambda."""
    from rnnzoo.analysis.network import as_float64

    net = as_float64(single_network(net, member))
    x = torch.as_tensor(np.asarray(state, dtype=np.float64)).reshape(1, 1, -1)
    u = torch.zeros(1, 1, net.config.n_inputs, dtype=torch.float64)
    if inputs is not None:
        u = torch.as_tensor(np.asarray(inputs, dtype=np.float64)).reshape(1, 1, -1)
    n = x.shape[-1]

    def matvec(v: np.ndarray) -> np.ndarray:
        tangent = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)).reshape(1, 1, n)
        _, out = torch.autograd.functional.jvp(lambda s: net.step(s, u), x, tangent)
        return out.reshape(-1).detach().numpy()

    return LinearOperator((n, n), matvec=matvec, dtype=np.float64)


@dataclass(frozen=True)
class Regime:
    """The dynamics of one autonomous network: "stable" (activity settles), "oscillatory"
    (keeps moving, Lyapunov exponent <= threshold), "chaotic" (exponent > threshold)."""

    gain: float
    regime: str
    lyapunov_exponent_per_s: float
    participation_ratio: float
    autocorrelation: np.ndarray
    final_speed: float

    def summary(self) -> dict[str, Any]:
        return {
            "gain": self.gain,
            "regime": self.regime,
            "lyapunov_exponent_per_s": self.lyapunov_exponent_per_s,
            "participation_ratio": self.participation_ratio,
            "autocorrelation": self.autocorrelation.tolist(),
            "final_speed": self.final_speed,
        }


def dynamical_regime(
    net: Network,
    *,
    steps: int = 2000,
    max_lag: int = 200,
    seed: int = 0,
    speed_tol: float = 1e-6,
    chaos_threshold_per_s: float = 0.5,
) -> Regime:
    """Classify the autonomous (zero-input) dynamics of a standalone network started from a
    seeded N(0, 1) state: stable when the mean |r_{t+1} - r_t| of the last step is below
    ``speed_tol``; else chaotic when the largest Lyapunov exponent exceeds
    ``chaos_threshold_per_s`` (1/s), oscillatory otherwise.  Participation ratio and
    autocorrelation over the second half of the run (appendix B.2)."""
    from rnnzoo.analysis.network import as_float64

    net = as_float64(single_network(net))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, net.state_size, generator=gen, dtype=torch.float64)
    u = torch.zeros(1, 1, net.config.n_inputs, dtype=torch.float64)
    trajectory = []
    with torch.no_grad():
        for _ in range(steps):
            new = net.step(x, u)
            trajectory.append(new[0, 0].numpy())
            speed = float((new - x).abs().mean())
            x = new
    rates = np.asarray(trajectory)[steps // 2 :, None, :]
    exponent = lyapunov_exponent(net, trajectory[-1], seed=seed, n_steps=1000, transient_steps=200)
    moving = speed > speed_tol
    if not moving:
        regime, ratio, corr = "stable", 1.0, np.ones(max_lag + 1)
    else:
        regime = "chaotic" if exponent > chaos_threshold_per_s else "oscillatory"
        ratio = participation_ratio(rates)
        corr = autocorrelation(rates, min(max_lag, rates.shape[0] - 1))
    gain = net.options.gain
    return Regime(
        float(gain if not isinstance(gain, list) else gain[0]), regime, exponent, ratio, corr, speed
    )
