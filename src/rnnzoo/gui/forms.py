"""Forms generated from pydantic parameter schemas (task Params, model options, TrainConfig,
method hyperparameters): one widget per field, with its unit, default and allowed range, and
the library's own error message shown inline on the field it names.

Values are typed as text and read like ``--set`` values on the command line (JSON numbers,
lists, true/false; durations such as ``uniform(200, 800)``); an empty field means None.  A form
reports only the fields that differ from its baseline (the version's or the library's
default), so a config stays a short list of changes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from rnnzoo.cli._common import parse_value
from rnnzoo.tasks.params import constraint_text
from rnnzoo.tasks.timing import DURATION_TYPES

DURATION_HELP = "ms: a number, uniform(a, b), choice(a, b, ...) or truncexp(mean, min, max)"


@dataclass(frozen=True)
class FieldSpec:
    """What a form shows for one schema field."""

    name: str
    unit: str
    description: str
    allowed: str
    default: str
    choices: tuple[Any, ...] | None  # a Literal: shown as a selection
    is_bool: bool


def value_text(value: Any) -> str:
    """How a field value is written in a form (and read back by `parse_text`)."""
    if value is None:
        return ""
    if isinstance(value, DURATION_TYPES):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if math.isfinite(value) and float(short) == value else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):  # quoted when the bare text would read as something else
        return value if parse_text(value) == value else json.dumps(value)
    return json.dumps(to_jsonable_python(value))


def parse_text(text: str) -> Any:
    """A typed value: '' is None, else as a ``--set`` value (JSON, true/false/none, text)."""
    return None if not text.strip() else parse_value(text.strip())


def field_specs(schema: type[BaseModel], defaults: BaseModel) -> list[FieldSpec]:
    """One `FieldSpec` per field of ``schema``; ``defaults`` gives the default shown."""
    specs = []
    for name, info in schema.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        choices = (
            tuple(get_args(info.annotation)) if get_origin(info.annotation) is Literal else None
        )
        allowed, description = constraint_text(info), info.description or ""
        if extra.get("time"):  # a duration in ms (see rnnzoo.tasks.params.ms_field)
            allowed = ">= 0" if extra.get("allow_zero") else "> 0"
            if "maximum_ms" in extra:
                allowed += f" and <= {extra['maximum_ms']:g}"
            if any(kind in DURATION_TYPES for kind in get_args(info.annotation)):
                allowed, description = f"{allowed}, or a law", f"{description}; {DURATION_HELP}"
        specs.append(
            FieldSpec(
                name=name,
                unit=str(extra.get("unit", "")),
                description=description,
                allowed=allowed,
                default=value_text(getattr(defaults, name)),
                choices=choices,
                is_bool=info.annotation is bool,
            )
        )
    return specs


def named_field(message: str, names: list[str]) -> str | None:
    """The first field of ``names`` that an error message quotes ('name'), if any."""
    for quoted in re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)'", message):
        if quoted in names:
            return quoted
    return None


class SchemaForm:
    """Widgets for the fields of a schema inside the current NiceGUI container.

    Parameters
    ----------
    specs : the fields (see `field_specs`).
    marker : prefix of each widget's marker, e.g. "task" gives "task.dt_ms" (for tests).
    initial : field values to show at first instead of the defaults.
    on_change : called after any widget changes.
    """

    def __init__(
        self,
        specs: list[FieldSpec],
        *,
        marker: str,
        initial: dict[str, Any] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        from nicegui import ui

        self.specs = {spec.name: spec for spec in specs}
        self._on_change = on_change
        self.widgets: dict[str, Any] = {}
        initial = initial or {}
        with ui.element("div").classes("w-full grid grid-cols-2 gap-x-4 gap-y-1"):
            for spec in specs:
                text = value_text(initial[spec.name]) if spec.name in initial else spec.default
                self.widgets[spec.name] = self._widget(spec, text).mark(f"{marker}.{spec.name}")
        self.error_label = ui.label("").classes("text-negative text-sm").mark(f"{marker}.error")

    def _widget(self, spec: FieldSpec, text: str) -> Any:
        from nicegui import ui

        def notify(_event: Any) -> None:
            if self._on_change is not None:
                self._on_change()

        limits = f"default {spec.default or 'None'}" + (f"; {spec.allowed}" if spec.allowed else "")
        if spec.is_bool:
            widget = ui.switch(spec.name, value=text == "true", on_change=notify)
        elif spec.choices is not None:
            widget = ui.select(
                list(spec.choices), label=spec.name, value=parse_text(text), on_change=notify
            ).without_auto_validation()
        else:
            widget = ui.input(spec.name, value=text, suffix=spec.unit or None, on_change=notify)
            widget.without_auto_validation()  # errors come from `check`, not from NiceGUI
            widget.props["hint"] = limits
            widget.props["dense"] = True
        widget.tooltip(f"{spec.description} ({limits})" if spec.description else limits)
        return widget

    def _text(self, name: str) -> str:
        value = self.widgets[name].value
        if self.specs[name].is_bool or self.specs[name].choices is not None:
            return value_text(value)
        return (value or "").strip()

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the default shown, typed."""
        return {
            name: parse_text(self._text(name))
            for name, spec in self.specs.items()
            if self._text(name) != spec.default
        }

    def show_error(self, message: str | None) -> None:
        """Show ``message`` on the field it names (else below the form); None clears errors."""
        fields = [name for name, spec in self.specs.items() if not spec.is_bool]
        target = None if message is None else named_field(message, fields)
        for name in fields:
            self.widgets[name].error = message if name == target else None
        self.error_label.text = message if message is not None and target is None else ""

    def check(self, build: Callable[[dict[str, Any]], Any]) -> Any:
        """``build(changes)`` (a library call); its InvalidParameterError is shown inline and
        None returned, else the errors are cleared and the result returned."""
        from rnnzoo.errors import InvalidParameterError

        try:
            result = build(self.changes())
        except InvalidParameterError as exc:
            self.show_error(str(exc))
            return None
        self.show_error(None)
        return result
