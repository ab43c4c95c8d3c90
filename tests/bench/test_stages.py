"""Stage sequences inside sweeps (``stages:``): validation before anything trains, run ids of
plain sweeps unchanged, resumable stages, analyses per stage and the persistence report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from bench_helpers import tiny_sweep

from rnnzoo.bench import LocalExecutor, expand, run_sweep, sweep_from_dict
from rnnzoo.bench import stages as stages_module
from rnnzoo.bench.persistence import persistence_records, write_persistence
from rnnzoo.bench.runner import job_tasks
from rnnzoo.bench.stages import STAGE_FILE, first_view, sequence_rows, stage_dir, stage_scores
from rnnzoo.bench.sweep import run_configs
from rnnzoo.bench.worker import run_job
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.results import read_runs

COMPOSE = {
    "task": "compose",
    "label": "A then B",
    "compose": {
        "tasks": [
            {"task": "flipflop", "params": {"n_bits": 1, "trial_ms": 600, "input_end_ms": 500}},
            {"task": "flipflop", "params": {"n_bits": 1, "trial_ms": 600, "input_end_ms": 500}},
        ],
        "labels": ["A", "B"],
        "channels": "shared",
        "rule_inputs": True,
    },
}
STAGES = [
    {"label": "plain", "stages": [{"weights": [1, 0]}, {"weights": [0, 1]}]},
    {"label": "replay", "stages": [{"weights": [1, 0]}, {"weights": [0.5, 0.5]}]},
]
ANALYSIS = {
    "latent_circuit": [2],
    "participation_ratio": False,
    "spectrum": False,
    "similarity": [],
    "settings": {"fp_starts": 16, "latent_iters": 30, "latent_restarts": 1, "max_trials": 16},
}


def _sweep(results: Path, **changes):
    data = tiny_sweep(
        results,
        tasks=[COMPOSE],
        models=[{"kind": "leaky_rate", "options": {"n_hidden": 16}}],
        methods=[{"name": "control"}],
        seeds={"start": 0, "count": 2},
        stages=STAGES[:1],
        analysis=ANALYSIS,
    )
    data["train"] = {**data["train"], "max_steps": 10, "target_performance": 1.0}
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """A 2-stage sweep (no replay and replay) trained and analysed without interruption."""
    torch.set_num_threads(1)
    results = tmp_path_factory.mktemp("staged") / "res"
    sweep = sweep_from_dict(_sweep(results, stages=STAGES))
    outcome = run_sweep(sweep, LocalExecutor(workers=1))
    assert [r["status"] for r in outcome.results] == ["done", "done"]
    return sweep


def test_run_ids_of_plain_sweeps_ignore_the_stage_axis(tmp_path):
    plain = tiny_sweep(tmp_path)
    before = [r.run_id for r in run_configs(sweep_from_dict(plain))]
    staged = sweep_from_dict(_sweep(tmp_path))
    assert all(
        r.sequence_label is None and not r.stages for r in run_configs(sweep_from_dict(plain))
    )
    assert [r.run_id for r in run_configs(sweep_from_dict(plain))] == before
    runs = run_configs(staged)
    assert [len(r.stages) for r in runs] == [2, 2]
    assert len({r.run_id for r in runs}) == 2
    assert runs[0].stages[1].task["compose"]["weights"] == [0.0, 1.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"stages": [{"label": "x", "stages": [{"weights": [1, 0]}, {"wieghts": [0, 1]}]}]},
            "wieghts",
        ),
        ({"stages": [{"label": "x", "stages": [{"weights": [1, 0]}]}]}, "stages"),
        (
            {"stages": [{"label": "x", "stages": [{"weights": [1, 0]}, {"weights": [1, 0, 1]}]}]},
            "weights",
        ),
        ({"stages": [{"label": "x", "stages": [{"weights": [1, 0]}, {}]}]}, "exactly one"),
        ({"stages": [STAGES[0], STAGES[0]]}, "two sequences labelled 'plain'"),
        (
            {
                "stages": [
                    {
                        "label": "x",
                        "stages": [
                            {"weights": [1, 0]},
                            {"task": {"task": "flipflop", "params": {"n_bits": 3}}},
                        ],
                    }
                ]
            },
            "task sizes",
        ),
        ({"tasks": [{"task": "flipflop"}]}, "is not one (task: compose)"),
    ],
)
def test_bad_stage_specs_fail_before_anything_is_written(tmp_path, change, message):
    results = tmp_path / "res"
    with pytest.raises(InvalidParameterError, match=re.escape(message)) as info:
        sweep_from_dict(_sweep(results, **change))
    assert "stages" in str(info.value) or "stage" in str(info.value)
    assert not results.exists()


def test_two_stage_sweep_rows_and_stage_folders(staged):
    rows = read_runs(staged.db_path)
    assert len(rows) == 4
    assert {r["sequence_label"] for r in rows} == {"plain", "replay"}
    for row in rows:
        assert row["analysis_status"] == "done"
        stages = json.loads(row["stage_performance"])
        assert [s["stage"] for s in stages] == [0, 1]
        for i in range(2):
            folder = stage_dir(row["run_dir"], i)
            assert (folder / STAGE_FILE).is_file()
            assert (folder / "mechanisms").is_dir()
        assert row["analysis_dir"].startswith(str(stage_dir(row["run_dir"], 1)))


def test_a_member_that_diverged_keeps_the_row_of_its_stage():
    def stage(i, statuses):
        rows = [{"status": s, "steps": 10 + i, "final_performance": 0.5} for s in statuses]
        scores = [{"first_performance": 0.9 - i, "task_performance": None} for _ in statuses]
        return {"stage": i, "status": "max_steps", "rows": rows, "scores": scores}

    rows = sequence_rows(
        2, [stage(0, ["diverged", "max_steps"]), stage(1, ["max_steps", "reached"])]
    )
    assert [(r["status"], r["steps"]) for r in rows] == [("diverged", 10), ("reached", 11)]
    stages = json.loads(rows[1]["stage_performance"])
    assert [s["first_performance"] for s in stages] == [0.9, pytest.approx(-0.1)]


def test_interrupted_sequence_resumes_without_retraining_finished_stages(
    tmp_path, monkeypatch, staged
):
    torch.set_num_threads(1)
    sweep = sweep_from_dict(_sweep(tmp_path / "res", analysis=None))
    (task,) = job_tasks(sweep, expand(sweep))
    real = stages_module.stage_scores
    calls = []

    def interrupt_second(net, first):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # stage 1 trained, its stage.json not written
        return real(net, first)

    monkeypatch.setattr(stages_module, "stage_scores", interrupt_second)
    assert run_job(task)["status"] == "interrupted"
    stage0 = stage_dir(task.run_dir, 0)
    mtime = (stage0 / "model.safetensors").stat().st_mtime_ns
    monkeypatch.setattr(stages_module, "stage_scores", real)
    assert run_job(task)["status"] == "done"
    assert (stage0 / "model.safetensors").stat().st_mtime_ns == mtime  # not retrained
    ran = sorted(read_runs(sweep.db_path), key=lambda r: r["seed"])
    whole = sorted(
        (r for r in read_runs(staged.db_path) if r["sequence_label"] == "plain"),
        key=lambda r: r["seed"],
    )
    for a, b in zip(ran, whole, strict=True):
        assert json.loads(a["stage_performance"]) == json.loads(b["stage_performance"])
        for i in range(2):
            saved = [stage_dir(r["run_dir"], i) / "model.safetensors" for r in (a, b)]
            assert saved[0].read_bytes() == saved[1].read_bytes()


def test_persistence_columns_equal_direct_analysis(staged, tmp_path):
    from rnnzoo.analysis.alignment import align_nodes
    from rnnzoo.analysis.network import simulate
    from rnnzoo.analysis.run import load_run
    from rnnzoo.analysis.similarity import distance_matrix
    from rnnzoo.bench.mechanism_report import circuits_in
    from rnnzoo.bench.mechanisms import member_dir
    from rnnzoo.models import load_model

    rows = read_runs(staged.db_path)
    section = staged.analysis
    records = persistence_records(rows, max_trials=16, seed=section.seed)
    assert len(records) == 4
    for row, record in zip(rows, records, strict=True):
        run_dir, member = Path(row["run_dir"]), row["member"]
        config = load_run(stage_dir(run_dir, 0), member)[0]
        scores = [
            stage_scores(load_model(stage_dir(run_dir, i) / "model.safetensors"), config)[member]
            for i in (0, 1)
        ]
        assert record["first_performance_stage0"] == pytest.approx(scores[0]["first_performance"])
        assert record["first_performance_last"] == pytest.approx(scores[1]["first_performance"])
        assert json.loads(record["task_performance_last"]) == pytest.approx(
            scores[1]["task_performance"]
        )
        folders = [member_dir(stage_dir(run_dir, i), section.analysis_id(), member) for i in (0, 1)]
        fixed = [np.load(f / "fixed_points.npz") for f in folders]
        points = [f["states"][f["is_fixed"]] for f in fixed]
        stable = fixed[0]["states"][fixed[0]["is_fixed"] & (fixed[0]["stability"] == "stable")]
        n = stable.shape[1]
        gaps = (
            [np.min(np.linalg.norm(points[1] - p, axis=1)) / np.sqrt(n) for p in stable]
            if len(points[1])
            else []
        )
        assert record["stable_fixed_points_stage0"] == len(stable)
        assert record["stable_preserved"] == sum(g <= 0.1 for g in gaps)
        assert record["fixed_points_last"] == len(points[1])
        if gaps:
            assert record["stable_nearest_distance"] == pytest.approx(np.mean(gaps))
        circuits = [circuits_in(f) for f in folders]
        corr = align_nodes(circuits[0][2], circuits[1][2]).w_rec_correlation
        assert json.loads(record["latent_w_rec_correlation"])["2"] == pytest.approx(corr)
        _task, batch = first_view(run_dir, member, section.seed, 16)
        rates = [
            simulate(load_run(stage_dir(run_dir, i), member)[1], batch.inputs).rates for i in (0, 1)
        ]
        distance = distance_matrix([r[batch.valid] for r in rates], "procrustes")[0, 1]
        assert record["procrustes_stage0_last"] == pytest.approx(distance)
    paths = write_persistence(rows, tmp_path, max_trials=16, seed=section.seed)
    text = paths["persistence.md"].read_text()
    assert "plain" in text and "replay" in text and "0.1" in text
