"""Sweep files: validation, expansion into runs and jobs, stable content ids, cost estimates."""

from __future__ import annotations

import json

import pytest
from bench_helpers import tiny_sweep, write_sweep
from typer.testing import CliRunner

from rnnzoo.bench.cost import job_cost
from rnnzoo.bench.sweep import expand, load_sweep, run_configs, sweep_from_dict
from rnnzoo.cli.main import app
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks import make


def test_expansion_is_tasks_x_models_x_methods_x_seeds(tmp_path):
    data = tiny_sweep(tmp_path, tasks=["flipflop", {"task": "flipflop", "version": "long"}])
    data["tasks"][1]["label"] = "ff_long"
    runs = run_configs(sweep_from_dict(data))
    assert len(runs) == 2 * 1 * 2 * 3
    cells = {(r.task_label, r.method_label) for r in runs}
    assert cells == {(t, m) for t in ("flipflop", "ff_long") for m in ("control", "SCTT_5")}
    assert [r.seed for r in runs[:3]] == [0, 1, 2]
    first = runs[0].config
    assert first.train.seed == 0 and first.train.statistic == "min"
    assert first.model.ensemble is None and "member" not in first.model.options
    assert runs[1].config.model.options["member"] == 1
    assert runs[3].config.method.hyperparameters["theta"] == 5
    assert len({r.run_id for r in runs}) == len(runs)


def test_ids_are_stable_and_follow_content(tmp_path):
    base = [r.run_id for r in run_configs(sweep_from_dict(tiny_sweep(tmp_path)))]
    again = [r.run_id for r in run_configs(sweep_from_dict(tiny_sweep(tmp_path / "elsewhere")))]
    assert base == again  # the results folder and the sweep name are not content
    # a default written out explicitly is the same run
    explicit = tiny_sweep(
        tmp_path, models=[{"kind": "leaky_rate", "options": {"n_hidden": 8, "tau_ms": 100.0}}]
    )
    assert [r.run_id for r in run_configs(sweep_from_dict(explicit))] == base
    changed = tiny_sweep(tmp_path)
    changed["train"] = {**changed["train"], "lr": 0.03}
    assert set(base).isdisjoint(r.run_id for r in run_configs(sweep_from_dict(changed)))
    data_seed = [r.run_id for r in run_configs(sweep_from_dict(tiny_sweep(tmp_path, data_seed=1)))]
    assert set(base).isdisjoint(data_seed)
    # the run ids of an ensemble sweep and of a one-network-per-job sweep are the same runs
    solo = expand(sweep_from_dict(tiny_sweep(tmp_path, ensemble=False)))
    assert [j.runs[0].run_id for j in solo] == base


def test_seeds_group_into_ensembles_of_consecutive_members(tmp_path):
    jobs = expand(sweep_from_dict(tiny_sweep(tmp_path, seeds=[0, 1, 2, 5, 6], ensemble=2)))
    per_method = [[r.seed for r in j.runs] for j in jobs if j.runs[0].method_label == "control"]
    assert per_method == [[0, 1], [2], [5, 6]]
    job = next(j for j in jobs if [r.seed for r in j.runs] == [5, 6])
    assert job.config.model.ensemble == 2 and job.config.model.options["member"] == 5
    single = next(j for j in jobs if len(j.runs) == 1)
    assert single.job_id == single.runs[0].run_id and single.config == single.runs[0].config
    assert len(expand(sweep_from_dict(tiny_sweep(tmp_path)))) == 2  # ensemble: true


def test_plan_estimate_counts_flops_as_the_trainer(tmp_path):
    sweep = sweep_from_dict(tiny_sweep(tmp_path))
    job = expand(sweep)[0]
    cost = job_cost(job)
    task = make("flipflop", n_bits=1)
    t = sum(task.generate(8, 0, index=k).n_steps for k in range(3)) / 3
    per_step = 6 * 3 * 8 * 8**2 * t  # M B N^2 T
    per_eval = 2 * 3 * 16 * 8**2 * t
    assert cost.flops == pytest.approx(20 * per_step + 4 * per_eval)
    assert cost.members == 3 and cost.seconds > 0


