"""A trained teacher's latent system (poster's LPU): encoding E (K x N_s), embedding M
(N_s x K), and the latent trajectories z = E r on seeded trials.

For a firing-rate teacher r <- (1 - alpha) r + alpha f(W r + W_in u + b) with W = M E, the
latent state z = E r obeys z <- (1 - alpha) z + alpha E f(M z + W_in u + b) exactly.  Kinds:

- ``exact``: a low-rank teacher, W = m n^T / N_s: E = n^T / N_s, M = m (K = its rank);
- ``identity``: a full-rank teacher with K = N_s: E = I, M = W (every neuron is a latent);
- ``svd``: a truncated SVD W ~ U_K S_K V_K^T: M = U_K S_K, E = V_K^T.  The truncated teacher
  is a different network, so it is rebuilt as a rank-K network and re-scored on the task
  before use (it must still reach the task's criterion).

The latent readout ``readout`` (O x K) and ``readout_bias`` (O,) map z to the teacher's
linear outputs: W_out itself for ``identity``, least squares on the teacher's trajectories
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnnzoo.analysis.network import simulate
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network, make_model
from rnnzoo.tasks.batch import TrialBatch

FIT_TRIALS = 64  # trials of the teacher's train stream used to fit the latent readout


@dataclass(frozen=True)
class LatentData:
    """Teacher trajectories on a batch: z (T, B, K) after each step (z_0 = 0 before the
    first), the teacher's linear outputs (T, B, O), and the batch (inputs, targets, weights)."""

    z: np.ndarray
    teacher_linear: np.ndarray
    batch: TrialBatch


