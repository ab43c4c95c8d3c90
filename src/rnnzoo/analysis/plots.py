"""Figures of the analyses (headless matplotlib, written atomically).  Each function draws data
an analysis returned; none computes anything beyond layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.analysis.fixed_points import FixedPoints
from rnnzoo.analysis.latent_circuit import LatentCircuit
from rnnzoo.analysis.psychometric import PsychometricCurve
from rnnzoo.analysis.state_space import PCA
from rnnzoo.analysis.task_variance import TaskVariance
from rnnzoo.analysis.weights import WeightSpectrum
from rnnzoo.tasks.batch import TrialBatch

_STABILITY_COLOURS = {"stable": "k", "saddle": "C3", "unstable": "C1", "marginal": "C0"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    _pyplot().close(fig)
    return path


def plot_trials(
    batch: TrialBatch, outputs: np.ndarray, path: str | Path, trials: np.ndarray | None = None
) -> Path:
    """Example ``trials`` of ``batch`` (default the first 3) with the network's ``outputs``
    (T, B, O): inputs, targets, outputs on their own axes, rings as heat maps with the decoded
    direction, padding cropped (`rnnzoo.tasks.plot.draw_trials`).  Outputs that are not the
    task's channels (a2c's action logits and value) are not drawn on the targets' axes."""
    from rnnzoo.tasks.plot import plot_trials as draw

    title = "example trials (noise-free network)"
    if outputs.shape[-1] != len(batch.output_names):
        outputs, title = None, f"{title}; its outputs are not the task's channels (not drawn)"
    fig = draw(batch, outputs=outputs, trials=trials, title=title)
    return _save(fig, path)


def _axes3d(fig, dims: int):
    return fig.add_subplot(111, projection="3d" if dims >= 3 else None)


def plot_pca(
    projections: np.ndarray,
    labels: np.ndarray,
    pca_fit: PCA,
    path: str | Path,
    fixed: FixedPoints | None = None,
) -> Path:
    """Trajectories projected on the PCs (T, B, k), one colour per condition label (B,), with
    the fixed points marked (filled: stable, open: other)."""
    plt = _pyplot()
    dims = min(3, projections.shape[-1])
    fig = plt.figure(figsize=(6.5, 5.5))
    ax = _axes3d(fig, dims)
    categories = {v: i for i, v in enumerate(np.unique(labels))}
    for b in range(projections.shape[1]):
        colour = f"C{categories[labels[b]] % 10}"
        ax.plot(*(projections[:, b, j] for j in range(dims)), color=colour, lw=0.5, alpha=0.7)
    if fixed is not None and len(fixed):
        points = pca_fit.transform(fixed.rates)[:, :dims]
        stable = (fixed.stability == "stable") & fixed.is_fixed
        ax.scatter(*points[stable].T, color="k", s=40, marker="o", label="stable")
        ax.scatter(
            *points[~stable].T, facecolors="none", edgecolors="C3", s=40, label="other fixed/slow"
        )
        ax.legend(loc="upper left", fontsize=7)
    ev = pca_fit.explained_variance_ratio
    ax.set_title("PCA of hidden states (" + ", ".join(f"{100 * e:.0f}%" for e in ev) + " var.)")
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    if dims >= 3:
        ax.set_zlabel("PC3")
    return _save(fig, path)


