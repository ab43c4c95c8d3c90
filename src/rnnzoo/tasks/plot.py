"""Figures of task batches (matplotlib, headless). Data first: these only draw a `TrialBatch`
(and, optionally, network outputs on it).

Each trial is one column, cropped to its own length (padding is not drawn).  Rows: the plain
inputs as lines, then each input population or ring as a heat map (units x time), then the
targets the same way, the network's outputs the same way (on their own axes, on the targets'
scale), and the loss weights.  A ring's heat map carries the direction its activity encodes
(`rnnzoo.tasks.channels.ring_direction`).  Legends sit on the page, right of the last column;
channels near 0 throughout the drawn trials are counted there, not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.channels import (
    ChannelGroup,
    channel_groups,
    direction_in_units,
    ring_direction,
    weight_traces,
)

LINE_ROW_INCHES = 1.35
MAP_ROW_INCHES = 1.15
COLUMN_INCHES = 3.6
LEGEND_INCHES = 1.9
MAX_LEGEND_ENTRIES = 12
QUIET_FRACTION = 0.25
"""In a row of more than MAX_LEGEND_ENTRIES lines, a channel whose largest |value| in the drawn
trials is below this fraction of the row's largest is left out of the legend (counted as near
0: e.g. the rule inputs of the other Yang et al. tasks, which carry only input noise)."""


@dataclass(frozen=True)
class _Row:
    """One row of the figure: ``what`` inputs/targets/outputs/weights, its channel group, the
    array (T, B, C) it reads, and the y range it shares with its twin (targets/outputs)."""

    what: str
    group: ChannelGroup
    array: np.ndarray
    limits: tuple[float, float]


def _limits(*arrays: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values)]
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    pad = 0.06 * (high - low)
    return low - pad, high + pad


def _rows(batch: TrialBatch, trials: np.ndarray, outputs: np.ndarray | None) -> list[_Row]:
    valid = batch.valid[:, trials]

    def shown(array: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
        return array[:, trials][:, :, list(indices)][valid]

    rows = [
        _Row("inputs", g, batch.inputs, _limits(shown(batch.inputs, g.indices)))
        for g in channel_groups(batch.input_names)
    ]
    for g in channel_groups(batch.output_names):
        arrays = [batch.targets] + ([outputs] if outputs is not None else [])
        limits = _limits(*(shown(a, g.indices) for a in arrays))
        rows.append(_Row("targets", g, batch.targets, limits))
        if outputs is not None:
            rows.append(_Row("outputs", g, outputs, limits))
    every = tuple(range(len(batch.output_names)))
    weights = ChannelGroup("", "weights", every, batch.output_names)
    limits = _limits(shown(batch.weights, every), np.zeros(1))
    rows.append(_Row("loss weights", weights, batch.weights, limits))
    return rows


def _row_label(row: _Row) -> str:
    """The row's name: what it shows and, for a population, its name (one line per dotted
    part, so that a composition's long names fit)."""
    if not row.group.label:
        return row.what
    return f"{row.what}:\n" + row.group.label.replace(".", ".\n")


def _draw_lines(ax: Any, traces: list[tuple[str, np.ndarray]], t: np.ndarray, row: _Row) -> None:
    for k, (name, trace) in enumerate(traces):
        ax.plot(t, trace, lw=1.1, color=f"C{k % 10}", label=name)
    ax.set_ylim(*row.limits)


def _draw_map(ax: Any, row: _Row, values: np.ndarray, t_end: float) -> Any:
    from matplotlib import patheffects

    n = values.shape[1]
    low, high = row.limits
    image = ax.imshow(
        values.T,
        aspect="auto",
        origin="lower",
        extent=(0.0, t_end, -0.5, n - 0.5),
        cmap="viridis",
        vmin=low,
        vmax=high,
        interpolation="nearest",
    )
    if row.group.kind == "ring":
        position = direction_in_units(ring_direction(values), n) - 0.5
        t = (np.arange(len(values)) + 0.5) * (t_end / max(len(values), 1))
        outline = [patheffects.withStroke(linewidth=2.6, foreground="white")]
        ax.plot(t, position, color="k", lw=1.2, path_effects=outline, label="decoded direction")
        ax.set_ylim(-0.5, n - 0.5)
    ax.set_yticks([0, n - 1])
    return image


