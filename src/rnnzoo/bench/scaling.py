"""The learning-rate collapse study (seed 000, poster panels 1 and 2) on the bench runner.

A scaling file names one task (its delay held fixed), the network sizes N, the learning-rate
grid, the models (e.g. full rank and rank 2), the training settings (gradient clipping off),
the seeds and the rescaling arms.  It expands into ordinary sweeps (`rnnzoo.bench.sweep`) in
one results folder, so every run is a normal rnnzoo run with one SQLite row, resumable and
skipped when finished:

- ``<name>.lr<value>``: one grid rate for every model x N x seed (the grid of panel 1);
- ``<name>.lr_rescaled``: lr(N) = lr_0 N_0 / N for every model x N (panel 2);
- ``<name>.param_rescaled``: full-rank models with W = J / N (model option
  ``recurrent_scaling: 1/N``, J starting at N W) at the fixed rate lr_0: an Adam step moves
  W by lr_0 / N while the input and output weights keep lr_0 (panel 2).

lr_0 is ``rescaling.lr`` or, when null, the rate whose runs at N_0 reach the target in the
fewest median steps in the grid (so the rescaling sweeps run after the grid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rnnzoo.bench.sweep import ModelEntry, SeedRange, Sweep, TaskEntry, sweep_from_dict
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error
from rnnzoo.training.config import read_yaml


class LearningRates(BaseModel):
    """A log-spaced grid: ``per_decade`` rates per decade from 10^low to 10^high."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float = Field(description="log10 of the smallest rate")
    high: float = Field(description="log10 of the largest rate")
    per_decade: int = Field(4, ge=1, le=20)

    def values(self) -> list[float]:
        count = round((self.high - self.low) * self.per_decade) + 1
        return [float(v) for v in np.round(np.logspace(self.low, self.high, count), 12)]


class Rescaling(BaseModel):
    """The arms of panel 2: lr_0 at the reference size N_0, rescaled as 1/N."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference_n: int = Field(64, ge=1, description="N_0")
    lr: float | None = Field(None, gt=0, description="lr_0; null = the fastest grid rate at N_0")
    arms: tuple[str, ...] = Field(("lr_rescaled", "param_rescaled"), description="arms to run")

    @model_validator(mode="after")
    def _known_arms(self) -> Rescaling:
        unknown = sorted(set(self.arms) - {"lr_rescaled", "param_rescaled"})
        if unknown:
            raise ValueError(f"'arms' must be lr_rescaled and/or param_rescaled; got {unknown}")
        return self


class ScalingModel(BaseModel):
    """A network family of the study; ``n_hidden`` comes from the size grid."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str = "leaky_rate"
    options: dict[str, Any] = Field(default_factory=dict)


class ScalingStudy(BaseModel):
    """A learning-rate collapse study (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    results: str
    task: TaskEntry
    n_hidden: tuple[int, ...] = Field(min_length=1)
    lr: LearningRates | tuple[float, ...]
    models: tuple[ScalingModel, ...] = Field(min_length=1)
    train: dict[str, Any] = Field(default_factory=dict)
    seeds: tuple[int, ...] | SeedRange = (0,)
    data_seed: int = Field(0, ge=0)
    ensemble: bool | int = True
    rescaling: Rescaling | None = Field(default_factory=Rescaling)
    fit_min_n: int = Field(64, ge=1, description="sizes N >= this enter the fit of beta")

    @model_validator(mode="after")
    def _grid(self) -> ScalingStudy:
        if any(n < 1 for n in self.n_hidden) or len(set(self.n_hidden)) != len(self.n_hidden):
            raise ValueError(f"'n_hidden' must be distinct sizes >= 1; got {list(self.n_hidden)}")
        labels = [m.label for m in self.models]
        if len(set(labels)) != len(labels):
            raise ValueError(f"'models' labels must be distinct; got {labels}")
        for model in self.models:
            if "n_hidden" in model.options:
                raise ValueError(f"models[{model.label}]: 'n_hidden' comes from the size grid")
        if self.rescaling is not None and self.rescaling.reference_n not in self.n_hidden:
            raise ValueError(
                f"'rescaling.reference_n' {self.rescaling.reference_n} must be one of n_hidden"
            )
        return self

    def rates(self) -> list[float]:
        return self.lr.values() if isinstance(self.lr, LearningRates) else list(self.lr)

    @property
    def results_dir(self) -> Path:
        return Path(self.results)


def load_study(path: str | Path) -> ScalingStudy:
    """Read and validate a scaling file; every sweep it expands to is validated too."""
    data = read_yaml(path, "scaling file")
    return study_from_dict(data, owner=f"scaling file '{path}'")


def study_from_dict(data: Any, owner: str = "scaling") -> ScalingStudy:
    if not isinstance(data, dict):
        raise InvalidParameterError(f"{owner}: expected a mapping; got {type(data).__name__}")
    try:
        study = ScalingStudy(**data)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(owner, ScalingStudy, exc)) from None
    if "lr" in study.train:
        raise InvalidParameterError(f"{owner}: train.lr is set by the grid ('lr')")
    for rate in study.rates():
        if not 0 < rate <= 10:
            raise InvalidParameterError(f"{owner}: 'lr' values must be in (0, 10]; got {rate}")
    grid_sweeps(study, owner)  # validates tasks, models and settings through the sweep schema
    return study


def model_label(model: ScalingModel, n_hidden: int) -> str:
    """The sweep's model label of ``model`` at size N: ``<label>_N<N>``."""
    return f"{model.label}_N{n_hidden}"