def plot_fixed_points(fixed: FixedPoints, pca_fit: PCA, path: str | Path) -> Path:
    """Left: fixed/slow points on PC1-PC2 coloured by stability, the first unstable direction
    of each saddle drawn through it.  Right: their Jacobian eigenvalues with the stability
    boundary (Re = 0 for continuous time, the unit circle for discrete)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    points = pca_fit.transform(fixed.rates) if len(fixed) else np.zeros((0, 2))
    for k in range(len(fixed)):
        colour = _STABILITY_COLOURS[str(fixed.stability[k])]
        marker = "o" if fixed.is_fixed[k] else "x"
        left.scatter(points[k, 0], points[k, 1], color=colour, marker=marker, s=30)
        if fixed.unstable_directions[k].shape[1]:
            d = fixed.unstable_rate_direction[k] @ pca_fit.components[:2].T
            scale = 0.1 * max(np.ptp(points[:, :2]), 1e-6)
            left.plot(*np.stack([points[k, :2] - scale * d, points[k, :2] + scale * d]).T, c=colour)
        right.scatter(fixed.eigenvalues[k].real, fixed.eigenvalues[k].imag, s=6, color=colour)
    for name, colour in _STABILITY_COLOURS.items():
        left.scatter([], [], color=colour, label=name)
    left.legend(fontsize=7)
    left.set(xlabel="PC1", ylabel="PC2", title=f"{fixed.n_fixed} fixed points (x: slow points)")
    if fixed.time == "continuous":
        right.axvline(0, color="0.5", ls="--")
        right.set(xlabel="Re lambda (1/s)", ylabel="Im lambda (1/s)")
    else:
        theta = np.linspace(0, 2 * np.pi, 200)
        right.plot(np.cos(theta), np.sin(theta), color="0.5", ls="--")
        right.set(xlabel="Re lambda", ylabel="Im lambda", aspect="equal")
    right.set_title(f"Jacobian eigenvalues ({fixed.time} time)")
    fig.tight_layout()
    return _save(fig, path)


def plot_spectrum(spectrum: WeightSpectrum, path: str | Path) -> Path:
    """Eigenvalues of the recurrent matrix with the stability reference, and its singular
    values."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    values = spectrum.eigenvalues
    left.scatter(values.real, values.imag, s=8, color="k")
    if spectrum.continuous:
        left.axvline(1, color="C3", ls="--", label="Re = 1 (stability of rest)")
    else:
        theta = np.linspace(0, 2 * np.pi, 200)
        left.plot(np.cos(theta), np.sin(theta), color="C3", ls="--", label="unit circle")
    left.legend(fontsize=7)
    left.set(xlabel="Re", ylabel="Im", aspect="equal", title=f"eigenvalues of {spectrum.name}")
    right.semilogy(np.arange(1, len(spectrum.singular_values) + 1), spectrum.singular_values, ".-")
    right.set(xlabel="index", ylabel="singular value", title=f"singular values of {spectrum.name}")
    fig.tight_layout()
    return _save(fig, path)


