"""Analyse a training run directory: the network on the task's test grid, its fixed points
at the task's resting input (or the input asked for), state-space statistics, weight spectra,
optionally a latent circuit sized from the task's channels; writes OUT/summary.json
(atomically) and the figures, and returns the summary.  Its ``warnings`` say when the result
may mislead: a run that diverged or did not reach its target, a latent circuit that fits
poorly.  The settings are `rnnzoo.analysis.settings.AnalysisSettings`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo._atomic import atomic_path
from rnnzoo.analysis import large, plots
from rnnzoo.analysis.fixed_points import FixedPoints, fixed_points_from_trajectories
from rnnzoo.analysis.latent_channels import latent_channels
from rnnzoo.analysis.latent_circuit import fit_latent_circuit, perturbation_test
from rnnzoo.analysis.network import Simulation, is_continuous, simulate, single_network
from rnnzoo.analysis.settings import AnalysisSettings, analysis_settings, constant_input
from rnnzoo.analysis.state_space import (
    autocorrelation,
    autocorrelation_time,
    lyapunov_exponent,
    participation_ratio,
    pca,
)
from rnnzoo.analysis.task_variance import cluster_lesions, task_variance
from rnnzoo.analysis.weights import recurrent_blocks, weight_spectrum
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.seeding import check_seed

N_EXAMPLE_TRIALS = 3


def load_run(run_dir: str | Path, member: int | None = None) -> tuple[Any, Network, Any]:
    """(RunConfig, the standalone network (ensemble ``member``), task) of a run directory."""
    from rnnzoo.models import load_model
    from rnnzoo.training.build import build_task, check_fits, task_view
    from rnnzoo.training.config import RunConfig

    run_dir = Path(run_dir)
    missing = [n for n in ("config.yaml", "model.safetensors") if not (run_dir / n).is_file()]
    if not run_dir.is_dir() or missing:
        what = "does not exist" if not run_dir.exists() else f"has no {' or '.join(missing)}"
        raise InvalidParameterError(
            f"'run_dir': '{run_dir}' is not a finished run directory ({what})"
        )
    config = RunConfig.from_yaml(run_dir / "config.yaml")
    net = load_model(run_dir / "model.safetensors")
    for name, tensor in net.state_dict().items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise InvalidParameterError(
                f"'{run_dir / 'model.safetensors'}': weight '{name}' holds NaN or infinite "
                "values (a diverged or damaged network); there is nothing to analyse"
            )
    task = task_view(config, build_task(config))  # a2c: the policy's view (its outputs)
    try:
        check_fits(net, config, task)
    except InvalidParameterError as exc:
        raise InvalidParameterError(
            f"'{run_dir}': its config.yaml and model.safetensors disagree ({exc})"
        ) from None
    if member is not None and not 0 <= member < (net.config.ensemble or 1):
        raise InvalidParameterError(
            f"'member' must be in [0, {net.config.ensemble or 1}) for this run; got {member}"
        )
    return config, single_network(net, member), task


def analysis_batch(task: Any, seed: int, max_trials: int = 256) -> TrialBatch:
    """The task's deterministic test grid (at most ``max_trials`` trials), or a seeded test
    batch for tasks without one."""
    batch = task.generate_test() if hasattr(task, "generate_test") else None
    if batch is None:
        batch = task.generate(64, seed, split="test")
    return batch.select(np.arange(min(batch.batch_size, max_trials)))


def training_warnings(run_dir: str | Path) -> list[str]:
    """What the run's own summary.json says against trusting its analysis: it diverged, it
    did not reach its target, or it has no summary (unfinished or interrupted)."""
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        return [
            f"'{run_dir}' has no summary.json: the run is unfinished or was interrupted, so "
            "the network analysed may be untrained"
        ]
    summary = json.loads(path.read_text())
    status, perf = summary.get("status"), summary.get("final_performance")
    target = summary.get("target_performance")
    if status == "diverged":
        return [
            f"the run diverged (at step {(summary.get('divergence') or {}).get('step')}): the "
            "weights analysed are those of the step before, not those of a trained network"
        ]
    if perf is None or target is None or perf >= target:
        return []
    return [
        f"the run stopped ({status}) at performance {perf:.3g}, below its target {target:g}: "
        "the network may not solve the task, and its dynamics need not be the task's solution"
    ]


def resting_input(batch: TrialBatch) -> np.ndarray:
    """The most frequent input vector (I,) over the batch's trial steps (the input the network
    sits at between events, e.g. zero for the flip-flop)."""
    rows = batch.inputs[batch.valid].astype(np.float64)
    values, counts = np.unique(rows, axis=0, return_counts=True)
    return values[counts.argmax()]


def condition_labels(batch: TrialBatch) -> np.ndarray:
    """A label per trial (B,): its target at its last scored step, as text (e.g. the memory
    state of the flip-flop, the choice of a decision task)."""
    scored = (batch.weights > 0).any(axis=2)
    last = np.array(
        [
            np.nonzero(scored[:, b])[0][-1] if scored[:, b].any() else batch.lengths[b] - 1
            for b in range(batch.batch_size)
        ]
    )
    finals = batch.targets[last, np.arange(batch.batch_size)]
    return np.array([",".join(f"{v:g}" for v in row) for row in np.round(finals, 2)])


def analyze_run(
    run_dir: str | Path,
    out: str | Path | None = None,
    *,
    member: int | None = None,
    latent_circuit: bool = False,
    seed: int = 0,
    settings: AnalysisSettings | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Analyse ``run_dir`` (member ``member`` of an ensemble, 0 by default) and write
    ``out`` (default RUN_DIR/analysis)/summary.json plus PNG figures; returns the summary
    (see the README's "Analysis" section for its keys; inf and NaN become None).  ``settings``:
    `AnalysisSettings` or a dict of its fields (the defaults when None)."""
    seed = check_seed(seed)
    if not isinstance(settings, AnalysisSettings):
        settings = analysis_settings(settings)
    config, net, task = load_run(run_dir, member)
    out = Path(run_dir) / "analysis" if out is None else Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out': '{out}' is a file, not a folder")
    if not out.parent.is_dir():
        raise InvalidParameterError(f"'out': folder '{out.parent}' does not exist")
    in_latent_form = large.is_large_low_rank(net)
    if in_latent_form and latent_circuit:
        raise InvalidParameterError(
            f"'latent_circuit' is not available for low-rank networks with more than "
            f"{large.LARGE_NEURONS} neurons (N = {net.options.n_hidden})"
        )
    batch = analysis_batch(task, seed, settings.max_trials)
    latent = latent_size(net, batch, settings) if latent_circuit else None  # checked first
    with staged_folder(out) as stage:
        return _analyze(run_dir, stage, config, net, task, member, batch, latent, seed, settings)