@dataclass(frozen=True)
class LatentSystem:
    """The teacher in latent form (float64 arrays) and the network it was read from."""

    kind: str  # "exact" | "identity" | "svd"
    encoding: np.ndarray  # E (K, N_s)
    embedding: np.ndarray  # M (N_s, K)
    w_in: np.ndarray  # (N_s, I) effective input weights
    bias: np.ndarray  # (N_s,)
    readout: np.ndarray  # (O, K): teacher's linear output ~ readout @ z + readout_bias
    readout_bias: np.ndarray  # (O,)
    alpha: float
    teacher: Network  # the network whose rates define z (the truncated one for "svd")
    teacher_performance: float | None = None  # re-score of a truncated teacher

    @property
    def teacher_bias(self) -> np.ndarray:
        """The teacher's readout bias b_out (O,)."""
        return self.teacher.b_out[0].detach().double().numpy()

    @property
    def rank(self) -> int:
        return self.encoding.shape[0]

    @property
    def n_teacher(self) -> int:
        return self.encoding.shape[1]

    @property
    def activation(self) -> str:
        return self.teacher.options.activation

    def latents(self, batch: TrialBatch) -> LatentData:
        """Run the teacher (noise-free, from rest) on ``batch``; z = E r."""
        sim = simulate(self.teacher, batch.inputs)
        linear = sim.rates @ self.teacher.output_weights()[0].detach().double().numpy().T
        linear = linear + self.teacher.b_out[0].detach().double().numpy()
        return LatentData(sim.rates @ self.encoding.T, linear, batch)

    def field(self, z: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        """The latent map z -> (1 - alpha) z + alpha E f(M z + W_in u + b), z (..., K),
        inputs (..., I)."""
        from rnnzoo.models.activations import activate

        pre = z @ self.embedding.T + inputs @ self.w_in.T + self.bias
        phi = activate(self.activation, torch.from_numpy(pre), _slope(self.teacher)).numpy()
        return (1 - self.alpha) * z + self.alpha * phi @ self.encoding.T


def _slope(net: Network) -> float:
    return float(net.activation_slope[0])


def check_teacher(net: Network) -> None:
    """Raise unless ``net`` can be a teacher: a standalone leaky_rate network with one time
    constant and a linear readout activation's pre-activation available (any readout)."""
    if net.kind != "leaky_rate":
        raise InvalidParameterError(
            f"'teacher' must be a leaky_rate (firing-rate) network, whose latents close "
            f"exactly; got {net.kind}"
        )
    if net.config.ensemble is not None:
        raise InvalidParameterError("'teacher' must be a standalone network (pick a member)")
    if not bool((net.alpha == net.alpha.flatten()[0]).all()):
        raise InvalidParameterError("'teacher' must have one time constant for all neurons")


def extract(teacher: Network, task: Any, rank: int | None = None, seed: int = 0) -> LatentSystem:
    """The latent system of ``teacher`` (see the module docstring for the kinds); ``rank``
    K truncates by SVD (None: the teacher's own rank, or K = N_s for a full-rank teacher).
    A truncated teacher is re-scored on ``task``'s validation trials (``seed``) and refused
    below the task's criterion."""
    check_teacher(teacher)
    size = teacher.options.n_hidden
    own = teacher.options.rank
    if rank is not None and not 1 <= rank <= size:
        raise InvalidParameterError(
            f"'rank' must be in [1, {size}] (the teacher's n_hidden); got {rank}"
        )
    if own is not None and rank is not None and rank > own:
        raise InvalidParameterError(f"'rank' must be <= {own} (the teacher's rank); got {rank}")
    w_in = teacher.input_weights()[0].detach().double().numpy()
    bias = teacher.bias[0].detach().double().numpy()
    alpha = float(teacher.alpha.flatten()[0])
    if own is not None and rank in (None, own):
        m, n = (w[0].detach().double().numpy() for w in teacher.recurrent_weights())
        kind, embedding, encoding, net, score = "exact", m, n.T / size, teacher, None
    elif own is None and rank in (None, size):
        w = teacher.recurrent_matrix()[0].detach().double().numpy()
        kind, embedding, encoding, net, score = "identity", w, np.eye(size), teacher, None
    else:
        w = teacher.recurrent_matrix()[0].detach().double().numpy()
        u, s, vt = np.linalg.svd(w)
        embedding, encoding = u[:, :rank] * s[:rank], vt[:rank]
        net = truncated_teacher(teacher, embedding, encoding)
        score = _score(net, task, seed)
        criterion = float(task.metric.criterion)
        if score < criterion:
            raise InvalidParameterError(
                f"'rank' {rank}: the teacher truncated to rank {rank} scores {score:.3f} on "
                f"the task, below its criterion {criterion:g}; choose a larger rank"
            )
        kind = "svd"
    system = LatentSystem(
        kind, encoding, embedding, w_in, bias, np.zeros((0, 0)), np.zeros(0), alpha, net, score
    )
    readout, readout_bias = _latent_readout(system, task, seed)
    return LatentSystem(
        kind, encoding, embedding, w_in, bias, readout, readout_bias, alpha, net, score
    )


def truncated_teacher(teacher: Network, embedding: np.ndarray, encoding: np.ndarray) -> Network:
    """The teacher with W replaced by M E (rank K), as an rnnzoo rank-K network of the same
    size (m = M, n = N_s E^T), same inputs, bias, readout and options."""
    size, rank = embedding.shape
    options = {
        k: v
        for k, v in teacher.config.options.items()
        if k not in ("rank", "g", "connection_prob", "self_connections", "dale")
    }
    config = teacher.config
    net = make_model(
        "leaky_rate",
        config.n_inputs,
        config.n_outputs,
        dt_ms=config.dt_ms,
        seed=config.seed,
        **{**options, "rank": rank},
    )
    dtype = teacher.w_in.dtype
    with torch.no_grad():
        net.m.copy_(torch.from_numpy(embedding).to(dtype).unsqueeze(0))
        net.n.copy_(torch.from_numpy(size * encoding.T).to(dtype).unsqueeze(0))
        net.w_in.copy_(teacher.input_weights().detach())
        net.bias.copy_(teacher.bias.detach())
        net.w_out.copy_(teacher.output_weights().detach())
        net.b_out.copy_(teacher.b_out.detach())
    return net


def _score(net: Network, task: Any, seed: int) -> float:
    from rnnzoo.training.evaluation import evaluate_network

    return float(evaluate_network(net, task, 256, seed, "mean")["statistic"])


def _latent_readout(system: LatentSystem, task: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """W_out for ``identity``; else least squares of the teacher's linear outputs on z."""
    teacher = system.teacher
    w_out = teacher.output_weights()[0].detach().double().numpy()
    b_out = teacher.b_out[0].detach().double().numpy()
    if system.kind == "identity":
        return w_out, b_out
    data = system.latents(task.generate(FIT_TRIALS, seed, split="train", index=0))
    valid = data.batch.valid
    return least_squares_readout(data.z[valid], data.teacher_linear[valid])


def least_squares_readout(
    features: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(A (O, K), b (O,)) minimising sum w (A x + b - y)^2 per output, x (S, K), y (S, O),
    weights w (S, O) (all 1 when None)."""
    x = np.concatenate([features, np.ones((len(features), 1))], axis=1)
    y = np.asarray(targets, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    coef = np.zeros((y.shape[1], x.shape[1]))
    for o in range(y.shape[1]):
        root = np.sqrt(w[:, o])[:, None]
        coef[o] = np.linalg.lstsq(x * root, y[:, o] * root[:, 0], rcond=None)[0]
    return coef[:, :-1], coef[:, -1]
