"""State space: PCA and participation ratio on planted data, autocorrelation of an AR(1)
process, and the largest Lyapunov exponent and dimension of random networks across gain g."""

import numpy as np
import pytest

from rnnzoo.analysis import (
    autocorrelation,
    autocorrelation_time,
    lyapunov_exponent,
    participation_ratio,
    pca,
    simulate,
)
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model


def _planted(stds, n_samples=400, n_neurons=12, seed=0):
    """Samples (K, N) whose covariance has exactly the eigenvalues stds^2 (and zeros), on a
    random orthonormal basis (N, k)."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(n_samples, len(stds)))
    scores -= scores.mean(axis=0)
    scores = np.linalg.qr(scores)[0] * np.asarray(stds)  # orthogonal, centred columns
    basis = np.linalg.qr(rng.normal(size=(n_neurons, len(stds))))[0]
    return scores @ basis.T + 5.0, basis


def test_participation_ratio_of_known_spectra():
    stds = np.array([3.0, 2.0, 1.0])
    x, _ = _planted(stds)
    variances = stds**2
    assert participation_ratio(x) == pytest.approx(variances.sum() ** 2 / (variances**2).sum())
    assert participation_ratio(_planted(np.ones(6))[0]) == pytest.approx(6.0)
    with pytest.raises(InvalidParameterError, match="zero variance"):
        participation_ratio(np.ones((10, 3)))


def test_pca_recovers_a_planted_subspace():
    x, basis = _planted(np.array([4.0, 1.0]))
    fit = pca(x.reshape(20, 20, 12), n_components=2)  # (T, B, N) input
    np.testing.assert_allclose(fit.explained_variance_ratio, [16 / 17, 1 / 17], atol=1e-12)
    # the components span the planted plane: principal angles are zero
    np.testing.assert_allclose(
        np.linalg.svd(fit.components @ basis, compute_uv=False), 1, atol=1e-9
    )
    projected = fit.transform(x)
    np.testing.assert_allclose(
        projected.std(axis=0), [4 / np.sqrt(400), 1 / np.sqrt(400)], rtol=1e-9
    )
    with pytest.raises(InvalidParameterError, match="n_components"):
        pca(x, n_components=13)


def test_autocorrelation_of_an_ar1_process():
    phi, steps = 0.9, 20000
    rng = np.random.default_rng(1)
    x = np.zeros((steps, 3, 4))
    for t in range(1, steps):
        x[t] = phi * x[t - 1] + rng.normal(size=(3, 4))
    c = autocorrelation(x, 30)
    np.testing.assert_allclose(c[:6], phi ** np.arange(6), atol=0.03)
    # C falls to 1/e after -1 / ln(phi) = 9.49 steps, 47.5 ms at dt = 5 ms
    assert autocorrelation_time(c, 5.0) == pytest.approx(-5.0 / np.log(phi), rel=0.08)


def _random_network(g, seed=0):
    return make_model(
        "leaky_current", 1, 1, dt_ms=1, n_hidden=200, tau_ms=10.0, g=g, seed=seed, activation="tanh"
    )


def test_lyapunov_exponent_is_positive_when_chaotic_and_the_decay_rate_when_not():
    assert lyapunov_exponent(_random_network(2.5), n_steps=1000) > 5.0
    quiet = _random_network(0.5)
    exponent = lyapunov_exponent(quiet, n_steps=1000)
    # the state decays to 0, where one step is I + alpha (W - I): the exponent is the log of
    # its largest eigenvalue modulus per dt
    w = quiet.recurrent_matrix()[0].detach().double().numpy()
    step = np.eye(200) + 0.1 * (w - np.eye(200))
    expected = np.log(np.abs(np.linalg.eigvals(step)).max()) / 1e-3
    assert exponent < 0 and exponent == pytest.approx(expected, rel=0.02)


def test_participation_ratio_grows_with_gain_in_the_chaotic_regime():
    start = np.random.default_rng(0).normal(size=(4, 200))
    ratios = []
    for g in (1.5, 2.5, 4.0):
        rates = simulate(_random_network(g), np.zeros((2500, 4, 1)), start).rates
        ratios.append(participation_ratio(rates[1000:]))
    assert ratios[0] < ratios[1] < ratios[2]
