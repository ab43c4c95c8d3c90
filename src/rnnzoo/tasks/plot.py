"""Figures of task batches (matplotlib, headless). Data first: these only draw a `TrialBatch`."""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.tasks.batch import TrialBatch


def plot_trials(
    batch: TrialBatch,
    *,
    n_trials: int = 3,
    outputs: np.ndarray | None = None,
    title: str | None = None,
) -> Any:
    """Inputs, targets (and network ``outputs`` (T, B, O) if given) and loss weights of the
    first ``n_trials`` trials; one column per trial, time in ms. Returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = max(1, min(n_trials, batch.batch_size))
    fig, axes = plt.subplots(3, n, figsize=(4.2 * n, 7.5), squeeze=False, sharex="col")
    for col in range(n):
        steps = int(batch.lengths[col])
        t = np.arange(steps) * batch.dt_ms
        ax_in, ax_out, ax_w = axes[:, col]
        for i, name in enumerate(batch.input_names):
            ax_in.plot(t, batch.inputs[:steps, col, i], lw=1, label=name)
        for o, name in enumerate(batch.output_names):
            line = ax_out.plot(t, batch.targets[:steps, col, o], lw=1.5, label=f"target {name}")[0]
            if outputs is not None:
                ax_out.plot(
                    t,
                    outputs[:steps, col, o],
                    lw=1,
                    ls="--",
                    color=line.get_color(),
                    label=f"output {name}",
                )
            ax_w.plot(t, batch.weights[:steps, col, o], lw=1, label=name)
        for bounds in batch.epochs.values():
            start = bounds[col, 0]
            if 0 < start < steps:
                for ax in (ax_in, ax_out, ax_w):
                    ax.axvline(start * batch.dt_ms, color="0.8", lw=0.8, zorder=0)
        ax_w.set_ylim(-0.1, max(1.1, 1.1 * float(batch.weights[:steps, col].max(initial=0))))
        ax_in.set_title(f"trial {col}")
        ax_w.set_xlabel("time (ms)")
        if col == 0:
            ax_in.set_ylabel("inputs")
            ax_out.set_ylabel("targets" + (" / outputs" if outputs is not None else ""))
            ax_w.set_ylabel("loss weights")
    for ax in axes[:, -1]:
        _handles, labels = ax.get_legend_handles_labels()
        if 0 < len(labels) <= 12:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
