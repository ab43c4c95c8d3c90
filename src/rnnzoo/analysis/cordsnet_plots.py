"""Figures of the convolutional analyses (headless matplotlib, written atomically): activity
of each area over time, the areas' operator spectra, dynamical regimes and noise robustness.
Each draws data the analyses returned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo.analysis.plots import _pyplot, _save


def plot_area_activity(
    activity: np.ndarray,
    shown: np.ndarray,
    dt_ms: float,
    path: str | Path,
    names: list[str],
) -> Path:
    """Mean rate of each area over time: activity (T, n, A) for n example trials, ``shown``
    (T, n) the image presentation (shaded)."""
    plt = _pyplot()
    n = activity.shape[1]
    fig, axes = plt.subplots(n, 1, figsize=(9, 1.2 + 1.8 * n), squeeze=False, sharex=True)
    t = np.arange(activity.shape[0]) * dt_ms
    for i, ax in enumerate(axes[:, 0]):
        on = shown[:, i] > 0
        if on.any():
            ax.fill_between(t, 0, 1, where=on, color="0.9", transform=ax.get_xaxis_transform())
        for a in range(activity.shape[2]):
            ax.plot(t, activity[:, i, a], color=f"C{a}", lw=1.2, label=names[a] if i == 0 else None)
        ax.set_ylabel(f"trial {i}\nmean rate")
    axes[0, 0].set_title("activity of each area over time (grey: image shown)")
    axes[0, 0].legend(loc="upper right", fontsize=7, ncol=min(4, activity.shape[2]))
    axes[-1, 0].set_xlabel("time (ms)")
    fig.tight_layout()
    return _save(fig, path)


def plot_area_spectra(spectra: list[dict[str, Any]], path: str | Path) -> Path:
    """Top eigenvalues of each area's recurrent convolution (ARPACK), with Re = 1 (the
    stability line of the linear rate dynamics tau dr/dt = -r + W r at rest)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for a, spectrum in enumerate(spectra):
        values = np.array(spectrum["eigenvalues"])
        label = f"area {a} (max residual {spectrum['max_residual']:.1e})"
        ax.scatter(values[:, 0], values[:, 1], s=12, color=f"C{a}", label=label)
    ax.axvline(1, color="C3", ls="--", lw=1, label="Re = 1")
    ax.set(xlabel="Re", ylabel="Im", title="largest-real-part eigenvalues of each area's W_rec")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_regimes(regimes: list[dict[str, Any]], path: str | Path) -> Path:
    """Lyapunov exponent and participation ratio against gain, coloured by regime."""
    plt = _pyplot()
    colours = {"stable": "k", "oscillatory": "C0", "chaotic": "C3"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for r in regimes:
        c = colours[r["regime"]]
        left.scatter(r["gain"], r["lyapunov_exponent_per_s"], color=c)
        right.scatter(r["gain"], r["participation_ratio"], color=c)
    for name, c in colours.items():
        left.scatter([], [], color=c, label=name)
    left.axhline(0, color="0.6", lw=0.8)
    left.set(xlabel="gain", ylabel="largest Lyapunov exponent (1/s)", title="regime by gain")
    left.legend(fontsize=7)
    right.set(xlabel="gain", ylabel="participation ratio", title="dimensionality of activity")
    fig.tight_layout()
    return _save(fig, path)


def plot_robustness(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Accuracy and relative deviation from noiseless activity against the noise level, for
    the CordsNet and its feed-forward CNN."""
    plt = _pyplot()
    levels = [r["noise"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label, colour in (("cordsnet", "CordsNet", "C0"), ("cnn", "CNN (stage 1)", "C1")):
        left.plot(levels, [r[f"{key}_accuracy"] for r in rows], "o-", color=colour, label=label)
        right.plot(levels, [r[f"{key}_deviation"] for r in rows], "o-", color=colour, label=label)
    left.set(xlabel="pixel noise std", ylabel="test accuracy", title="accuracy under noise")
    right.set(
        xlabel="pixel noise std",
        ylabel="relative deviation of the last area",
        title="deviation from noiseless activity",
    )
    left.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)