def plot_connectivity(blocks: dict[str, np.ndarray], path: str | Path) -> Path:
    """Each named recurrent block as a colour-coded matrix (rows: post-, columns:
    presynaptic neurons), symmetric colour scale."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(blocks), figsize=(4.8 * len(blocks), 4.4), squeeze=False)
    for ax, (name, w) in zip(axes[0], blocks.items(), strict=True):
        bound = float(np.abs(w).max()) or 1.0
        image = ax.imshow(w, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
        ax.set(title=name, xlabel="presynaptic", ylabel="postsynaptic")
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return _save(fig, path)


def plot_psychometric(curve: PsychometricCurve, path: str | Path) -> Path:
    """Choice fractions against the condition value, one line per choice."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for c, name in enumerate(curve.choices):
        ax.plot(curve.values, curve.choice_fraction[:, c], "o-", label=f"P({name})")
    ax.set(xlabel=curve.condition, ylabel="fraction of trials", ylim=(-0.02, 1.02))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def plot_latent_circuit(
    circuit: LatentCircuit,
    node_names: tuple[str, ...],
    path: str | Path,
    channel_names: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
) -> Path:
    """The latent circuit's connectivity w_rec (n, n), with its input weights w_in (n, I') and
    readout w_out (O', n), nodes named by the task's channels (``node_names``), the input and
    output channels by ``channel_names``, fit quality in the title."""
    plt = _pyplot()
    n = circuit.n_nodes
    n_in, n_out = circuit.w_in.shape[1], circuit.w_out.shape[0]
    size = 0.32 * n + 2.5
    fig, (ax_in, ax_rec, ax_out) = plt.subplots(
        1,
        3,
        figsize=(size * 2.1 + 1.5, size),
        gridspec_kw={"width_ratios": [max(n_in, 1), n, max(n_out, 1)]},
        layout="constrained",
    )
    bound = float(np.abs(circuit.w_rec).max()) or 1.0
    image = ax_rec.imshow(circuit.w_rec, cmap="RdBu_r", vmin=-bound, vmax=bound)
    ticks = np.arange(n)
    ax_rec.set_xticks(ticks, node_names, rotation=90, fontsize=7)
    ax_rec.set_yticks(ticks, node_names, fontsize=7)
    ax_rec.set(title="w_rec (to row from column)", xlabel="from node")
    fig.colorbar(image, ax=ax_rec, shrink=0.7)
    panels = ((ax_in, circuit.w_in, "w_in"), (ax_out, circuit.w_out.T, "w_out^T"))
    for (ax, w, title), names in zip(panels, channel_names, strict=True):
        edge = float(np.abs(w).max()) or 1.0
        ax.imshow(w, cmap="RdBu_r", vmin=-edge, vmax=edge, aspect="auto")
        ax.set_yticks(ticks, node_names, fontsize=7)
        labels = list(names) if len(names) == w.shape[1] else [str(k) for k in range(w.shape[1])]
        ax.set_xticks(np.arange(w.shape[1]), labels, rotation=90, fontsize=7)
        ax.set_title(title, fontsize=9)
    ax_in.set_xlabel("input channel")
    ax_out.set_xlabel("output channel")
    fig.suptitle(
        f"latent circuit, {n} nodes: Qx vs y R^2 = {circuit.embedding_r2:.2f}, "
        f"outputs R^2 = {circuit.output_r2:.2f}",
        fontsize=10,
    )
    return _save(fig, path)


def plot_task_variance(result: TaskVariance, lesions: np.ndarray | None, path: str | Path) -> Path:
    """Left: the active units' normalised task variance (units sorted by cluster, cluster
    borders drawn; Yang et al. 2019 Fig. 3).  Right: the change of each task's performance when
    each cluster is lesioned (their Fig. 4), when ``lesions`` (C + 1, K) is given."""
    plt = _pyplot()
    order = np.argsort(result.cluster, kind="stable")
    k = len(result.tasks)
    panels = 2 if lesions is not None else 1
    fig, axes = plt.subplots(
        1, panels, figsize=(4.0 + 0.35 * k * panels, 5.5), squeeze=False, layout="constrained"
    )
    ax = axes[0, 0]
    image = ax.imshow(result.normalised[order], aspect="auto", cmap="hot", vmin=0, vmax=1)
    borders = np.flatnonzero(np.diff(result.cluster[order])) + 0.5
    for y in borders:
        ax.axhline(y, color="w", lw=1.0)
    ax.set_xticks(np.arange(k), result.tasks, rotation=90, fontsize=7)
    ax.set(
        ylabel=f"active units ({len(order)}), by cluster",
    )
    ax.set_title(
        f"normalised task variance\n{result.n_clusters} clusters "
        f"(silhouette {result.silhouette:.2f})",
        fontsize=9,
    )
    fig.colorbar(image, ax=ax, shrink=0.7)
    if lesions is not None:
        ax = axes[0, 1]
        change = lesions[1:] - lesions[0]
        bound = float(np.abs(change).max()) or 1.0
        image = ax.imshow(change, aspect="auto", cmap="coolwarm_r", vmin=-bound, vmax=bound)
        ax.set_xticks(np.arange(k), result.tasks, rotation=90, fontsize=7)
        ax.set_yticks(
            np.arange(result.n_clusters),
            [f"cluster {c}" for c in range(result.n_clusters)],
            fontsize=7,
        )
        ax.set_title("performance change\nwhen a cluster is lesioned", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.7)
    return _save(fig, path)
