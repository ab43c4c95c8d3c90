"""Analyses inside a sweep: the ``analysis:`` section of a sweep file, run on every trained
network of a job after its training.

The section names the analyses (`AnalysisSection`); each is a *piece* computed on one network
(ensemble member i of a job) with the functions `rnnzoo analyze` uses (`rnnzoo.analysis.run`):
the network runs noise-free on the task's test grid (`analysis_batch`), fixed points are
searched at the resting input from states on those trajectories, a latent circuit of each
size asked for is fitted to the rates.  A piece writes its arrays (``<piece>.npz``) and then
its scalars (``<piece>.json``, the piece's completion mark, both atomically) into
``RUN_DIR/mechanisms/<analysis_id>/member<i>/``; an interrupted job redoes only the pieces
without a JSON.  The scalars go into the results table (its analysis columns), with ``analysis_id`` (a
hash of the section's analysis settings: a changed section is a new analysis, an unchanged
one is never redone), ``analysis_status`` (running, done, skipped, failed, interrupted) and
``analysis_error``.  A stage sequence is analysed after every stage on its first stage's
trials (`rnnzoo.bench.stages`), its row holding the last stage's.  Diverged networks are
skipped (their weights are not a trained network).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from rnnzoo._atomic import atomic_path
from rnnzoo.analysis.settings import AnalysisSettings, analysis_settings
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.seeding import MAX_SEED

MECHANISMS_FOLDER = "mechanisms"
SIMILARITY_METRICS = ("procrustes", "dsa")
AXES = ("model", "method", "rule", "task", "seed")
DONE = ("done", "skipped")
"""Analysis statuses a rerun keeps (failed and interrupted analyses run again)."""


class LatentRange(BaseModel):
    """Latent circuits of ``start, ..., stop`` nodes (both included)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=1, le=512)
    stop: int = Field(ge=1, le=512)


