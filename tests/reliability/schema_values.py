"""Bad values built from the parameter schemas themselves: for every numeric field (and every
duration) of a pydantic model, values below, above and far beyond its declared range, NaN,
infinity and a value of the wrong type."""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

MAX_DURATION_STEPS = 100_000  # the documented limit (rnnzoo.tasks.params.MAX_DURATION_STEPS)
BOUND_NAMES = {"gt": "low", "ge": "low", "lt": "high", "le": "high"}


@dataclass(frozen=True)
class NumericField:
    """A numeric field and its range: (bound name, value) at each end, or None when open."""

    name: str
    kind: type  # int or float
    low: tuple[str, float] | None
    high: tuple[str, float] | None
    sequence: bool = False  # a list or tuple of such numbers


def _bounds(metadata: list[Any]) -> dict[str, tuple[str, float]]:
    found = {}
    for meta in metadata:
        for attr, end in BOUND_NAMES.items():
            value = getattr(meta, attr, None)
            if value is not None:
                found[end] = (attr, value)
    return found


def _numeric_leaves(annotation: Any, metadata: list[Any]) -> list[tuple[type, dict]]:
    """(int or float, bounds) of every numeric member of ``annotation`` (unions, Annotated,
    lists and tuples of numbers), with the field's own constraints applied to bare numbers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        merged = [m for e in extra for m in (getattr(e, "metadata", None) or [e])]
        return _numeric_leaves(inner, [*metadata, *merged])
    if origin in (typing.Union, types.UnionType):
        return [
            leaf for arg in typing.get_args(annotation) for leaf in _numeric_leaves(arg, metadata)
        ]
    if origin in (list, tuple):
        return [
            leaf
            for arg in typing.get_args(annotation)
            if arg is not Ellipsis
            for leaf in _numeric_leaves(arg, [])
        ]
    if annotation in (int, float):
        return [(annotation, _bounds(metadata))]
    return []


def numeric_fields(model: type[BaseModel]) -> list[NumericField]:
    """The scalar numeric fields of ``model`` (a number, maybe optional or per member)."""
    fields = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("time"):
            continue
        leaves = _numeric_leaves(info.annotation, list(info.metadata))
        if not leaves:
            continue
        kind, bounds = leaves[0]
        sequence = typing.get_origin(info.annotation) in (list, tuple)
        fields.append(NumericField(name, kind, bounds.get("low"), bounds.get("high"), sequence))
    return fields


def duration_fields(model: type[BaseModel], dt_ms: float) -> list[NumericField]:
    """The duration fields of a task's parameters: from 0 ms (or one step) to the longest
    duration a parameter may have at ``dt_ms``."""
    fields = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("time"):
            low = ("ge", 0.0) if extra.get("allow_zero") else ("gt", 0.0)
            high = min(extra.get("maximum_ms", math.inf), MAX_DURATION_STEPS * dt_ms)
            fields.append(NumericField(name, float, low, ("le", high)))
    return fields


def unbounded_leaves(model: type[BaseModel]) -> list[str]:
    """Numeric members (also inside lists and tuples) of ``model`` that lack a lower or an
    upper bound (durations excepted: they are bounded in steps, see `duration_fields`)."""
    missing = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("time"):
            continue
        for kind, bounds in _numeric_leaves(info.annotation, list(info.metadata)):
            if "low" not in bounds or "high" not in bounds:
                missing.append(f"{model.__name__}.{name} ({kind.__name__}: {bounds})")
    return missing


def bad_values(field: NumericField) -> list[Any]:
    """Values outside ``field``'s range, as `--set` text parses them (JSON numbers)."""
    values: list[Any] = []
    for end, sign in ((field.low, -1), (field.high, 1)):
        if end is None:
            continue
        attr, bound = end
        if field.kind is int:
            values.append(int(bound) + sign * (0 if attr in ("gt", "lt") else 1))
        else:
            open_end = attr in ("gt", "lt")
            values.append(float(bound) if open_end else bound + sign * max(1.0, abs(bound)))
        values.append(sign * (10**30 if field.kind is int else 1e300))  # far beyond
    values = [*values, math.nan, math.inf]
    return [*([v] for v in values), "abc"] if field.sequence else [*values, "abc"]


def as_text(value: Any) -> str:
    """A value as a `--set` argument writes it: JSON (NaN and Infinity as its extensions)."""
    return value if isinstance(value, str) else json.dumps(value)
