"""A task's recommended set-up applied to a run config (`rnnzoo train --recommended`).

Every entry point (command line, Python, GUI, bench) starts from the same defaults: the
`TrainConfig` and model-option defaults, the target being the task metric's criterion.  A task
whose source states its network and training set-up lists it (`rnnzoo.tasks.recommended`);
`apply_recommended` puts those values over the defaults, and anything the user sets explicitly
(``--set``, a form field, a sweep entry) goes over them.
"""

from __future__ import annotations

from typing import Any

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.recommended import Recommended
from rnnzoo.training.config import RunConfig, run_config


def recommendation(task: Any) -> Recommended:
    """The set-up ``task``'s source recommends (for its version); a composition has one when
    all its tasks share it.  `InvalidParameterError` when the source gives none."""
    members = getattr(task, "tasks", None)
    if members is not None and not hasattr(task, "recommended"):
        found = [_own(t) for t in members]
        if found[0] is not None and all(r == found[0] for r in found):
            return found[0]
        raise InvalidParameterError(
            f"the tasks of '{task.name}' do not share one recommended set-up (see their cards)"
        )
    found_one = _own(task)
    if found_one is None:
        raise InvalidParameterError(
            f"task '{task.name}/{task.version}' has no recommended set-up (its card cites no "
            "network or training set-up); the defaults are rnnzoo's, listed by `rnnzoo train "
            "--help`"
        )
    return found_one


def _own(task: Any) -> Recommended | None:
    return getattr(task, "recommended", {}).get(getattr(task, "version", None))


def apply_recommended(
    data: dict[str, Any], task: Any, *, keep_kind: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Plain run-config ``data`` with ``task``'s recommended network and training settings put
    over it; returns the new data and a note per change for the user.

    The recommended network kind replaces ``data``'s unless ``keep_kind`` (the user chose a
    kind): then only the options that kind has are taken, and the note names the others.
    """
    from rnnzoo.models import get_model_class

    rec = recommendation(task)
    model = dict(data.get("model") or {})
    kind = model.get("kind", "leaky_rate")
    options = dict(model.get("options") or {})
    if not keep_kind and kind != rec.model:
        kind, options = rec.model, {}
    accepted = get_model_class(kind).Options.model_fields
    taken = {k: v for k, v in rec.options.items() if k in accepted}
    dropped = sorted(set(rec.options) - set(taken))
    model.update(kind=kind, options={**options, **taken})
    train = {**(data.get("train") or {}), **rec.train}
    notes = [
        "recommended set-up: "
        + ", ".join(f"{k}={v}" for k, v in {**taken, **rec.train}.items())
        + f" ({rec.source})"
    ]
    if dropped:
        notes.append(f"recommended options that '{kind}' does not have were left out: {dropped}")
    return {**data, "model": model, "train": train}, notes


def recommended_config(
    task: str,
    version: str = "vanilla",
    *,
    options: dict[str, Any] | None = None,
    train: dict[str, Any] | None = None,
    **params: Any,
) -> RunConfig:
    """The run config of ``task`` (name, version, parameters) with its recommended set-up,
    and ``options`` (model) and ``train`` settings over it:
    ``train(recommended_config("dm1"), "out/dm1")`` trains what Yang et al. trained."""
    from rnnzoo.tasks import make

    built = make(task, version, **params)
    data, _ = apply_recommended({"task": built.config()}, built)
    data["model"]["options"] = {**data["model"]["options"], **(options or {})}
    data["train"] = {**data["train"], **(train or {})}
    return run_config(data, owner=f"recommended config of '{task}'")


__all__ = ["apply_recommended", "recommendation", "recommended_config"]
