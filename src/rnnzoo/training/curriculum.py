"""Curricula: task parameters ramped over training (e.g. a delay grown from short to long).

Each `Ramp` sets one parameter of the run's task as a function of the training step ``k``
(the number of updates done), so a resumed run sees exactly the values of an uninterrupted one:

- "linear": ``start + (end - start) * min(1, k / steps)``;
- "step" with ``stages`` = S plateaus: ``start + (end - start) * s / (S - 1)`` where
  ``s = min(S - 1, floor(k * S / steps))``, i.e. S equal plateaus over ``steps``, then ``end``.

Integer parameters are rounded to the nearest integer; durations (ms) are passed as they are
and discretised by the task's own rule (``TaskParams.steps``).  Training batch ``k`` and the
evaluation after ``k`` updates both use the value at ``k``; metrics.jsonl records it.

The task is rebuilt with ``rnnzoo.tasks.make(name, version, **params)`` whenever the values
change.  Start and end values are validated before training starts, and the ramped task must
keep the network's input/output sizes and ``dt_ms``.
"""

from __future__ import annotations

import typing
from typing import Any

from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.config import Ramp


def ramp_value(ramp: Ramp, step: int, integer: bool = False) -> float | int:
    """Value of ``ramp`` after ``step`` training updates (rounded when ``integer``)."""
    if ramp.schedule == "linear":
        frac = min(1.0, step / ramp.steps)
    else:
        stages = int(ramp.stages or 2)
        frac = min(stages - 1, (step * stages) // ramp.steps) / (stages - 1)
    value = ramp.start + (ramp.end - ramp.start) * frac
    return round(value) if integer else value


def _is_integer_field(params_cls: Any, name: str) -> bool:
    annotation = params_cls.model_fields[name].annotation
    return annotation is int or (
        typing.get_origin(annotation) is not None
        and int in typing.get_args(annotation)
        and float not in typing.get_args(annotation)
    )


class Curriculum:
    """The ramps of a run on a single task, with the task rebuilt as the values change."""

    def __init__(self, ramps: tuple[Ramp, ...], task_config: dict[str, Any], base: Any) -> None:
        from rnnzoo.tasks import make

        self.ramps = ramps
        self._cache: tuple[tuple[Any, ...], Any] | None = None
        if not ramps:
            return
        if "task" not in task_config:
            raise InvalidParameterError(
                "'curriculum' ramps a single task's parameters; compositions are not supported"
            )
        self.name = str(task_config["task"])
        self.version = str(task_config.get("version", "vanilla"))
        self.params = dict(task_config.get("params", {}))
        fields = type(base.params).model_fields
        seen: set[str] = set()
        self.integer: list[bool] = []
        for i, ramp in enumerate(ramps):
            label = f"curriculum[{i}] ('{ramp.param}')"
            if ramp.param not in fields:
                raise InvalidParameterError(
                    f"{label}: task '{self.name}' has no parameter '{ramp.param}'"
                )
            if ramp.param == "dt_ms":
                raise InvalidParameterError(f"{label}: 'dt_ms' is the network's; it cannot ramp")
            if ramp.param in seen:
                raise InvalidParameterError(f"{label}: '{ramp.param}' is ramped twice")
            seen.add(ramp.param)
            self.integer.append(_is_integer_field(type(base.params), ramp.param))
            for which, value in (("start", ramp.start), ("end", ramp.end)):
                if self.integer[-1] and value != round(value):
                    raise InvalidParameterError(
                        f"{label}: '{ramp.param}' is an integer; {which} = {value:g}"
                    )
                try:
                    task = make(
                        self.name,
                        self.version,
                        **{**self.params, ramp.param: round(value) if self.integer[-1] else value},
                    )
                except InvalidParameterError as exc:
                    raise InvalidParameterError(f"{label} {which} = {value:g}: {exc}") from None
                shape = (task.n_inputs, task.n_outputs, task.params.dt_ms)
                if shape != (base.n_inputs, base.n_outputs, base.params.dt_ms):
                    raise InvalidParameterError(
                        f"{label} {which} = {value:g} changes the task's inputs/outputs "
                        f"{shape[:2]} from {(base.n_inputs, base.n_outputs)}"
                    )
        self.base = base

    def values(self, step: int) -> dict[str, float | int]:
        """Ramped parameter values after ``step`` updates ({} without a curriculum)."""
        return (
            {
                r.param: ramp_value(r, step, integer)
                for r, integer in zip(self.ramps, self.integer, strict=True)
            }
            if self.ramps
            else {}
        )

    def extremes(self, default: Any) -> list[Any]:
        """The tasks at step 0 and at the end of each ramp (``[default]`` without ramps): the
        values of a run's longest and shortest trials."""
        steps = sorted({0, *(ramp.steps for ramp in self.ramps)})
        return [self.task(step, default) for step in steps]

    def task(self, step: int, default: Any) -> Any:
        """The task at ``step`` (``default``, the configured task, without a curriculum)."""
        if not self.ramps:
            return default
        from rnnzoo.tasks import make

        values = self.values(step)
        key = tuple(values.values())
        if self._cache is None or self._cache[0] != key:
            try:
                task = make(self.name, self.version, **{**self.params, **values})
            except InvalidParameterError as exc:
                raise InvalidParameterError(f"curriculum at step {step} {values}: {exc}") from None
            self._cache = (key, task)
        return self._cache[1]


__all__ = ["Curriculum", "ramp_value"]