class ComplexitySpec(BaseModel):
    """How the report ranks task complexity: a network's latent size is the smallest fitted
    number of nodes whose ``metric`` reaches ``threshold`` (`rnnzoo.bench.complexity`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Literal["embedding_r2", "subspace_r2", "output_r2"] = "embedding_r2"
    threshold: float = Field(gt=0, le=1, description="fit a latent circuit must reach (R^2)")


CONDITION_COLUMN = re.compile(r"^(?P<name>.+)\[(?P<column>\d+)\]$")
"""A psychometric condition with one column picked: ``name[k]`` (column k of a (B, k')
condition)."""


def split_condition(text: str) -> tuple[str, int | None]:
    """(condition name, column or None) of a psychometric condition ``name`` or ``name[k]``."""
    match = CONDITION_COLUMN.match(text)
    if match is None:
        return text, None
    return match["name"], int(match["column"])


class AnalysisSection(BaseModel):
    """The ``analysis:`` section of a sweep file: what is computed on every trained network
    (fixed points, latent circuits, participation ratio, weight spectrum, Lyapunov exponent,
    psychometric curve) and how the report compares the networks (similarity metrics, the
    sweep axis colouring the MDS plot)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fixed_points: bool = Field(True, description="fixed points at the task's resting input")
    latent_circuit: Literal["task"] | int | list[int] | LatentRange | None = Field(
        None,
        description="latent circuit sizes: 'task' (one node per task channel), a number of "
        "nodes, a list of them or {start, stop}; none when null",
    )
    participation_ratio: bool = Field(True, description="dimensionality of the rates")
    spectrum: bool = Field(True, description="eigenvalues of the recurrent weights")
    lyapunov: bool = Field(False, description="largest Lyapunov exponent at the resting input")
    psychometric: str | dict[str, str] | None = Field(
        None,
        description="condition of the test grid the psychometric curve is drawn over, "
        "'name[k]' for column k of a vector condition (or task label -> condition); tasks "
        "without it are skipped",
    )
    similarity: tuple[Literal["procrustes", "dsa"], ...] = Field(
        SIMILARITY_METRICS, description="metrics of the report's pairwise similarity matrix"
    )
    color_by: Literal["model", "method", "rule", "task", "seed"] = Field(
        "model", description="sweep axis colouring the report's MDS plot"
    )
    complexity: ComplexitySpec | None = Field(
        None,
        description="the report's task-complexity ranking (smallest latent circuit reaching a "
        "fit threshold); none when null",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="AnalysisSettings (as `rnnzoo analyze` takes them)"
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the analyses' random starts")

    def analysis_settings(self) -> AnalysisSettings:
        return analysis_settings(self.settings)

    def latent_sizes(self) -> list[int | None]:
        """The latent circuit sizes (None: the task's channel count), in order."""
        value = self.latent_circuit
        if value is None:
            return []
        if value == "task":
            return [None]
        if isinstance(value, int):
            return [value]
        if isinstance(value, LatentRange):
            return list(range(value.start, value.stop + 1))
        return list(dict.fromkeys(value))

    def pieces(self, task_label: str) -> list[str]:
        """Names of the pieces computed for a network of ``task_label``."""
        names = [
            name
            for name, wanted in (
                ("fixed_points", self.fixed_points),
                ("participation_ratio", self.participation_ratio),
                ("spectrum", self.spectrum),
                ("lyapunov", self.lyapunov),
            )
            if wanted
        ]
        names += [f"latent_{'task' if n is None else n}" for n in self.latent_sizes()]
        if self.condition(task_label) is not None:
            names.append("psychometric")
        return names

    def condition(self, task_label: str) -> str | None:
        if isinstance(self.psychometric, dict):
            return self.psychometric.get(task_label)
        return self.psychometric

    def analysis_id(self) -> str:
        """16 hex digits naming what is computed (not the report's similarity, colouring or
        complexity ranking)."""
        data = self.model_dump(mode="json", exclude={"similarity", "color_by", "complexity"})
        data["settings"] = self.analysis_settings().model_dump(mode="json")
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_section(section: AnalysisSection, owner: str) -> None:
    """Raise `InvalidParameterError` for settings or sizes that cannot be analysed."""
    try:
        section.analysis_settings()
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"{owner}: analysis.settings: {exc}") from None
    value = section.latent_circuit
    if isinstance(value, LatentRange) and value.stop < value.start:
        raise InvalidParameterError(
            f"{owner}: analysis.latent_circuit: 'stop' must be >= 'start'; got "
            f"start {value.start}, stop {value.stop}"
        )
    if isinstance(value, list) and (not value or any(n < 1 for n in value)):
        raise InvalidParameterError(
            f"{owner}: analysis.latent_circuit must list sizes >= 1; got {value}"
        )
    if section.complexity is not None and not any(section.latent_sizes()):
        raise InvalidParameterError(
            f"{owner}: analysis.complexity ranks the smallest latent circuit that fits, so "
            "analysis.latent_circuit must name numbers of nodes (e.g. {start: 1, stop: 6})"
        )


def member_dir(run_dir: Path, analysis_id: str, member: int) -> Path:
    return Path(run_dir) / MECHANISMS_FOLDER / analysis_id / f"member{member}"


View = Callable[[int, int], tuple[Any, Any]]
"""(seed, max_trials) -> (task, test batch) the analyses run on instead of the run's own."""


class _Network:
    """One trained network ready for the pieces: loaded, its test batch and its noise-free
    simulation (computed once per member)."""

    def __init__(
        self, run_dir: Path, member: int, section: AnalysisSection, view: View | None = None
    ) -> None:
        from rnnzoo.analysis.network import simulate
        from rnnzoo.analysis.run import analysis_batch, load_run, resting_input

        self.settings = section.analysis_settings()
        self.seed = section.seed
        self.config, self.net, self.task = load_run(run_dir, member)
        if view is None:
            self.batch = analysis_batch(self.task, self.seed, self.settings.max_trials)
        else:
            self.task, self.batch = view(self.seed, self.settings.max_trials)
        self.rest = resting_input(self.batch)
        self.sim = simulate(self.net, self.batch.inputs)
        if not np.isfinite(self.sim.states).all():
            raise InvalidParameterError(
                "the network's activity becomes NaN or infinite on the test trials"
            )


def _fixed_points(n: _Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from rnnzoo.analysis.fixed_points import fixed_points_from_trajectories
    from rnnzoo.analysis.settings import constant_input

    s = n.settings
    u = constant_input(s.fp_input, tuple(n.batch.input_names), n.rest)
    fixed = fixed_points_from_trajectories(
        n.net,
        n.sim.states[n.batch.valid][None],
        u,
        n_initial=s.fp_starts,
        noise_scale=s.fp_noise,
        newton_steps=s.fp_newton_steps,
        seed=n.seed,
    )
    classes = Counter(str(c) for c in fixed.stability[fixed.is_fixed])
    scalars = {
        "n_fixed_points": fixed.n_fixed,
        "n_stable_fixed_points": fixed.n_stable,
        "fixed_point_classes": json.dumps(dict(sorted(classes.items()))),
        "summary": fixed.summary(),
    }
    arrays = {
        "inputs": fixed.inputs,
        "states": fixed.states,
        "rates": fixed.rates,
        "outputs": fixed.outputs,
        "speed": fixed.speed,
        "eigenvalues": fixed.eigenvalues,
        "is_fixed": fixed.is_fixed,
        "stability": fixed.stability.astype(str),
    }
    return scalars, arrays


def _participation_ratio(n: _Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from rnnzoo.analysis.state_space import participation_ratio

    return {"participation_ratio": participation_ratio(n.sim.rates[n.batch.valid])}, {}


def _spectrum(n: _Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from rnnzoo.analysis.weights import weight_spectrum

    spectrum = weight_spectrum(n.net)
    scalars = {"spectral_radius": spectrum.spectral_radius, "summary": spectrum.summary()}
    return scalars, {
        "eigenvalues": spectrum.eigenvalues,
        "singular_values": spectrum.singular_values,
    }


def _lyapunov(n: _Network) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from rnnzoo.analysis.state_space import lyapunov_exponent

    value = lyapunov_exponent(n.net, n.sim.states[0, 0], n.rest, seed=n.seed)
    return {"lyapunov_exponent_per_s": value}, {}


def _latent(n: _Network, size: int | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from rnnzoo.analysis.run import fit_task_circuit, latent_size

    settings = n.settings.model_copy(update={"latent_nodes": size})
    try:
        chosen = latent_size(n.net, n.batch, settings)
    except InvalidParameterError as exc:
        return {"skipped": str(exc)}, {}
    circuit = fit_task_circuit(n.net, n.batch, n.sim, n.seed, settings, chosen)
    channels, n_nodes, structured = chosen
    scalars = {
        "n_nodes": n_nodes,
        "embedding_r2": circuit.embedding_r2,
        "subspace_r2": circuit.subspace_r2,
        "output_r2": circuit.output_r2,
        "node_names": list(channels.node_names(n_nodes, structured)),
        "structured": structured,
        "restart_agreement": circuit.restart_agreement,
    }
    arrays = {
        "w_rec": circuit.w_rec,
        "w_in": circuit.w_in,
        "w_out": circuit.w_out,
        "q": circuit.q,
        "alpha": np.float64(circuit.alpha),
    }
    return scalars, arrays


def _psychometric(n: _Network, condition: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from rnnzoo.analysis.psychometric import curve_from_outputs

    name, column = split_condition(condition)
    if name not in n.batch.conditions:
        return {"skipped": f"the test grid has no condition {name!r}"}, {}
    try:
        curve = curve_from_outputs(n.sim.outputs, n.task, n.batch, name, column=column)
    except InvalidParameterError as exc:
        return {"skipped": str(exc)}, {}
    summary = {**curve.summary(), "condition": condition}  # with its column, "name[k]"
    return {"curve": summary}, {
        "values": curve.values,
        "choice_fraction": curve.choice_fraction,
        "performance": curve.performance,
    }


def compute_piece(name: str, network: _Network, section: AnalysisSection, task_label: str):
    """(scalars, arrays) of piece ``name`` on ``network``."""
    if name.startswith("latent_"):
        size = name.removeprefix("latent_")
        return _latent(network, None if size == "task" else int(size))
    if name == "psychometric":
        return _psychometric(network, section.condition(task_label) or "")
    return {
        "fixed_points": _fixed_points,
        "participation_ratio": _participation_ratio,
        "spectrum": _spectrum,
        "lyapunov": _lyapunov,
    }[name](network)


def analyse_member(
    run_dir: Path, member: int, section: AnalysisSection, task_label: str, view: View | None = None
) -> dict[str, Any]:
    """Compute the section's missing pieces for ensemble member ``member`` of ``run_dir`` and
    return its results-table columns (every piece's scalars, written or read back); ``view``
    gives the task and trials to analyse on (default: the run's own test grid)."""
    folder = member_dir(run_dir, section.analysis_id(), member)
    folder.mkdir(parents=True, exist_ok=True)
    network = None
    results: dict[str, dict[str, Any]] = {}
    for name in section.pieces(task_label):
        path = folder / f"{name}.json"
        if not path.is_file():
            if network is None:
                network = _Network(run_dir, member, section, view)
            scalars, arrays = compute_piece(name, network, section, task_label)
            if arrays:
                with atomic_path(folder / f"{name}.npz") as tmp:
                    np.savez(tmp, **arrays)
            with atomic_path(path) as tmp:
                Path(tmp).write_text(json.dumps(_finite(scalars), indent=1) + "\n")
        results[name] = json.loads(path.read_text())
    return {**columns_of(results), "analysis_dir": str(folder.resolve())}


def columns_of(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The results-table columns of a member's pieces (name -> scalars)."""
    row: dict[str, Any] = {}
    for name, scalars in results.items():
        if name.startswith("latent_") or name == "psychometric":
            continue
        row.update({k: v for k, v in scalars.items() if k != "summary"})
    fits = {
        str(s["n_nodes"]): {k: s[k] for k in ("embedding_r2", "subspace_r2", "output_r2")}
        for name, s in results.items()
        if name.startswith("latent_") and "n_nodes" in s
    }
    if fits:
        row["latent_fit"] = json.dumps(fits)
    return row


def analyse_job(task: Any, section: AnalysisSection) -> dict[str, Any]:
    """Run the section on every member of ``task.job`` (a `JobTask`) whose training did not
    diverge (its row's status), recording each member's row.  Returns {"status": done or
    failed, "error": the first error or None}.  KeyboardInterrupt records the members not
    done as "interrupted" and propagates."""
    from rnnzoo.bench.worker import error_line, record_rows
    from rnnzoo.training.results import read_runs

    analysis_id = section.analysis_id()
    runs = task.job.runs
    trained = {row["run_id"]: row["status"] for row in read_runs(task.db, sweep=task.sweep)}
    statuses = [trained.get(run.run_id) for run in runs]
    rows: list[dict[str, Any]] = [{"analysis_id": analysis_id} for _ in runs]
    for row in rows:
        row["analysis_status"] = "running"
    record_rows(task, rows)
    errors = []
    for i in range(len(runs)):
        if statuses[i] == "diverged":
            rows[i] = {
                "analysis_id": analysis_id,
                "analysis_status": "skipped",
                "analysis_error": "the network diverged; there is no trained network to analyse",
            }
            continue
        try:
            values = _analyse_run(task, i, section)
            rows[i] = {"analysis_id": analysis_id, **values, "analysis_status": "done"}
            rows[i]["analysis_error"] = None
        except KeyboardInterrupt:
            for j in range(i, len(runs)):
                rows[j] = {"analysis_id": analysis_id, "analysis_status": "interrupted"}
            record_rows(task, rows)
            raise
        except Exception as exc:
            errors.append(error_line(exc))
            rows[i] = {
                "analysis_id": analysis_id,
                "analysis_status": "failed",
                "analysis_error": errors[-1],
            }
    record_rows(task, rows)
    return {"status": "failed" if errors else "done", "error": errors[0] if errors else None}


def _analyse_run(task: Any, member: int, section: AnalysisSection) -> dict[str, Any]:
    """Member ``member``'s columns: its run's analyses, or every stage's of a stage sequence
    (`rnnzoo.bench.stages.analyse_stages`)."""
    from rnnzoo.bench.stages import analyse_stages

    label = task.job.runs[member].task_label
    if task.job.stages:
        return analyse_stages(task.run_dir, len(task.job.stages), member, section, label)
    return analyse_member(task.run_dir, member, section, label)


def _finite(value: Any) -> Any:
    """JSON has no inf/NaN: they become null."""
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
