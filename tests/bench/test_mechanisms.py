"""Analyses inside sweeps: resumable after an interruption, recorded like training, and the
report's mechanism columns equal to the analysis functions called on the saved networks."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from bench_helpers import cli, tiny_sweep, write_sweep

from rnnzoo.bench import LocalExecutor, expand, mechanisms, run_sweep, sweep_from_dict
from rnnzoo.bench.runner import job_tasks
from rnnzoo.bench.worker import run_job
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.results import read_runs

SETTINGS = {
    "fp_starts": 32,
    "latent_iters": 60,
    "latent_restarts": 1,
    "max_trials": 16,
    "latent_trials": 8,
}
ANALYSIS = {"latent_circuit": [2, 3], "settings": SETTINGS, "similarity": ["procrustes"]}
COLUMNS = (
    "n_fixed_points",
    "n_stable_fixed_points",
    "fixed_point_classes",
    "participation_ratio",
    "spectral_radius",
    "latent_fit",
)


def _sweep(results: Path, analysis=ANALYSIS):
    data = tiny_sweep(results, methods=[{"name": "control"}], seeds={"start": 0, "count": 2})
    if analysis is not None:
        data["analysis"] = analysis
    return data


def _assert_close(value, expected, where):
    if isinstance(expected, dict):
        assert value.keys() == expected.keys(), where
        for key in expected:
            _assert_close(value[key], expected[key], f"{where}.{key}")
    else:
        assert value == pytest.approx(expected, rel=1e-6, abs=1e-9), where


def _rows(sweep):
    return sorted(read_runs(sweep.db_path), key=lambda r: r["seed"])


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A tiny sweep trained and analysed without interruption."""
    results = tmp_path_factory.mktemp("whole") / "res"
    sweep = sweep_from_dict(_sweep(results))
    outcome = run_sweep(sweep, LocalExecutor(workers=1))
    assert [r["status"] for r in outcome.results] == ["done"]
    return sweep