def test_plan_cli_lists_runs_and_costs(sweep_file):
    result = CliRunner().invoke(app, ["bench", "plan", str(sweep_file), "--json", "--workers", "2"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert len(plan["runs"]) == 6 and len(plan["jobs"]) == 2
    assert plan["total_flops"] == pytest.approx(sum(j["flops"] for j in plan["jobs"]))
    assert plan["estimated_seconds"] >= max(j["seconds"] for j in plan["jobs"])
    text = CliRunner().invoke(app, ["bench", "plan", str(sweep_file)])
    assert text.exit_code == 0 and "6 runs in 2 jobs" in text.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tsaks": []}, "unknown parameter 'tsaks'; did you mean 'tasks'"),
        ({"tasks": [{"task": "flipflop", "vesion": "long"}]}, r"tasks\[0\].*'vesion'"),
        ({"tasks": [{"task": "flipflop", "params": {"n_bits": 0}}]}, r"tasks\[0\].*'n_bits'"),
        ({"tasks": ["nosuchtask"]}, r"tasks\[0\].*unknown task"),
        ({"models": [{"kind": "leaky_rate", "options": {"n_hiden": 8}}]}, r"models\[0\].*n_hiden"),
        ({"methods": [{"name": "sctt", "hyperparameters": {"theta": 0}}]}, r"methods\[0\].*theta"),
        ({"methods": [{"name": "control"}, {"name": "control"}]}, "labelled 'control'"),
        ({"train": {"lr": -1}}, "'lr'"),
        ({"train": {"seed": 3}}, "train.seed is set by the runner"),
        ({"train": {"statistic": "mean"}}, "train.statistic is set by the runner"),
        ({"seeds": [1, 1]}, "'seeds' must be distinct"),
        ({"name": "has space"}, "'name'"),
        ({"ensemble": 0}, "'ensemble'"),
    ],
)
def test_bad_sweep_files_name_the_key(tmp_path, change, message):
    with pytest.raises(InvalidParameterError, match=message):
        sweep_from_dict(tiny_sweep(tmp_path, **change))


def test_bad_sweep_file_is_one_line_exit_2(tmp_path):
    bad = write_sweep(tmp_path / "bad.yaml", tiny_sweep(tmp_path, seeds="many"))
    for command in ("plan", "run"):
        result = CliRunner().invoke(app, ["bench", command, str(bad)])
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "'seeds'" in lines[0]
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    with pytest.raises(InvalidParameterError, match="not valid YAML"):
        load_sweep(tmp_path / "broken.yaml")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        load_sweep(tmp_path / "missing.yaml")
    assert not (tmp_path / "results").exists()  # nothing written


def test_bad_run_options_are_one_line_errors(sweep_file):
    result = CliRunner().invoke(app, ["bench", "run", str(sweep_file), "--executor", "ray"])
    assert result.exit_code == 2 and "'--executor'" in result.stderr
    result = CliRunner().invoke(app, ["bench", "run", str(sweep_file), "--scheduler", "tcp://x:1"])
    assert result.exit_code == 2 and "'--scheduler' needs '--executor dask'" in result.stderr
    result = CliRunner().invoke(app, ["bench", "run", str(sweep_file), "--workers", "0"])
    assert result.exit_code == 2 and "'--workers'" in result.stderr


@pytest.mark.parametrize("name", ["seed002_cpu.yaml", "slurm_example.yaml"])
def test_example_sweeps_are_valid(name):
    from pathlib import Path

    sweep = load_sweep(Path(__file__).resolve().parents[2] / "examples" / "sweeps" / name)
    jobs = expand(sweep)
    methods = {job.config.method.name for job in jobs}
    assert methods == {"control", "cd", "sctt", "dasc"}
    assert all(job.config.task["version"] == "soo2023" for job in jobs)
    assert all(job.config.task["params"]["dt_ms"] == 5.0 for job in jobs)
