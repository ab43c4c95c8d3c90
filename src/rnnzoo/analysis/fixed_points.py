"""Fixed and slow points of a network under a constant input (Sussillo & Barak 2013; the
algorithm of Golub & Sussillo's fixed-point finder, with Newton polish and continuous-time
stability).

From K initial states (sampled on trajectories), minimise the mean of
q(x) = 1/2 |F(x) - x|^2 jointly with Adam, F the one-step map at input u; optionally polish
with Newton steps on G(x) = F(x) - x; drop points far from the visited region; merge
duplicates (keep the smallest q); then linearise.  Leaky (continuous-time) networks are
classified by the eigenvalues of the ODE Jacobian (J_F - I) / dt (Re < 0 is stable, units
1/s); discrete networks (vanilla, GRU, LSTM) by those of J_F (|lambda| < 1 is stable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
from scipy.spatial import cKDTree

from rnnzoo.analysis.network import as_float64, is_continuous, single_network, step_map
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network

JITTER = 2.0
"""Default start jitter, in units of the visited states' spread: starts sampled on trajectories
alone miss the saddles between attractors (7 of the 19 of the main job's network; Golub &
Sussillo's examples jitter by 0.5, about 2 spreads there, and find all 27 points)."""


@dataclass(frozen=True)
class FixedPoints:
    """Unique fixed (and slow) points of one network at one constant input.

    states (K, S); speed q (K,) = 1/2 |F(x) - x|^2 per step; outputs (K, O) readouts;
    rates (K, N) the activity at each point (what PCA of rates projects);
    unstable_rate_direction (K, N) unit direction of the rates along the first unstable
    eigen-direction (zeros for points without one);
    eigenvalues (K, S) complex, sorted by decreasing real part (continuous, 1/s) or modulus
    (discrete); is_fixed (K,) q <= tol_fixed; stability (K,) "stable" | "saddle" |
    "unstable" | "marginal"; unstable_directions: per point, (S, k) real unit vectors
    spanning the k unstable eigen-directions (k = 0 for stable points).
    """

    inputs: np.ndarray
    states: np.ndarray
    speed: np.ndarray
    outputs: np.ndarray
    rates: np.ndarray
    unstable_rate_direction: np.ndarray
    eigenvalues: np.ndarray
    is_fixed: np.ndarray
    stability: np.ndarray
    unstable_directions: list[np.ndarray] = field(repr=False)
    time: str  # "continuous" | "discrete"

    def __len__(self) -> int:
        return len(self.states)

    @property
    def n_fixed(self) -> int:
        """Points with q <= tol_fixed (the rest are slow points)."""
        return int(self.is_fixed.sum())

    @property
    def n_stable(self) -> int:
        """Stable fixed points (slow points are not counted)."""
        return int(((self.stability == "stable") & self.is_fixed).sum())

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable counts and per-point speed, stability and readout."""
        return {
            "inputs": self.inputs.tolist(),
            "time": self.time,
            "n_fixed_points": self.n_fixed,
            "n_stable": self.n_stable,
            "n_slow_points": int(len(self) - self.n_fixed),
            "points": [
                {
                    "speed": float(self.speed[k]),
                    "fixed": bool(self.is_fixed[k]),
                    "stability": str(self.stability[k]),
                    "n_unstable": int(self.unstable_directions[k].shape[1]),
                    "output": self.outputs[k].tolist(),
                }
                for k in range(len(self))
            ],
        }


def sample_states(
    states: np.ndarray, n_samples: int, seed: int = 0, noise_scale: float | None = 0.0
) -> np.ndarray:
    """``n_samples`` states drawn (without replacement where possible) from trajectories
    ``states`` (T, B, S), plus Gaussian jitter of std ``noise_scale`` (None: `JITTER` times
    the visited states' spread, the mean over coordinates of their std); returns (n, S)."""
    if n_samples < 1:
        raise InvalidParameterError(f"'n_samples' must be >= 1; got {n_samples}")
    flat = np.asarray(states, dtype=np.float64).reshape(-1, states.shape[-1])
    if noise_scale is None:
        noise_scale = JITTER * float(flat.std(axis=0).mean())
    if noise_scale < 0:
        raise InvalidParameterError(f"'noise_scale' must be >= 0 or None; got {noise_scale}")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(flat), n_samples, replace=n_samples > len(flat))
    return flat[picks] + noise_scale * rng.standard_normal((n_samples, flat.shape[1]))


def find_fixed_points(
    net: Network,
    initial_states: np.ndarray,
    inputs: np.ndarray | None = None,
    *,
    member: int | None = None,
    max_iters: int = 300,
    lr: float = 0.05,
    tol_q: float = 1e-12,
    newton_steps: int = 20,
    tol_fixed: float = 1e-10,
    tol_unique: float = 1e-3,
    tol_marginal: float = 1e-4,
    outlier_scale: float = 10.0,
) -> FixedPoints:
    """Fixed and slow points of ``net`` (or its ensemble ``member``) at the constant input
    ``inputs`` (I,) (zeros when None), started from ``initial_states`` (K, S).

    Adam (learning rate ``lr``) minimises mean q for at most ``max_iters`` steps or until every
    q < ``tol_q``; up to ``newton_steps`` damped Newton steps polish each point (0 = none), each
    point stopping once it has converged (`NEWTON_TOL_Q`) or cannot improve.  Points
    with q <= ``tol_fixed`` are fixed points, the others slow points.  Points farther than
    ``outlier_scale`` times the mean initial distance from the initial centroid are dropped;
    points closer than ``tol_unique`` (Euclidean) are merged.  An eigenvalue within
    ``tol_marginal`` of the stability boundary (per step: |Re lambda| dt, or ||lambda| - 1|)
    counts as marginal.
    """
    net = as_float64(single_network(net, member))
    x0 = np.asarray(initial_states, dtype=np.float64)
    if x0.ndim != 2 or x0.shape[1] != net.state_size or len(x0) == 0:
        raise InvalidParameterError(
            f"'initial_states' must have shape (K, {net.state_size}) with K >= 1; got {x0.shape}"
        )
    u = np.zeros(net.config.n_inputs) if inputs is None else np.asarray(inputs, dtype=np.float64)
    if u.shape != (net.config.n_inputs,):
        raise InvalidParameterError(
            f"'inputs' must have shape ({net.config.n_inputs},); got {u.shape}"
        )
    for name, value in (("max_iters", max_iters), ("newton_steps", newton_steps)):
        if value < 0:
            raise InvalidParameterError(f"'{name}' must be >= 0; got {value}")
    step = step_map(net, torch.from_numpy(u))
    x, speed = solve_fixed_points(
        step,
        x0,
        max_iters=max_iters,
        lr=lr,
        tol_q=tol_q,
        newton_steps=newton_steps,
        tol_unique=tol_unique,
        outlier_scale=outlier_scale,
    )
    return _linearise(net, step, u, x, speed, tol_fixed, tol_marginal)


def solve_fixed_points(
    step,
    initial_states: np.ndarray,
    *,
    max_iters: int = 300,
    lr: float = 0.05,
    tol_q: float = 1e-12,
    newton_steps: int = 20,
    tol_unique: float = 1e-3,
    outlier_scale: float = 10.0,
    jacobian=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The unique candidate points of any float64 map ``step`` (K, S) -> (K, S), started from
    ``initial_states`` (K, S): Adam on mean q, Newton polish, outliers dropped, duplicates
    merged (see `find_fixed_points`); ``jacobian`` (K, S) -> (K, S, S) replaces autograd's.
    Returns the points (k, S) and their speed q (k,), slowest first."""
    x0 = np.asarray(initial_states, dtype=np.float64)
    x = _minimise_speed(step, torch.from_numpy(x0), max_iters, lr, tol_q)
    x = _newton_polish(step, x, newton_steps, jacobian=jacobian)
    speed = _speed(step, x)
    keep = _inliers(x.numpy(), x0, outlier_scale) & np.isfinite(speed.numpy())
    x, speed = x[keep], speed[keep]
    order = _unique(x.numpy(), speed.numpy(), tol_unique)
    return x[order], speed[order]


def _speed(step, x: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((step(x) - x) ** 2).sum(-1)


def _minimise_speed(step, x0: torch.Tensor, max_iters: int, lr: float, tol_q: float):
    x = x0.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([x], lr=lr)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, factor=0.5, patience=50)
    for _ in range(max_iters):
        q = _speed(step, x)
        if bool((q < tol_q).all()):
            break
        optimiser.zero_grad()
        loss = q.mean()
        loss.backward()
        optimiser.step()
        schedule.step(float(loss.detach()))
    return x.detach()


def _jacobians(step, x: torch.Tensor) -> torch.Tensor:
    """dF/dx at each state: x (K, S) -> (K, S, S), from the Jacobian of the batch-summed map."""
    jac = torch.autograd.functional.jacobian(lambda z: step(z).sum(0), x, vectorize=True)
    return jac.permute(1, 0, 2)


NEWTON_TOL_Q = 1e-28
"""A point's Newton polish stops once its q = |F(x) - x|^2 / 2 is below this (a residual at
float64 rounding for states of order 1), or once no step size lowers q."""


def _newton_polish(
    step, x: torch.Tensor, n_steps: int, halvings: int = 10, jacobian=None
) -> torch.Tensor:
    """Newton on G(x) = F(x) - x with backtracking: each point takes the longest of the step
    sizes 1, 1/2, ..., 2^-halvings that lowers its q (or stays put).  A point stops once it has
    converged (q < `NEWTON_TOL_Q`) or cannot improve; only the others are linearised again."""
    eye = torch.eye(x.shape[1], dtype=x.dtype)
    active = torch.ones(len(x), dtype=torch.bool)
    for _ in range(n_steps):
        active &= _speed(step, x) >= NEWTON_TOL_Q
        if not bool(active.any()):
            break
        points = x[active]
        residual = step(points) - points
        q = 0.5 * (residual**2).sum(-1)
        jac = (jacobian or partial(_jacobians, step))(points) - eye
        delta = torch.linalg.lstsq(jac, -residual.unsqueeze(-1)).solution.squeeze(-1)
        moved = torch.zeros_like(q, dtype=torch.bool)
        size = 1.0
        for _ in range(halvings + 1):
            candidate = points + size * delta
            speed = _speed(step, candidate)
            better = ~moved & torch.isfinite(speed) & (speed < q)
            points = torch.where(better.unsqueeze(-1), candidate, points)
            moved |= better
            size /= 2
        x = x.clone()
        x[active] = points
        active[active.clone()] = moved
    return x


def _inliers(x: np.ndarray, x0: np.ndarray, scale: float) -> np.ndarray:
    """Points within ``scale`` mean initial distances of the initial centroid (all points when
    the initial states do not spread)."""
    centre = x0.mean(axis=0)
    typical = np.linalg.norm(x0 - centre, axis=1).mean()
    if typical == 0:
        return np.ones(len(x), dtype=bool)
    return np.linalg.norm(x - centre, axis=1) <= scale * typical


def _unique(x: np.ndarray, speed: np.ndarray, tol: float) -> np.ndarray:
    """Indices of unique points, slowest first: each point absorbs every later one within
    ``tol`` (a KD-tree, not an O(K^2) loop)."""
    order = np.argsort(speed, kind="stable")
    tree = cKDTree(x[order])
    taken = np.zeros(len(order), dtype=bool)
    kept = []
    for i in range(len(order)):
        if taken[i]:
            continue
        kept.append(order[i])
        taken[tree.query_ball_point(x[order[i]], tol)] = True
    return np.array(kept, dtype=np.int64)


def _linearise(net, step, u, x, speed, tol_fixed, tol_marginal) -> FixedPoints:
    def readout(states: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return net.readout(states.unsqueeze(0))[0].numpy()

    def rates(states: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return net.rates(states.unsqueeze(0))[0].numpy()

    return linearise(
        step,
        u,
        x,
        speed,
        continuous=is_continuous(net),
        dt_ms=net.config.dt_ms,
        readout=readout,
        rates=rates,
        tol_fixed=tol_fixed,
        tol_marginal=tol_marginal,
    )


def linearise(
    step,
    u: np.ndarray,
    x: torch.Tensor,
    speed: torch.Tensor,
    *,
    continuous: bool,
    dt_ms: float,
    readout,
    rates,
    tol_fixed: float = 1e-10,
    tol_marginal: float = 1e-4,
    full_size: int | None = None,
    jacobian=None,
) -> FixedPoints:
    """Classify the points ``x`` (k, S) of the map ``step`` by the eigenvalues of its Jacobian
    ((J - I) / dt for continuous time); ``readout`` and ``rates`` map states (k, S) to the
    outputs (k, O) and the activity (k, N) at them.  ``full_size``: the dimension of the
    system when ``step`` is its restriction to S dimensions whose complement is stable (a
    point unstable in all S directions is then a saddle); ``jacobian`` replaces autograd's."""
    size = x.shape[1]
    dt_s = dt_ms / 1000.0
    jac = (
        (jacobian or partial(_jacobians, step))(x).numpy() if len(x) else np.zeros((0, size, size))
    )
    outputs, activity = readout(x), rates(x)
    if continuous:
        jac = (jac - np.eye(size)) / dt_s
    eigenvalues, stability, directions, escapes = [], [], [], []
    for k, j in enumerate(jac):
        values, vectors = np.linalg.eig(j)
        key = -values.real if continuous else -np.abs(values)
        order = np.argsort(key, kind="stable")
        values, vectors = values[order], vectors[:, order]
        margin = values.real * dt_s if continuous else np.abs(values) - 1
        unstable = margin > tol_marginal
        marginal = np.abs(margin) <= tol_marginal
        eigenvalues.append(values)
        stability.append(_classify(int(unstable.sum()), int(marginal.sum()), full_size or size))
        directions.append(_directions(vectors[:, unstable]))
        escapes.append(_rate_direction(rates, x[k], directions[-1], activity[k]))
    q = speed.numpy()
    return FixedPoints(
        inputs=u,
        states=x.numpy(),
        speed=q,
        outputs=outputs,
        rates=activity,
        unstable_rate_direction=np.array(escapes).reshape(len(q), activity.shape[1]),
        eigenvalues=np.array(eigenvalues).reshape(len(q), size),
        is_fixed=q <= tol_fixed,
        stability=np.array(stability, dtype=object),
        unstable_directions=directions,
        time="continuous" if continuous else "discrete",
    )


def _rate_direction(rates, x: torch.Tensor, directions: np.ndarray, at: np.ndarray):
    """Unit direction (N,) in which the rates move along the first unstable direction (zeros
    when there is none): rates(x + h d) - rates(x) for a small step h."""
    if directions.shape[1] == 0:
        return np.zeros_like(at)
    step = 1e-6 * max(1.0, float(x.norm()))
    moved = x + step * torch.from_numpy(directions[:, 0])
    change = rates(moved.view(1, -1))[0] - at
    norm = np.linalg.norm(change)
    return change / norm if norm > 0 else change


def _classify(n_unstable: int, n_marginal: int, size: int) -> str:
    if n_unstable == size:
        return "unstable"
    if n_unstable:
        return "saddle"
    return "marginal" if n_marginal else "stable"


def _directions(vectors: np.ndarray) -> np.ndarray:
    """Real orthonormal basis (S, k) of the span of (complex) eigenvectors (S, k')."""
    if vectors.shape[1] == 0:
        return np.zeros((vectors.shape[0], 0))
    real = np.concatenate([vectors.real, vectors.imag], axis=1)
    u, s, _ = np.linalg.svd(real, full_matrices=False)
    return u[:, s > 1e-8 * s[0]]


def fixed_points_from_trajectories(
    net: Network,
    states: np.ndarray,
    inputs: np.ndarray | None = None,
    *,
    n_initial: int = 256,
    noise_scale: float | None = None,
    seed: int = 0,
    member: int | None = None,
    **options: Any,
) -> FixedPoints:
    """`find_fixed_points` from ``n_initial`` states sampled on ``states`` (T, B, S), jittered
    by ``noise_scale`` (None: `JITTER` spreads of the visited states, the field's practice of
    noisy starts; 0 = starts on the trajectories)."""
    x0 = sample_states(states, n_initial, seed, noise_scale)
    return find_fixed_points(net, x0, inputs, member=member, **options)


__all__ = [
    "FixedPoints",
    "find_fixed_points",
    "fixed_points_from_trajectories",
    "linearise",
    "sample_states",
    "solve_fixed_points",
]
