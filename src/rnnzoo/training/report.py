"""A small report of a finished run: loss and performance curves (per member and per task,
`rnnzoo.training.report_curves`), example trials with the network's outputs, and the hidden
states projected on their first principal components.

Data first: `report_data` returns arrays; `plot_report` draws them (headless matplotlib).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo._atomic import atomic_path
from rnnzoo.models import load_model
from rnnzoo.training.build import build_task, task_view
from rnnzoo.training.config import RunConfig
from rnnzoo.training.metrics import METRICS_FILE, read_metrics
from rnnzoo.training.protocol import network_kwargs
from rnnzoo.training.report_curves import curve_data, draw_curves


def report_data(run_dir: str | Path, n_trials: int = 3, seed: int = 0) -> dict[str, Any]:
    """Curves, example trials and a PCA of the hidden states of member 0 of ``run_dir``.

    Returns "curves" (`curve_data`: steps, loss and performance per member and per task),
    batch (the n example trials, a `TrialBatch`), outputs (T, n, O) of the network on them
    (None when they are not the task's outputs: a2c's action logits and value),
    pcs (T, 16, 3) and explained (3,) variance fractions.
    """
    run_dir = Path(run_dir)
    config = RunConfig.from_yaml(run_dir / "config.yaml")
    records = [r for r in read_metrics(run_dir / METRICS_FILE) if "loss" in r]
    task = build_task(config)
    # a rule with outputs of its own (a2c: action logits and a value) is not drawn on targets
    drawn = _outputs_match_targets(config, task)
    net = load_model(run_dir / "model.safetensors")
    if net.config.ensemble is not None:
        net = net.member(0)
    # large (convolutional) networks: fewer trials for the PCA, whose states are (T, B, S)
    batch = task.generate(max(n_trials, 64 if net.state_size <= 4096 else 8), seed, split="test")
    with torch.no_grad():
        out = net(
            torch.from_numpy(batch.inputs),
            return_states=True,
            generator=torch.Generator(),
            **network_kwargs(batch, "cpu"),
        )
    rates = net.rates(out.states.unsqueeze(0))[0].numpy().astype(np.float64)  # (T, B, N)
    mean = rates[batch.valid].mean(axis=0)  # trial steps only: padding is not activity
    _, s, vt = np.linalg.svd(rates[batch.valid] - mean, full_matrices=False)
    k = min(3, vt.shape[0])
    signs = np.sign(vt[:k, np.abs(vt[:k]).argmax(axis=1)].diagonal())  # deterministic axes
    pcs = (rates - mean) @ (vt[:k].T * signs)
    pcs[~batch.valid] = np.nan
    shown = batch.select(np.arange(n_trials))  # padded to its own longest trial
    return {
        "curves": curve_data(records),
        "batch": shown,
        "outputs": out.outputs.numpy()[: shown.n_steps, :n_trials] if drawn else None,
        "pcs": pcs[:, : min(16, pcs.shape[1])],
        "explained": (s[:k] ** 2) / (s**2).sum(),
        "dt_ms": float(batch.dt_ms),
        "title": f"{config.task.get('task', 'multitask')} / {config.model.kind}",
    }


def plot_report(data: dict[str, Any], path: str | Path) -> Path:
    """Draw ``report_data`` into one PNG at ``path`` (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnzoo.tasks.plot import draw_trials, figure_size

    path = Path(path)
    batch, outputs = data["batch"], data["outputs"]
    n = batch.batch_size
    trials_width, trials_height = figure_size(batch, n, with_outputs=outputs is not None)
    fig = plt.figure(
        figsize=(max(12.0, trials_width), 3.2 + trials_height + 4.5), layout="constrained"
    )
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[3.2, trials_height, 4.5])
    draw_curves(top, top.add_gridspec(1, 1)[0, 0], data["curves"], data["title"])
    draw_trials(middle, batch, np.arange(n), outputs)
    title = "example trials (held-out): inputs, targets, network outputs, loss weights"
    if outputs is None:
        title = "example trials (held-out): inputs, targets, loss weights (outputs not drawn)"
    middle.suptitle(title)
    ax = bottom.add_subplot(111, projection="3d" if data["pcs"].shape[-1] >= 3 else None)
    pcs = data["pcs"]
    for b in range(pcs.shape[1]):
        ax.plot(*(pcs[:, b, j] for j in range(min(3, pcs.shape[-1]))), lw=0.6)
    ev = data["explained"]
    ax.set_title("hidden states, PCA (" + ", ".join(f"{100 * e:.0f}%" for e in ev) + " var.)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path


def _outputs_match_targets(config: RunConfig, task: Any) -> bool:
    """Whether the run's network outputs are the task's outputs (not, e.g., a2c's policy)."""
    return tuple(task_view(config, task).output_names) == tuple(task.output_names)