def _analyze(
    run_dir, out: Path, config, net, task, member, batch, latent, seed: int, settings
) -> dict[str, Any]:
    if net.kind == "cordsnet":  # convolutional: its own toolkit (rnnzoo.analysis.cordsnet_run)
        from rnnzoo.analysis.cordsnet_run import analyze_cordsnet_run

        member_index = member if member is not None else 0
        summary = analyze_cordsnet_run(
            config, net, task, batch, out, Path(run_dir), member_index, seed
        )
        return _finite({**summary, "warnings": training_warnings(run_dir)})
    if large.is_large_low_rank(net):  # in latent form (rnnzoo.analysis.run_large)
        from rnnzoo.analysis.run_large import analyze_large

        summary = analyze_large(config, net, task, out, seed)
        return _write_summary(
            out, {**summary, "run_dir": str(run_dir), "warnings": training_warnings(run_dir)}
        )
    rest = resting_input(batch)
    fp_input = constant_input(settings.fp_input, tuple(batch.input_names), rest)
    warnings = training_warnings(run_dir)
    sim = simulate(net, batch.inputs)
    if not np.isfinite(sim.states).all():
        raise InvalidParameterError(
            f"'{run_dir}': the network's activity becomes NaN or infinite on the test trials "
            "(diverged or damaged weights); there is nothing to analyse"
        )
    valid = batch.valid
    fixed = fixed_points_from_trajectories(
        net,
        sim.states[valid][None],
        fp_input,
        n_initial=settings.fp_starts,
        noise_scale=settings.fp_noise,
        newton_steps=settings.fp_newton_steps,
        seed=seed,
    )
    space = pca(sim.rates[valid], n_components=min(3, sim.rates.shape[-1]))
    spectrum = weight_spectrum(net)
    correlation = autocorrelation(
        np.where(valid[..., None], sim.rates, 0.0), sim.rates.shape[0] // 2
    )
    summary: dict[str, Any] = {
        "run_dir": str(Path(run_dir)),
        "task": config.task.get("task", "composition"),
        "model": net.kind,
        "member": member if member is not None else 0,
        "n_trials": batch.batch_size,
        "resting_input": rest.tolist(),
        "fixed_point_input": fp_input.tolist(),
        "n_fixed_points": fixed.n_fixed,
        "n_stable": fixed.n_stable,
        "fixed_points": _with_projections(fixed, space),
        "participation_ratio": participation_ratio(sim.rates[valid]),
        "pca_explained_variance": space.explained_variance_ratio.tolist(),
        "autocorrelation_time_ms": autocorrelation_time(correlation, batch.dt_ms),
        "lyapunov_exponent_per_s": lyapunov_exponent(net, sim.states[0, 0], rest, seed=seed),
        "spectrum": spectrum.summary(),
        "settings": settings.model_dump(mode="json"),
    }
    figures = _figures(out, net, batch, sim, fixed, space, spectrum)
    if _per_task(task, net):
        summary["task_variance"] = _task_variance(net, task, out, figures, seed)
    if latent is not None:
        summary["latent_circuit"] = _latent_circuit(
            net, batch, sim, out, figures, seed, settings, latent
        )
        warnings += summary["latent_circuit"].pop("warnings")
    summary["figures"] = figures
    summary["warnings"] = warnings
    return _write_summary(out, summary)


