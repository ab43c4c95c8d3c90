"""Trial figures that do not mislead: inputs, targets and outputs on their own axes, every input
shown, padding cropped, rings as heat maps with their decoded direction, legends on the page."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from rnnzoo import tasks
from rnnzoo.tasks.channels import channel_groups, ring_direction
from rnnzoo.tasks.plot import plot_trials
from rnnzoo.tasks.yang2019.encoding import bump


def _rows(fig, n_trials):
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    return [axes[i::n_trials] for i in range(n_trials)]  # per column


def test_channels_group_into_lines_and_rings():
    groups = channel_groups(tasks.make("dm1").input_names)
    assert [(g.label, g.kind, len(g.indices)) for g in groups] == [
        ("", "lines", 21),  # fixation and the 20 rule units
        ("ring1", "ring", 32),
        ("ring2", "ring", 32),
    ]
    assert [g.kind for g in channel_groups(("pulse_0", "pulse_1", "pulse_2"))] == ["lines"]
    assert sorted(i for g in groups for i in g.indices) == list(range(85))  # every input shown


def test_ring_direction_reads_the_bump_and_nothing_from_a_flat_ring():
    angles = np.array([0.3, 2.0, 5.5])
    np.testing.assert_allclose(ring_direction(0.05 + bump(angles)), angles, atol=1e-6)
    flat = np.full((2, 32), 0.05)
    assert np.isnan(ring_direction(flat)).all()
    noise = np.random.default_rng(0).normal(0, 0.1, (50, 32))
    assert np.isnan(ring_direction(noise)).mean() > 0.9


@pytest.mark.parametrize("name", ["flipflop", "dm1", "tmaze"])
def test_inputs_targets_outputs_on_their_own_axes_cropped_with_legends_on_the_page(name):
    task = tasks.make(name, "realistic") if name == "tmaze" else tasks.make(name)
    batch = task.generate(3, 0)
    outputs = batch.targets + 0.1
    fig = plot_trials(batch, outputs=outputs, trials=[0, 1, 2])
    inputs, targets = channel_groups(batch.input_names), channel_groups(batch.output_names)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    # one row per input group, per target group and per output group, and the loss weights
    assert len(labels) == len(inputs) + 2 * len(targets) + 1
    assert sum(lab.startswith("inputs") for lab in labels) == len(inputs)
    assert sum(lab.startswith("outputs") for lab in labels) == len(targets)
    columns = _rows(fig, 3)
    for trial, column in enumerate(columns):
        for ax in column:  # padding is cropped: each trial ends where its length does
            assert ax.get_xlim()[1] == pytest.approx(batch.lengths[trial] * batch.dt_ms)
    line_inputs = sum(len(g.indices) for g in inputs if g.kind == "lines")
    assert len(columns[0][0].get_lines()) >= line_inputs  # every plain input is drawn
    fig.canvas.draw()
    page = fig.bbox
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            box = legend.get_window_extent()
            assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, (name, ax.get_ylabel())
            assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1
    images = [ax for ax in fig.axes if ax.get_images()]
    rings = sum(g.kind == "ring" for g in inputs) + 2 * sum(g.kind == "ring" for g in targets)
    assert len(images) == 3 * rings  # every ring is a heat map, in every column
    for ax in images:
        if "ring" in ax.get_ylabel() and "targets" in ax.get_ylabel():
            assert any(line.get_label() == "decoded direction" for line in ax.get_lines())


def test_a_trained_looking_ring_output_shows_the_direction_it_encodes():
    task = tasks.make("fdgo")
    batch = task.generate(2, 1)
    fig = plot_trials(batch, outputs=batch.targets, trials=[0])
    ring_out = next(ax for ax in fig.axes if ax.get_ylabel() == "outputs:\nring")
    direction = next(
        line for line in ring_out.get_lines() if line.get_label() == "decoded direction"
    )
    drawn = np.asarray(direction.get_ydata(), dtype=float)
    expected = batch.conditions["response_loc"][0] * 32 / (2 * np.pi) - 0.5
    assert np.nanmedian(drawn) == pytest.approx(expected, abs=0.05)
    assert np.isnan(drawn[: batch.epochs["go1"][0, 0]]).all()  # no direction before the go cue
