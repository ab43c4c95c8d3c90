"""Analyses of large low-rank firing-rate networks (N up to 10^6) that never hold (T, B, N)
trajectories or an N x N matrix.

With W = m n^T / N the dynamics close in kappa = n^T r / N (see `rnnzoo.models.latent_form`),
so:
- trajectories are run in latent form (kappa and outputs only);
- rates are recomputed chunk by chunk of neurons from kappa when a statistic needs them:
  r_{t+1} = (1 - alpha) r_t + alpha f(m kappa_t + W_in u_t + b);
- PCA and the participation ratio use the S x S Gram matrix of (at most ``max_samples``)
  sampled time points over ALL neurons (its nonzero eigenvalues are those of the covariance);
- fixed points are found in kappa space, where the map is G(kappa) = (1 - alpha) kappa +
  alpha n^T f(m kappa + W_in u + b) / N; the N - K directions orthogonal to it decay with
  eigenvalue -1/tau, so the K x K Jacobian classifies stability exactly;
- the spectrum of W is exact from K x K cores: nonzero eigenvalues of m n^T / N are those of
  n^T m / N, and its singular values those of R_m R_n^T / N (QR of m and n).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo.analysis.fixed_points import FixedPoints, linearise, sample_states, solve_fixed_points
from rnnzoo.analysis.state_space import PCA
from rnnzoo.analysis.weights import WeightSpectrum
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.activations import activate, activate_, derivative_from_output_
from rnnzoo.models.latent_form import check_latent_network, network_latent_rollout

LARGE_NEURONS = 4096  # low-rank leaky_rate networks above this are analysed in latent form
CHUNK_ELEMENTS = 1 << 23  # elements of one (T, B, neurons) chunk of recomputed rates (32 MiB)


def is_large_low_rank(net: Any, threshold: int | None = None) -> bool:
    """True for a low-rank leaky_rate network with more than ``threshold`` neurons
    (default `LARGE_NEURONS`)."""
    threshold = LARGE_NEURONS if threshold is None else threshold
    options = getattr(net, "options", None)
    return (
        getattr(net, "kind", "") == "leaky_rate"
        and getattr(options, "rank", None) is not None
        and options.n_hidden > threshold
    )


@dataclass(frozen=True)
class LatentSimulation:
    """A noise-free latent-form run: kappa (T + 1, B, K) with kappa_0 first, outputs
    (T, B, O) after the readout activation, inputs (T, B, I); float64 arrays."""

    kappa: np.ndarray
    outputs: np.ndarray
    inputs: np.ndarray


def simulate_latent(net: Any, inputs: np.ndarray) -> LatentSimulation:
    """Run a standalone low-rank leaky_rate ``net`` from rest (r_0 = 0) on ``inputs``
    (T, B, I) in latent form, without noise."""
    check_latent_network(net)
    dtype = net.m.dtype
    u = torch.as_tensor(np.asarray(inputs), dtype=dtype)
    with torch.no_grad():
        run = network_latent_rollout(net, u)
        outputs = net.readout_activation(run.linear)
    kappa = torch.cat([run.kappa.new_zeros(1, *run.kappa.shape[1:]), run.kappa])
    return LatentSimulation(kappa.double().numpy(), outputs.double().numpy(), u.double().numpy())


def _weights(net: Any) -> dict[str, Tensor]:
    """float64 effective weights of a standalone low-rank leaky_rate network."""
    m, n = (w[0].detach().double() for w in net.recurrent_weights())
    return {
        "m": m,
        "n": n,
        "w_in": net.input_weights()[0].detach().double(),
        "bias": net.bias[0].detach().double(),
        "w_out": net.output_weights()[0].detach().double(),
        "b_out": net.b_out[0].detach().double(),
    }


def rate_chunks(
    net: Any, sim: LatentSimulation, chunk: int | None = None
) -> Iterator[tuple[slice, Tensor]]:
    """(neurons, rates (T, B, n_chunk) float32) for consecutive chunks of neurons: the rates
    r_1..r_T after each step, recomputed from the latent trajectory."""
    steps, batch = sim.outputs.shape[:2]
    size = net.options.n_hidden
    chunk = chunk or max(1, CHUNK_ELEMENTS // (steps * batch))
    for start in range(0, size, chunk):
        part = slice(start, min(start + chunk, size))
        yield part, rates_of(net, sim, part)


def rates_of(net: Any, sim: LatentSimulation, neurons: slice) -> Tensor:
    """The rates r_1..r_T (T, B, n) float32 of the neurons ``neurons``, recomputed from the
    latent trajectory: r_{t+1} = (1 - alpha) r_t + alpha f(m kappa_t + W_in u_t + b), r_0 = 0."""
    steps, batch = sim.outputs.shape[:2]
    m, _ = (w[0].detach().float() for w in net.recurrent_weights())
    load = torch.cat(
        [m[neurons], net.input_weights()[0, neurons].detach().float(), net.bias[0, neurons, None]],
        dim=1,
    ).float()
    acts = torch.cat(  # a_t = [kappa_t, u_t, 1] (T, B, K + I + 1)
        [
            torch.from_numpy(sim.kappa[:-1]).float(),
            torch.from_numpy(sim.inputs).float(),
            torch.ones(steps, batch, 1),
        ],
        dim=2,
    )
    alpha = float(net.alpha.flatten()[0])
    with torch.no_grad():
        rates = activate_(net.options.activation, acts @ load.T, float(net.activation_slope[0]))
        state = torch.zeros_like(rates[0])
        for t in range(steps):  # r_{t+1} = (1 - alpha) r_t + alpha phi_t, in place
            state = torch.lerp(state, rates[t], alpha, out=rates[t])
    return rates


@dataclass(frozen=True)
class RateGeometry:
    """PCA over all neurons (from sampled time points), the participation ratio, the
    projections of every trajectory point (T, B, k) and the population autocorrelation."""

    pca: PCA
    participation_ratio: float
    projections: np.ndarray
    autocorrelation: np.ndarray
    n_samples: int


def rate_geometry(
    net: Any,
    sim: LatentSimulation,
    valid: np.ndarray,
    *,
    n_components: int = 3,
    max_samples: int = 2048,
    max_lag: int | None = None,
    seed: int = 0,
) -> RateGeometry:
    """PCA, participation ratio and autocorrelation of the rates (all N neurons) of ``sim``
    on its valid steps ``valid`` (T, B) bool, from at most ``max_samples`` sampled time points
    (all when fewer); two passes over chunks of neurons, memory O(S^2 + T B chunk).
    The participation ratio is trace(G)^2 / |G|_F^2 of the samples' Gram matrix G (the same
    as from the covariance's eigenvalues); the components come from G's top eigenvectors."""
    gram, picks = sample_gram(net, sim, valid, max_samples=max_samples, seed=seed)
    total = float(gram.trace())
    ratio_pr = total**2 / float((gram**2).sum())
    k = min(n_components, len(gram) - 1)
    values, vectors = _top_eigenpairs(gram.numpy(), k)
    scale = torch.from_numpy(np.sqrt(np.where(values > 0, values, 1.0)))
    vectors_t = torch.from_numpy(vectors)
    steps = sim.outputs.shape[0]
    max_lag = steps // 2 if max_lag is None else max_lag
    size = net.options.n_hidden
    components = torch.zeros(k, size, dtype=torch.float64)
    mean = torch.zeros(size, dtype=torch.float64)
    projections = torch.zeros(*valid.shape, k, dtype=torch.float64)
    correlation = torch.zeros(max_lag + 1, dtype=torch.float64)
    mask = torch.from_numpy(valid).unsqueeze(-1)
    for part, rates in rate_chunks(net, sim):
        x = rates[picks].double()
        mean[part] = x.mean(dim=0)
        comp = (x - mean[part]).T @ vectors_t / scale  # (chunk, k): columns unit overall
        components[:, part] = comp.T
        projections += (rates.double() - mean[part]) @ comp
        correlation += lagged_products(rates.masked_fill(~mask, 0.0), max_lag)
    components, projections = components.numpy(), projections.numpy()
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    components *= signs[:, None]
    projections *= signs
    correlation = correlation.numpy()
    correlation = correlation / correlation[0] if correlation[0] else correlation
    return RateGeometry(
        PCA(mean.numpy(), components, values / total),
        float(ratio_pr),
        projections,
        correlation,
        len(gram),
    )


def sample_gram(
    net: Any, sim: LatentSimulation, valid: np.ndarray, *, max_samples: int = 2048, seed: int = 0
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """The Gram matrix (S, S) float64 of the centred rates of all neurons at S <= ``max_samples``
    time points sampled (seeded) from the valid steps (T, B), and the (t, b) indices picked."""
    points = np.argwhere(valid)
    if len(points) < 2:
        raise InvalidParameterError("rate statistics need at least two valid time points")
    rng = np.random.default_rng(seed)
    if len(points) > max_samples:
        points = points[np.sort(rng.choice(len(points), max_samples, replace=False))]
    picks = (torch.from_numpy(points[:, 0]), torch.from_numpy(points[:, 1]))
    gram = torch.zeros(len(points), len(points), dtype=torch.float64)
    for _, rates in rate_chunks(net, sim):
        x = rates[picks].double()
        x -= x.mean(dim=0)
        gram.addmm_(x, x.T)
    if float(gram.trace()) <= 0:
        raise InvalidParameterError("participation ratio of activity with zero variance")
    return gram, picks


def participation_ratio_large(
    net: Any, sim: LatentSimulation, valid: np.ndarray, *, max_samples: int = 2048, seed: int = 0
) -> float:
    """Participation ratio of the rates of all N neurons, trace(G)^2 / |G|_F^2 of the Gram
    matrix G of sampled time points (see `sample_gram`); one pass over chunks of neurons."""
    gram, _ = sample_gram(net, sim, valid, max_samples=max_samples, seed=seed)
    return float(gram.trace()) ** 2 / float((gram**2).sum())


def _top_eigenpairs(gram: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues (descending, >= 0) and eigenvectors (S, k) of a symmetric
    PSD matrix (Lanczos; dense for small matrices)."""
    if len(gram) <= 256:
        values, vectors = np.linalg.eigh(gram)
        values, vectors = values[::-1][:k], vectors[:, ::-1][:, :k]
    else:
        from scipy.sparse.linalg import eigsh

        start = np.ones(len(gram)) / np.sqrt(len(gram))
        values, vectors = eigsh(gram, k=k, which="LA", v0=start)
        order = np.argsort(-values)
        values, vectors = values[order], vectors[:, order]
    return np.maximum(values, 0.0), vectors


