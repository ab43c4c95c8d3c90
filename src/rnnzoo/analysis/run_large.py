"""`analyze_run` for large low-rank firing-rate networks (N > `LARGE_NEURONS`): the same
summary keys and figures as for any network, computed in latent form (see
`rnnzoo.analysis.large`): fixed points in kappa space, PCA and participation ratio over all
neurons from sampled time points, the exact low-rank spectrum, the first 200 x 200 block of W.
Its summary adds ``"latent_form": true`` and ``rate_samples`` (time points used by PCA)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo.analysis import plots
from rnnzoo.analysis.large import (
    connectivity_block,
    latent_fixed_points,
    latent_map,
    low_rank_spectrum,
    rate_geometry,
    simulate_latent,
)
from rnnzoo.analysis.state_space import autocorrelation_time, lyapunov_exponent

# the fixed-point search of a large network costs O(points x N x K) per map evaluation
INITIAL_POINTS = 64
ADAM_ITERS = 150


def analyze_large(config: Any, net: Any, task: Any, out: Path, seed: int) -> dict[str, Any]:
    """The summary (not yet written) and figures of a large low-rank network; see
    `rnnzoo.analysis.run.analyze_run`."""
    from rnnzoo.analysis.run import (
        N_EXAMPLE_TRIALS,
        _with_projections,
        analysis_batch,
        condition_labels,
        resting_input,
    )

    batch = analysis_batch(task, seed)
    sim = simulate_latent(net, batch.inputs)
    valid = batch.valid
    rest = resting_input(batch)
    kappa_valid = sim.kappa[1:][valid]
    fixed = latent_fixed_points(
        net, kappa_valid, rest, seed=seed, n_initial=INITIAL_POINTS, max_iters=ADAM_ITERS
    )
    geometry = rate_geometry(net, sim, valid, seed=seed)
    spectrum = low_rank_spectrum(net)
    # the rates of trial 0 after its first step, r_1 = alpha f(m kappa_0 + W_in u_0 + b)
    rates_at_start = latent_map(net, batch.inputs[0, 0]).rates
    alpha = float(net.alpha.flatten()[0])
    first = alpha * rates_at_start(torch.from_numpy(sim.kappa[0, :1]))[0]
    summary: dict[str, Any] = {
        "run_dir": "",
        "task": config.task.get("task", "composition"),
        "model": net.kind,
        "member": 0,
        "n_trials": batch.batch_size,
        "resting_input": rest.tolist(),
        "latent_form": True,
        "rate_samples": geometry.n_samples,
        "n_fixed_points": fixed.n_fixed,
        "n_stable": fixed.n_stable,
        "fixed_points": _with_projections(fixed, geometry.pca),
        "participation_ratio": geometry.participation_ratio,
        "pca_explained_variance": geometry.pca.explained_variance_ratio.tolist(),
        "autocorrelation_time_ms": autocorrelation_time(geometry.autocorrelation, batch.dt_ms),
        "lyapunov_exponent_per_s": lyapunov_exponent(net, first, rest, seed=seed),
        "spectrum": spectrum.summary(),
    }
    n = min(N_EXAMPLE_TRIALS, batch.batch_size)
    picks = np.linspace(0, batch.batch_size - 1, n).round().astype(int)
    projections = np.where(valid[..., None], geometry.projections, np.nan)
    drawn = {
        "trials": plots.plot_trials(batch, sim.outputs, out / "trials.png", picks),
        "pca": plots.plot_pca(
            projections, condition_labels(batch), geometry.pca, out / "pca.png", fixed
        ),
        "fixed_points": plots.plot_fixed_points(fixed, geometry.pca, out / "fixed_points.png"),
        "spectrum": plots.plot_spectrum(spectrum, out / "spectrum.png"),
        "connectivity": plots.plot_connectivity(connectivity_block(net), out / "connectivity.png"),
    }
    summary["figures"] = {name: path.name for name, path in drawn.items()}
    return summary
