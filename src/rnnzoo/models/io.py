"""Save and load networks as safetensors: weights plus the model config as JSON metadata.

Loading parses JSON and raw tensors only; it never unpickles or executes code.  The network is
rebuilt from the config and the file's tensors must match it exactly (names and shapes).

Format 2 writes every option, defaults included, so a later change of a default cannot load a
different network.  Format 1 files (defaults left out) are read with the defaults of their time
(`V1_DEFAULTS`: the options whose default has changed since).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.base import ModelConfig, Network

FORMAT = "rnnzoo.model/2"
FORMAT_V1 = "rnnzoo.model/1"
V1_DEFAULTS: dict[str, dict[str, object]] = {"leaky_current": {"activation": "tanh"}}
"""Per kind, the format-1 defaults of options whose default changed in format 2."""


def save_model(model: Network, path: str | Path) -> Path:
    """Write ``model`` (weights and config) to ``path`` atomically; returns the path."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidParameterError(f"cannot save model: folder '{path.parent}' does not exist")
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "config": model.config.model_dump_json()}
    with atomic_path(path) as tmp:
        save_file(tensors, tmp, metadata=metadata)
        _canonical_header(Path(tmp))
    return path


def _canonical_header(path: Path) -> None:
    """Rewrite the JSON header of the safetensors file ``path`` in one fixed order (metadata
    keys sorted, then the tensors by name), so that the same network gives the same bytes; the
    writer orders the metadata at random.  The header keeps its length (space padding, as the
    format allows), so the tensor data stays where it is."""
    with open(path, "r+b") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        ordered = {"__metadata__": dict(sorted(header.pop("__metadata__", {}).items()))}
        ordered.update(sorted(header.items()))
        text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode()
        if len(text) > size:  # never: the writer's own header is as compact as this one
            return
        f.seek(8)
        f.write(text + b" " * (size - len(text)))


def read_config(path: str | Path) -> ModelConfig:
    """The model config stored in a saved model file."""
    metadata = _open(Path(path))[0]
    try:
        config = ModelConfig(**json.loads(metadata["config"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidParameterError(f"'{path}' has no valid rnnzoo model config: {exc}") from None
    if metadata.get("format") == FORMAT_V1:
        options = {**V1_DEFAULTS.get(config.kind, {}), **config.options}
        config = config.model_copy(update={"options": options})
    return config


def load_model(path: str | Path) -> Network:
    """Rebuild the network saved at ``path`` (safetensors; no code is executed).

    Raises InvalidParameterError when the file is not an rnnzoo model or its tensors do not
    match its config (missing, unexpected or mis-shaped weights).
    """
    from rnnzoo.models.registry import from_config

    path = Path(path)
    _, tensors = _open(path)
    model = from_config(read_config(path))
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes = [
        f"'{k}' {tuple(tensors[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    if missing or unexpected or shapes:
        parts = [
            f"missing {missing}" if missing else "",
            f"unexpected {unexpected}" if unexpected else "",
            f"shape mismatch {', '.join(shapes)}" if shapes else "",
        ]
        raise InvalidParameterError(
            f"'{path}' does not match its config ({model.config.kind}, "
            f"N={model.options.n_hidden}): " + "; ".join(p for p in parts if p)
        )
    model.load_state_dict(tensors)
    return model


def _open(path: Path) -> tuple[dict[str, str], dict]:
    if not path.is_file():
        raise InvalidParameterError(f"model file '{path}' does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise InvalidParameterError(f"'{path}' is not a safetensors model file: {exc}") from None
    if metadata.get("format") not in (FORMAT, FORMAT_V1):
        raise InvalidParameterError(
            f"'{path}' is not an rnnzoo model (format {metadata.get('format')!r}, "
            f"expected {FORMAT!r})"
        )
    return metadata, tensors