def lagged_products(activity: Tensor, max_lag: int) -> Tensor:
    """sum over trials and neurons of x_t x_{t+lag} / (T - lag) for lag = 0..max_lag, with x
    the activity (T, B, n) minus its time average (the unnormalised `autocorrelation`), by FFT
    along time: O(T log T B n) instead of O(T^2 B n); float64 result."""
    steps = activity.shape[0]
    x = activity - activity.mean(dim=0)
    spectrum = torch.view_as_real(torch.fft.rfft(x, n=2 * steps, dim=0))
    power = spectrum.square().sum(dim=(1, 2, 3)).double()
    lags = torch.arange(max_lag + 1, dtype=torch.float64)
    return torch.fft.irfft(power, n=2 * steps)[: max_lag + 1] / (steps - lags)


@dataclass(frozen=True)
class LatentMap:
    """The latent map of a low-rank rate network at a constant input, float64:
    step(kappa) = (1 - alpha) kappa + alpha n^T f(m kappa + W_in u + b) / N for kappa (k, K);
    its analytic Jacobian (k, K, K); the rates f(m kappa + W_in u + b) (k, N) and the outputs
    (k, O) at kappa (the fixed-point values of r and y)."""

    step: Any
    jacobian: Any
    rates: Any
    readout: Any


