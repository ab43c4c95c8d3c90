"""Unit lesions (as Yang et al. 2019's ``lesion_units``): silence a set of units by cutting every
connection out of them (their recurrent output weights and their readout weights), then score
the lesioned network on the task again.  The units still receive input and still evolve; they
just no longer influence any other unit or the outputs."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from rnnzoo.analysis.network import simulate, single_network
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.tasks.batch import TrialBatch

_OUTGOING = ("w_rec", "w_out")
"""Weights whose columns are a unit's outgoing connections (presynaptic axis last)."""


def lesion(net: Network, units: list[int] | np.ndarray, *, member: int | None = None) -> Network:
    """A copy of ``net`` (or of ensemble ``member``) whose ``units`` send nothing: their columns
    of the recurrent weights (every gate's, for GRU and LSTM; the factor n of a low-rank
    W = m n^T / N) and of the readout are 0."""
    net = single_network(net, member)
    units = np.unique(np.asarray(units, dtype=np.int64))
    size = net.options.n_hidden
    if units.size and not (units.min() >= 0 and units.max() < size):
        raise InvalidParameterError(
            f"'units' must be in [0, {size}) (n_hidden); got {units.min()} .. {units.max()}"
        )
    cut = copy.deepcopy(net)
    index = torch.as_tensor(units)
    with torch.no_grad():
        for name, param in cut.named_parameters():
            if name in _OUTGOING:
                param[..., index] = 0.0
            elif name == "n":  # low rank: column j of m n^T / N is m n_j / N
                param[:, index, :] = 0.0
    return cut


def lesion_performance(
    net: Network,
    task: Any,
    units: list[int] | np.ndarray,
    *,
    batch: TrialBatch | None = None,
    member: int | None = None,
) -> dict[str, Any]:
    """Mean performance of ``net`` on ``task`` (its test grid, or ``batch``; noise-free) before
    and after lesioning ``units``: {"units", "before", "after", "change"}."""
    net = single_network(net, member)
    batch = task.generate_test() if batch is None else batch
    before = float(np.mean(task.performance(simulate(net, batch.inputs).outputs, batch)))
    lesioned = lesion(net, units)
    after = float(np.mean(task.performance(simulate(lesioned, batch.inputs).outputs, batch)))
    return {
        "units": np.unique(np.asarray(units, dtype=np.int64)).tolist(),
        "before": before,
        "after": after,
        "change": after - before,
    }