def _sweep(study: ScalingStudy, name: str, models: list[dict], lr: float, owner: str) -> Sweep:
    return sweep_from_dict(
        {
            "name": f"{study.name}.{name}",
            "results": study.results,
            "tasks": [study.task.model_dump()],
            "models": models,
            "train": {**study.train, "lr": lr},
            "seeds": study.seeds if isinstance(study.seeds, tuple) else study.seeds.model_dump(),
            "data_seed": study.data_seed,
            "ensemble": study.ensemble,
        },
        owner=f"{owner}: sweep {name}",
    )


def _entries(study: ScalingStudy, sizes: list[int], extra: dict | None = None) -> list[dict]:
    return [
        ModelEntry(
            kind=m.kind,
            options={**m.options, **(extra or {}), "n_hidden": n},
            label=model_label(m, n),
        ).model_dump()
        for m in study.models
        for n in sizes
    ]


def grid_sweeps(study: ScalingStudy, owner: str = "scaling") -> list[Sweep]:
    """One sweep per learning rate of the grid (every model x N x seed)."""
    entries = _entries(study, list(study.n_hidden))
    return [_sweep(study, grid_name(lr), entries, lr, owner) for lr in study.rates()]


def grid_name(lr: float) -> str:
    """The sweep name (after ``<name>.``) of grid rate ``lr``: ``lr<value>``, so that a grid
    changed later keeps the names (and finished runs) of the rates it shares."""
    return f"lr{lr:.6g}"


def rescaling_sweeps(study: ScalingStudy, lr0: float, owner: str = "scaling") -> list[Sweep]:
    """The rescaling arms: one sweep per N (its learning rate differs by N)."""
    if study.rescaling is None:
        return []
    n0 = study.rescaling.reference_n
    sweeps = []
    for n in study.n_hidden:
        if "lr_rescaled" in study.rescaling.arms:
            sweeps.append(
                _sweep(study, f"lr_rescaled.N{n}", _entries(study, [n]), lr0 * n0 / n, owner)
            )
        dense = [m for m in study.models if m.options.get("rank") is None]
        if "param_rescaled" in study.rescaling.arms and dense:
            sub = study.model_copy(update={"models": tuple(dense)})
            entries = _entries(sub, [n], {"recurrent_scaling": "1/N"})
            sweeps.append(_sweep(study, f"param_rescaled.N{n}", entries, lr0, owner))
    return sweeps


def arm_of(sweep_name: str, study: ScalingStudy) -> str:
    """ "grid", "lr_rescaled" or "param_rescaled" for a row's sweep name."""
    rest = sweep_name[len(study.name) + 1 :]
    return rest.split(".")[0] if "rescaled" in rest else "grid"


def unfinished_tasks(sweeps: list[Sweep]) -> tuple[list[Any], int]:
    """The worker payloads of every unfinished job of ``sweeps`` and the number of jobs."""
    from rnnzoo.bench.runner import finished_run_ids, job_tasks
    from rnnzoo.bench.sweep import expand

    tasks, total = [], 0
    for sweep in sweeps:
        jobs = expand(sweep)
        total += len(jobs)
        done = finished_run_ids(sweep)
        todo = [job for job in jobs if not all(run.run_id in done for run in job.runs)]
        tasks.extend(job_tasks(sweep, todo))
    return tasks, total


def reference_rate(study: ScalingStudy) -> float | None:
    """lr_0 of the rescaling arms: the configured one, else the fastest grid rate at N_0."""
    from rnnzoo.bench.scaling_results import fastest_rate, study_rows
    from rnnzoo.training.results import read_runs

    if study.rescaling is None:
        return None
    if study.rescaling.lr is not None:
        return study.rescaling.lr
    db = study.results_dir / "results.sqlite"
    if not db.is_file():
        return None
    rows = study_rows(study, read_runs(db), None)
    return fastest_rate([r for r in rows if r.arm == "grid"], study.rescaling.reference_n)


def run_study(study: ScalingStudy, executor: Any, on_done: Any = None) -> dict[str, Any]:
    """Run the grid, then (with lr_0 known) the rescaling arms, on ``executor``; finished runs
    are skipped, unfinished ones resume.  Returns {"jobs", "ran", "lr0"}."""
    study.results_dir.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []

    def collect(result: dict[str, Any]) -> None:
        results.append(result)
        if on_done is not None:
            on_done(result)

    tasks, total = unfinished_tasks(grid_sweeps(study))
    executor.run(tasks, collect)
    lr0 = reference_rate(study)
    if lr0 is not None:
        more, count = unfinished_tasks(rescaling_sweeps(study, lr0))
        total += count
        executor.run(more, collect)
    return {"jobs": total, "ran": len(results), "lr0": lr0, "results": results}
