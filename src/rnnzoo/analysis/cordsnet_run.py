"""`rnnzoo analyze` for a CordsNet run: example trials, the activity of each area over time,
each area's operator spectrum (matrix-free ARPACK with residuals) and the PCA of the last
area; writes OUT/summary.json (atomically) and the figures, and returns the summary.

Convolutional networks have tens of thousands of units, so the states of only
``STATE_TRIALS`` trials are kept (the performance uses the whole analysis batch), and fixed
points are not searched (use `rnnzoo.analysis.convolutional.linearised_operator` at a state
of interest instead).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo._atomic import atomic_path
from rnnzoo.analysis import cordsnet_plots, plots
from rnnzoo.analysis.convolutional import conv_operator, eigenpairs
from rnnzoo.analysis.state_space import participation_ratio, pca
from rnnzoo.models import Network
from rnnzoo.training.protocol import network_kwargs

STATE_TRIALS = 16
N_EXAMPLES = 3
TOP_K = 12


def simulate_batch(net: Network, batch: Any) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free outputs (T, B, O) and states (T, B, S) of a standalone network (float32)."""
    with torch.no_grad():
        out = net(
            torch.from_numpy(batch.inputs),
            return_states=True,
            noise=False,
            generator=torch.Generator(),
            **network_kwargs(batch, "cpu"),
        )
    return out.outputs.numpy(), out.states.numpy()


def analyze_cordsnet_run(
    config: Any,
    net: Network,
    task: Any,
    batch: Any,
    out: Path,
    run_dir: Path,
    member: int,
    seed: int,
) -> dict[str, Any]:
    """The analysis of a CordsNet run (see the module docstring)."""
    with torch.no_grad():
        outputs = net(
            torch.from_numpy(batch.inputs),
            noise=False,
            generator=torch.Generator(),
            **network_kwargs(batch, "cpu"),
        ).outputs.numpy()
    performance = float(np.mean(task.performance(outputs, batch)))
    few = batch.select(np.arange(min(STATE_TRIALS, batch.batch_size)))
    _, states = simulate_batch(net, few)
    arch = net.arch
    names = [f"area {i} ({a.channels}x{a.size}x{a.size})" for i, a in enumerate(arch.areas)]
    if net.options.backend_hidden:
        names.append(f"back-end ({net.options.backend_hidden})")
    groups = net.state_groups()
    activity = np.stack([states[..., g].mean(-1) for g in groups], -1)  # (T, B, A)
    spectra = []
    for i, area in enumerate(arch.areas):
        k = min(TOP_K, area.units - 2)
        spectra.append(
            eigenpairs(conv_operator(net, i), k, which="LR", seed=seed).summary()
            if k >= 1
            else {"eigenvalues": [], "max_residual": 0.0}
        )
    last = states[..., groups[len(arch.areas) - 1]]
    valid = few.valid
    space = pca(last[valid], n_components=min(3, last.shape[-1]))
    n = min(N_EXAMPLES, few.batch_size)
    picks = np.arange(n)
    gates = (
        few.inputs[..., : net.n_gates].max(-1) if net.n_gates else np.zeros(few.inputs.shape[:2])
    )
    projections = np.where(valid[..., None], space.transform(last), np.nan)
    from rnnzoo.analysis.run import condition_labels

    drawn = {
        "trials": plots.plot_trials(few, outputs, out / "trials.png", picks),
        "areas": cordsnet_plots.plot_area_activity(
            activity[:, picks], gates[:, picks], few.dt_ms, out / "areas.png", names
        ),
        "spectrum": cordsnet_plots.plot_area_spectra(spectra, out / "spectrum.png"),
        "pca": plots.plot_pca(projections, condition_labels(few), space, out / "pca.png"),
    }
    summary = {
        "run_dir": str(run_dir),
        "task": config.task.get("task", "composition"),
        "model": net.kind,
        "member": member,
        "n_trials": batch.batch_size,
        "performance": performance,
        "areas": [
            {"channels": a.channels, "size": a.size, "units": a.units, "spectrum": s}
            for a, s in zip(arch.areas, spectra, strict=True)
        ],
        "participation_ratio": participation_ratio(last[valid]),
        "pca_explained_variance": space.explained_variance_ratio.tolist(),
        "figures": {name: path.name for name, path in drawn.items()},
    }
    with atomic_path(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
