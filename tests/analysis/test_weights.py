"""Weight analysis: ARPACK on a matrix-free operator against dense eigenvalues (dense, low
rank without forming W, ensemble member), spectra and gate blocks."""

import numpy as np
import pytest

from rnnzoo.analysis import recurrent_blocks, recurrent_operator, top_eigenvalues, weight_spectrum
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model


def _by_modulus(values):
    return values[np.lexsort((values.imag, values.real, -np.round(np.abs(values), 9)))]


def test_arpack_matches_dense_eigenvalues_of_a_dense_network():
    net = make_model("leaky_rate", 2, 1, dt_ms=10, n_hidden=60, g=1.5, seed=4)
    w = net.recurrent_matrix()[0].detach().double().numpy()
    dense = np.linalg.eigvals(w)
    top = top_eigenvalues(recurrent_operator(net), k=8)
    expected = dense[np.argsort(-np.abs(dense))][:8]
    np.testing.assert_allclose(np.sort(np.abs(top)), np.sort(np.abs(expected)), rtol=1e-9)
    # each Ritz value is an eigenvalue (a conjugate pair may be split at the k-th)
    assert np.abs(top[:, None] - dense[None, :]).min(axis=1).max() < 1e-8
    spectrum = weight_spectrum(net)
    assert spectrum.spectral_radius == pytest.approx(np.abs(dense).max(), rel=1e-12)
    np.testing.assert_allclose(spectrum.singular_values, np.linalg.svd(w, compute_uv=False))
    assert spectrum.summary()["stability_reference"] == "Re = 1"


def test_low_rank_operator_never_forms_w(monkeypatch):
    net = make_model("leaky_rate", 2, 1, dt_ms=10, n_hidden=80, rank=2, seed=1)
    m, n = (t[0].detach().double().numpy() for t in net.recurrent_weights())
    # the nonzero eigenvalues of m n^T / N are those of the R x R matrix n^T m / N
    expected = np.linalg.eigvals(n.T @ m / 80)

    def refuse(self):
        raise AssertionError("the low-rank operator formed W")

    monkeypatch.setattr(type(net), "recurrent_matrix", refuse)
    top = top_eigenvalues(recurrent_operator(net), k=2)
    np.testing.assert_allclose(_by_modulus(top), _by_modulus(expected), atol=1e-9)


def test_ensemble_member_operator_and_dense_fallback():
    ens = make_model(
        "leaky_current", 2, 1, dt_ms=10, n_hidden=12, ensemble=3, seed=2, g=[0.5, 1.0, 2.0]
    )
    w = ens.recurrent_matrix()[2].detach().double().numpy()
    dense = np.linalg.eigvals(w)
    op = recurrent_operator(ens, member=2)
    np.testing.assert_allclose(op @ np.eye(12), w)
    by_real = dense[np.argsort(-dense.real)][:4]
    np.testing.assert_allclose(
        np.sort(top_eigenvalues(op, k=4, which="LR").real), np.sort(by_real.real), atol=1e-9
    )
    full = top_eigenvalues(op, k=12)  # k >= N - 1: dense fallback, every eigenvalue
    np.testing.assert_allclose(_by_modulus(full), _by_modulus(dense), atol=1e-10)
    with pytest.raises(InvalidParameterError, match="'k'"):
        top_eigenvalues(op, k=13)


def test_gated_networks_give_one_block_per_gate():
    gru = make_model("gru", 2, 1, dt_ms=10, n_hidden=5)
    blocks = recurrent_blocks(gru)
    assert list(blocks) == ["W_hr", "W_hz", "W_hn"]
    np.testing.assert_array_equal(blocks["W_hn"], gru.w_rec[0, 10:].detach().double().numpy())
    spectrum = weight_spectrum(make_model("lstm", 2, 1, dt_ms=10, n_hidden=4))
    assert spectrum.name == "W_hg" and not spectrum.continuous
    assert spectrum.summary()["stability_reference"] == "unit circle"
