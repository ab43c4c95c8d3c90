"""Analyse a training run directory: the network on the task's test grid, its fixed points
at the task's resting input, state-space statistics, weight spectra, optionally a latent
circuit; writes OUT/summary.json (atomically) and the figures, and returns the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.analysis import large, plots
from rnnzoo.analysis.fixed_points import FixedPoints, fixed_points_from_trajectories
from rnnzoo.analysis.latent_circuit import fit_latent_circuit, perturbation_test
from rnnzoo.analysis.network import Simulation, is_continuous, simulate, single_network
from rnnzoo.analysis.state_space import (
    autocorrelation,
    autocorrelation_time,
    lyapunov_exponent,
    participation_ratio,
    pca,
)
from rnnzoo.analysis.weights import recurrent_blocks, weight_spectrum
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.tasks.batch import TrialBatch

MAX_TRIALS = 256  # trials of the test grid analysed (the first ones)
N_EXAMPLE_TRIALS = 3
LATENT_TRIALS = 32  # trials the latent circuit is fitted to (the fit's cost grows with them)
LATENT_ITERS = 500


def load_run(run_dir: str | Path, member: int | None = None) -> tuple[Any, Network, Any]:
    """(RunConfig, the standalone network (ensemble ``member``), task) of a run directory."""
    from rnnzoo.models import load_model
    from rnnzoo.training.build import build_task
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
    if member is not None and not 0 <= member < (net.config.ensemble or 1):
        raise InvalidParameterError(
            f"'member' must be in [0, {net.config.ensemble or 1}) for this run; got {member}"
        )
    return config, single_network(net, member), build_task(config)


def analysis_batch(task: Any, seed: int) -> TrialBatch:
    """The task's deterministic test grid (at most MAX_TRIALS trials), or a seeded test batch
    for tasks without one."""
    batch = task.generate_test() if hasattr(task, "generate_test") else None
    if batch is None:
        batch = task.generate(64, seed, split="test")
    return batch.select(np.arange(min(batch.batch_size, MAX_TRIALS)))


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
) -> dict[str, Any]:
    """Analyse ``run_dir`` (member ``member`` of an ensemble, 0 by default) and write
    ``out`` (default RUN_DIR/analysis)/summary.json plus PNG figures; returns the summary
    (see the README's "Analysis" section for its keys; inf and NaN become None)."""
    if seed < 0:
        raise InvalidParameterError(f"'seed' must be >= 0; got {seed}")
    config, net, task = load_run(run_dir, member)
    out = Path(run_dir) / "analysis" if out is None else Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out': '{out}' is a file, not a folder")
    in_latent_form = large.is_large_low_rank(net)
    if in_latent_form and latent_circuit:
        raise InvalidParameterError(
            f"'latent_circuit' is not available for low-rank networks with more than "
            f"{large.LARGE_NEURONS} neurons (N = {net.options.n_hidden})"
        )
    out.mkdir(parents=True, exist_ok=True)
    if in_latent_form:
        from rnnzoo.analysis.run_large import analyze_large

        return _write_summary(
            out, {**analyze_large(config, net, task, out, seed), "run_dir": str(run_dir)}
        )
    batch = analysis_batch(task, seed)
    sim = simulate(net, batch.inputs)
    valid = batch.valid
    rest = resting_input(batch)
    fixed = fixed_points_from_trajectories(net, sim.states[valid][None], rest, seed=seed)
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
        "n_fixed_points": fixed.n_fixed,
        "n_stable": fixed.n_stable,
        "fixed_points": _with_projections(fixed, space),
        "participation_ratio": participation_ratio(sim.rates[valid]),
        "pca_explained_variance": space.explained_variance_ratio.tolist(),
        "autocorrelation_time_ms": autocorrelation_time(correlation, batch.dt_ms),
        "lyapunov_exponent_per_s": lyapunov_exponent(net, sim.states[0, 0], rest, seed=seed),
        "spectrum": spectrum.summary(),
    }
    figures = _figures(out, net, batch, sim, fixed, space, spectrum)
    if latent_circuit:
        summary["latent_circuit"] = _latent_circuit(net, batch, sim, out, figures, seed)
    summary["figures"] = figures
    return _write_summary(out, summary)


def _write_summary(out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    summary = _finite(summary)
    with atomic_path(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


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
        "trials": plots.plot_trials(
            batch.inputs[:, picks],
            batch.targets[:, picks],
            sim.outputs[:, picks],
            batch.dt_ms,
            out / "trials.png",
            tuple(batch.output_names),
        ),
        "pca": plots.plot_pca(projections, condition_labels(batch), space, out / "pca.png", fixed),
        "fixed_points": plots.plot_fixed_points(fixed, space, out / "fixed_points.png"),
        "spectrum": plots.plot_spectrum(spectrum, out / "spectrum.png"),
        "connectivity": plots.plot_connectivity(recurrent_blocks(net), out / "connectivity.png"),
    }
    return {name: path.name for name, path in drawn.items()}


def _latent_circuit(net, batch, sim: Simulation, out: Path, figures: dict, seed: int):
    """Fit an (I + O)-node circuit to the rates of the first LATENT_TRIALS trials (with the
    paper's non-negative input/output structure only when every target is >= 0: a ReLU circuit
    read out with non-negative weights cannot produce negative outputs);
    perturbation test (on all trials) of its strongest connection weakened by half, when the
    network's W allows it."""
    alpha = float(net.alpha.mean()) if is_continuous(net) else 1.0
    n_nodes = min(net.config.n_inputs + net.config.n_outputs, sim.rates.shape[-1])
    trials = slice(0, LATENT_TRIALS)
    circuit = fit_latent_circuit(
        sim.rates[:, trials],
        batch.inputs[:, trials],
        sim.outputs[:, trials],
        n_nodes=n_nodes,
        alpha=alpha,
        seed=seed,
        n_iters=LATENT_ITERS,
        structured=bool((batch.targets >= 0).all()),
    )
    result = circuit.summary()
    i, j = np.unravel_index(np.abs(circuit.w_rec).argmax(), circuit.w_rec.shape)
    delta = np.zeros_like(circuit.w_rec)
    delta[i, j] = -0.5 * circuit.w_rec[i, j]
    try:
        test = perturbation_test(net, circuit, batch.inputs, delta)
        result["perturbation"] = {"connection": [int(i), int(j)], "scale": -0.5, **test}
    except InvalidParameterError as exc:
        result["perturbation"] = {"skipped": str(exc)}
    figures["latent_circuit"] = plots.plot_latent_circuit(
        circuit.w_rec, circuit.embedding_r2, out / "latent_circuit.png"
    ).name
    return result


def _finite(value: Any) -> Any:
    """JSON has no inf/NaN: they become null."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
