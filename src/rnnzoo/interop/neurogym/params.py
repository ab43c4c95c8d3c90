"""The parameter model of a neurogym environment, generated from its constructor.

Every keyword argument of the environment's ``__init__`` (except ``dt``, which is rnnzoo's
``dt_ms``) becomes a field with the constructor's default, typed from that default (bool, int,
float, str; anything else, such as ``timing``, ``rewards`` or ``cohs``, is plain JSON data).
Three bridge parameters are added: ``timing_scale`` (every period's duration multiplied),
``response_weight`` (loss weight of steps whose ground truth is not the fixation action) and
rnnzoo's input-noise parameters (off by default: the environment adds its own noise).
``timing`` is checked against the environment's periods, so a misspelt period is an error
(neurogym itself would ignore it).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from pydantic import Field, create_model, field_validator

from rnnzoo.errors import did_you_mean
from rnnzoo.tasks.params import TaskParams

BRIDGE_FIELDS = ("timing_scale", "response_weight")
TIMING_DISTRIBUTIONS = ("uniform", "choice", "truncated_exponential", "constant", "until")


def constructor_defaults(env_class: type) -> dict[str, Any]:
    """Keyword arguments of ``env_class.__init__`` with their defaults (``dt`` excluded)."""
    signature = inspect.signature(env_class.__init__)
    defaults = {}
    for name, parameter in signature.parameters.items():
        if name in ("self", "dt") or parameter.kind in (
            parameter.VAR_POSITIONAL,
            parameter.VAR_KEYWORD,
        ):
            continue
        default = parameter.default
        defaults[name] = None if default is inspect.Parameter.empty else default
    return defaults


def default_dt(env_class: type) -> float:
    """The environment's default ``dt`` in ms (100 when it declares none, as TrialEnv)."""
    parameter = inspect.signature(env_class.__init__).parameters.get("dt")
    if parameter is None or not isinstance(parameter.default, int | float):
        return 100.0
    return float(parameter.default)


def _json_default(value: Any) -> Any:
    """``value`` if it is plain JSON data, else None (an object default means 'the env's own')."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _field(default: Any, description: str) -> tuple[Any, Any]:
    if isinstance(default, bool):
        return bool, Field(default, description=description)
    if isinstance(default, int):
        return int, Field(default, description=description)
    if isinstance(default, float):
        return float, Field(default, description=description)
    if isinstance(default, str):
        return str, Field(default, description=description)
    return Any, Field(_json_default(default), description=description)


def check_timing(timing: Any, periods: tuple[str, ...]) -> dict[str, Any] | None:
    """Validate a neurogym ``timing`` override: keys are periods, values are ms numbers, lists
    of ms (a random choice) or ``[distribution, args]``."""
    if timing is None:
        return None
    if not isinstance(timing, dict):
        raise ValueError("must be a mapping of period -> duration in ms")
    for period, spec in timing.items():
        if period not in periods:
            hint = did_you_mean(str(period), periods)
            raise ValueError(f"has no period '{period}'{hint}; periods: {', '.join(periods)}")
        if isinstance(spec, bool):
            raise ValueError(f"[{period}] must be a duration in ms")
        if isinstance(spec, int | float):
            if spec < 0:
                raise ValueError(f"[{period}] must be >= 0 ms")
            continue
        ok = isinstance(spec, list | tuple) and len(spec) > 0
        if ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in spec):
            continue
        if ok and len(spec) == 2 and spec[0] in TIMING_DISTRIBUTIONS:
            continue
        raise ValueError(
            f"[{period}] must be ms, a list of ms or [distribution, args] with a "
            f"distribution in {', '.join(TIMING_DISTRIBUTIONS)}"
        )
    return timing


def params_model(
    env_class: type, periods: tuple[str, ...], docs: dict[str, str]
) -> type[TaskParams]:
    """A frozen `TaskParams` subclass for ``env_class`` (see the module docstring).

    ``periods`` are the environment's timing periods (checked in ``timing``); ``docs`` maps an
    argument to its description (from the environment's docstring).
    """
    fields: dict[str, Any] = {
        "dt_ms": (
            float,
            Field(
                default_dt(env_class),
                gt=0,
                le=100,
                description="sampling period (neurogym's dt)",
                json_schema_extra={"unit": "ms"},
            ),
        ),
        "add_noise": (
            bool,
            Field(False, description="add rnnzoo's input noise on top of the env's"),
        ),
        "timing_scale": (
            float,
            Field(1.0, gt=0, le=100, description="every period's duration is multiplied by this"),
        ),
        "response_weight": (
            float,
            Field(
                1.0,
                ge=0,
                le=100,
                description="loss weight of steps whose ground truth is not the fixation action",
            ),
        ),
    }
    for name, default in constructor_defaults(env_class).items():
        fields[name] = _field(default, docs.get(name, f"neurogym argument '{name}'"))

    def _timing_periods(cls: type, value: Any) -> Any:
        return check_timing(value, periods)

    validators = {}
    if "timing" in fields:
        validators["_timing_periods"] = field_validator("timing")(classmethod(_timing_periods))
    model = create_model(
        f"{env_class.__name__}Params",
        __base__=TaskParams,
        __doc__=f"Parameters of neurogym's {env_class.__name__} as an rnnzoo task.",
        __validators__=validators,
        **fields,
    )
    return model


def env_kwargs(params: TaskParams) -> dict[str, Any]:
    """The constructor's keyword arguments in ``params``: dt from dt_ms (an int when whole, as
    neurogym declares it) and the env's own fields; None is left out (the env's own default)."""
    own = set(type(params).model_fields) - set(TaskParams.model_fields) - set(BRIDGE_FIELDS)
    kwargs = {name: getattr(params, name) for name in sorted(own)}
    dt = params.dt_ms
    return {"dt": int(dt) if float(dt).is_integer() else dt} | {
        k: v for k, v in kwargs.items() if v is not None
    }
