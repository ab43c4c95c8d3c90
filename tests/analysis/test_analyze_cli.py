"""`rnnzoo analyze` end to end on runs trained by `rnnzoo train`: the summary contract, the
figures, --member and --latent-circuit, one-line errors, and the main job's 8 memory states."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from rnnzoo.analysis import analyze_run
from rnnzoo.cli.main import app

runner = CliRunner()
FIGURES = {"trials", "pca", "fixed_points", "spectrum", "connectivity"}
PNG = b"\x89PNG\r\n\x1a\n"


def _check_figures(summary, folder):
    assert set(summary["figures"]) >= FIGURES
    for name in summary["figures"].values():
        assert (folder / name).read_bytes().startswith(PNG)


def _separable(points, labels):
    """True when a plane separates the points (K, d) labelled +-1 (LP feasibility)."""
    signs = np.asarray(labels, dtype=float)
    a_ub = -signs[:, None] * np.hstack([points, np.ones((len(points), 1))])
    result = linprog(
        np.zeros(points.shape[1] + 1), A_ub=a_ub, b_ub=-np.ones(len(points)), bounds=(None, None)
    )
    return result.status == 0


def test_analyze_writes_the_summary_and_figures(two_bit_run, tmp_path):
    out = tmp_path / "analysis"
    result = runner.invoke(app, ["analyze", str(two_bit_run), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert json.loads(result.stdout) == summary
    assert summary["n_stable"] == 4 and summary["n_fixed_points"] >= 4
    assert summary["participation_ratio"] > 1 and "latent_circuit" not in summary
    stable = [
        p for p in summary["fixed_points"]["points"] if p["stability"] == "stable" and p["fixed"]
    ]
    assert {tuple(np.sign(p["output"])) for p in stable} == {
        (a, b) for a in (-1, 1) for b in (-1, 1)
    }
    _check_figures(summary, out)


def test_member_and_latent_circuit(tiny_ensemble_run):
    result = runner.invoke(
        app, ["analyze", str(tiny_ensemble_run), "--member", "1", "--latent-circuit"]
    )
    assert result.exit_code == 0, result.output
    assert "fixed points" in result.stdout  # the one-line report
    folder = tiny_ensemble_run / "analysis"  # the default
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["member"] == 1
    circuit = summary["latent_circuit"]
    assert circuit["embedding_r2"] <= 1 and circuit["output_r2"] <= 1  # finite (not None)
    assert circuit["n_nodes"] == 2 and "perturbation" in circuit
    _check_figures(summary, folder)
    assert (folder / summary["figures"]["latent_circuit"]).is_file()
    # the Python API gives the same analysis (here without the latent circuit)
    again = analyze_run(tiny_ensemble_run, folder / "again", member=1)
    assert again["n_fixed_points"] == summary["n_fixed_points"]
    for new, old in zip(
        again["fixed_points"]["points"], summary["fixed_points"]["points"], strict=True
    ):
        assert new["stability"] == old["stability"]  # numbers equal up to BLAS rounding
        assert new["output"] == pytest.approx(old["output"], abs=1e-9)
    assert json.loads((folder / "again" / "summary.json").read_text()) == again


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--member", "5"], "'member'"),
        (["--member", "-1"], "'member'"),
        (["--seed", "-2"], "'seed'"),
    ],
)
def test_bad_options_are_one_line_errors(tiny_ensemble_run, tmp_path, args, message):
    out = tmp_path / "never"
    result = runner.invoke(app, ["analyze", str(tiny_ensemble_run), "--out", str(out), *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert not out.exists()


def test_a_folder_that_is_not_a_run_is_an_error(tmp_path):
    for path in (tmp_path, tmp_path / "missing"):
        result = runner.invoke(app, ["analyze", str(path)])
        assert result.exit_code == 2
        assert result.stderr.startswith("error: 'run_dir'") and "run directory" in result.stderr
    assert not (tmp_path / "analysis").exists()


@pytest.mark.slow
def test_main_job_network_has_eight_memory_states_on_a_cube(tmp_path):
    run = tmp_path / "out" / "train"
    main_job = Path(__file__).resolve().parents[2] / "examples" / "main_job.yaml"
    trained = runner.invoke(app, ["train", "--config", str(main_job), "--out", str(run)])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["analyze", str(run), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_stable"] == 8
    stable = [
        p for p in summary["fixed_points"]["points"] if p["stability"] == "stable" and p["fixed"]
    ]
    patterns = [tuple(np.sign(p["output"]).astype(int)) for p in stable]
    corners = {(a, b, c) for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)}
    assert sorted(patterns) == sorted(corners)  # one stable point per memory state
    # the cube in PCA: the top 3 PCs carry most variance, and in them the 8 memory states are
    # split by a plane for every bit
    assert sum(summary["pca_explained_variance"]) > 0.6
    coords = np.array([p["pca"] for p in stable])
    for bit in range(3):
        assert _separable(coords, [pattern[bit] for pattern in patterns])
    _check_figures(summary, run / "analysis")


def test_lstm_run_state_is_h_and_c(tmp_path):
    """S = 2N: fixed points live in [h, c], PCA and figures in h; no perturbation test."""
    from tests.analysis.conftest import train_run

    run = train_run(
        tmp_path / "lstm",
        "--model",
        "lstm",
        "--max-steps",
        "3",
        "--set",
        "n_hidden=8",
        "--set",
        "n_bits=1",
        "--set",
        "trial_ms=300",
        "--set",
        "input_end_ms=250",
    )
    summary = analyze_run(run, latent_circuit=True)
    assert summary["fixed_points"]["time"] == "discrete" and summary["spectrum"]["matrix"] == "W_hg"
    assert all(len(p["pca"]) == 3 for p in summary["fixed_points"]["points"])
    assert "skipped" in summary["latent_circuit"]["perturbation"]
    _check_figures(summary, run / "analysis")
