"""Reused scratch buffers for the fused core.

Why: a fresh (M, T, B, N) buffer costs a page fault per 4 KiB on first touch (measured here:
140 ms to first-fill 256 MiB, 14 ms to refill it), which for small networks costs more than the
arithmetic.  The pool hands out buffers that are not referenced anywhere else (checked with the
storage's use count, so a buffer held by a caller, a saved autograd graph or a view is never
reused) and keeps them for the next training step.
"""

from __future__ import annotations

import math
import threading

import torch
from torch import Tensor


def _use_count(buffer: Tensor) -> int:
    return torch._C._storage_Use_Count(buffer.untyped_storage()._cdata)


class Workspace:
    """A pool of flat buffers per (dtype, device); `get` returns a view of the shape asked."""

    def __init__(self) -> None:
        self._free_count: dict[int, int] = {}
        self._buffers: list[Tensor] = []
        self._lock = threading.Lock()

    def get(self, shape: tuple[int, ...], like: Tensor) -> Tensor:
        """An uninitialised tensor of ``shape`` with ``like``'s dtype and device."""
        numel = math.prod(shape)
        with self._lock:
            best = None
            for buffer in self._buffers:
                if (
                    buffer.dtype == like.dtype
                    and buffer.device == like.device
                    and buffer.numel() >= numel
                    and _use_count(buffer) == self._free_count[id(buffer)]
                    and (best is None or buffer.numel() < best.numel())
                ):
                    best = buffer
            if best is None:
                self._drop_free_smaller_than(numel)
                best = torch.empty(numel, dtype=like.dtype, device=like.device)
                self._free_count[id(best)] = _use_count(best)
                self._buffers.append(best)
            return best[:numel].view(shape)

    def _drop_free_smaller_than(self, numel: int) -> None:
        keep = []
        for buffer in self._buffers:
            if buffer.numel() < numel and _use_count(buffer) == self._free_count[id(buffer)]:
                del self._free_count[id(buffer)]
            else:
                keep.append(buffer)
        self._buffers = keep

    def clear(self) -> None:
        """Forget every buffer (those still in use elsewhere stay alive there)."""
        with self._lock:
            self._buffers.clear()
            self._free_count.clear()

    @property
    def bytes_held(self) -> int:
        return sum(b.numel() * b.element_size() for b in self._buffers)


WORKSPACE = Workspace()
