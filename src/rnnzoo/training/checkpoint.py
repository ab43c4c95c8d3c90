"""Checkpoints: weights in safetensors, training state with ``torch.save`` (tensors and plain
data only, loaded with ``weights_only=True``), made current by an atomic pointer file.

Layout under ``<run>/checkpoints/``::

    step_00000200/model.safetensors   weights and model config (rnnzoo.models.io)
    step_00000200/state.pt            optimiser state, step, generator states, counters
    latest.json                       {"step": 200, "dir": "step_00000200"}  (written last)

A crash at any point leaves ``latest.json`` naming a complete checkpoint; the two newest
checkpoint folders are kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network, load_model, save_model

KEEP = 2


def save_checkpoint(folder: Path, step: int, net: Network, state: dict[str, Any]) -> Path:
    """Write checkpoint ``step`` (weights + ``state``) and make it the latest; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"step_{step:08d}"
    target = folder / name
    if target.exists():
        shutil.rmtree(target)
    tmp = folder / f".{name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    save_model(net, tmp / "model.safetensors")
    with atomic_path(tmp / "state.pt") as path:
        torch.save(state, path)
    tmp.rename(target)
    with atomic_path(folder / "latest.json") as path:
        Path(path).write_text(json.dumps({"step": step, "dir": name}))
    for old in sorted(folder.glob("step_*"))[:-KEEP]:
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return target


def latest_checkpoint(folder: Path) -> Path | None:
    """The folder of the latest complete checkpoint, or None when there is none."""
    pointer = folder / "latest.json"
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text())["dir"]
    except (ValueError, KeyError) as exc:
        raise InvalidParameterError(f"'{pointer}' is damaged: {exc}") from None
    path = folder / name
    return path if path.is_dir() else None


def load_checkpoint(path: Path, device: torch.device) -> tuple[Network, dict[str, Any]]:
    """Weights and training state of the checkpoint folder ``path`` (no code is unpickled)."""
    net = load_model(path / "model.safetensors").to(device)
    try:
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise InvalidParameterError(f"checkpoint '{path}' cannot be read: {exc}") from None
    return net, state
