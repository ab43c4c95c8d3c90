"""Latent circuit inference (Langdon & Engel, Nat. Neurosci. 2025): explain a network's
activity y (T, B, N) by an n-node circuit embedded with orthonormal columns Q (N, n):

    x_{t+1} = (1 - alpha) x_t + alpha relu(w_rec x_t + w_in u_t),   y ~ Q x,   z ~ w_out x

fitted by minimising  MSE(w_out x, z) + l_y |Q x - y|^2 / |y - mean y|^2  with Adam (the
ReLU starts leaky and anneals to ReLU over the first half of the steps, so no node starts dead;
Q starts at the top principal axes of y plus seeded noise per restart).  Q is a
QR retraction of a free (N, n) matrix (O(N n^2), not the paper's N x N Cayley transform).  With
``structured`` (the paper's prior) input j drives only node j and output k reads only node
n - O + k, both with non-negative weights.  The restarts are fitted at once as an ensemble
through the fused leaky core, and the best (lowest loss) is kept.  The perturbation test
changes the network's connectivity by Q dw Q^T and compares the change of its outputs with the
circuit's prediction under w_rec + dw.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo.analysis.network import simulate, single_network
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.models.base import seeded_generator
from rnnzoo.models.core import RecurrenceSpec, leaky_network

# Dead ReLU nodes stall the fit: the negative slope starts at _LEAK and anneals linearly to 0
# (the circuit's ReLU) over the first half of the iterations.
_LEAK = 0.3


@dataclass(frozen=True)
class LatentCircuit:
    """A fitted circuit: w_rec (n, n), w_in (n, I), w_out (O, n), embedding q (N, n) with
    orthonormal columns, alpha = dt/tau; structured: the paper's input/output prior was used;
    embedding_r2 = explained variance of Q x vs y,
    subspace_r2 = of x vs Q^T y, output_r2 = of w_out x vs z; loss of the kept restart and
    restart_losses of all."""

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
) -> LatentCircuit:
    """Fit an ``n_nodes`` latent circuit to activity y (T, B, N) driven by ``inputs``
    (T, B, I) with ``outputs`` z (T, B, O), keeping the best of ``n_restarts`` seeded
    restarts after ``n_iters`` Adam steps each (learning rate ``lr``).  The fit runs in float32
    (twice as fast as float64 for these tiny matrices); the scores are computed in float64."""
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
    free = _initial(n_restarts, _principal_axes(y, n_nodes), n_in, n_out, seed)
    masks = _masks(n_nodes, n_in, n_out, structured)
    optimiser = torch.optim.Adam(list(free.values()), lr=lr)
    y_scale = ((y - y.mean(dim=(0, 1))) ** 2).sum()
    for it in range(n_iters):
        optimiser.zero_grad()
        slope = _LEAK * max(0.0, 1 - 2 * it / n_iters)
        losses = _losses(free, masks, alpha, y, u, z, y_scale, l_y, slope)
        losses.sum().backward()  # members are independent: each gets its own gradient
        optimiser.step()
    with torch.no_grad():
        losses = _losses(free, masks, alpha, y, u, z, y_scale, l_y, 0.0)
        best = int(torch.argmin(torch.nan_to_num(losses, nan=np.inf)))
        w_rec, w_in, w_out, q = (w[best].double().numpy() for w in _effective(free, masks))
    circuit = LatentCircuit(
        w_rec,
        w_in,
        w_out,
        q,
        float(alpha),
        np.nan,
        np.nan,
        np.nan,
        float(losses[best]),
        losses.double().numpy(),
        structured,
    )
    x = circuit.simulate(np.asarray(inputs, dtype=np.float64))
    return _with_scores(circuit, x, np.asarray(activity), np.asarray(outputs))


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
    and the embedding's free matrix at the principal axes plus N(0, 0.3^2) per restart."""
    gen = seeded_generator(seed, 11)
    size, nodes = axes.shape

    def draw(*shape: int) -> Tensor:
        return torch.randn(members, *shape, generator=gen, dtype=torch.float64).to(axes.dtype)

    params = {
        "w_rec": 0.025 * draw(nodes, nodes),
        "w_in": 0.2 + 0.1 * draw(nodes, n_in),
        "w_out": 0.2 + 0.1 * draw(n_out, nodes),
        "basis": axes + 0.3 * draw(size, nodes),
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


def _losses(free, masks, alpha, y, u, z, y_scale, l_y, slope) -> Tensor:
    """Per-restart loss (M,): output MSE + l_y * normalised embedding error, with the
    activation relu(v) + slope min(v, 0) (slope 0 = the circuit's ReLU)."""
    w_rec, w_in, w_out, q = _effective(free, masks)
    members, nodes = w_rec.shape[0], w_rec.shape[1]
    batch = u.shape[1]
    linear, states = leaky_network(
        RecurrenceSpec("rate", "prelu", slope),
        u,
        None,
        u.new_zeros(members, batch, nodes),
        u.new_full((members, 1, nodes), alpha),
        w_in,
        u.new_zeros(members, nodes),
        w_out,
        u.new_zeros(members, z.shape[2]),
        (w_rec,),
    )
    output_error = ((linear - z.unsqueeze(0)) ** 2).mean(dim=(1, 2, 3))
    # |Q x - y|^2 = |x|^2 - 2 x . Q^T y + |y|^2 (Q^T Q = I): no (M, T, B, N) tensor
    projected = (y.reshape(-1, y.shape[-1]) @ q).view(members, *states.shape[1:])
    squared = (states * (states - 2 * projected)).sum(dim=(1, 2, 3)) + (y**2).sum()
    embedding_error = squared / y_scale
    return output_error + l_y * embedding_error


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
