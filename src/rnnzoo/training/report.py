"""A small report of a finished run: loss and performance curves, example trials with the
network's outputs, and the hidden states projected on their first principal components.

Data first: `report_data` returns arrays; `plot_report` draws them (headless matplotlib).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo._atomic import atomic_path
from rnnzoo.models import load_model
from rnnzoo.training.build import build_task
from rnnzoo.training.config import RunConfig
from rnnzoo.training.protocol import network_kwargs


def report_data(run_dir: str | Path, n_trials: int = 3, seed: int = 0) -> dict[str, Any]:
    """Curves, example trials and a PCA of the hidden states of member 0 of ``run_dir``.

    Returns steps/loss/performance (E,), inputs (T, n, I), targets and outputs (T, n, O),
    weights (T, n, O), pcs (T, n, 3) and explained (3,) variance fractions.
    """
    run_dir = Path(run_dir)
    config = RunConfig.from_yaml(run_dir / "config.yaml")
    records = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    records = [r for r in records if "loss" in r]
    task = build_task(config)
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
    rates = net.rates(out.states.unsqueeze(0))[0].numpy()  # (T, B, N)
    flat = rates.reshape(-1, rates.shape[-1]).astype(np.float64)
    flat = flat - flat.mean(axis=0)
    _, s, vt = np.linalg.svd(flat, full_matrices=False)
    k = min(3, vt.shape[0])
    signs = np.sign(vt[:k, np.abs(vt[:k]).argmax(axis=1)].diagonal())  # deterministic axes
    pcs = (rates - rates.reshape(-1, rates.shape[-1]).mean(axis=0)) @ (vt[:k].T * signs)
    return {
        "steps": np.array([r["step"] for r in records]),
        "loss": np.array([r["loss"] for r in records]),
        "performance": np.array([r["performance"] for r in records]),
        "inputs": batch.inputs[:, :n_trials],
        "targets": batch.targets[:, :n_trials],
        "weights": batch.weights[:, :n_trials],
        "outputs": out.outputs.numpy()[:, :n_trials],
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

    path = Path(path)
    n = data["outputs"].shape[1]
    fig = plt.figure(figsize=(12, 3 + 2.2 * n))
    grid = fig.add_gridspec(1 + n, 2)
    ax = fig.add_subplot(grid[0, 0])
    ax.semilogy(data["steps"], data["loss"], "o-", color="k", ms=3)
    ax.set(xlabel="step", ylabel="training loss", title=data["title"])
    ax = fig.add_subplot(grid[0, 1])
    ax.plot(data["steps"], data["performance"], "o-", color="C2", ms=3)
    ax.set(xlabel="step", ylabel="held-out performance", ylim=(0, 1.02))
    t = np.arange(data["outputs"].shape[0]) * data["dt_ms"]
    for i in range(n):
        ax = fig.add_subplot(grid[1 + i, 0])
        for o in range(data["outputs"].shape[2]):
            ax.plot(
                t,
                data["inputs"][:, i, min(o, data["inputs"].shape[2] - 1)] * 0.5 + 3 * o,
                color="0.7",
                lw=0.8,
            )
            ax.plot(t, data["targets"][:, i, o] + 3 * o, color=f"C{o}", ls="--", lw=1)
            ax.plot(t, data["outputs"][:, i, o] + 3 * o, color=f"C{o}", lw=1.2)
        ax.set(ylabel=f"trial {i}", yticks=[])
        if i == n - 1:
            ax.set_xlabel("time (ms)  (grey: input, dashed: target, solid: output)")
    ax = fig.add_subplot(grid[1:, 1], projection="3d" if data["pcs"].shape[-1] >= 3 else None)
    pcs = data["pcs"]
    for b in range(pcs.shape[1]):
        ax.plot(*(pcs[:, b, j] for j in range(min(3, pcs.shape[-1]))), lw=0.6)
    ev = data["explained"]
    ax.set_title("hidden states, PCA (" + ", ".join(f"{100 * e:.0f}%" for e in ev) + " var.)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return path
