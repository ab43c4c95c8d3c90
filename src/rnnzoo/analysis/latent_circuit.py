"""Latent circuit inference (Langdon & Engel, Nat. Neurosci. 2025): explain a network's
activity y (T, B, N) by an n-node circuit embedded with orthonormal columns Q (N, n):

    x_{t+1} = (1 - alpha) x_t + alpha relu(w_rec x_t + w_in u_t + xi_t),   y ~ Q x,   z ~ w_out x

fitted, as the authors' code (engellab/latentcircuit, ``latent_net.py``) does, by minimising

    sum_o mean_{t,b} (w_out x - z)^2  +  l_y |Q x - y|^2 / |y - mean y|^2

(the output error summed over the outputs and averaged over steps and trials, ``mse_z``; the
embedding error normalised by the variance of y, ``nmse_y``) with Adam, weight decay 1e-3 on
w_rec, w_in and w_out and latent noise xi ~ N(0, 2 alpha sigma^2), sigma = 0.15, drawn afresh
at every iteration (the defaults; ``weight_decay=0, latent_noise=0, output_error="mean"`` is
rnnzoo's earlier fit).  The embedding's free matrix gets no decay: Q is its QR retraction
(O(N n^2), not the paper's N x N Cayley transform), which ignores its scale, so decay would only
shrink it; on the authors' Cayley matrix decay pulls Q toward the first n coordinate axes, a
property of that parametrisation, not of the model.  The ReLU starts leaky and anneals to ReLU
over the first half of the iterations, so no node starts dead.  Q starts at the top principal
axes of y plus seeded noise of 0.3/sqrt(N) per entry per restart (0.3 per column whatever N, so
the start keeps the principal subspace for large N).  With ``structured`` (the paper's prior)
input j drives only node j and output k reads only node n - O + k, both with non-negative
weights.  The restarts are fitted at once as an ensemble through the fused leaky core, and the
best (lowest noise-free loss) is kept; how much the restarts agree is reported (the mean
correlation of their w_rec, after matching nodes by embedding when unstructured, and the mean
overlap of their subspaces).  The perturbation test changes the network's connectivity by
Q dw Q^T and compares the change of its outputs with the circuit's prediction under w_rec + dw.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from rnnzoo.analysis.network import simulate, single_network
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.models.base import seeded_generator
from rnnzoo.models.core import RecurrenceSpec, leaky_network

# Dead ReLU nodes stall the fit: the negative slope starts at _LEAK and anneals linearly to 0
# (the circuit's ReLU) over the first half of the iterations.
_LEAK = 0.3
# Per-column norm of the noise added to the principal axes at the start of each restart.
_START_NOISE = 0.3


@dataclass(frozen=True)
class LatentCircuit:
    """A fitted circuit: w_rec (n, n), w_in (n, I), w_out (O, n), embedding q (N, n) with
    orthonormal columns, alpha = dt/tau; structured: the paper's input/output prior was used;
    embedding_r2 = explained variance of Q x vs y,
    subspace_r2 = of x vs Q^T y, output_r2 = of w_out x vs z; loss of the kept restart and
    restart_losses of all (noise-free objective).  restart_w_rec (R, n, n): every restart's
    w_rec (nodes matched to the kept restart's when unstructured); restart_agreement: the mean
    correlation of w_rec over pairs of restarts (1 = the restarts found one circuit);
    restart_subspace_overlap: the mean |Q_i^T Q_j|_F^2 / n over pairs (1 = one subspace);
    weight_decay, latent_noise and output_error: the fit's settings."""

    w_rec: np.ndarray
    w_in: np.ndarray
    w_out: np.ndarray
    q: np.ndarray
    alpha: float
    embedding_r2: float
    subspace_r2: float
    output_r2: float
    loss: float
    restart_losses: np.ndarray
    structured: bool
    restart_w_rec: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    restart_agreement: float = float("nan")
    restart_subspace_overlap: float = float("nan")
    weight_decay: float = 0.0
    latent_noise: float = 0.0
    output_error: str = "sum"

    @property
    def n_nodes(self) -> int:
        return int(self.w_rec.shape[0])

    def simulate(self, inputs: np.ndarray, w_rec: np.ndarray | None = None) -> np.ndarray:
        """Latent states x (T, B, n) of the circuit (or of its connectivity replaced by
        ``w_rec``) driven by inputs (T, B, I) from x = 0."""
        w = self.w_rec if w_rec is None else w_rec
        x = np.zeros((np.shape(inputs)[1], self.n_nodes))
        states = []
        for u in np.asarray(inputs, dtype=np.float64):
            x = (1 - self.alpha) * x + self.alpha * np.maximum(x @ w.T + u @ self.w_in.T, 0)
            states.append(x)
        return np.stack(states)

    def summary(self) -> dict[str, Any]:
        """Fit quality and connectivity, JSON-serialisable."""
        return {
            "n_nodes": self.n_nodes,
            "structured": self.structured,
            "embedding_r2": self.embedding_r2,
            "subspace_r2": self.subspace_r2,
            "output_r2": self.output_r2,
            "loss": self.loss,
            "restart_losses": self.restart_losses.tolist(),
            "restart_agreement": self.restart_agreement,
            "restart_subspace_overlap": self.restart_subspace_overlap,
            "weight_decay": self.weight_decay,
            "latent_noise": self.latent_noise,
            "output_error": self.output_error,
            "w_rec": self.w_rec.tolist(),
        }


def explained_variance(prediction: np.ndarray, target: np.ndarray) -> float:
    """1 - |target - prediction|^2 / |target - mean target|^2 (over all but the last axis)."""
    target = np.asarray(target, dtype=np.float64).reshape(-1, np.shape(target)[-1])
    prediction = np.asarray(prediction, dtype=np.float64).reshape(target.shape)
    total = ((target - target.mean(axis=0)) ** 2).sum()
    return float(1 - ((target - prediction) ** 2).sum() / max(total, 1e-300))


def fit_latent_circuit(
    activity: np.ndarray,
    inputs: np.ndarray,
    outputs: np.ndarray,
    *,
    n_nodes: int,
    alpha: float,
    structured: bool = True,
    n_restarts: int = 4,
    n_iters: int = 1000,
    lr: float = 0.02,
    l_y: float = 1.0,
    seed: int = 0,
    weight_decay: float = 1e-3,
    latent_noise: float = 0.15,
    output_error: Literal["sum", "mean"] = "sum",
) -> LatentCircuit:
    """Fit an ``n_nodes`` latent circuit to activity y (T, B, N) driven by ``inputs``
    (T, B, I) with ``outputs`` z (T, B, O), keeping the best of ``n_restarts`` seeded
    restarts after ``n_iters`` Adam steps each (learning rate ``lr``, L2 ``weight_decay`` on
    the circuit's weights, latent noise of std ``latent_noise`` in the paper's convention,
    ``output_error`` summed over the outputs as the paper or their ``"mean"``).  The fit runs in
    float32 (twice as fast as float64 for these tiny matrices); the scores in float64."""
    y, u, z = (
        torch.as_tensor(np.asarray(a, dtype=np.float32)) for a in (activity, inputs, outputs)
    )
    if (
        y.dim() != 3
        or u.dim() != 3
        or z.dim() != 3
        or not y.shape[:2] == u.shape[:2] == z.shape[:2]
    ):
        raise InvalidParameterError(
            "activity, inputs and outputs must be (T, B, N), (T, B, I), (T, B, O) with the same "
            f"T and B; got {tuple(y.shape)}, {tuple(u.shape)}, {tuple(z.shape)}"
        )
    size, n_in, n_out = y.shape[2], u.shape[2], z.shape[2]
    low = max(n_in, n_out) if structured else 1
    if not low <= n_nodes <= size:
        raise InvalidParameterError(f"'n_nodes' must be in [{low}, {size}]; got {n_nodes}")
    if not 0 < alpha <= 1:
        raise InvalidParameterError(f"'alpha' must be in (0, 1]; got {alpha}")
    for name, value in (("n_restarts", n_restarts), ("n_iters", n_iters)):
        if value < 1:
            raise InvalidParameterError(f"'{name}' must be >= 1; got {value}")
    for name, value in (("weight_decay", weight_decay), ("latent_noise", latent_noise)):
        if not value >= 0:
            raise InvalidParameterError(f"'{name}' must be >= 0; got {value}")
    if output_error not in ("sum", "mean"):
        raise InvalidParameterError(f"'output_error' must be 'sum' or 'mean'; got {output_error!r}")
    free = _initial(n_restarts, _principal_axes(y, n_nodes), n_in, n_out, seed)
    masks = _masks(n_nodes, n_in, n_out, structured)
    weights = [free[k] for k in ("w_rec", "w_in", "w_out")]
    optimiser = torch.optim.Adam(
        [
            {"params": weights, "weight_decay": weight_decay},
            {"params": [free["basis"]], "weight_decay": 0.0},
        ],
        lr=lr,
    )
    objective = _Objective(masks, alpha, y, u, z, l_y, output_error)
    noise_gen = seeded_generator(seed, 12)
    noise_std = latent_noise * float(np.sqrt(2 * alpha))  # xi ~ N(0, 2 alpha sigma^2)
    for it in range(n_iters):
        optimiser.zero_grad()
        slope = _LEAK * max(0.0, 1 - 2 * it / n_iters)
        noise = None
        if noise_std > 0:
            shape = (n_restarts, y.shape[0], y.shape[1], n_nodes)
            noise = noise_std * torch.randn(shape, generator=noise_gen, dtype=y.dtype)
        losses = objective(free, slope, noise)
        losses.sum().backward()  # members are independent: each gets its own gradient
        optimiser.step()
    with torch.no_grad():
        losses = objective(free, 0.0, None)
        best = int(torch.argmin(torch.nan_to_num(losses, nan=np.inf)))
        w_rec, w_in, w_out, q = (w.double().numpy() for w in _effective(free, masks))
    agreement = restart_agreement(w_rec, q, best, structured)
    circuit = LatentCircuit(
        w_rec[best],
        w_in[best],
        w_out[best],
        q[best],
        float(alpha),
        np.nan,
        np.nan,
        np.nan,
        float(losses[best]),
        losses.double().numpy(),
        structured,
        *agreement,
        float(weight_decay),
        float(latent_noise),
        output_error,
    )
    x = circuit.simulate(np.asarray(inputs, dtype=np.float64))
    return _with_scores(circuit, x, np.asarray(activity), np.asarray(outputs))


def restart_agreement(
    w_rec: np.ndarray, q: np.ndarray, best: int, structured: bool
) -> tuple[np.ndarray, float, float]:
    """How much restarts agree: w_rec (R, n, n) and embeddings q (R, N, n) ->
    (w_rec with nodes matched to restart ``best``'s, mean pairwise correlation of w_rec, mean
    pairwise subspace overlap |Q_i^T Q_j|_F^2 / n).  Structured nodes are named by their input
    or output and compared as they are; unstructured nodes are matched to the kept restart's by
    the largest |Q_best^T Q_i| (Hungarian assignment).  NaN with one restart."""
    restarts, nodes = w_rec.shape[0], w_rec.shape[1]
    matched = w_rec.copy()
    if not structured:
        for i in range(restarts):
            _, perm = linear_sum_assignment(-np.abs(q[best].T @ q[i]))
            matched[i] = w_rec[i][np.ix_(perm, perm)]
    pairs = [(i, j) for i in range(restarts) for j in range(i + 1, restarts)]
    if not pairs:
        return matched, float("nan"), float("nan")
    flat = matched.reshape(restarts, -1)
    corr = [_correlation(flat[i], flat[j]) for i, j in pairs]
    overlap = [float(np.sum((q[i].T @ q[j]) ** 2)) / nodes for i, j in pairs]
    return matched, float(np.nanmean(corr)), float(np.mean(overlap))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _with_scores(circuit: LatentCircuit, x: np.ndarray, y: np.ndarray, z: np.ndarray):
    from dataclasses import replace

    return replace(
        circuit,
        embedding_r2=explained_variance(x @ circuit.q.T, y),
        subspace_r2=explained_variance(x, y @ circuit.q),
        output_r2=explained_variance(x @ circuit.w_out.T, z),
    )


def _principal_axes(y: Tensor, n: int) -> Tensor:
    """(N, n) top principal axes of y (T, B, N): where the embedding starts."""
    flat = y.reshape(-1, y.shape[-1])
    return torch.linalg.svd(flat - flat.mean(0), full_matrices=False).Vh[:n].T


def _initial(members: int, axes: Tensor, n_in: int, n_out: int, seed: int):
    """Seeded restarts: w_rec ~ N(0, 0.025^2), w_in and w_out ~ N(0.2, 0.1^2) (the paper's),
    and the embedding's free matrix at the principal axes (unit columns) plus N(0, 0.3^2 / N)
    per entry and restart: noise of norm about 0.3 per column for every N."""
    gen = seeded_generator(seed, 11)
    size, nodes = axes.shape

    def draw(*shape: int) -> Tensor:
        return torch.randn(members, *shape, generator=gen, dtype=torch.float64).to(axes.dtype)

    params = {
        "w_rec": 0.025 * draw(nodes, nodes),
        "w_in": 0.2 + 0.1 * draw(nodes, n_in),
        "w_out": 0.2 + 0.1 * draw(n_out, nodes),
        "basis": axes + (_START_NOISE / size**0.5) * draw(size, nodes),
    }
    return {k: v.requires_grad_(True) for k, v in params.items()}


def _masks(nodes: int, n_in: int, n_out: int, structured: bool) -> dict[str, Tensor | None]:
    if not structured:
        return {"w_in": None, "w_out": None}
    w_in = torch.zeros(nodes, n_in)
    w_in[torch.arange(n_in), torch.arange(n_in)] = 1
    w_out = torch.zeros(n_out, nodes)
    w_out[torch.arange(n_out), nodes - n_out + torch.arange(n_out)] = 1
    return {"w_in": w_in, "w_out": w_out}


def _effective(free: dict[str, Tensor], masks: dict[str, Tensor | None]) -> tuple[Tensor, ...]:
    """(w_rec, w_in, w_out, Q) with the structure applied; Q by QR (signs fixed: diag R > 0)."""
    w_in, w_out = free["w_in"], free["w_out"]
    if masks["w_in"] is not None:
        w_in = w_in.abs() * masks["w_in"]
        w_out = w_out.abs() * masks["w_out"]
    q, r = torch.linalg.qr(free["basis"])
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    return free["w_rec"], w_in, w_out, q


class _Objective:
    """Per-restart loss (M,): output error (summed over outputs, or their mean) averaged over
    steps and trials + l_y * normalised embedding error, with the activation relu(v) + slope
    min(v, 0) (slope 0 = the circuit's ReLU) and optional latent noise (M, T, B, n) in the
    drive."""

    def __init__(self, masks, alpha, y, u, z, l_y, output_error):
        self.masks, self.alpha, self.y, self.u, self.z, self.l_y = masks, alpha, y, u, z, l_y
        self.y_scale = ((y - y.mean(dim=(0, 1))) ** 2).sum()
        self.y_squared = (y**2).sum()
        self.output_scale = 1.0 if output_error == "sum" else 1.0 / z.shape[2]

    def __call__(self, free, slope: float, noise: Tensor | None) -> Tensor:
        w_rec, w_in, w_out, q = _effective(free, self.masks)
        members, nodes = w_rec.shape[0], w_rec.shape[1]
        u, y, z = self.u, self.y, self.z
        linear, states = leaky_network(
            RecurrenceSpec("rate", "prelu", slope, self.alpha),
            u,
            noise,
            u.new_zeros(members, u.shape[1], nodes),
            u.new_full((members, 1, nodes), self.alpha),
            w_in,
            u.new_zeros(members, nodes),
            w_out,
            u.new_zeros(members, z.shape[2]),
            (w_rec,),
        )
        errors = (linear - z.unsqueeze(0)) ** 2
        output_error = errors.sum(dim=3).mean(dim=(1, 2)) * self.output_scale
        # |Q x - y|^2 = |x|^2 - 2 x . Q^T y + |y|^2 (Q^T Q = I): no (M, T, B, N) tensor
        projected = (y.reshape(-1, y.shape[-1]) @ q).view(members, *states.shape[1:])
        squared = (states * (states - 2 * projected)).sum(dim=(1, 2, 3)) + self.y_squared
        return output_error + self.l_y * squared / self.y_scale


def perturbation_test(
    net: Network,
    circuit: LatentCircuit,
    inputs: np.ndarray,
    delta: np.ndarray,
    *,
    member: int | None = None,
    channels: Any = None,
) -> dict[str, float]:
    """Perturb the network's recurrent weights by Q ``delta`` Q^T (delta (n, n) in latent
    coordinates), run both the network and the circuit with w_rec + delta on ``inputs``
    (T, B, I), and compare the changes of the outputs: ``r2`` (explained variance of the
    network's change by the circuit's predicted change), ``correlation`` and the RMS sizes of
    both changes.  With ``channels`` (a `LatentChannels`, when the circuit was fitted to pooled
    channels) the circuit gets the pooled inputs and the network's outputs are pooled before
    they are compared.  Needs a network whose recurrent weights are one free dense matrix (no
    Dale's law, sparse mask or low rank)."""
    net = single_network(net, member)
    delta = np.asarray(delta, dtype=np.float64)
    if delta.shape != circuit.w_rec.shape:
        raise InvalidParameterError(
            f"'delta' must have shape {circuit.w_rec.shape}; got {delta.shape}"
        )
    if (
        not hasattr(net, "w_rec")
        or getattr(net, "rec_mask", None) is not None
        or getattr(net.options, "dale", False)
        or net.w_rec.shape[-2] != net.w_rec.shape[-1]
    ):
        raise InvalidParameterError(
            f"perturbation test needs a dense, unconstrained recurrent matrix; {net.kind} "
            "has Dale's law, a mask, low rank or gates"
        )
    if circuit.q.shape[0] != net.options.n_hidden:
        raise InvalidParameterError(
            f"circuit embeds {circuit.q.shape[0]} neurons but the network has "
            f"{net.options.n_hidden}"
        )
    perturbed = copy.deepcopy(net)
    change = torch.as_tensor(circuit.q @ delta @ circuit.q.T, dtype=net.w_rec.dtype)
    with torch.no_grad():
        perturbed.w_rec[0] += change
    network_change = simulate(perturbed, inputs).outputs - simulate(net, inputs).outputs
    latent_inputs = inputs
    if channels is not None:
        network_change, latent_inputs = channels.outputs(network_change), channels.inputs(inputs)
    before = circuit.simulate(latent_inputs) @ circuit.w_out.T
    after = circuit.simulate(latent_inputs, circuit.w_rec + delta) @ circuit.w_out.T
    circuit_change = after - before
    a, b = network_change.ravel(), circuit_change.ravel()
    corr = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
    return {
        "r2": float(1 - ((a - b) ** 2).sum() / max(((a - a.mean()) ** 2).sum(), 1e-300)),
        "correlation": corr,
        "network_change_rms": float(np.sqrt((a**2).mean())),
        "circuit_change_rms": float(np.sqrt((b**2).mean())),
    }
