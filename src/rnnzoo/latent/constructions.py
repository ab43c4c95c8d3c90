"""Build a large low-rank firing-rate network (W = m n^T / N, never formed) whose latent
state kappa = n^T r / N implements a teacher's latent system (reference notes, sec. 2.2).

Constructions (``init``):

- ``resample`` (R1): neuron i copies teacher neuron c(i) = i mod N_s (m_i = M[c], W_in,i,
  b_i); n_i = N E[:, c] / count(c), so kappa = E r_teacher exactly for any N >= N_s.
  ``jitter`` > 0 adds Gaussian noise of ``jitter`` times each loading's spread across the
  teacher's neurons to m, W_in and b (heterogeneity; no longer exact).
- ``gmm`` (R2): every neuron's (m_i, W_in,i, b_i, n_i) is drawn from a Gaussian mixture fitted
  to the teacher's per-neuron vectors (M[c], W_in[c], b[c], N_s E[:, c]).
- ``ridge`` (R3): heterogeneous loadings (the parents' with multiplicative and additive noise
  of relative size ``jitter``, default 0.5), then the encoding in closed form: the ridge fit of
  the teacher-forced one-step latent update, n^T f(m z_t + W_in u_t + b) / N ~ (z_{t+1} -
  (1 - alpha) z_t) / alpha, in dual form over the teacher's sampled time points.
- ``random`` (R4, the poster's Step I start): m, n, W_in ~ N(0, 1), b ~ N(0, 0.1^2).

``refit_encoding`` replaces the encoding of ``resample`` or ``gmm`` by the ridge fit.  The
readout of ``resample`` gives each copy 1/count of its parent's readout weights (the outputs
then equal the teacher's exactly); the others read the teacher's latent readout on kappa:
W_out = A n^T / N, b_out = its bias.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnzoo.errors import InvalidParameterError
from rnnzoo.latent.fits import (
    dual_ridge,
    fit_gaussian_mixture,
    sample_gaussian_mixture,
)
from rnnzoo.latent.system import LatentSystem
from rnnzoo.models import Network, make_model
from rnnzoo.models.activations import activate

INITS = ("resample", "gmm", "ridge", "random")
DEFAULT_JITTER = {"resample": 0.0, "gmm": 0.0, "ridge": 0.5, "random": 0.0}
CONSTRUCTION_INDEX = 1 << 20  # train-stream batch index of the construction's teacher trials
# teacher options that a large low-rank network keeps (the others need N x N or name neurons)
KEPT_OPTIONS = ("activation", "activation_slope", "tau_ms", "readout", "input_noise")


def large_network(system: LatentSystem, n_hidden: int, seed: int) -> Network:
    """An (untrained) rank-K leaky_rate network of ``n_hidden`` neurons with the teacher's
    time constant, activation, readout and inputs/outputs."""
    config = system.teacher.config
    options = {k: v for k, v in config.options.items() if k in KEPT_OPTIONS}
    return make_model(
        "leaky_rate",
        config.n_inputs,
        config.n_outputs,
        dt_ms=config.dt_ms,
        seed=seed,
        n_hidden=n_hidden,
        rank=system.rank,
        **options,
    )


def expand(
    system: LatentSystem,
    n_hidden: int,
    init: str,
    task: Any,
    *,
    seed: int = 0,
    jitter: float | None = None,
    components: int = 4,
    ridge: float = 1e-3,
    ridge_trials: int = 32,
    max_samples: int = 3200,
    refit_encoding: bool = False,
) -> Network:
    """The large network of construction ``init`` (see the module docstring)."""
    if init not in INITS:
        raise InvalidParameterError(f"'init' must be one of {', '.join(INITS)}; got {init!r}")
    if init == "resample" and n_hidden < system.n_teacher:
        raise InvalidParameterError(
            f"'n_hidden' must be >= {system.n_teacher} (the teacher's neurons) for init "
            f"'resample'; got {n_hidden}"
        )
    if n_hidden < system.rank:
        raise InvalidParameterError(
            f"'n_hidden' must be >= the latent rank {system.rank}; got {n_hidden}"
        )
    jitter = DEFAULT_JITTER[init] if jitter is None else jitter
    if jitter < 0:
        raise InvalidParameterError(f"'jitter' must be >= 0; got {jitter}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(INITS.index(init),)))
    loadings = _teacher_loadings(system)  # (N_s, K + I + 1): m, W_in, b per neuron
    parents = np.arange(n_hidden) % system.n_teacher
    if init == "resample":
        load = loadings[parents] + jitter * _spread(loadings) * rng.standard_normal(
            (n_hidden, loadings.shape[1])
        )
        counts = np.bincount(parents, minlength=system.n_teacher)
        n = n_hidden * system.encoding.T[parents] / counts[parents, None]
    elif init == "gmm":
        vectors = np.concatenate([loadings, system.n_teacher * system.encoding.T], axis=1)
        mixture = fit_gaussian_mixture(vectors, components, rng)
        drawn = sample_gaussian_mixture(*mixture, n_hidden, rng)
        load, n = drawn[:, : loadings.shape[1]], drawn[:, loadings.shape[1] :]
    elif init == "ridge":
        base = loadings[parents]
        shape = base.shape
        load = base * (1 + jitter * rng.standard_normal(shape)) + jitter * _spread(
            loadings
        ) * rng.standard_normal(shape)
        n = None
    else:
        rank, n_in = system.rank, system.w_in.shape[1]
        load = np.concatenate(
            [
                rng.standard_normal((n_hidden, rank + n_in)),
                0.1 * rng.standard_normal((n_hidden, 1)),
            ],
            axis=1,
        )
        n = rng.standard_normal((n_hidden, rank))
    if init == "ridge" or refit_encoding:
        fit = ridge_encoding(
            system, load, task, seed, ridge=ridge, trials=ridge_trials, max_samples=max_samples
        )
        n = n_hidden * fit.T
    if init == "resample":  # each copy reads out 1/count of its parent's readout: exact outputs
        w_out = system.teacher.output_weights()[0].detach().double().numpy()
        counts = np.bincount(parents, minlength=system.n_teacher)
        readout, bias = w_out[:, parents] / counts[parents], system.teacher_bias
    else:  # the teacher's latent readout on kappa
        readout, bias = system.readout @ n.T / n_hidden, system.readout_bias
    net = large_network(system, n_hidden, seed)
    set_loadings(net, load, n, readout, bias)
    return net


def _teacher_loadings(system: LatentSystem) -> np.ndarray:
    return np.concatenate([system.embedding, system.w_in, system.bias[:, None]], axis=1)


def _spread(loadings: np.ndarray) -> np.ndarray:
    """Each loading's standard deviation across the teacher's neurons (1 where it is 0)."""
    spread = loadings.std(axis=0)
    return np.where(spread > 0, spread, 1.0)


def set_loadings(
    net: Network, load: np.ndarray, n: np.ndarray, w_out: np.ndarray, b_out: np.ndarray
) -> None:
    """Write m, W_in, b (``load`` (N, K + I + 1)), n (N, K) and the readout W_out (O, N),
    b_out (O,) into ``net``."""
    rank = n.shape[1]
    n_in = load.shape[1] - rank - 1
    dtype = net.w_in.dtype

    def put(param: torch.Tensor, value: np.ndarray) -> None:
        param.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(dtype).unsqueeze(0))

    with torch.no_grad():
        put(net.m, load[:, :rank])
        put(net.w_in, load[:, rank : rank + n_in])
        put(net.bias, load[:, -1])
        put(net.n, n)
        put(net.w_out, w_out)
        put(net.b_out, b_out)


def ridge_encoding(
    system: LatentSystem,
    load: np.ndarray,
    task: Any,
    seed: int,
    *,
    ridge: float,
    trials: int,
    max_samples: int,
) -> np.ndarray:
    """E (K, N) fitting the teacher-forced one-step latent update of the loadings ``load``
    (N, K + I + 1) on ``trials`` teacher trials (at most ``max_samples`` sampled steps)."""
    if trials < 1 or max_samples < 1:
        raise InvalidParameterError(
            f"'ridge_trials' and 'max_samples' must be >= 1; got {trials}, {max_samples}"
        )
    batch = task.generate(trials, seed, split="train", index=CONSTRUCTION_INDEX)
    data = system.latents(batch)
    z_prev = np.concatenate([np.zeros_like(data.z[:1]), data.z[:-1]])
    points = np.argwhere(batch.valid)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(9,)))
    if len(points) > max_samples:
        points = points[np.sort(rng.choice(len(points), max_samples, replace=False))]
    t, b = points[:, 0], points[:, 1]
    z_t, z_next, u_t = z_prev[t, b], data.z[t, b], batch.inputs[t, b].astype(np.float64)
    targets = (z_next - (1 - system.alpha) * z_t) / system.alpha
    acts = np.concatenate([z_t, u_t, np.ones((len(t), 1))], axis=1)
    slope = float(system.teacher.activation_slope[0])

    def features(part: slice) -> np.ndarray:
        pre = torch.from_numpy(acts @ load[part].T)
        return activate(system.activation, pre, slope).numpy()

    return dual_ridge(features, load.shape[0], targets, ridge)
