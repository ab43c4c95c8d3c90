"""Typed, frozen, validated task parameters.

Every task declares a subclass of `TaskParams`.  Fields carry their unit and constraints as
data (``json_schema_extra``), which drives validation, the task card, the CLI and GUI forms.
Values are stored exactly as given; derived quantities (steps, per-step noise) are computed
where they are used and never overwrite a field.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar

import annotated_types as at
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rnnzoo.errors import InvalidParameterError, did_you_mean
from rnnzoo.tasks.timing import DURATION_TYPES, Rounding, shortest_nonzero_ms, steps

MAX_DURATION_STEPS = 100_000
"""The longest duration a task parameter may have, in steps of its dt_ms (every task)."""

__all__ = [
    "MAX_DURATION_STEPS",
    "TaskParams",
    "constraint_text",
    "ms_field",
    "parse_validation_error",
    "validate_params",
]


def ms_field(
    default: Any,
    description: str,
    *,
    allow_zero: bool = False,
    maximum: float | None = None,
) -> Any:
    """A duration field in ms (a number or a `Duration` law) checked against ``dt_ms``.

    ``allow_zero`` marks epochs that may be absent (0 ms); any other value must last at
    least one step after rounding.
    """
    extra = {"unit": "ms", "time": True, "allow_zero": allow_zero}
    if maximum is not None:
        extra["maximum_ms"] = maximum
    return Field(default=default, description=description, json_schema_extra=extra)


class TaskParams(BaseModel):
    """Parameters shared by every task (the poster's customizable parameters).

    Attributes
    ----------
    dt_ms : sampling period in ms; every duration is discretised by it.
    add_noise : whether input noise is added to every input channel.
    noise_scale : standard deviation of the input noise (input units).
    noise_decay_ms : decay (correlation) time of the input noise in ms; 0 = white noise.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    dt_ms: float = Field(
        10.0, gt=0, le=100, description="sampling period", json_schema_extra={"unit": "ms"}
    )
    add_noise: bool = Field(True, description="add Gaussian noise to every input channel")
    noise_scale: float = Field(
        0.05,
        ge=0,
        le=10,
        description="standard deviation of the input noise (input units, per step and stationary)",
        json_schema_extra={"unit": "a.u."},
    )
    noise_decay_ms: float = Field(
        0.0,
        ge=0,
        le=1e5,
        description="decay time of the input noise (Ornstein-Uhlenbeck); 0 = white noise",
        json_schema_extra={"unit": "ms"},
    )

    owner: ClassVar[str] = "task"

    @model_validator(mode="after")
    def _durations_last_whole_steps(self) -> TaskParams:
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or not extra.get("time"):
                continue
            value = getattr(self, name)
            if value is None:
                continue
            values = value.support_ms() if isinstance(value, DURATION_TYPES) else (float(value),)
            for ms in values:
                if not ms >= 0:  # also NaN
                    raise ValueError(f"'{name}' must be >= 0 ms; got {value}")
                if not ms * (1 / self.dt_ms) <= MAX_DURATION_STEPS:  # also inf
                    shown = f"{value:g}" if isinstance(value, float) else str(value)
                    raise ValueError(
                        f"'{name}' = {shown} ms is more than {MAX_DURATION_STEPS} steps at "
                        f"dt_ms={self.dt_ms:g} (at most {MAX_DURATION_STEPS * self.dt_ms:g} "
                        "ms); shorten it or use a larger dt_ms"
                    )
                if ms == 0 and not extra.get("allow_zero"):
                    raise ValueError(
                        f"'{name}' must be > 0 ms (this epoch cannot be absent); got {value}"
                    )
                if ms > 0 and self.steps(ms) == 0:
                    shortest = shortest_nonzero_ms(self.dt_ms, self.rounding)
                    raise ValueError(
                        f"'{name}' = {value} ms rounds to 0 steps at dt_ms={self.dt_ms:g}; "
                        f"use at least {shortest:g} ms or a smaller dt_ms"
                    )
                limit = extra.get("maximum_ms")
                if limit is not None and ms > limit:
                    raise ValueError(f"'{name}' must be <= {limit:g} ms; got {value}")
        return self

    def check_grace_leaves_scored_steps(self, window: str = "response_ms") -> None:
        """Raise when ``response_grace_ms`` covers the whole ``window`` epoch (nothing scored);
        for a duration law, its shortest value must keep a scored step."""
        length = getattr(self, window)
        grace = self.response_grace_ms  # declared by the decision tasks that call this
        if isinstance(length, DURATION_TYPES):
            shortest, what = length.lowest_ms, f"the shortest {window}={length}"
        else:
            shortest, what = length, f"{window}={length:g}"
        if self.steps(grace) >= self.steps(shortest):
            raise ValueError(
                f"'response_grace_ms' must leave at least one scored step of {what} "
                f"at dt_ms={self.dt_ms:g}; got {grace:g}"
            )

    @property
    def rounding(self) -> Rounding:
        """How this task converts ms to steps: the zoo's round half up, unless the task's
        source converts otherwise (`rnnzoo.tasks.timing`)."""
        return "half_up"

    def steps(self, duration_ms: float | np.ndarray) -> np.ndarray:
        """Steps for a duration in ms at this ``dt_ms`` (by this task's rounding rule)."""
        return steps(duration_ms, self.dt_ms, self.rounding)

    @property
    def input_noise_std(self) -> float:
        """Standard deviation of the input noise on each step (and stationary, for OU noise).

        ``noise_scale`` itself here; a task whose source states its noise in another convention
        (for example a continuous-time density) overrides this and documents the conversion.
        """
        return float(self.noise_scale)

    def to_json_dict(self) -> dict[str, Any]:
        """All parameters as JSON-compatible values (durations as dicts with ``kind``)."""
        return self.model_dump(mode="json")


def constraint_text(info: Any) -> str:
    """Human text for the numeric constraints declared on a field, e.g. '> 0 and <= 100'."""
    parts = []
    for meta in info.metadata:
        for attr, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            bound = getattr(meta, attr, None)
            if bound is not None and isinstance(meta, at.Gt | at.Ge | at.Lt | at.Le | at.Interval):
                parts.append(
                    f"{symbol} {bound:g}" if isinstance(bound, float) else f"{symbol} {bound}"
                )
    return " and ".join(parts)


def parse_validation_error(owner: str, model: type[BaseModel], error: ValidationError) -> str:
    """Turn pydantic's error into one line naming owner, parameter, allowed values and value."""
    lines = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        name = loc[0] if loc else ""
        given = item.get("input")
        if item["type"] == "extra_forbidden":
            unknown, where = loc[-1], "".join(f" in '{p}'" for p in loc[:-1][:1])
            known = _nested_fields(model, loc[:-1])
            lines.append(f"unknown parameter '{unknown}'{where}{did_you_mean(unknown, known)}")
            continue
        if not loc:  # a cross-field check: our own message already names the parameter
            lines.append(str(item["msg"]).removeprefix("Value error, "))
            continue
        info = model.model_fields.get(name)
        unit = ""
        if info is not None and isinstance(info.json_schema_extra, dict):
            unit = info.json_schema_extra.get("unit", "")
        constraint = constraint_text(info) if info is not None and len(loc) == 1 else ""
        if constraint:
            detail = f"must be {constraint}" + (f" ({unit})" if unit else "")
        else:
            detail = str(item["msg"]).removeprefix("Value error, ")
            detail = detail[0].lower() + detail[1:] if detail else detail
            if len(loc) > 1:
                detail = f"[{'.'.join(loc[1:])}] {detail}"
        lines.append(f"'{name}' {detail}; got {given!r}")
    # one line per distinct problem, at most three
    unique = list(dict.fromkeys(lines))
    return f"{owner}: " + "; ".join(unique[:3]) + "."


def _nested_fields(model: type[BaseModel], path: list[str]) -> list[str]:
    """The field names of the model found at ``path`` inside ``model`` (through nested models,
    also in unions and lists); [] when the path leads elsewhere."""
    current: Any = model
    for part in path:
        if part.isdigit():  # an item of a list or tuple of models
            continue
        info = getattr(current, "model_fields", {}).get(part)
        if info is None:
            return []
        nested = [
            t
            for t in _types_in(info.annotation)
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if not nested:
            return []
        current = nested[0]
    return list(getattr(current, "model_fields", {}))


def _types_in(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    return [annotation, *(t for arg in args for t in _types_in(arg))]


def validate_params(owner: str, model: type[TaskParams], values: dict[str, Any]) -> TaskParams:
    """Build ``model(**values)`` or raise `InvalidParameterError` with a one-line message."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(owner, model, exc)) from None
