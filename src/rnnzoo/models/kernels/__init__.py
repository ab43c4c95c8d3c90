"""Fused CPU kernels for the network cores, compiled on first use (see `build`).

`fused_ops(x)` returns the compiled ops (``torch.ops.rnnzoo_fused``) when they apply to
tensors like ``x`` (CPU, float32 or float64) and are enabled, else None, and the cores then run
their pure-PyTorch loops (the reference, always tested; CUDA tensors always take it).  When the
kernels cannot be built (no compiler, a failed build), one line is warned once per process and
the PyTorch path is used.  ``RNNZOO_KERNELS=0`` switches the kernels off; `use_kernels` does so
inside a ``with`` block (tests run every core both ways).
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import torch

from rnnzoo.models.kernels.build import BuildError, library

ACTIVATION_CODES = {"relu": 0, "tanh": 1, "softplus": 2, "sigmoid": 3, "prelu": 4}


class KernelWarning(UserWarning):
    """The fused kernels are unavailable; the PyTorch path is used."""


_lock = threading.Lock()
_state: dict[str, Any] = {"ops": None, "error": None, "enabled": None}


def _switched_on() -> bool:
    if _state["enabled"] is not None:
        return _state["enabled"]
    return os.environ.get("RNNZOO_KERNELS", "1").strip().lower() not in ("0", "off", "false", "no")


def load() -> Any | None:
    """The compiled ops namespace, building the library on first call; None (after one
    warning) when it cannot be built or loaded."""
    with _lock:
        if _state["ops"] is not None or _state["error"] is not None:
            return _state["ops"]
        try:
            torch.ops.load_library(str(library()))
            _state["ops"] = torch.ops.rnnzoo_fused
        except (BuildError, OSError, RuntimeError) as exc:
            _state["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            warnings.warn(
                f"rnnzoo: fused kernels unavailable ({_state['error']}); using the PyTorch path",
                KernelWarning,
                stacklevel=3,
            )
        return _state["ops"]


def fused_ops(like: torch.Tensor) -> Any | None:
    """The compiled ops if they apply to tensors like ``like`` and are enabled, else None."""
    if like.device.type != "cpu" or like.dtype not in (torch.float32, torch.float64):
        return None
    if not _switched_on():
        return None
    return load()


def available() -> bool:
    """Whether the compiled kernels load on this machine (builds them if needed)."""
    return load() is not None


def unavailable_reason() -> str | None:
    """Why the kernels did not load (None when they did or were not tried)."""
    return _state["error"]


@contextlib.contextmanager
def use_kernels(enabled: bool) -> Iterator[None]:
    """Switch the compiled kernels on or off inside the block (this process)."""
    previous = _state["enabled"]
    _state["enabled"] = enabled
    try:
        yield
    finally:
        _state["enabled"] = previous


def members_per_chunk(n_models: int, batch: int, size: int, width: int, itemsize: int) -> int:
    """Members the leaky kernels process together so that one step's working set (weights and
    three (B, N) blocks per member) stays within about 256 KiB of cache."""
    per_member = (size * width + 3 * batch * size) * itemsize
    return max(1, min(n_models, (256 * 1024) // max(per_member, 1)))
