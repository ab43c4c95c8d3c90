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
    # the default jittered starts find every point of the 3-bit cube: 8 corners, 12 edge, 6
    # face and 1 centre saddle (starts on the trajectories alone found 7 of the 19 saddles)
    points = summary["fixed_points"]["points"]
    fixed = [p for p in points if p["fixed"]]
    assert len(fixed) == 27 and sum(p["stability"] == "saddle" for p in fixed) == 19
    assert sorted(p["n_unstable"] for p in fixed) == [0] * 8 + [1] * 12 + [2] * 6 + [3]
    # and an independent finder (scipy's hybrid Powell root finder on F(x) - x from 400
    # jittered starts) finds no fixed point that the analysis missed
    found = _independent_fixed_points(run)
    ours = np.array([p["output"] for p in fixed])
    for readout in found:
        assert np.abs(ours - readout).max(axis=1).min() < 1e-4
    assert len(found) == 27


def _independent_fixed_points(run):
    """Readouts of the distinct roots of F(x) - x that scipy.optimize.root finds from
    jittered starts on the network's noise-free trajectories at zero input."""
    import torch
    from scipy.optimize import root

    from rnnzoo.analysis.network import as_float64, simulate, step_map
    from rnnzoo.analysis.run import analysis_batch, load_run

    _, net, task = load_run(run)
    net = as_float64(net)
    batch = analysis_batch(task, 0)
    states = simulate(net, batch.inputs).states[batch.valid]
    rng = np.random.default_rng(7)
    starts = states[rng.choice(len(states), 400)] + 0.5 * rng.standard_normal((400, 64))
    step = step_map(net, torch.zeros(net.config.n_inputs, dtype=torch.float64))

    def residual(x):
        return (step(torch.from_numpy(x)[None])[0] - torch.from_numpy(x)).numpy()

    def jacobian(x):
        jac = torch.autograd.functional.jacobian(lambda z: step(z[None])[0], torch.from_numpy(x))
        return jac.numpy() - np.eye(len(x))

    roots = []
    for start in starts:
        solution = root(residual, start, jac=jacobian, method="hybr")
        converged = solution.success and np.abs(residual(solution.x)).max() < 1e-9
        if converged and all(np.abs(solution.x - r).max() > 1e-4 for r in roots):
            roots.append(solution.x)
    with torch.no_grad():
        return net.readout(torch.from_numpy(np.array(roots))[None])[0].numpy()


def test_analyze_warns_on_a_diverged_or_unfinished_run(tmp_path):
    from rnnzoo.analysis.run import training_warnings

    run = tmp_path / "run"
    run.mkdir()
    assert "no summary.json" in training_warnings(run)[0]
    summary = {"status": "diverged", "divergence": {"step": 3}, "final_performance": None}
    (run / "summary.json").write_text(json.dumps({**summary, "target_performance": 0.9}))
    assert "diverged (at step 3)" in training_warnings(run)[0]
    done = {"status": "reached", "final_performance": 0.95, "target_performance": 0.9}
    (run / "summary.json").write_text(json.dumps(done))
    assert training_warnings(run) == []


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


@pytest.fixture(scope="module")
def yang_run(tmp_path_factory):
    """A barely trained 32-neuron network on the Go task (85 inputs, 33 outputs)."""
    from tests.analysis.conftest import train_run

    return train_run(
        tmp_path_factory.mktemp("yang") / "run",
        "--task",
        "fdgo",
        "--max-steps",
        "2",
        "--set",
        "n_hidden=32",
        "--set",
        "batch_size=8",
        "--set",
        "eval_batch_size=8",
    )