def latent_map(net: Any, inputs: np.ndarray) -> LatentMap:
    """The `LatentMap` of a standalone low-rank leaky_rate ``net`` at ``inputs`` (I,)."""
    w = _weights(net)
    alpha = float(net.alpha.flatten()[0])
    drive = torch.as_tensor(np.asarray(inputs, dtype=np.float64)) @ w["w_in"].T + w["bias"]
    activation, slope = net.options.activation, float(net.activation_slope[0])
    m, enc = w["m"], w["n"] / w["n"].shape[0]

    def phi(kappa: Tensor) -> Tensor:
        return activate(activation, kappa @ m.T + drive, slope)

    def step(kappa: Tensor) -> Tensor:
        return (1 - alpha) * kappa + alpha * phi(kappa) @ enc

    def jacobian(kappa: Tensor) -> Tensor:
        with torch.no_grad():
            gain = derivative_from_output_(activation, phi(kappa), slope)  # f' (k, N)
            eye = torch.eye(kappa.shape[1], dtype=kappa.dtype)
            parts = [  # (points, K, N) @ (N, K) a few points at a time: O(K N) memory each
                torch.matmul(enc.T * g.unsqueeze(1), m) for g in gain.split(8)
            ]
            return (1 - alpha) * eye + alpha * torch.cat(parts) if parts else eye[:0]

    def rates(kappa: Tensor) -> np.ndarray:
        with torch.no_grad():
            return phi(kappa).numpy()

    def readout(kappa: Tensor) -> np.ndarray:
        with torch.no_grad():
            return net.readout_activation(phi(kappa) @ w["w_out"].T + w["b_out"]).numpy()

    return LatentMap(step, jacobian, rates, readout)


