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
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import torch

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network, load_model, save_model

KEEP = 2
_NAME = re.compile(r"^step_\d{8}(\.\d+)?$")
STATE_KEYS = ("step", "noise_generator", "lr_scale", "rollbacks", "elapsed_s")
RULE_STATE_KEYS = ("learner", "optimizer")  # the rule's state; "optimizer" before the rules


def _fresh_name(folder: Path, step: int) -> str:
    """``step_00000200``, or ``step_00000200.1``, ... when a checkpoint of that step exists
    (a resumed or rolled-back run), so that a folder ``latest.json`` names is never replaced."""
    name, copy = f"step_{step:08d}", 0
    while (folder / name).exists():
        copy += 1
        name = f"step_{step:08d}.{copy}"
    return name


def save_checkpoint(folder: Path, step: int, net: Network, state: dict[str, Any]) -> Path:
    """Write checkpoint ``step`` (weights + ``state``) and make it the latest; returns its path.

    The checkpoint is written into a hidden folder, renamed when complete, and only then named
    by ``latest.json`` (written atomically); leftovers of a write that was killed are removed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (*folder.glob(".step_*.partial"), *folder.glob(".latest.json.*")):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    name = _fresh_name(folder, step)
    target = folder / name
    tmp = folder / f".{name}.partial"
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
    """The folder of the latest complete checkpoint, or None when there is none; a damaged
    ``latest.json`` (or one naming a missing folder) is an `InvalidParameterError`."""
    pointer = folder / "latest.json"
    if not pointer.is_file():
        return None
    try:
        name = json.loads(pointer.read_text())["dir"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"'{pointer}' is damaged: {exc!r}") from None
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(f"'{pointer}' is damaged: it names {name!r}")
    path = folder / name
    if not path.is_dir():
        raise InvalidParameterError(
            f"'{pointer}' names checkpoint '{name}', which does not exist; the run folder is "
            "damaged (restore the folder, or start the run again in a new one)"
        )
    return path


def load_checkpoint(
    path: Path, device: torch.device, required: tuple[str, ...] = STATE_KEYS
) -> tuple[Network, dict[str, Any]]:
    """Weights and training state of the checkpoint folder ``path`` (no code is unpickled);
    an unreadable state, or one without the ``required`` keys (the trainer's by default) and
    the rule's state, is an `InvalidParameterError` naming the file."""
    net = load_model(path / "model.safetensors").to(device)
    state_file = path / "state.pt"
    if not state_file.is_file():
        raise InvalidParameterError(f"checkpoint '{path}' has no state.pt")
    try:
        state = torch.load(state_file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise InvalidParameterError(
            f"'{state_file}' holds pickled Python objects beyond tensors and plain data; rnnzoo "
            "never loads those (it could run code)"
        ) from None
    except Exception as exc:  # torch reports damage as EOFError, RuntimeError, ...
        first = (str(exc).splitlines() or [""])[0]
        raise InvalidParameterError(
            f"'{state_file}' cannot be read ({type(exc).__name__}: {first or 'empty or cut off'})"
        ) from None
    missing = [k for k in required if not isinstance(state, dict) or k not in state]
    if isinstance(state, dict) and not any(k in state for k in RULE_STATE_KEYS):
        missing.append(RULE_STATE_KEYS[0])
    if missing:
        raise InvalidParameterError(f"'{state_file}' is incomplete: it lacks {missing}")
    return net, state
