"""Figures of the learning-rate collapse study, shaped like the poster's panels: success heat
maps over (N, lr) with the eta_max line, eta_max against N on log axes with the fitted
slopes, steps to criterion against N per arm, peak memory against N with the model, and
the one-step drive change against N."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.analysis.plots import _pyplot, _save
from rnnzoo.bench.scaling_results import BetaFit, EtaMax, StepsRow


def plot_success_maps(table: dict, etas: list[EtaMax], path: Path) -> Path:
    """One heat map per model: success fraction over (log2 N, log10 lr), eta_max marked."""
    plt = _pyplot()
    models = sorted({m for m, _, _ in table})
    fig, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models), 4.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        sizes = sorted({n for m, n, _ in table if m == model})
        rates = sorted({lr for m, _, lr in table if m == model})
        grid = np.full((len(rates), len(sizes)), np.nan)
        for (m, n, lr), frac in table.items():
            if m == model:
                grid[rates.index(lr), sizes.index(n)] = frac
        image = ax.imshow(
            grid,
            origin="lower",
            aspect="auto",
            cmap="viridis",
            vmin=0,
            vmax=1,
            extent=(-0.5, len(sizes) - 0.5, -0.5, len(rates) - 0.5),
        )
        line = [
            (
                sizes.index(e.n_hidden),
                np.interp(np.log10(e.interpolated), np.log10(rates), np.arange(len(rates))),
            )
            for e in etas
            if e.model == model and e.interpolated is not None
        ]
        if line:
            ax.plot(*zip(*line, strict=True), "w-o", lw=2, label="eta_max (success 0.5)")
            ax.legend(loc="lower left", fontsize=8)
        ax.set_xticks(range(len(sizes)), [str(n) for n in sizes])
        ticks = range(0, len(rates), max(1, len(rates) // 8))
        ax.set_yticks(list(ticks), [f"{rates[i]:.0e}" for i in ticks])
        ax.set(xlabel="neurons N", ylabel="learning rate", title=f"{model}: success fraction")
        fig.colorbar(image, ax=ax, shrink=0.85)
    fig.tight_layout()
    return _save(fig, path)


def plot_eta_max(etas: list[EtaMax], fits: list[BetaFit], path: Path) -> Path:
    """eta_max (interpolated) against N on log axes, one line per model, with the fit."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    for i, fit in enumerate(fits):
        points = [
            (e.n_hidden, e.interpolated, e.censored)
            for e in etas
            if e.model == fit.model and e.interpolated
        ]
        if not points:
            continue
        n, eta, censored = (np.array(v) for v in zip(*points, strict=True))
        colour = f"C{i}"
        ax.loglog(n[~censored], eta[~censored], "o", color=colour)
        ax.loglog(n[censored], eta[censored], "^", color=colour, mfc="none")
        label = fit.model
        if fit.beta is not None:
            xs = np.array([n.min(), n.max()], dtype=float)
            ax.loglog(xs, 10 ** (fit.intercept - fit.beta * np.log10(xs)), "-", color=colour)
            ci = "" if fit.ci_low is None else f" [{fit.ci_low:.2f}, {fit.ci_high:.2f}]"
            label = f"{fit.model}: beta = {fit.beta:.2f}{ci}"
        ax.plot([], [], "o-", color=colour, label=label)
    ax.set(
        xlabel="neurons N",
        ylabel="eta_max (largest trainable lr)",
        title="learning-rate collapse (triangles: top of grid)",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def plot_steps(rows: list[StepsRow], path: Path) -> Path:
    """Median steps to criterion (IQR bars) against N, one line per (model, arm)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    groups = sorted({(r.model, r.arm) for r in rows})
    for i, (model, arm) in enumerate(groups):
        mine = sorted(
            (r for r in rows if (r.model, r.arm) == (model, arm)), key=lambda r: r.n_hidden
        )
        ok = [r for r in mine if r.median_steps is not None]
        if not ok:
            continue
        n = np.array([r.n_hidden for r in ok])
        med = np.array([r.median_steps for r in ok])
        err = np.array([[r.median_steps - r.q25, r.q75 - r.median_steps] for r in ok]).T
        style = {"fixed_lr": "-", "lr_rescaled": "--", "param_rescaled": ":"}[arm]
        ax.errorbar(
            n, med, yerr=err, fmt="o" + style, color=f"C{i}", capsize=3, label=f"{model}, {arm}"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(
        xlabel="neurons N",
        ylabel="steps to criterion (median, IQR)",
        title="rescaling the learning rate slows training",
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_memory(rows: list[dict[str, Any]], path: Path) -> Path:
    """Peak memory rise of one step (measured, solid) and the model (dashed) against N per
    variant; out-of-memory points marked at the cap."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    for i, variant in enumerate(variants):
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["n_hidden"])
        colour = f"C{i}"
        ok = [r for r in mine if not r["oom"]]
        if ok:
            ax.loglog(
                [r["n_hidden"] for r in ok],
                [(r["peak_rss_bytes"] - r["rss_before_bytes"]) / 1e9 for r in ok],
                "o-",
                color=colour,
                label=f"{variant} (peak RSS rise)",
            )
        ax.loglog(
            [r["n_hidden"] for r in mine],
            [r["model"]["total"] / 1e9 for r in mine],
            "--",
            color=colour,
            lw=1,
            label=f"{variant} (model)",
        )
        oom = [r for r in mine if r["oom"]]
        if oom:
            ax.loglog(
                [r["n_hidden"] for r in oom],
                [r["cap_gb"] for r in oom],
                "x",
                color=colour,
                ms=10,
                mew=2,
                label=f"{variant}: out of memory at the cap",
            )
    shape = rows[0]["shape"] if rows else ""
    ax.set(xlabel="neurons N", ylabel="GB", title=f"memory of one Adam step, B x T x D = {shape}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_drive_change(rows: list[dict[str, Any]], slopes: dict[str, float], path: Path) -> Path:
    """The one-step drive change (per seed and mean) against N, log axes, with slopes."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    for i, model in enumerate(sorted({r["model"] for r in rows})):
        mine = [r for r in rows if r["model"] == model]
        sizes = sorted({r["n_hidden"] for r in mine})
        means = [np.mean([r["change"] for r in mine if r["n_hidden"] == n]) for n in sizes]
        ax.loglog(
            [r["n_hidden"] for r in mine],
            [r["change"] for r in mine],
            ".",
            color=f"C{i}",
            alpha=0.5,
        )
        label = f"{model}: slope {slopes[model]:.2f}" if model in slopes else model
        ax.loglog(sizes, means, "o-", color=f"C{i}", label=label)
    lr = rows[0]["lr"] if rows else float("nan")
    ax.set(
        xlabel="neurons N",
        ylabel="RMS change of W r after one Adam step",
        title=f"one-step diagnostic (lr {lr:g})",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
