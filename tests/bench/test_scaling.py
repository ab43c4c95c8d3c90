"""The learning-rate collapse study: its expansion into bench sweeps, eta_max and the fitted
exponent with its bootstrap interval, a tiny study run through the bench runner and
reported, the memory of one step in fresh processes, and the one-step diagnostic."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from rnnzoo.bench.diagnostic import drive_change_slopes, drive_change_table
from rnnzoo.bench.scaling import (
    grid_sweeps,
    load_study,
    rescaling_sweeps,
    run_study,
    study_from_dict,
)
from rnnzoo.bench.scaling_memory import analytical_bytes, measure_in_fresh_process
from rnnzoo.bench.scaling_results import (
    RunRow,
    beta_fits,
    eta_max,
    eta_max_table,
    steps_table,
    study_rows,
    success_table,
)
from rnnzoo.bench.worker import run_job
from rnnzoo.cli.main import app
from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks import make

TASK = {"task": "flipflop", "params": {"n_bits": 1, "trial_ms": 400, "input_end_ms": 300}}


def _study(tmp_path: Path, **changes) -> dict:
    data = {
        "name": "tiny_lr",
        "results": str(tmp_path / "results"),
        "task": TASK,
        "n_hidden": [8, 16],
        "lr": [0.01, 0.3],
        "models": [
            {"label": "full", "options": {"activation": "tanh"}},
            {"label": "rank1", "options": {"activation": "tanh", "rank": 1}},
        ],
        "train": {
            "batch_size": 4,
            "max_steps": 6,
            "eval_every": 3,
            "eval_batch_size": 8,
            "clip_grad_norm": None,
            "target_performance": 0.5,
        },
        "seeds": [0, 1],
        "rescaling": {"reference_n": 8, "lr": 0.02},
    }
    return {**data, **changes}


def test_study_expands_into_sweeps_of_the_bench_runner(tmp_path):
    study = study_from_dict(_study(tmp_path))
    grid = grid_sweeps(study)
    assert [s.name for s in grid] == ["tiny_lr.lr0.01", "tiny_lr.lr0.3"]
    assert [m.label for m in grid[0].models] == ["full_N8", "full_N16", "rank1_N8", "rank1_N16"]
    assert grid[1].train["lr"] == 0.3 and grid[1].train["clip_grad_norm"] is None
    arms = {s.name: s for s in rescaling_sweeps(study, 0.02)}
    assert arms["tiny_lr.lr_rescaled.N16"].train["lr"] == pytest.approx(0.01)  # 0.02 * 8 / 16
    param = arms["tiny_lr.param_rescaled.N16"]
    assert param.train["lr"] == 0.02
    assert [m.options["recurrent_scaling"] for m in param.models] == ["1/N"]  # dense only


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"train": {"lr": 0.1}}, "train.lr is set by the grid"),
        ({"n_hidden": [8, 8]}, "'n_hidden' must be distinct"),
        ({"lr": [0.0]}, "'lr' values must be in"),
        ({"rescaling": {"reference_n": 64}}, "'rescaling.reference_n' 64 must be one of n_hidden"),
        ({"models": [{"label": "a", "options": {"rankk": 2}}]}, "unknown parameter 'rankk'"),
    ],
)
def test_bad_studies_are_one_line_errors(tmp_path, change, message):
    with pytest.raises(InvalidParameterError, match=message):
        study_from_dict(_study(tmp_path, **change))


def _rows(beta: float) -> list[RunRow]:
    """Synthetic grid: seed s succeeds at (N, lr) iff lr <= c_s N^-beta, c_s spread over seeds."""
    rates = np.logspace(-4, 0, 17)
    rows = []
    for n in (32, 64, 128, 256, 512):
        for seed, c in enumerate((0.5, 0.8, 1.0, 1.3, 2.0)):
            for lr in rates:
                ok = bool(lr <= c * n**-beta)
                rows.append(
                    RunRow("grid", "dense", n, float(lr), seed, ok, 10 if ok else None, None, "x")
                )
    return rows


@pytest.mark.parametrize("beta", [1.0, 0.0])
def test_eta_max_and_beta_from_success_fractions(beta):
    rows = _rows(beta)
    etas = eta_max_table(success_table(rows))
    assert [e.n_hidden for e in etas] == [32, 64, 128, 256, 512]
    for e in etas:  # the median seed (c = 1) bounds the 0.5 crossing
        assert e.eta_max <= e.n_hidden**-beta <= e.eta_max * 10**0.25
        assert e.eta_max_80 <= e.eta_max
    (fit,) = beta_fits(rows, min_n=64, n_boot=300)
    assert fit.beta == pytest.approx(beta, abs=0.12)
    assert fit.ci_low <= fit.beta <= fit.ci_high
    assert fit.n_sizes == 4


def test_eta_max_edges():
    assert eta_max([(0.1, 0.2), (0.01, 0.4)], 0.5) == (None, None, False)
    assert eta_max([(0.1, 1.0), (0.01, 1.0)], 0.5) == (0.1, 0.1, True)  # top of the grid
    top, crossing, censored = eta_max([(0.01, 1.0), (0.1, 0.0)], 0.5)
    assert (top, censored) == (0.01, False)
    assert crossing == pytest.approx(10**-1.5)  # halfway in log lr


class InProcessExecutor:
    """The bench runner's executor protocol, jobs run in this process (fast in tests)."""

    def run(self, tasks, on_done):
        for task in tasks:
            on_done(run_job(task))


