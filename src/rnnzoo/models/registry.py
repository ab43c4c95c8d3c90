"""The network kinds: `make_model`, `from_config`, and descriptions for `rnnzoo models`."""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from rnnzoo.errors import InvalidParameterError, UnknownNameError, did_you_mean
from rnnzoo.models.base import ModelConfig, Network
from rnnzoo.models.options import validate_options
from rnnzoo.tasks.params import constraint_text, parse_validation_error

_KINDS: dict[str, type[Network]] = {}


def register(cls: type[Network]) -> type[Network]:
    """Class decorator adding a network kind."""
    if cls.kind in _KINDS:
        raise TypeError(f"model kind '{cls.kind}' is registered twice")
    _KINDS[cls.kind] = cls
    return cls


def model_kinds() -> list[str]:
    """Registered kinds, in the order of the menu (leaky first, then baselines)."""
    _load()
    return sorted(_KINDS, key=lambda k: (_KINDS[k].menu_rank, k))


def get_model_class(kind: str) -> type[Network]:
    _load()
    if kind not in _KINDS:
        hint = did_you_mean(kind, _KINDS)
        raise UnknownNameError(f"unknown model kind '{kind}'{hint} (see `rnnzoo models list`)")
    return _KINDS[kind]


def make_model(
    kind: str,
    n_inputs: int,
    n_outputs: int,
    *,
    dt_ms: float = 10.0,
    ensemble: int | None = None,
    seed: int = 0,
    member: int = 0,
    **options: Any,
) -> Network:
    """Build a network of ``kind`` (validated options; ``ensemble`` = M members or None;
    ``member`` = which initial-weight stream of ``seed`` the first member takes).

    Raises InvalidParameterError naming the option for a bad value, UnknownNameError for an
    unknown kind.
    """
    cls = get_model_class(kind)
    parsed = validate_options(kind, cls.Options, options)
    try:
        config = ModelConfig(
            kind=kind,
            n_inputs=n_inputs,
            n_outputs=n_outputs,
            dt_ms=dt_ms,
            ensemble=ensemble,
            seed=seed,
            member=member,
            options=parsed.model_dump(mode="json"),  # complete: a later default change
            # cannot alter a saved network
        )
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(kind, ModelConfig, exc)) from None
    for name in per_member_options(cls.Options):
        if isinstance(getattr(parsed, name), list):
            parsed.per_member(name, ensemble or 1)
    return cls(config, parsed)


def per_member_options(options: type) -> list[str]:
    """Names of the options marked per member (one value or one per ensemble member); other
    list-valued options (e.g. cordsnet's channels) are one value for every member."""
    names = []
    for name, info in options.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("per_member"):
            names.append(name)
    return names


def from_config(config: ModelConfig | dict[str, Any]) -> Network:
    """Rebuild a network (fresh weights from its seed) from its `ModelConfig` or dict."""
    if isinstance(config, dict):
        config = ModelConfig(**config)
    return make_model(
        config.kind,
        config.n_inputs,
        config.n_outputs,
        dt_ms=config.dt_ms,
        ensemble=config.ensemble,
        seed=config.seed,
        member=config.member,
        **config.options,
    )


def describe_kind(kind: str) -> dict[str, Any]:
    """Kind, title, equations and every option with default, unit, range and description."""
    cls = get_model_class(kind)
    rows = []
    for name, info in cls.Options.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation)
        choices = list(get_args(info.annotation)) if get_origin(info.annotation) is Literal else []
        rows.append(
            {
                "name": name,
                "default": info.default,
                "unit": extra.get("unit", ""),
                "range": constraint_text(info)
                or (f"one of {', '.join(choices)}" if choices else ""),
                "type": annotation.replace("typing.", ""),
                "per_member": bool(extra.get("per_member")),
                "description": info.description or "",
            }
        )
    return {
        "kind": kind,
        "title": cls.title,
        "description": (cls.Options.__doc__ or "").strip(),
        "options": rows,
    }


def describe_all() -> list[dict[str, Any]]:
    """One row per kind for `rnnzoo models list`."""
    return [
        {
            "kind": k,
            "title": _KINDS[k].title,
            "description": (_KINDS[k].Options.__doc__ or "").strip(),
        }
        for k in model_kinds()
    ]


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import rnnzoo.models.cordsnet
        import rnnzoo.models.gated
        import rnnzoo.models.leaky  # noqa: F401  (registers the leaky networks)
    from rnnzoo.plugins import load_plugins

    load_plugins()  # the user's own networks (entry points, RNNZOO_PLUGINS, --plugin)
