"""What a training batch of a CordsNet costs in memory (activations kept for the gradient).

Measured on CPU (docs/benchmarks/cordsnet.md, `benchmarks/bench_cordsnet.py memory`): with
``memory="store"`` autograd keeps about STORE_FLOATS_PER_UNIT floats per unit and time step
(the conv inputs, the pre-activations, the feed-forward rectifications and the Euler updates);
``memory="recompute"`` keeps one state per chunk boundary and the activations of one chunk.
"""

from __future__ import annotations

import math
from typing import Any

STORE_FLOATS_PER_UNIT = 6.0


def memory_estimate(
    options: Any, *, batch_size: int, steps: int, members: int = 1, bytes_per_float: int = 4
) -> dict[str, float]:
    """Bytes of activation memory for one training step of ``members`` networks with
    ``options`` (`CordsNetOptions`) on ``batch_size`` trials of ``steps`` steps:
    {"store", "recompute", "weights_and_grads"}."""
    units = float(options.n_hidden)
    per_step = STORE_FLOATS_PER_UNIT * units * batch_size * members * bytes_per_float
    chunk = min(options.checkpoint_steps, steps)
    boundaries = math.ceil(steps / chunk)
    recompute = per_step * chunk + boundaries * units * batch_size * members * bytes_per_float
    return {
        "store": per_step * steps,
        "recompute": recompute,
        "units": units,
    }
