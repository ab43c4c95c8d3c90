"""Resuming a run: it continues with its own config (RUN/config.yaml); only the settings in
`RESUMABLE` may change (a longer budget, another target, another device of the same kind)."""

from __future__ import annotations

from typing import Any

from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.config import RunConfig

RESUMABLE = ("max_steps", "target_performance", "device")
"""Training settings a resumed run may change; every other setting is the run's own."""


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict) or not data:
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def config_differences(saved: RunConfig, given: RunConfig) -> dict[str, tuple[Any, Any]]:
    """Settings (dotted names) in which ``given`` differs from ``saved`` beyond `RESUMABLE`:
    name -> (the run's value, the given value), shallow names first (``task.task`` before
    ``task.params.n_bits``)."""
    old, new = _flat(saved.model_dump(mode="json")), _flat(given.model_dump(mode="json"))
    for name in RESUMABLE:
        old.pop(f"train.{name}", None)
        new.pop(f"train.{name}", None)
    missing = object()
    return {
        key: (old.get(key), new.get(key))
        for key in sorted(old.keys() | new.keys(), key=lambda k: (k.count("."), k))
        if old.get(key, missing) != new.get(key, missing)
    }


def check_resumable(saved: RunConfig, given: RunConfig, run_dir: Any) -> None:
    """Raise `InvalidParameterError` naming the first settings in which ``given`` changes the
    run's config beyond the `RESUMABLE` ones."""
    diff = config_differences(saved, given)
    if diff:
        shown = "; ".join(f"{k}: run {a!r}, given {b!r}" for k, (a, b) in list(diff.items())[:3])
        raise InvalidParameterError(
            f"cannot resume '{run_dir}': this config differs from its config.yaml ({shown}); "
            f"a resumed run keeps its own config (only {', '.join(RESUMABLE)} may change)"
        )