def _write_summary(out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    summary = _finite(summary)
    with atomic_path(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A hidden folder beside ``out`` to write into; on success its files replace those of the
    same name in ``out`` (created if needed), on any error it is removed and ``out`` is as it
    was (nothing half-made is left)."""
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield stage
        if not out.exists():
            stage.rename(out)
            return
        for item in stage.iterdir():
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _with_projections(fixed: FixedPoints, space) -> dict[str, Any]:
    """The fixed points' summary with each point's coordinates on the PCs ("pca")."""
    summary = fixed.summary()
    for point, coords in zip(summary["points"], space.transform(fixed.rates), strict=True):
        point["pca"] = coords.tolist()
    return summary


def _figures(out, net, batch, sim: Simulation, fixed: FixedPoints, space, spectrum):
    n = min(N_EXAMPLE_TRIALS, batch.batch_size)
    picks = np.linspace(0, batch.batch_size - 1, n).round().astype(int)
    projections = np.where(batch.valid[..., None], space.transform(sim.rates), np.nan)
    drawn = {
        "trials": plots.plot_trials(batch, sim.outputs, out / "trials.png", picks),
        "pca": plots.plot_pca(projections, condition_labels(batch), space, out / "pca.png", fixed),
        "fixed_points": plots.plot_fixed_points(fixed, space, out / "fixed_points.png"),
        "spectrum": plots.plot_spectrum(spectrum, out / "spectrum.png"),
        "connectivity": plots.plot_connectivity(recurrent_blocks(net), out / "connectivity.png"),
    }
    return {name: path.name for name, path in drawn.items()}


def latent_size(net, batch, settings: AnalysisSettings) -> tuple[Any, int, bool]:
    """(channels, number of nodes, structured) of the latent circuit, checked: one node per
    channel of the task (`latent_channels`: inputs used, outputs, rings pooled into sectors)
    unless ``latent_nodes`` says otherwise, and the paper's non-negative input/output structure
    only when every target is >= 0 (a ReLU circuit read out with non-negative weights cannot
    produce negative outputs)."""
    channels = latent_channels(batch, settings.ring_sectors)
    size = net.options.n_hidden
    structured = bool((batch.targets >= 0).all())
    low = max(len(channels.input_names), len(channels.output_names)) if structured else 1
    n_nodes = settings.latent_nodes if settings.latent_nodes is not None else channels.n_nodes
    if not low <= n_nodes <= size:
        raise InvalidParameterError(
            f"'latent_nodes' must be in [{low}, {size}] for this network and task "
            f"({len(channels.input_names)} input and {len(channels.output_names)} output "
            f"channels); got {n_nodes}"
        )
    return channels, n_nodes, structured


def fit_task_circuit(
    net, batch, sim: Simulation, seed: int, settings: AnalysisSettings, size: tuple[Any, int, bool]
):
    """The latent circuit of ``size`` (`latent_size`: channels, nodes, structured) fitted to the
    rates ``sim`` of the first ``latent_trials`` trials of ``batch``, with the task's channels
    as its inputs and outputs (`LatentCircuit`)."""
    alpha = float(net.alpha.mean()) if is_continuous(net) else 1.0
    channels, n_nodes, structured = size
    trials = slice(0, settings.latent_trials)
    return fit_latent_circuit(
        sim.rates[:, trials],
        channels.inputs(batch.inputs[:, trials]),
        channels.outputs(sim.outputs[:, trials]),
        n_nodes=n_nodes,
        alpha=alpha,
        seed=seed,
        n_iters=settings.latent_iters,
        n_restarts=settings.latent_restarts,
        structured=structured,
    )


def _latent_circuit(
    net,
    batch,
    sim: Simulation,
    out: Path,
    figures: dict,
    seed: int,
    settings: AnalysisSettings,
    size: tuple[Any, int, bool],
):
    """Fit a circuit of ``size`` (`latent_size`) to the rates of the first ``latent_trials``
    trials; perturbation test (on all trials) of its strongest connection weakened by half,
    when the network's W allows it; warnings when the fit is poor."""
    channels, n_nodes, structured = size
    circuit = fit_task_circuit(net, batch, sim, seed, settings, size)
    names = channels.node_names(n_nodes, structured)
    result = {
        **circuit.summary(),
        "node_names": list(names),
        "input_channels": list(channels.input_names),
        "output_channels": list(channels.output_names),
    }
    i, j = np.unravel_index(np.abs(circuit.w_rec).argmax(), circuit.w_rec.shape)
    delta = np.zeros_like(circuit.w_rec)
    delta[i, j] = -0.5 * circuit.w_rec[i, j]
    try:
        test = perturbation_test(net, circuit, batch.inputs, delta, channels=channels)
        result["perturbation"] = {"connection": [int(i), int(j)], "scale": -0.5, **test}
    except InvalidParameterError as exc:
        result["perturbation"] = {"skipped": str(exc)}
    figures["latent_circuit"] = plots.plot_latent_circuit(
        circuit,
        names,
        out / "latent_circuit.png",
        (channels.input_names, channels.output_names),
    ).name
    result["warnings"] = [
        f"the latent circuit fits poorly: {what} R^2 = {value:.2f} < {settings.poor_fit_r2:g} "
        f"({n_nodes} nodes); its connectivity need not describe the network (try other "
        "--latent-nodes or more --latent-iters)"
        for what, value in (("embedding", circuit.embedding_r2), ("output", circuit.output_r2))
        if not value >= settings.poor_fit_r2
    ]
    return result


def _per_task(task: Any, net: Network) -> bool:
    """True for a composition whose tasks each take the network's inputs (the Yang et al.
    suite): the task variance of its units can be computed task by task."""
    parts = getattr(task, "tasks", ())
    return len(parts) > 1 and all(t.n_inputs == net.config.n_inputs for t in parts)


def _task_variance(net, task, out: Path, figures: dict, seed: int) -> dict[str, Any]:
    """Yang et al.'s task variance, unit clusters and cluster lesions over the composition's
    tasks, with their figure (or why they were skipped)."""
    try:
        result = task_variance(net, task, seed=seed)
    except InvalidParameterError as exc:
        return {"skipped": str(exc)}
    lesions = cluster_lesions(net, task, result)
    figures["task_variance"] = plots.plot_task_variance(
        result, lesions, out / "task_variance.png"
    ).name
    return {**result.summary(), "lesion_performance": lesions.tolist()}


def _finite(value: Any) -> Any:
    """JSON has no inf/NaN: they become null."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