def test_tiny_study_runs_on_the_bench_runner_and_is_reported(tmp_path):
    path = tmp_path / "study.yaml"
    # grid rates apart from the rescaled 0.02 * 8 / 16 = 0.01: an equal run is one run (its id)
    path.write_text(yaml.safe_dump(_study(tmp_path, lr=[0.003, 0.3])))
    study = load_study(path)
    first = run_study(study, InProcessExecutor())
    assert first["lr0"] == 0.02
    assert first["jobs"] == 2 * 4 + 2 * 3 and first["ran"] == first["jobs"]  # grid + 3 arms per N
    again = run_study(study, InProcessExecutor())
    assert again["ran"] == 0  # every run finished: skipped
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["bench", "scaling", "report", str(path), "--out", str(out), "--boot", "50"]
    )
    assert result.exit_code == 0, result.output
    report = __import__("json").loads((out / "scaling.json").read_text())
    assert {e["model"] for e in report["eta_max"]} == {"full", "rank1"}
    assert {s["arm"] for s in report["steps_to_criterion"]} <= {
        "fixed_lr",
        "lr_rescaled",
        "param_rescaled",
    }
    assert sum(report["statuses"].values()) == 2 * 2 * 2 * 2 + 2 * 2 * 2 + 2 * 2
    for name in ("success.png", "eta_max.png", "steps.png", "scaling.md"):
        assert (out / name).is_file()


def test_steps_table_groups_the_arms():
    rows = [
        RunRow("grid", "m", 64, 0.01, 0, True, 20, 1.0, "reached"),
        RunRow("grid", "m", 64, 0.01, 1, True, 30, 1.0, "reached"),
        RunRow("grid", "m", 64, 0.1, 0, True, 5, 1.0, "reached"),
        RunRow("lr_rescaled", "m", 128, 0.005, 0, False, None, 0.6, "max_steps"),
    ]
    table = {(r.arm, r.n_hidden): r for r in steps_table(rows, 0.01)}
    assert table[("fixed_lr", 64)].median_steps == 25 and table[("fixed_lr", 64)].reached == 2
    assert (
        table[("lr_rescaled", 128)].median_steps is None and table[("lr_rescaled", 128)].runs == 1
    )


def test_only_finished_runs_count(tmp_path):
    study = study_from_dict(_study(tmp_path))
    row = {"sweep": "tiny_lr.lr0.01", "model_label": "full_N8", "seed": 0}
    rows = [
        {**row, "status": status, "seed": seed}
        for seed, status in enumerate(["reached", "max_steps", "interrupted", "running", "failed"])
    ]
    kept = study_rows(study, rows, None)
    assert [(r.seed, r.reached) for r in kept] == [(0, True), (1, False)]
    assert success_table(kept)[("full", 8, 0.01)] == 0.5


@pytest.mark.parametrize("variant", ["dense", "latent"])
def test_saved_bytes_match_the_memory_model(variant):
    row = measure_in_fresh_process(variant, 256, batch=20, steps=50, width=10)
    assert not row["oom"]
    assert row["saved_bytes"] == pytest.approx(row["model"]["saved"], rel=0.1)
    assert row["peak_rss_bytes"] > row["rss_before_bytes"]


def test_latent_saved_bytes_do_not_grow_with_n_and_oom_is_a_data_point():
    small = measure_in_fresh_process("latent", 1000, batch=20, steps=50)
    big = measure_in_fresh_process("latent", 16000, batch=20, steps=50)
    params = lambda n: 4 * n * (2 * 2 + 2 * 10 + 2)  # noqa: E731  the per-neuron loadings kept
    assert small["saved_bytes"] - params(1000) == big["saved_bytes"] - params(16000)
    oom = measure_in_fresh_process("dense", 4096, batch=100, steps=500, cap_gb=1.0)
    assert oom["oom"] is True
    assert oom["model"]["total"] > 1e9
    assert analytical_bytes("dense", 4096, 100, 500, 10)["parameters"] == 16.0 * (
        4096**2 + 4096 * 21 + 10
    )


def test_one_step_diagnostic_predicts_the_collapse():
    task = make("flipflop", n_bits=2, trial_ms=300, input_end_ms=250)
    models = [
        ("dense", "leaky_rate", {"activation": "tanh", "tau_ms": 50}),
        ("rank2", "leaky_rate", {"activation": "tanh", "tau_ms": 50, "rank": 2}),
    ]
    rows = drive_change_table(task, models, [32, 128, 512], 1e-3, [0])
    slopes = drive_change_slopes(rows)
    assert 0.8 < slopes["dense"] < 1.2
    assert abs(slopes["rank2"]) < 0.2
