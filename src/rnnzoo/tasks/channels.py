"""How a task's channels are shown: plain channels as lines, populations as heat maps, rings
with their decoded direction.  Shared by the figures (`rnnzoo.tasks.plot`) and the GUI preview.

A population is a run of at least `MIN_POPULATION` channels named ``<prefix>_0`` ..
``<prefix>_<n-1>`` (e.g. the 32 units ``ring1_0`` .. ``ring1_31`` of a Yang et al. ring); it is
a ring when the prefix's last dotted part starts with ``ring``: unit i prefers the angle
2*pi*i/n, and the direction the activity encodes is its population vector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

MIN_POPULATION = 8
"""Fewest numbered channels drawn as one heat map instead of lines."""

MIN_RESULTANT = 0.5
"""A ring's direction is read out only at steps where its activity (above its minimum) is a
bump: the resultant length |sum a_i exp(i theta_i)| / sum a_i is at least this (a Yang et al.
bump gives 0.92, flat noise about 0.2); elsewhere the ring encodes no direction."""

_NUMBERED = re.compile(r"^(?P<prefix>.+)_(?P<index>\d+)$")


@dataclass(frozen=True)
class ChannelGroup:
    """Channels shown together: ``kind`` "lines" (each channel a line), "population" (a heat
    map, units x time) or "ring" (a heat map with the decoded direction); ``indices`` into the
    batch's channel axis, ``names`` the channel names."""

    label: str
    kind: str
    indices: tuple[int, ...]
    names: tuple[str, ...]


def channel_groups(names: tuple[str, ...] | list[str]) -> list[ChannelGroup]:
    """Split channel ``names`` into groups, in order: one "lines" group of every plain channel
    (first, when there is one), then each population or ring."""
    numbered: dict[str, list[tuple[int, int]]] = {}
    for i, name in enumerate(names):
        match = _NUMBERED.match(name)
        if match:
            numbered.setdefault(match["prefix"], []).append((int(match["index"]), i))
    populations = {
        prefix: [i for _, i in sorted(members)]
        for prefix, members in numbered.items()
        if len(members) >= MIN_POPULATION
        and sorted(k for k, _ in members) == list(range(len(members)))
    }
    grouped = {i for indices in populations.values() for i in indices}
    lines = tuple(i for i in range(len(names)) if i not in grouped)
    groups = []
    if lines:
        groups.append(ChannelGroup("", "lines", lines, tuple(names[i] for i in lines)))
    for prefix, indices in populations.items():
        kind = "ring" if prefix.split(".")[-1].startswith("ring") else "population"
        groups.append(ChannelGroup(prefix, kind, tuple(indices), tuple(names[i] for i in indices)))
    return groups


def ring_direction(values: np.ndarray) -> np.ndarray:
    """Direction (rad, in [0, 2*pi)) encoded by ring activity (T, n) at each step: the
    population vector of the activity above its minimum; NaN where that is no bump (see
    `MIN_RESULTANT`)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[-1]
    preferred = 2 * np.pi * np.arange(n) / n
    above = values - values.min(axis=-1, keepdims=True)
    sin, cos = above @ np.sin(preferred), above @ np.cos(preferred)
    total = above.sum(axis=-1)
    resultant = np.hypot(sin, cos) / np.where(total > 0, total, np.inf)
    angle = np.mod(np.arctan2(sin, cos), 2 * np.pi)
    return np.where(resultant >= MIN_RESULTANT, angle, np.nan)


def direction_in_units(angle: np.ndarray, n_units: int) -> np.ndarray:
    """A direction (rad) as a position on the unit axis (0 .. n), NaN inserted where it wraps
    around so that a drawn line does not cross the whole map."""
    position = np.asarray(angle, dtype=np.float64) * n_units / (2 * np.pi)
    jumps = np.abs(np.diff(position)) > n_units / 2
    position = position.copy()
    position[1:][jumps] = np.nan
    return position


def weight_traces(
    output_names: tuple[str, ...], weights: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """The loss weights (T, O) of one trial as (label, trace (T,)): each plain output channel,
    and the largest weight of each population (its units share one profile or nearly)."""
    traces = []
    for group in channel_groups(output_names):
        if group.kind == "lines":
            traces += [(n, weights[:, i]) for n, i in zip(group.names, group.indices, strict=True)]
        else:
            label = f"{group.label} (max over units)"
            traces.append((label, weights[:, list(group.indices)].max(axis=1)))
    return traces