def latent_fixed_points(
    net: Any,
    kappa: np.ndarray,
    inputs: np.ndarray,
    *,
    n_initial: int = 256,
    seed: int = 0,
    tol_fixed: float = 1e-10,
    starts: np.ndarray | None = None,
    **options: Any,
) -> FixedPoints:
    """Fixed and slow points of a low-rank leaky_rate ``net`` in kappa space at the constant
    input ``inputs`` (I,), started from ``n_initial`` points sampled on ``kappa`` (..., K)
    (plus ``starts`` (k, K) when given, e.g. a teacher's fixed points).
    States are kappa (k, K); rates and outputs are those of the N neurons at each point
    (r* = f(m kappa* + W_in u + b)); eigenvalues are the K latent ones (1/s); the other N - K
    are -1/tau, so stability counts them as stable directions."""
    field = latent_map(net, inputs)
    flat = np.asarray(kappa, dtype=np.float64).reshape(-1, kappa.shape[-1])
    x0 = sample_states(flat[None], n_initial, seed) if n_initial else flat[:0]
    if starts is not None:
        x0 = np.concatenate([x0, np.asarray(starts, dtype=np.float64)])
    x, speed = solve_fixed_points(field.step, x0, jacobian=field.jacobian, **options)
    return linearise(
        field.step,
        np.asarray(inputs, dtype=np.float64),
        x,
        speed,
        continuous=True,
        dt_ms=net.config.dt_ms,
        readout=field.readout,
        rates=field.rates,
        tol_fixed=tol_fixed,
        full_size=net.options.n_hidden,
        jacobian=field.jacobian,
    )


def low_rank_spectrum(net: Any) -> WeightSpectrum:
    """The nonzero eigenvalues (K,) and singular values (K,) of W = m n^T / N, exactly, from
    K x K cores (the other N - K eigenvalues and singular values are 0)."""
    w = _weights(net)
    m, n = w["m"].numpy(), w["n"].numpy()
    size = m.shape[0]
    values = np.linalg.eigvals(n.T @ m / size)
    values = values[np.argsort(-np.abs(values), kind="stable")]
    r_m, r_n = np.linalg.qr(m, mode="r"), np.linalg.qr(n, mode="r")
    singular = np.linalg.svd(r_m @ r_n.T / size, compute_uv=False)
    return WeightSpectrum(f"W (rank {m.shape[1]})", values, singular, True)


def connectivity_block(net: Any, size: int = 200) -> dict[str, np.ndarray]:
    """The first ``size`` x ``size`` block of W = m n^T / N (the whole W is never formed)."""
    w = _weights(net)
    k = min(size, w["m"].shape[0])
    block = w["m"][:k] @ w["n"][:k].T / w["m"].shape[0]
    return {f"W[:{k}, :{k}]": block.numpy()}
