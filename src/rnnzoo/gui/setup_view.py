"""The "New run" view: choose and customise a task, a model and the training, watch a live
preview of the task, and start a run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from nicegui import ui

from rnnzoo.cli.train import DEFAULT_MODEL, DEFAULT_MODEL_OPTIONS, DEFAULT_TASK, DEFAULT_TRAIN
from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.forms import SchemaForm, field_specs
from rnnzoo.gui.preview import PREVIEW_SEED, PREVIEW_TRIALS, preview_caption, trial_chart
from rnnzoo.gui.runs import RunManager


@cache
def task_menu() -> dict[str, dict[str, Any]]:
    """Every registered task: name -> {title, versions}."""
    from rnnzoo.tasks import describe_all

    return {row["name"]: row for row in describe_all()}


@cache
def model_menu() -> dict[str, str]:
    """Every network kind: kind -> title."""
    from rnnzoo.models import describe_all

    return {row["kind"]: row["title"] for row in describe_all()}


def _main_job_options(options: Any) -> dict[str, Any]:
    """The main job's size and time constant, prefilled for kinds sized by n_hidden (cordsnet
    derives its size from its areas and keeps its own defaults)."""
    size = options.model_fields.get("n_hidden")
    if size is None or size.default is None:
        return {}
    return {k: v for k, v in DEFAULT_MODEL_OPTIONS.items() if k in options.model_fields}


class SetupView:
    """Forms for task, model and training (generated from their schemas), a live task preview
    and the Start button; ``on_started(name)`` is called after a run was started."""

    def __init__(self, manager: RunManager, on_started: Callable[[str], None]) -> None:
        from rnnzoo.training.methods import METHOD_NAMES

        self.manager = manager
        self.on_started = on_started
        tasks = task_menu()
        with ui.row().classes("w-full no-wrap items-start gap-4"):
            with ui.column().classes("w-1/2 gap-4"):
                with ui.card().classes("w-full"):
                    ui.label("1. Task").classes("text-h6")
                    with ui.row().classes("w-full no-wrap"):
                        self.task_select = (
                            ui.select(
                                {name: f"{name}: {row['title']}" for name, row in tasks.items()},
                                label="task",
                                value=DEFAULT_TASK,
                                with_input=True,
                                on_change=lambda _: self._task_chosen(),
                            )
                            .mark("task")
                            .classes("w-2/3")
                        )
                        self.version_select = (
                            ui.select(
                                tasks[DEFAULT_TASK]["versions"],
                                label="version",
                                value="vanilla",
                                on_change=lambda _: self._build_task_form(),
                            )
                            .mark("version")
                            .classes("w-1/3")
                        )
                    self.task_box = ui.column().classes("w-full")
                with ui.card().classes("w-full"):
                    ui.label("2. Model").classes("text-h6")
                    self.model_select = ui.select(
                        {kind: f"{kind}: {title}" for kind, title in model_menu().items()},
                        label="network",
                        value=DEFAULT_MODEL,
                        on_change=lambda _: self._build_model_form(),
                    ).mark("model")
                    self.model_box = ui.column().classes("w-full")
                with ui.card().classes("w-full"):
                    ui.label("3. Training").classes("text-h6")
                    self.method_select = ui.select(
                        list(METHOD_NAMES),
                        label="method",
                        value="control",
                        on_change=lambda _: self._build_method_form(),
                    ).mark("method")
                    self.method_box = ui.column().classes("w-full")
                    self.train_form = self._train_form()
                    with ui.row().classes("w-full items-center"):
                        self.name_input = ui.input("run name", value=self._new_name()).mark(
                            "run_name"
                        )
                        ui.button("Start training", on_click=self.start).mark("start")
            with ui.column().classes("w-1/2"), ui.card().classes("w-full"):
                ui.label("Preview").classes("text-h6")
                self.caption = ui.label("").classes("text-sm").mark("preview.caption")
                self.charts = [
                    ui.echart({}).classes("w-full h-80 rnnzoo-preview").mark(f"preview.trial{i}")
                    for i in range(PREVIEW_TRIALS)
                ]
        self._build_task_form()
        self._build_model_form()
        self._build_method_form()

    # --- forms ---------------------------------------------------------------------------
    def _task_chosen(self) -> None:
        versions = task_menu()[self.task_select.value]["versions"]
        self.version_select.set_options(versions, value=versions[0])
        self._build_task_form()
        self.name_input.value = self._new_name()

    def _build_task_form(self) -> None:
        from rnnzoo.tasks import make

        task = make(self.task_select.value, self.version_select.value)
        self.task_box.clear()
        with self.task_box:
            ui.label(task.summary).classes("text-sm text-grey-8")
            self.task_form = SchemaForm(
                field_specs(task.Params, task.params),
                marker="task",
                on_change=self.refresh_preview,
            )
        self.refresh_preview()

    def _build_model_form(self) -> None:
        from rnnzoo.models import get_model_class
        from rnnzoo.training.config import ModelSpec

        options = get_model_class(self.model_select.value).Options
        self.model_box.clear()
        with self.model_box:
            ensemble = [s for s in field_specs(ModelSpec, ModelSpec()) if s.name == "ensemble"]
            self.ensemble_form = SchemaForm(ensemble, marker="run", on_change=self._check_model)
            self.model_form = SchemaForm(
                field_specs(options, options()),
                marker="model",
                initial=_main_job_options(options),
                on_change=self._check_model,
            )
        self.name_input.value = self._new_name()

    def _build_method_form(self) -> None:
        from rnnzoo.training.methods import make_method

        method = make_method(self.method_select.value)
        self.method_box.clear()
        with self.method_box:
            self.method_form = SchemaForm(
                field_specs(type(method.params), method.params),
                marker="method",
                on_change=self._check_method,
            )

    def _train_form(self) -> SchemaForm:
        from rnnzoo.training.config import TrainConfig

        return SchemaForm(
            field_specs(TrainConfig, TrainConfig()),
            marker="train",
            initial=DEFAULT_TRAIN,
            on_change=self._check_train,
        )

    # --- validation (the library's own checks and messages) -------------------------------
    def _check_task(self) -> Any:
        from rnnzoo.tasks import make

        name, version = self.task_select.value, self.version_select.value
        return self.task_form.check(lambda changes: make(name, version, **changes))

    def _check_model(self) -> Any:
        from rnnzoo.models import get_model_class
        from rnnzoo.models.options import validate_options
        from rnnzoo.training.config import run_config

        kind = self.model_select.value
        spec = self.ensemble_form.check(
            lambda changes: run_config(
                {"task": {"task": self.task_select.value}, "model": {"kind": kind, **changes}},
                owner="run",
            )
        )
        options = self.model_form.check(
            lambda changes: validate_options(kind, get_model_class(kind).Options, changes)
        )
        return None if spec is None else options

    def _check_method(self) -> Any:
        from rnnzoo.training.methods import make_method

        name = self.method_select.value
        return self.method_form.check(lambda changes: make_method(name, **changes))

    def _check_train(self) -> Any:
        from rnnzoo.training.config import train_config

        return self.train_form.check(lambda changes: train_config(changes, owner="train"))

    # --- preview and start ---------------------------------------------------------------
    def refresh_preview(self) -> None:
        """Draw a few trials of the task as customised now (nothing when a value is bad)."""
        task = self._check_task()
        if task is None:
            return
        batch = task.generate(PREVIEW_TRIALS, PREVIEW_SEED)
        self.caption.text = preview_caption(task, batch)
        for trial, chart in enumerate(self.charts):
            chart.options.clear()
            chart.options.update(trial_chart(batch, trial))
            chart.update()

    def _new_name(self) -> str:
        """A free run name: task-model-date-time (with -2, -3, ... when taken)."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        base = f"{self.task_select.value}-{self.model_select.value}-{stamp}"
        name, k = base, 1
        while (self.manager.runs_dir / name).exists():
            k += 1
            name = f"{base}-{k}"
        return name

    def start(self) -> None:
        """Validate every form, then start the run in its own process."""
        from rnnzoo.training.config import run_config

        checks = (
            self._check_task(),
            self._check_model(),
            self._check_method(),
            self._check_train(),
        )
        self.name_input.error = None
        if any(result is None for result in checks):
            ui.notify("Fix the values marked in red first.", type="warning")
            return
        try:
            config = run_config(
                {
                    "task": {
                        "task": self.task_select.value,
                        "version": self.version_select.value,
                        "params": self.task_form.changes(),
                    },
                    "model": {
                        "kind": self.model_select.value,
                        **self.ensemble_form.changes(),
                        "options": self.model_form.changes(),
                    },
                    "method": {
                        "name": self.method_select.value,
                        "hyperparameters": self.method_form.changes(),
                    },
                    "train": self.train_form.changes(),
                },
                owner="run",
            )
            name = self.name_input.value.strip()
            self.manager.start(name, config)
        except InvalidParameterError as exc:
            self.name_input.error = str(exc)
            return
        ui.notify(f"Started run {name}", type="positive")
        self.name_input.value = self._new_name()
        self.on_started(name)