def test_latent_circuit_is_sized_and_named_from_the_task_and_warns_when_poor(yang_run, tmp_path):
    result = runner.invoke(
        app,
        [
            "analyze",
            str(yang_run),
            "--out",
            str(tmp_path / "a"),
            "--latent-circuit",
            "--latent-iters",
            "3",
            "--latent-trials",
            "4",
            "--max-trials",
            "8",
            "--fp-starts",
            "16",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    circuit = summary["latent_circuit"]
    # fixation, the Go rule unit and both rings in 4 sectors each drive the circuit (the
    # other 19 rule units are 0 on the Go test grid); fixation and 4 ring sectors are read out
    sectors = ["@39deg", "@129deg", "@219deg", "@309deg"]
    assert circuit["input_channels"] == [
        "fixation",
        "rule_fdgo",
        *(f"ring1{s}" for s in sectors),
        *(f"ring2{s}" for s in sectors),
    ]
    assert circuit["output_channels"] == [
        "fixation",
        "ring@39deg",
        "ring@129deg",
        "ring@219deg",
        "ring@309deg",
    ]
    assert circuit["n_nodes"] == 15  # not 85 + 33 = 118
    names = circuit["node_names"]
    assert names[0] == "fixation (in)" and names[10] == "fixation (out)"
    assert names[14] == "ring@309deg"
    assert summary["settings"]["latent_iters"] == 3 and summary["n_trials"] == 8
    # 3 Adam steps fit poorly, and 2 training steps leave the run far below its target: said
    warnings = summary["warnings"]
    assert any("below its target" in w for w in warnings)
    assert any("latent circuit fits poorly" in w for w in warnings)
    assert all(f"warning: {w}" in result.stderr for w in warnings)
    # --latent-nodes overrides the task's size; out of range is a one-line error
    again = analyze_run(
        yang_run,
        tmp_path / "b",
        latent_circuit=True,
        settings={
            "latent_nodes": 12,
            "latent_iters": 2,
            "latent_trials": 2,
            "max_trials": 4,
            "fp_starts": 8,
        },
    )
    assert again["latent_circuit"]["n_nodes"] == 12
    bad = runner.invoke(
        app,
        [
            "analyze",
            str(yang_run),
            "--out",
            str(tmp_path / "c"),
            "--latent-circuit",
            "--latent-nodes",
            "3",
        ],
    )
    assert bad.exit_code == 2 and "'latent_nodes' must be in [10, 32]" in bad.stderr
    assert not (tmp_path / "c").exists()  # nothing half-written


def test_fixed_point_input_and_settings_on_the_command_line(yang_run, tmp_path):
    from rnnzoo.analysis.settings import constant_input

    names = ("fixation", "a", "b")
    rest = np.array([1.0, 0.0, 0.0])
    assert constant_input(None, names, rest).tolist() == [1, 0, 0]
    assert constant_input("zeros", names, rest).tolist() == [0, 0, 0]
    assert constant_input("0, 0.5, 1", names, rest).tolist() == [0, 0.5, 1]
    assert constant_input("b=2,fixation=1", names, rest).tolist() == [1, 0, 2]
    out = tmp_path / "fp"
    args = ["analyze", str(yang_run), "--out", str(out), "--max-trials", "4"]
    result = runner.invoke(app, [*args, "--fp-input", "fixation=1,rule_fdgo=1", "--fp-starts", "8"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    expected = np.zeros(85)
    expected[[0, 65]] = 1
    assert summary["fixed_point_input"] == expected.tolist() == summary["fixed_points"]["inputs"]
    for bad, message in (
        (["--fp-input", "fixaton=1"], "unknown input channel 'fixaton'; did you mean 'fixation'"),
        (["--fp-input", "1,2"], "'fp_input' must have 85 values"),
        (["--fp-starts", "0"], "'fp_starts'"),
        (["--ring-sectors", "0"], "'ring_sectors'"),
    ):
        failed = runner.invoke(app, ["analyze", str(yang_run), "--out", str(tmp_path / "x"), *bad])
        assert failed.exit_code == 2 and message in failed.stderr, failed.stderr
    assert not (tmp_path / "x").exists()
