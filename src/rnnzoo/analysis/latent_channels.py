"""The channels a latent circuit is fitted to, chosen from the task: each input channel the
analysed trials use and each output channel, with a ring (or population) of units pooled into
a few sectors (`rnnzoo.tasks.channels`).  A Yang et al. task's 85 inputs and 33 outputs become
about a dozen named channels (fixation, its rule unit, 4 sectors per ring shown), so the
circuit has a dozen nodes, not 118.

The pooling is linear: channels = raw @ matrix.T, with a mean over the units of each sector.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.channels import ChannelGroup, channel_groups


@dataclass(frozen=True)
class LatentChannels:
    """input_map (I', I) and output_map (O', O) pool raw channels into the circuit's;
    input_names (I',) and output_names (O',) name them."""

    input_map: np.ndarray
    output_map: np.ndarray
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]

    @property
    def n_nodes(self) -> int:
        """The circuit size the task suggests: one node per input and per output channel."""
        return len(self.input_names) + len(self.output_names)

    def inputs(self, raw: np.ndarray) -> np.ndarray:
        """Pooled inputs (T, B, I') from raw inputs (T, B, I)."""
        return np.asarray(raw, dtype=np.float64) @ self.input_map.T

    def outputs(self, raw: np.ndarray) -> np.ndarray:
        """Pooled outputs (T, B, O') from raw outputs (T, B, O)."""
        return np.asarray(raw, dtype=np.float64) @ self.output_map.T

    def node_names(self, n_nodes: int, structured: bool) -> tuple[str, ...]:
        """Names of the circuit's nodes: with the paper's structure input j drives node j and
        output k reads node n - O' + k, so those nodes carry the channels' names; the others
        (and every node of an unstructured circuit) are "node i"."""
        names = [f"node {i}" for i in range(n_nodes)]
        if not structured:
            return tuple(names)
        both = set(self.input_names) & set(self.output_names)
        for j, name in enumerate(self.input_names):
            names[j] = f"{name} (in)" if name in both else name
        for k, name in enumerate(self.output_names):
            slot = n_nodes - len(self.output_names) + k
            name = f"{name} (out)" if name in both else name
            names[slot] = name if names[slot].startswith("node") else f"{names[slot]} / {name}"
        return tuple(names)


def _rows(group: ChannelGroup, size: int, sectors: int) -> list[tuple[str, np.ndarray]]:
    """(name, pooling row (size,)) per channel of ``group``: plain channels one each, a ring or
    population split into ``sectors`` contiguous sectors of units (averaged)."""
    if group.kind == "lines":
        rows = []
        for name, index in zip(group.names, group.indices, strict=True):
            row = np.zeros(size)
            row[index] = 1.0
            rows.append((name, row))
        return rows
    units = len(group.indices)
    edges = np.linspace(0, units, min(sectors, units) + 1).round().astype(int)
    rows = []
    for a, b in itertools.pairwise(edges):
        row = np.zeros(size)
        row[list(group.indices[a:b])] = 1.0 / (b - a)
        if group.kind == "ring":
            centre = 360.0 * ((a + b - 1) / 2) / units
            rows.append((f"{group.label}@{centre:.0f}deg", row))
        else:
            rows.append((f"{group.label}[{a}:{b}]", row))
    return rows


def latent_channels(batch: TrialBatch, ring_sectors: int = 4) -> LatentChannels:
    """The circuit's channels for ``batch``: inputs that are 0 throughout its trials are left
    out (e.g. the other tasks' rule units); every output channel is kept."""
    inputs = [
        (name, row)
        for g in channel_groups(batch.input_names)
        for name, row in _rows(g, len(batch.input_names), ring_sectors)
    ]
    pooled = batch.inputs[batch.valid].astype(np.float64) @ np.array([r for _, r in inputs]).T
    used = np.abs(pooled).max(axis=0) > 0
    inputs = [pair for pair, keep in zip(inputs, used, strict=True) if keep]
    outputs = [
        (name, row)
        for g in channel_groups(batch.output_names)
        for name, row in _rows(g, len(batch.output_names), ring_sectors)
    ]
    return LatentChannels(
        input_map=np.array([r for _, r in inputs]).reshape(len(inputs), len(batch.input_names)),
        output_map=np.array([r for _, r in outputs]),
        input_names=tuple(n for n, _ in inputs),
        output_names=tuple(n for n, _ in outputs),
    )
