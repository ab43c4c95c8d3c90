"""Suites: compositions registered under one name and built like a task.

``make("yang2019", "soo2023", dt_ms=10)`` builds Yang et al.'s 20 rules in their ``soo2023``
version as one `MultiTask`, and its config is as short as a task's::

    {"task": "yang2019", "version": "soo2023", "params": {"dt_ms": 10, ...}}

A suite's parameters are those its tasks share, each None by default (= every task keeps its
own value in this version; a value given is passed to every task), plus the composition's own
(which tasks, their sampling weights, the mode).  Subclasses declare the card attributes of a
task (name, title, summary, source, definition, versions, Params) and `members`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.base import Task, TaskCard, Version, task_card, version_params
from rnnzoo.tasks.compose import MultiTask
from rnnzoo.tasks.params import TaskParams
from rnnzoo.tasks.recommended import Recommended


class SuiteParams(BaseModel):
    """Base of a suite's parameters (frozen; a misspelt name is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: ClassVar[str] = "task"
    shared: ClassVar[tuple[str, ...]] = ()
    """The fields passed on to every task of the suite (when not None)."""

    def task_overrides(self) -> dict[str, Any]:
        """The shared parameters given (not None): passed to every task."""
        return {
            name: getattr(self, name) for name in self.shared if getattr(self, name) is not None
        }

    def to_json_dict(self) -> dict[str, Any]:
        """The parameters as JSON-compatible values (those left at None are left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def shared_params(base: type[TaskParams], name: str) -> type[SuiteParams]:
    """A `SuiteParams` class with every field of ``base`` made optional (default None = each
    task's own value), keeping its constraints, unit and description."""
    fields: dict[str, Any] = {}
    for field, info in base.model_fields.items():
        optional = FieldInfo.merge_field_infos(
            info,
            annotation=info.annotation | None,
            default=None,
            description=f"{info.description or field} (None: each task's own value)",
        )
        fields[field] = (info.annotation | None, optional)
    model = create_model(name, __base__=SuiteParams, **fields)
    model.shared = tuple(base.model_fields)
    return model


class Suite(MultiTask):
    """A composition registered like a task (see the module docstring)."""

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]
    source: ClassVar[str]
    definition: ClassVar[str]
    Params: ClassVar[type[SuiteParams]]
    versions: ClassVar[dict[str, Version]]
    aliases: ClassVar[tuple[str, ...]] = ()
    recommended: ClassVar[dict[str, Recommended]] = {}

    def __init__(self, params: SuiteParams | None = None, *, version: str = "vanilla") -> None:
        params = version_params(self, params, version)
        self.params = params
        self.version = version
        try:
            tasks, options = self.members(version, params)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{self.name}/{version}: {exc}") from None
        super().__init__(tasks, **options)

    def members(self, version: str, params: SuiteParams) -> tuple[list[Task], dict[str, Any]]:
        """The suite's tasks and the `MultiTask` options (labels, channels, weights, mode...)."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """``{"task": name, "version": ..., "params": ...}``: `rnnzoo.tasks.from_config`
        rebuilds the suite from it."""
        return {"task": self.name, "version": self.version, "params": self.params.to_json_dict()}

    def card(self) -> TaskCard:
        """The suite's card: its tasks, parameters, metric and versions."""
        return task_card(self)

    def __repr__(self) -> str:
        given = self.params.model_dump(exclude_defaults=True)
        args = ", ".join(f"{k}={v!r}" for k, v in given.items())
        return f"{type(self).__name__}(version={self.version!r}{', ' + args if args else ''})"


__all__ = ["Suite", "SuiteParams", "shared_params"]
