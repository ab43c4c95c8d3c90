"""Latent systems and the constructions of large networks: exact resampling is exact, the
heterogeneous constructions track the teacher, their latent fields keep its fixed points,
and the closed-form fits are right."""

import numpy as np
import pytest
import torch

from rnnzoo.analysis.run import load_run
from rnnzoo.errors import InvalidParameterError
from rnnzoo.latent import evaluate, expand, extract
from rnnzoo.latent.fits import dual_ridge, fit_gaussian_mixture, sample_gaussian_mixture
from rnnzoo.latent.inference import compare_fixed_points
from rnnzoo.models import make_model
from rnnzoo.tasks import make


def _system(run_dir, **kw):
    _, net, task = load_run(run_dir)
    return extract(net, task, **kw), task


def _held_out(system, task, trials=32):
    return system.latents(task.generate(trials, 0, split="test"))


@pytest.mark.parametrize("n_hidden", [48, 50])  # a multiple of N_s = 16, and not
@pytest.mark.parametrize("teacher", ["full_teacher", "rank2_teacher"])
def test_exact_resampling_reproduces_the_teachers_latents(teacher, n_hidden, request):
    system, task = _system(request.getfixturevalue(teacher))
    assert system.kind == ("identity" if teacher == "full_teacher" else "exact")
    big = expand(system, n_hidden, "resample", task)
    data = _held_out(system, task)
    metrics = evaluate(big, system, task, data)
    assert metrics["ssl_loss"] < 1e-10  # float32 round-off only
    assert abs(metrics["performance"] - metrics["teacher_performance"]) < 2e-3


def _bistable_teacher():
    """A rank-2 tanh network made of two halves, each a bistable rank-1 population (latent k
    reads and drives only half k, n = 4 m there): at zero input nine fixed points, of which
    four (one per sign pattern) are stable."""
    net = make_model(
        "leaky_rate", 2, 2, dt_ms=10, n_hidden=64, rank=2, activation="tanh", tau_ms=50
    )
    half = torch.arange(64) < 32
    with torch.no_grad():
        net.m[0, :, 0] *= half
        net.m[0, :, 1] *= ~half
        net.n.copy_(4.0 * net.m)
    return net


def test_resampled_latent_field_keeps_the_teachers_fixed_points():
    task = make("flipflop", n_bits=2, trial_ms=500, input_end_ms=450)
    system = extract(_bistable_teacher(), task)
    big = expand(system, 1000, "resample", task)
    result = compare_fixed_points(big, system, _held_out(system, task), np.zeros(2), seed=0)
    assert result["teacher_stable"] == 4
    assert result["fixed_points"] == result["teacher_fixed_points"] == 9
    assert result["stable"] == 4
    assert result["max_relative_distance"] < 1e-3


def test_heterogeneous_constructions_track_the_teacher(rank2_teacher):
    system, task = _system(rank2_teacher)
    data = _held_out(system, task)
    jittered = evaluate(expand(system, 2000, "resample", task, jitter=0.3), system, task, data)
    ridge = evaluate(expand(system, 2000, "ridge", task, ridge_trials=16), system, task, data)
    assert 0.9 < jittered["latent_r2"] < 1 - 1e-6  # heterogeneous: no longer exact
    assert ridge["latent_r2"] > 0.98
    assert ridge["performance"] > 0.9


def test_gmm_construction_draws_every_loading_from_the_mixture(rank2_teacher):
    system, task = _system(rank2_teacher)
    big = expand(system, 3000, "gmm", task, components=2, refit_encoding=True, ridge_trials=8)
    m = big.m[0].detach().numpy()
    assert len(np.unique(m[:, 0])) == 3000  # heterogeneous, not copies
    metrics = evaluate(big, system, task, _held_out(system, task))
    assert np.isfinite(metrics["ssl_loss"])


def test_truncated_svd_teacher_is_rescored_and_refused_below_criterion(full_teacher):
    _, net, task = load_run(full_teacher)
    with pytest.raises(InvalidParameterError, match=r"truncated to rank 1 scores .* criterion"):
        extract(net, task, rank=1)
    with pytest.raises(InvalidParameterError, match=r"'rank' must be in \[1, 16\].*got 17"):
        extract(net, task, rank=17)


def test_bad_construction_requests_are_one_line_errors(rank2_teacher):
    system, task = _system(rank2_teacher)
    with pytest.raises(InvalidParameterError, match=r"'n_hidden' must be >= 16"):
        expand(system, 10, "resample", task)
    with pytest.raises(InvalidParameterError, match="'init' must be one of"):
        expand(system, 100, "copy", task)
    _, net, _ = load_run(rank2_teacher)
    with pytest.raises(InvalidParameterError, match=r"'rank' must be <= 2"):
        extract(net, task, rank=3)


def test_dual_ridge_equals_the_primal_solution():
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((40, 25))
    y = rng.standard_normal((40, 3))
    encoding = dual_ridge(lambda part: phi[:, part], 25, y, ridge=0.1)
    lam = 0.1 * np.trace(phi @ phi.T) / 40
    primal = np.linalg.solve(phi.T @ phi + lam * np.eye(25), phi.T @ y).T
    np.testing.assert_allclose(encoding, primal, rtol=1e-9, atol=1e-12)


def test_gaussian_mixture_fit_recovers_two_populations():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(-3, 0.5, (300, 2)), rng.normal(2, 1.0, (200, 2))])
    weights, means, covs = fit_gaussian_mixture(x, 2, np.random.default_rng(2))
    order = np.argsort(means[:, 0])
    np.testing.assert_allclose(weights[order], [0.6, 0.4], atol=0.02)
    np.testing.assert_allclose(means[order], [[-3, -3], [2, 2]], atol=0.15)
    np.testing.assert_allclose(np.sqrt(covs[order][:, 0, 0]), [0.5, 1.0], atol=0.1)
    drawn = sample_gaussian_mixture(weights, means, covs, 1000, np.random.default_rng(3))
    assert drawn.shape == (1000, 2)
    assert abs((drawn[:, 0] < 0).mean() - 0.6) < 0.05