def test_analyses_resume_after_interruption(tmp_path, monkeypatch, analysed):
    torch.set_num_threads(1)
    sweep = sweep_from_dict(_sweep(tmp_path / "res"))
    real = mechanisms.compute_piece
    calls = []

    def interrupt_third(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(mechanisms, "compute_piece", interrupt_third)
    (task,) = job_tasks(sweep, expand(sweep))
    result = run_job(task)  # trains, then the analysis is interrupted at its third piece
    assert result["status"] == "interrupted"
    rows = _rows(sweep)
    assert [r["status"] for r in rows] == [r["status"] for r in _rows(analysed)]
    assert [r["analysis_status"] for r in rows] == ["interrupted", "interrupted"]
    folder = Path(task.run_dir) / "mechanisms" / sweep.analysis.analysis_id() / "member0"
    kept = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")}
    assert sorted(kept) == ["fixed_points.json", "participation_ratio.json"]
    model = Path(task.run_dir) / "model.safetensors"
    stamp = model.stat().st_mtime_ns

    monkeypatch.setattr(mechanisms, "compute_piece", real)
    calls.clear()
    again = run_sweep(sweep, LocalExecutor(workers=1))
    assert [r["statuses"] for r in again.results] == [["analysed", "analysed"]]
    assert model.stat().st_mtime_ns == stamp  # not retrained
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json") if p.name in kept} == kept
    resumed = _rows(sweep)
    assert [r["analysis_status"] for r in resumed] == ["done", "done"]
    for row, whole in zip(resumed, _rows(analysed), strict=True):
        for key in COLUMNS:  # resumed equals uninterrupted
            value, expected = row[key], whole[key]
            if isinstance(expected, str):
                value, expected = json.loads(value), json.loads(expected)
            _assert_close(value, expected, key)
    assert len(run_sweep(sweep, LocalExecutor(workers=1)).skipped) == 1  # nothing left to do


def test_report_columns_equal_direct_analysis(analysed, tmp_path):
    from rnnzoo.analysis.fixed_points import fixed_points_from_trajectories
    from rnnzoo.analysis.network import simulate
    from rnnzoo.analysis.run import (
        analysis_batch,
        fit_task_circuit,
        latent_size,
        load_run,
        resting_input,
    )
    from rnnzoo.analysis.settings import analysis_settings
    from rnnzoo.analysis.similarity import distance_matrix
    from rnnzoo.analysis.state_space import participation_ratio
    from rnnzoo.analysis.weights import weight_spectrum

    torch.set_num_threads(1)
    settings = analysis_settings(SETTINGS)
    direct = []
    samples = []
    for row in _rows(analysed):
        _config, net, task = load_run(row["run_dir"], row["member"])
        batch = analysis_batch(task, 0, settings.max_trials)
        sim = simulate(net, batch.inputs)
        fixed = fixed_points_from_trajectories(
            net,
            sim.states[batch.valid][None],
            resting_input(batch),
            n_initial=settings.fp_starts,
            noise_scale=settings.fp_noise,
            newton_steps=settings.fp_newton_steps,
            seed=0,
        )
        fits = {}
        for n in (2, 3):
            size = latent_size(net, batch, settings.model_copy(update={"latent_nodes": n}))
            fits[n] = fit_task_circuit(net, batch, sim, 0, settings, size)
        direct.append(
            {
                "n_fixed": fixed.n_fixed,
                "classes": Counter(str(c) for c in fixed.stability[fixed.is_fixed]),
                "pr": participation_ratio(sim.rates[batch.valid]),
                "radius": weight_spectrum(net).spectral_radius,
                "fits": fits,
            }
        )
        samples.append(sim.rates[batch.valid])
        assert row["n_fixed_points"] == fixed.n_fixed
        assert row["participation_ratio"] == pytest.approx(direct[-1]["pr"], rel=1e-9)
        fit = json.loads(row["latent_fit"])
        assert fit["3"]["embedding_r2"] == pytest.approx(fits[3].embedding_r2, rel=1e-6)

    threshold = float(np.median([d["fits"][n].embedding_r2 for d in direct for n in (2, 3)]))
    ranked = {**ANALYSIS, "complexity": {"metric": "embedding_r2", "threshold": threshold}}
    sweep_file = write_sweep(tmp_path / "tiny.yaml", _sweep(analysed.results, ranked))
    cli("bench", "report", str(sweep_file), "--out", str(tmp_path / "report"))
    with open(tmp_path / "report" / "complexity.csv") as f:
        (task_row,) = list(csv.DictReader(f))
    learnt = [d for d, row in zip(direct, _rows(analysed), strict=True) if row["reached_criterion"]]
    assert learnt, "the tiny sweep's networks should reach their target"
    expected_sizes = [
        min((n for n in (2, 3) if d["fits"][n].embedding_r2 >= threshold), default=None)
        for d in learnt
    ]
    assert json.loads(task_row["latent_sizes"]) == expected_sizes
    assert float(task_row["median_fixed_points"]) == np.median([d["n_fixed"] for d in learnt])
    with open(tmp_path / "report" / "mechanisms.csv") as f:
        (cell,) = list(csv.DictReader(f))
    assert cell["networks"] == "2"
    counts = Counter(d["n_fixed"] for d in direct)
    assert json.loads(cell["fixed_point_counts"]) == {str(k): v for k, v in counts.items()}
    classes = sum((d["classes"] for d in direct), Counter())
    assert json.loads(cell["stability_classes"]) == dict(classes)
    assert float(cell["participation_ratio_mean"]) == pytest.approx(
        np.mean([d["pr"] for d in direct]), rel=1e-9
    )
    assert float(cell["spectral_radius_mean"]) == pytest.approx(
        np.mean([d["radius"] for d in direct]), rel=1e-9
    )
    text = (tmp_path / "report" / "mechanisms.md").read_text()
    emb = np.mean([d["fits"][3].embedding_r2 for d in direct])
    out = np.mean([d["fits"][3].output_r2 for d in direct])
    assert f"| {emb:.2f} / {out:.2f} |" in text
    with open(tmp_path / "report" / "similarity_0_procrustes.csv") as f:
        matrix = [[float(v) for k, v in r.items() if k != "network"] for r in csv.DictReader(f)]
    np.testing.assert_allclose(matrix, distance_matrix(samples, "procrustes"), rtol=1e-9)
    for name in ("latent_fit.png", "mds_0.png"):
        assert (tmp_path / "report" / name).stat().st_size > 1000


def test_analysis_added_later_failure_recorded_and_ids_kept(tmp_path):
    plain = sweep_from_dict(_sweep(tmp_path / "res", analysis=None))
    with_analysis = sweep_from_dict(_sweep(tmp_path / "res", analysis={"settings": SETTINGS}))
    assert [j.job_id for j in expand(plain)] == [j.job_id for j in expand(with_analysis)]
    run_sweep(plain, LocalExecutor(workers=1))
    (job,) = expand(plain)
    model = job.run_dir(plain) / "model.safetensors"
    shutil.move(model, tmp_path / "aside.safetensors")
    failed = run_sweep(with_analysis, LocalExecutor(workers=1))
    assert failed.results[0]["status"] == "failed"
    assert "analysis: InvalidParameterError" in failed.results[0]["error"]
    rows = _rows(with_analysis)
    assert {r["status"] for r in rows} <= {"reached", "max_steps"}  # training rows kept
    assert [r["analysis_status"] for r in rows] == ["failed", "failed"]
    assert all("model.safetensors" in r["analysis_error"] for r in rows)
    shutil.move(tmp_path / "aside.safetensors", model)
    stamp = model.stat().st_mtime_ns
    again = run_sweep(with_analysis, LocalExecutor(workers=1))
    assert again.results[0]["status"] == "done" and model.stat().st_mtime_ns == stamp
    assert [r["analysis_status"] for r in _rows(with_analysis)] == ["done", "done"]
    assert all(r["n_fixed_points"] >= 1 for r in _rows(with_analysis))


@pytest.mark.parametrize(
    ("analysis", "message"),
    [
        ({"latent_circuit": {"start": 4, "stop": 2}}, "'stop' must be >= 'start'"),
        ({"settings": {"fp_start": 3}}, "fp_start"),
        ({"psychometric": {"nope": "signal"}}, "analysis.psychometric names task 'nope'"),
        ({"color_by": "colour"}, "color_by"),
    ],
)
def test_bad_analysis_section_is_one_line_error(tmp_path, analysis, message):
    with pytest.raises(InvalidParameterError, match=message):
        sweep_from_dict(_sweep(tmp_path, analysis=analysis))


def _complexity_row(task: str, fits: dict[int, float], n_fixed: int, pr: float) -> dict:
    latent = {
        str(n): {"embedding_r2": v, "subspace_r2": None, "output_r2": v} for n, v in fits.items()
    }
    return {
        "task": task,
        "analysis_status": "done",
        "latent_fit": json.dumps(latent),
        "n_fixed_points": n_fixed,
        "participation_ratio": pr,
        "reached_criterion": 1,
    }


def test_complexity_ranks_tasks_by_smallest_fitting_circuit():
    from rnnzoo.bench.complexity import complexity_table, task_complexity

    rows = [
        _complexity_row("hard", {1: 0.2, 2: 0.5, 3: 0.6}, 9, 4.0),  # no size reaches 0.7
        _complexity_row("hard", {1: 0.3, 2: 0.75, 3: 0.8}, 7, 5.0),  # size 2
        _complexity_row("hard", {1: 0.1, 2: 0.4, 3: 0.65}, 11, 6.0),  # none: median > 3
        _complexity_row("easy", {1: 0.9, 2: 0.95, 3: 0.97}, 3, 2.0),
        _complexity_row("middle", {1: 0.6, 2: 0.71, 3: 0.9}, 5, 3.0),
        _complexity_row("middle_more_points", {1: 0.6, 2: 0.72, 3: 0.9}, 8, 2.5),
        {**_complexity_row("easy", {1: 0.0}, 1, 1.0), "analysis_status": "failed"},
        {**_complexity_row("easy", {1: 0.1}, 1, 1.0), "reached_criterion": 0},
        {**_complexity_row("untrained", {1: 0.99}, 1, 1.0), "reached_criterion": 0},
    ]
    ranked = task_complexity(rows, "embedding_r2", 0.7)
    order = ["easy", "middle", "middle_more_points", "hard", "untrained"]
    assert [t.task for t in ranked] == order
    hard = ranked[3]
    assert hard.latent_sizes == (None, 2, None) and hard.explained == 1
    assert hard.median_fixed_points == 9 and hard.participation_ratio == pytest.approx(5.0)
    assert hard.mean_fit[3] == pytest.approx((0.6 + 0.8 + 0.65) / 3)
    assert (ranked[0].networks, ranked[0].analysed) == (1, 2)  # failed analysis not counted
    assert (ranked[-1].networks, ranked[-1].analysed) == (0, 1)  # below its target
    text = complexity_table(ranked, "embedding_r2", 0.7)
    assert "| 4 | hard | 3/3 | > 3 | 1/3 | -, 2, - | 1-3 |" in text
    assert "| 1 | easy | 1/2 | 1 | 1/1 | 1 | 1-3 |" in text
    assert "| - | untrained | 0/1 | not learnt | - |" in text


def test_complexity_needs_latent_sizes(tmp_path):
    analysis = {"latent_circuit": "task", "complexity": {"threshold": 0.7}}
    with pytest.raises(InvalidParameterError, match=r"analysis\.complexity"):
        sweep_from_dict(_sweep(tmp_path, analysis=analysis))
    with pytest.raises(InvalidParameterError, match="threshold"):
        sweep_from_dict(
            _sweep(tmp_path, analysis={"latent_circuit": 2, "complexity": {"threshold": 1.5}})
        )


def test_complexity_does_not_change_the_analysis_id():
    from rnnzoo.bench.mechanisms import AnalysisSection

    plain = AnalysisSection(latent_circuit=[1, 2])
    ranked = AnalysisSection(latent_circuit=[1, 2], complexity={"threshold": 0.7})
    assert plain.analysis_id() == ranked.analysis_id()


def test_psychometric_over_one_column_of_a_vector_condition(tmp_path):
    from rnnzoo.analysis.psychometric import psychometric_curve
    from rnnzoo.analysis.run import analysis_batch, load_run

    torch.set_num_threads(1)
    data = tiny_sweep(
        tmp_path / "res",
        tasks=[{"task": "contextual_decision_making", "label": "cdm"}],
        methods=[{"name": "control"}],
        seeds=[0],
    )
    data["train"].update(max_steps=10, target_performance=1.0)
    data["analysis"] = {
        "fixed_points": False,
        "participation_ratio": False,
        "spectrum": False,
        "psychometric": "signals[1]",
        "settings": {"max_trials": 64},
    }
    sweep = sweep_from_dict(data)
    assert [r["status"] for r in run_sweep(sweep, LocalExecutor(workers=1)).results] == ["done"]
    (row,) = read_runs(sweep.db_path)
    piece = json.loads((Path(row["analysis_dir"]) / "psychometric.json").read_text())
    _config, net, task = load_run(row["run_dir"], row["member"])
    batch = analysis_batch(task, 0, 64)
    direct = psychometric_curve(net, task, "signals", column=1, batch=batch)
    assert piece["curve"]["values"] == direct.values.tolist()
    np.testing.assert_allclose(piece["curve"]["choice_fraction"], direct.choice_fraction)
    assert len(direct.values) > 2  # the coherence levels of the second signal
    assert piece["curve"]["condition"] == "signals[1]"

    sweep_file = write_sweep(tmp_path / "cdm.yaml", data)
    cli("bench", "report", str(sweep_file), "--out", str(tmp_path / "report"))
    with open(tmp_path / "report" / "psychometric.csv") as f:
        records = list(csv.DictReader(f))
    assert [float(r["value"]) for r in records] == direct.values.tolist()
    last = [json.loads(r["choices"])[direct.choices[-1]] for r in records]
    np.testing.assert_allclose(last, direct.choice_fraction[:, -1])
    assert (tmp_path / "report" / "psychometric.png").stat().st_size > 1000

    whole = mechanisms.AnalysisSection(psychometric="signals")
    scalars, _ = mechanisms._psychometric(mechanisms._Network(row["run_dir"], 0, whole), "signals")
    assert "give 'column'" in scalars["skipped"]


def test_classical_mds_recovers_planar_distances():
    from rnnzoo.bench.mechanism_report import classical_mds

    points = np.random.default_rng(0).normal(size=(7, 2))
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    coords = classical_mds(d)
    np.testing.assert_allclose(
        np.linalg.norm(coords[:, None] - coords[None], axis=-1), d, atol=1e-9
    )