def draw_trials(
    fig: Any,
    batch: TrialBatch,
    trials: np.ndarray | list[int],
    outputs: np.ndarray | None = None,
) -> list[list[Any]]:
    """Draw ``trials`` of ``batch`` (with network ``outputs`` (T, B, O) when given) into the
    matplotlib Figure or SubFigure ``fig``; returns the axes (rows x trials)."""
    trials = np.asarray(trials, dtype=int)
    rows = _rows(batch, trials, outputs)
    heights = [LINE_ROW_INCHES if r.group.kind == "lines" else MAP_ROW_INCHES for r in rows]
    axes = fig.subplots(
        len(rows), len(trials), squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    for col, trial in enumerate(trials):
        steps = int(batch.lengths[trial])
        t = np.arange(steps) * batch.dt_ms
        t_end = steps * batch.dt_ms
        for r, row in enumerate(rows):
            ax = axes[r][col]
            values = row.array[:steps, trial][:, list(row.group.indices)].astype(np.float64)
            if row.group.kind == "weights":
                _draw_lines(ax, weight_traces(batch.output_names, values), t, row)
            elif row.group.kind == "lines":
                _draw_lines(ax, list(zip(row.group.names, values.T, strict=True)), t, row)
            else:
                image = _draw_map(ax, row, values, t_end)
                if col == len(trials) - 1:
                    fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
            for bounds in batch.epochs.values():
                start = bounds[trial, 0]
                if 0 < start < steps and row.group.kind in ("lines", "weights"):
                    ax.axvline(start * batch.dt_ms, color="0.85", lw=0.8, zorder=0)
            ax.set_xlim(0, t_end)
            if r < len(rows) - 1:
                ax.tick_params(labelbottom=False)
            if col == 0:
                ax.set_ylabel(_row_label(row), fontsize=8)
            ax.tick_params(labelsize=7)
        axes[0][col].set_title(f"trial {int(trial)} ({t_end:g} ms)", fontsize=9)
        axes[-1][col].set_xlabel("time (ms)", fontsize=8)
    for r, row in enumerate(rows):
        _legend(list(axes[r]), row)
    return axes


def _legend(row_axes: list[Any], row: _Row) -> None:
    """The legend of a row, right of its last axes: the channels that are not near 0
    throughout the drawn trials (at most MAX_LEGEND_ENTRIES), and how many more there are."""
    ax = row_axes[-1]
    handles, labels = ax.get_legend_handles_labels()
    if row.group.kind in ("population", "ring"):
        drawn = any(
            np.isfinite(np.asarray(line.get_ydata(), dtype=np.float64)).any()
            for a in row_axes
            for line in a.get_lines()
        )
        if handles and drawn:  # the direction, where the ring held a bump in some trial
            ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.3, 1.0))
        return
    peak: dict[str, float] = {}
    for a in row_axes:
        for line in a.get_lines():
            y = np.abs(np.asarray(line.get_ydata(), dtype=np.float64))
            peak[line.get_label()] = max(peak.get(line.get_label(), 0.0), float(y.max(initial=0)))
    top = max(peak.values(), default=0.0)
    crowded = len(handles) > MAX_LEGEND_ENTRIES
    active = [
        (h, lab)
        for h, lab in zip(handles, labels, strict=True)
        if not crowded or peak[lab] > QUIET_FRACTION * top
    ]
    quiet = len(handles) - len(active)
    shown = active[:MAX_LEGEND_ENTRIES]
    more = len(active) - len(shown)
    notes = [f"{more} more" if more else "", f"{quiet} near 0 throughout" if quiet else ""]
    title = ", ".join(n for n in notes if n) or None
    if shown or title:
        ax.legend(
            [h for h, _ in shown],
            [lab for _, lab in shown],
            fontsize=7,
            title=title,
            title_fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )


def figure_size(batch: TrialBatch, n_trials: int, with_outputs: bool) -> tuple[float, float]:
    """Width and height (inches) of a trials figure."""
    groups = channel_groups(batch.input_names)
    groups += channel_groups(batch.output_names) * (2 if with_outputs else 1)
    height = sum(LINE_ROW_INCHES if g.kind == "lines" else MAP_ROW_INCHES for g in groups)
    return COLUMN_INCHES * n_trials + LEGEND_INCHES, 0.9 + height + LINE_ROW_INCHES


def plot_trials(
    batch: TrialBatch,
    *,
    n_trials: int = 3,
    outputs: np.ndarray | None = None,
    title: str | None = None,
    trials: np.ndarray | list[int] | None = None,
) -> Any:
    """A figure of ``trials`` (default: the first ``n_trials``) of ``batch``: inputs, targets,
    network ``outputs`` (T, B, O) if given, and loss weights.  Returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if trials is None:
        trials = np.arange(max(1, min(n_trials, batch.batch_size)))
    trials = np.asarray(trials, dtype=int)
    fig = plt.figure(
        figsize=figure_size(batch, len(trials), outputs is not None), layout="constrained"
    )
    draw_trials(fig, batch, trials, outputs)
    if title:
        fig.suptitle(title)
    return fig
