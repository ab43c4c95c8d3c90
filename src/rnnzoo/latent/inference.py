"""Inference on held-out trials: the large network against its teacher (task performance,
latent R^2, fixed points of the latent fields, participation ratio of the rates)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnzoo.analysis.fixed_points import linearise, sample_states, solve_fixed_points
from rnnzoo.analysis.large import (
    latent_fixed_points,
    participation_ratio_large,
    simulate_latent,
)
from rnnzoo.latent.system import LatentData, LatentSystem
from rnnzoo.models import Network

SAMPLED_STARTS = 32  # trajectory points that also start the large network's fixed-point search


def normalised_latent_loss(kappa: np.ndarray, z: np.ndarray, valid: np.ndarray) -> float:
    """sum |kappa - z|^2 / sum |z - mean z|^2 over the valid steps (T, B) (= 1 - R^2)."""
    diff, zv = (kappa - z)[valid], z[valid]
    total = float(((zv - zv.mean(axis=0)) ** 2).sum())
    return float((diff**2).sum()) / max(total, 1e-300)


def task_performance(task: Any, outputs: np.ndarray, data: LatentData) -> float:
    """Mean task metric of outputs (T, B, O) on the batch of ``data``."""
    return float(np.mean(task.performance(outputs, data.batch)))


def teacher_outputs(system: LatentSystem, data: LatentData) -> np.ndarray:
    """The teacher's outputs (after its readout activation) on ``data``."""
    linear = torch.from_numpy(data.teacher_linear)
    return system.teacher.readout_activation(linear).numpy()


def evaluate(net: Network, system: LatentSystem, task: Any, data: LatentData) -> dict[str, float]:
    """Held-out task performance of ``net`` and of the teacher, and the latent R^2 (kappa of
    ``net`` against the teacher's z) on ``data``."""
    sim = simulate_latent(net, data.batch.inputs)
    loss = normalised_latent_loss(sim.kappa[1:], data.z, data.batch.valid)
    return {
        "performance": task_performance(task, sim.outputs, data),
        "teacher_performance": task_performance(task, teacher_outputs(system, data), data),
        "ssl_loss": loss,
        "latent_r2": 1.0 - loss,
    }


def teacher_fixed_points(system: LatentSystem, data: LatentData, inputs: np.ndarray, seed: int):
    """Fixed points of the teacher's latent map z -> (1 - alpha) z + alpha E f(M z + W_in u +
    b) at the constant input ``inputs`` (I,), from points sampled on its trajectories and
    jittered by their spread (so that basins the trials only pass by are searched too)."""
    enc = torch.from_numpy(system.encoding)
    emb = torch.from_numpy(system.embedding)
    drive = torch.from_numpy(system.w_in @ np.asarray(inputs, dtype=np.float64) + system.bias)
    alpha = system.alpha
    from rnnzoo.models.activations import activate, derivative_from_output_

    slope = float(system.teacher.activation_slope[0])

    def phi(z: torch.Tensor) -> torch.Tensor:
        return activate(system.activation, z @ emb.T + drive, slope)

    def step(z: torch.Tensor) -> torch.Tensor:
        return (1 - alpha) * z + alpha * phi(z) @ enc.T

    def rates(z: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return phi(z).numpy()

    def jacobian(z: torch.Tensor) -> torch.Tensor:  # (1 - alpha) I + alpha E diag(f') M
        with torch.no_grad():
            gain = derivative_from_output_(system.activation, phi(z), slope)
            eye = torch.eye(z.shape[1], dtype=z.dtype)
            return (1 - alpha) * eye + alpha * (enc.unsqueeze(0) * gain.unsqueeze(1)) @ emb

    zv = data.z[data.batch.valid]
    spread = float(np.sqrt(((zv - zv.mean(axis=0)) ** 2).sum(axis=1).mean()))
    x0 = sample_states(zv[None], 256, seed, noise_scale=spread / np.sqrt(zv.shape[1]))
    x, speed = solve_fixed_points(step, x0, jacobian=jacobian)
    return linearise(
        step,
        np.asarray(inputs, dtype=np.float64),
        x,
        speed,
        continuous=True,
        dt_ms=system.teacher.config.dt_ms,
        readout=lambda z: np.zeros((len(z), 0)),
        rates=rates,
        full_size=system.n_teacher,
        jacobian=jacobian,
    )


def compare_fixed_points(
    net: Network, system: LatentSystem, data: LatentData, inputs: np.ndarray, seed: int
) -> dict[str, Any]:
    """Fixed points of the large network's latent field against the teacher's: counts, and
    for each teacher fixed point the distance to the nearest large-network fixed point,
    relative to the spread of z (RMS distance of z from its mean).  The large network's
    search starts at the teacher's fixed points and at `SAMPLED_STARTS` points of its own
    trajectories."""
    sim = simulate_latent(net, data.batch.inputs)
    valid = data.batch.valid
    theirs = teacher_fixed_points(system, data, inputs, seed)
    ref = theirs.states[theirs.is_fixed]
    ours = latent_fixed_points(
        net, sim.kappa[1:][valid], inputs, n_initial=SAMPLED_STARTS, seed=seed, starts=ref
    )
    mine = ours.states[ours.is_fixed]
    zv = data.z[valid]
    scale = float(np.sqrt(((zv - zv.mean(axis=0)) ** 2).sum(axis=1).mean()))
    if len(mine) and len(ref):
        gaps = np.linalg.norm(ref[:, None] - mine[None], axis=-1).min(axis=1) / scale
    else:
        gaps = np.array([np.inf] * len(ref))
    return {
        "teacher_fixed_points": len(ref),
        "teacher_stable": theirs.n_stable,
        "fixed_points": len(mine),
        "stable": ours.n_stable,
        "max_relative_distance": float(gaps.max()) if len(gaps) else None,
        "median_relative_distance": float(np.median(gaps)) if len(gaps) else None,
    }


def participation_ratio_of_rates(
    net: Network, data: LatentData, seed: int, max_samples: int = 2048
) -> float:
    """Participation ratio of the rates of all N neurons across the trials of ``data``."""
    sim = simulate_latent(net, data.batch.inputs)
    return participation_ratio_large(net, sim, data.batch.valid, max_samples=max_samples, seed=seed)
