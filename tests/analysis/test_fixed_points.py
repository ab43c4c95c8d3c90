"""Fixed points: closed-form answers (linear network, hand-built tanh attractors with and
without input, a saddle's unstable direction), a trained 2-bit flip-flop, ensemble members."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

from rnnzoo.analysis import find_fixed_points, fixed_points_from_trajectories, simulate
from rnnzoo.analysis.run import analysis_batch, load_run
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model


def _linear_network(ensemble=None, seed=0):
    """Leaky rate network with f linear (prelu slope 1), random bias, stable W (g = 0.5)."""
    net = make_model(
        "leaky_rate",
        2,
        2,
        dt_ms=10,
        ensemble=ensemble,
        seed=seed,
        n_hidden=20,
        tau_ms=40.0,
        g=0.5,
        activation="prelu",
        activation_slope=1.0,
    )
    with torch.no_grad():
        net.bias.copy_(torch.randn(net.bias.shape, generator=torch.Generator().manual_seed(3)))
    return net


def _closed_form(net, index, u):
    w = net.recurrent_matrix()[index].detach().double().numpy()
    drive = (
        net.input_weights()[index].detach().double().numpy() @ u
        + net.bias[index].detach().double().numpy()
    )
    return np.linalg.solve(np.eye(len(w)) - w, drive), w


def test_linear_network_has_its_closed_form_fixed_point():
    net = _linear_network()
    u = np.array([0.3, -0.7])
    x0 = np.random.default_rng(0).normal(size=(16, 20))
    fixed = find_fixed_points(net, x0, u)
    expected, w = _closed_form(net, 0, u)
    assert fixed.n_fixed == 1 and len(fixed) == 1  # one unique point from 16 starts
    np.testing.assert_allclose(fixed.states[0], expected, atol=1e-8)
    assert fixed.stability[0] == "stable" and fixed.time == "continuous"
    # continuous-time Jacobian of tau dr/dt = -r + W r + ...: (W - I) / tau, in 1/s
    ode = np.sort_complex(np.round((np.linalg.eigvals(w) - 1) / 0.040, 8))
    np.testing.assert_allclose(np.sort_complex(np.round(fixed.eigenvalues[0], 8)), ode, atol=1e-5)


def test_ensemble_member_is_analysed():
    net = _linear_network(ensemble=3)
    u = np.array([1.0, 0.5])
    fixed = find_fixed_points(net, np.zeros((4, 20)), u, member=2)
    np.testing.assert_allclose(fixed.states[0], _closed_form(net, 2, u)[0], atol=1e-8)
    with pytest.raises(InvalidParameterError, match="member"):
        find_fixed_points(net, np.zeros((4, 20)), u, member=3)


def _tanh_pair(gain_1=2.0, gain_2=0.5):
    """Discrete h <- tanh(diag(gain_1, gain_2) h + u): two uncoupled neurons."""
    net = make_model("vanilla", 2, 1, dt_ms=10, n_hidden=2)
    with torch.no_grad():
        net.w_rec.copy_(torch.diag(torch.tensor([gain_1, gain_2])).unsqueeze(0))
        net.w_in.copy_(torch.eye(2).unsqueeze(0))
        net.bias.zero_()
    return net


def test_hand_built_attractors_saddle_and_its_unstable_direction():
    net = _tanh_pair()
    x0 = np.array([[a, b] for a in np.linspace(-1, 1, 9) for b in (-0.5, 0.5)])
    fixed = find_fixed_points(net, x0, np.zeros(2))
    root = brentq(lambda h: np.tanh(2 * h) - h, 0.1, 1.5)
    order = np.argsort(fixed.states[:, 0])
    np.testing.assert_allclose(fixed.states[order], [[-root, 0], [0, 0], [root, 0]], atol=1e-9)
    assert list(fixed.stability[order]) == ["stable", "saddle", "stable"]
    assert fixed.time == "discrete" and fixed.n_stable == 2
    # discrete Jacobian at the attractors: diag(2 (1 - h*^2), 0.5)
    np.testing.assert_allclose(
        np.sort(fixed.eigenvalues[order[0]].real), sorted([2 * (1 - root**2), 0.5]), atol=1e-8
    )
    direction = fixed.unstable_directions[order[1]]
    assert direction.shape == (2, 1) and abs(direction[0, 0]) == pytest.approx(1, abs=1e-9)


def _roots(func, low=-1.5, high=1.5):
    """Every root of a scalar function on [low, high] (sign changes on a fine grid, brentq)."""
    grid = np.linspace(low, high, 3001)
    values = func(grid)
    return [
        brentq(func, a, b)
        for a, b, fa, fb in zip(grid[:-1], grid[1:], values[:-1], values[1:], strict=True)
        if fa * fb < 0
    ]


def test_constant_input_moves_the_attractors():
    net = _tanh_pair()
    u = np.array([0.5, 0.0])
    x0 = np.array([[a, 0.1] for a in np.linspace(-1, 1, 21)])
    fixed = find_fixed_points(net, x0, u)
    roots = _roots(lambda h: np.tanh(2 * h + 0.5) - h)
    slopes = [2 / np.cosh(2 * h + 0.5) ** 2 for h in roots]  # dF/dh of the first neuron
    order = np.argsort(fixed.states[:, 0])
    assert len(roots) == 3 and fixed.n_fixed == 3
    np.testing.assert_allclose(fixed.states[order, 0], roots, atol=1e-9)
    assert list(fixed.stability[order]) == ["stable" if s < 1 else "saddle" for s in slopes]


def test_bad_initial_states_and_inputs_are_named():
    net = _tanh_pair()
    with pytest.raises(InvalidParameterError, match="initial_states"):
        find_fixed_points(net, np.zeros((3, 5)))
    with pytest.raises(InvalidParameterError, match="'inputs'"):
        find_fixed_points(net, np.zeros((3, 2)), np.zeros(3))


def test_trained_two_bit_flipflop_has_one_stable_point_per_memory(two_bit_run):
    _, net, task = load_run(two_bit_run)
    states = simulate(net, analysis_batch(task, 0).inputs).states
    fixed = fixed_points_from_trajectories(net, states, np.zeros(2), n_initial=128)
    stable = (fixed.stability == "stable") & fixed.is_fixed
    corners = {tuple(np.sign(o)) for o in fixed.outputs[stable]}
    assert fixed.n_stable == 4 and corners == {(a, b) for a in (-1, 1) for b in (-1, 1)}
    saddles = np.nonzero(fixed.stability == "saddle")[0]
    assert all(fixed.unstable_directions[k].shape[1] > 0 for k in saddles)
    # holding bit 0's set input: whatever is stable then reads bit 0 as +1
    held = fixed_points_from_trajectories(net, states, np.array([1.0, 0.0]), n_initial=128)
    stable = (held.stability == "stable") & held.is_fixed
    assert stable.any() and (held.outputs[stable, 0] > 0).all()


def test_newton_polish_stops_per_point_once_converged(monkeypatch):
    import rnnzoo.analysis.fixed_points as fp

    net = _linear_network()
    u = np.array([0.3, -0.7])
    exact, _ = _closed_form(net, 0, u)
    rows = []
    original = fp._jacobians

    def counting(step, x):
        rows.append(len(x))
        return original(step, x)

    monkeypatch.setattr(fp, "_jacobians", counting)
    # 15 starts on the fixed point (converged before any Newton step), one far from it; no Adam
    starts = np.vstack([np.repeat(exact[None], 15, axis=0), exact + 1.0])
    fixed = find_fixed_points(net, starts, u, max_iters=0, newton_steps=20)
    assert fixed.n_fixed == 1
    np.testing.assert_allclose(fixed.states[0], exact, atol=1e-8)
    newton = rows[:-1]  # the last call linearises the unique point
    assert newton and all(n == 1 for n in newton)  # only the unconverged point is linearised
    assert len(newton) <= 3  # and it stops once converged (one step solves a linear map)
