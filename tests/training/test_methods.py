"""Seed 002's training methods (CD, SCTT, DASC): true dynamics at the end of the schedule,
CD against a network at k*dt, SCTT/DASC against hand computation, schedules, gradients,
strategic skip placement and parameter errors."""

import math

import numpy as np
import pytest
import torch

from rnnzoo import InvalidParameterError
from rnnzoo.models import make_model
from rnnzoo.tasks import make
from rnnzoo.training.methods import METHOD_NAMES, make_method

KINDS = ["leaky_rate", "leaky_current"]
NOISY = {"input_noise": 0.1, "recurrent_noise": 0.1}
OPTION_SETS = [
    {},
    NOISY,
    {**NOISY, "noise_tau_ms": 30.0},
    {"rank": 2, "readout": "sigmoid"},
    {"dale": True, "connection_prob": 0.5, "tau_inhibitory_ms": 50.0},
    {"activation": "tanh", "input_population": 4, "output_population": 3},
]


def network(kind="leaky_rate", ensemble=None, dt_ms=10.0, seed=0, **options):
    """A small float64 network (built in float64, so noise scales are not float32-rounded)."""
    options = {
        "n_hidden": 8,
        "tau_ms": 100.0,
        **({} if "rank" in options else {"g": 1.5}),
        **options,
    }
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return make_model(kind, 3, 2, dt_ms=dt_ms, ensemble=ensemble, seed=seed, **options)
    finally:
        torch.set_default_dtype(default)


def trials(steps=12, batch=3, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(steps, batch, 3, generator=gen, dtype=torch.float64)


def gen(seed=7):
    return torch.Generator().manual_seed(seed)


def close(a, b):
    return torch.allclose(a, b, rtol=1e-10, atol=1e-12)


# --- true dynamics ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", METHOD_NAMES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ensemble", [None, 2])
def test_progress_one_is_the_true_dynamics_exactly(name, kind, ensemble):
    net = network(kind, ensemble, **NOISY)
    x = trials()
    method = make_method(name)
    assert torch.equal(method.outputs(net, x, 1.0, gen()), net(x, generator=gen()).outputs)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(o) or "default")
def test_skip_loop_runs_the_true_dynamics_before_the_first_skip(kind, options):
    """Skips only at the last two steps: the loop (with the network's noise) reproduces the
    network up to the landing step, which it changes."""
    net = network(kind, ensemble=2, **options)
    x = trials(steps=10)
    true = net(x, generator=gen()).outputs
    for name in ("sctt", "dasc"):
        out = make_method(name, skip_steps=[8, 10]).outputs(net, x, 0.0, gen())
        assert out.shape == true.shape
        assert close(out[:9], true[:9])
        assert not close(out[9], true[9])


@pytest.mark.parametrize("kind", KINDS)
def test_dasc_with_unit_skips_is_the_true_dynamics_values_and_gradients(kind):
    """theta = 1: the anchor h + D is the base step itself, so mixing changes nothing."""
    net = network(kind, **NOISY)
    x = trials()
    dasc = make_method("dasc", theta=1, initial_ratio=0.3)
    out = dasc.outputs(net, x, 0.0, gen())
    true = net(x, generator=gen()).outputs
    assert close(out, true)
    params = [p for p in net.parameters() if p.requires_grad]
    grads = torch.autograd.grad(out.square().sum(), params)
    expected = torch.autograd.grad(true.square().sum(), params)
    for g, e in zip(grads, expected, strict=True):
        assert torch.allclose(g, e, rtol=1e-9, atol=1e-12)


# --- CD ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", OPTION_SETS[:4], ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("steps", [12, 14])
def test_cd_equals_a_network_at_k_dt_on_subsampled_inputs(kind, options, steps):
    k = 3
    fine = network(kind, ensemble=2, **options)
    coarse = network(kind, ensemble=2, dt_ms=10.0 * k, **options)
    coarse.load_state_dict(dict(fine.named_parameters()), strict=False)
    x = trials(steps=steps)
    cd = make_method("cd", theta=k, step_count=1)
    out = cd.outputs(fine, x, 0.0, gen())
    expected = coarse(x[::k], generator=gen()).outputs
    assert out.shape == (steps, 2, 3, 2)
    assert close(out[k - 1 :: k], expected[: steps // k])


def test_cd_interpolates_the_coarse_step_on_the_task_grid():
    """Between coarse states the outputs lie on the Euler line (readout affine in the state)."""
    net = network()
    x = trials(steps=8)
    out = make_method("cd", theta=4, step_count=1).outputs(net, x, 0.0)
    start = net.readout(torch.zeros(1, 3, 8, dtype=torch.float64))[0]
    for j, begin in enumerate([start, out[3]]):
        end = out[4 * j + 3]
        for s in range(1, 4):
            assert close(out[4 * j + s - 1], begin + s / 4 * (end - begin))


def test_cd_mean_inputs_average_each_block():
    k, x = 3, trials(steps=7)
    fine, coarse = network(), network(dt_ms=30.0)
    coarse.load_state_dict(dict(fine.named_parameters()), strict=False)
    out = make_method("cd", theta=k, inputs="mean").outputs(fine, x, 0.0)
    means = torch.stack([x[0:3].mean(0), x[3:6].mean(0), x[6:7].mean(0)])
    assert close(out[k - 1 :: k], coarse(means).outputs[:2])


def test_cd_refuses_steps_longer_than_the_time_constant():
    net = network(tau_ms=50.0)  # alpha = 0.2
    with pytest.raises(InvalidParameterError, match=r"'theta' = 10.*use theta <= 5"):
        make_method("cd", theta=10).outputs(net, trials(), 0.0)
    make_method("cd", theta=5).outputs(net, trials(), 0.0)


# --- SCTT and DASC by hand ----------------------------------------------------------------------
def by_hand(net, x, theta, beta, aligned):
    """Numpy float64 Euler loop with a skip every theta steps (rate form, ReLU, no noise)."""
    w = net.recurrent_matrix()[0].detach().numpy()
    w_in = net.input_weights()[0].detach().numpy()
    b, alpha = net.bias[0].detach().numpy(), net.alpha[0, 0].numpy()
    w_out, b_out = net.output_weights()[0].detach().numpy(), net.b_out[0].detach().numpy()
    u = x.numpy()
    h = np.zeros((u.shape[1], w.shape[0]))
    anchor, outputs = h, []
    for t in range(u.shape[0]):
        delta = alpha * (np.maximum(h @ w.T + u[t] @ w_in.T + b, 0) - h)
        if t % theta == 0:
            anchor = h + theta * delta if aligned else h
        h = h + delta
        if (t + 1) % theta == 0:
            h = (1 - beta) * anchor + beta * h
        outputs.append(h @ w_out.T + b_out)
    return np.stack(outputs)


@pytest.mark.parametrize("name", ["sctt", "dasc"])
@pytest.mark.parametrize("theta", [1, 2, 3])
def test_skip_connections_match_a_hand_computation(name, theta):
    net = network(n_hidden=3, tau_ms=20.0)  # alpha = 0.5: the skips matter
    x = trials(steps=3, batch=2)
    method = make_method(name, theta=theta, initial_ratio=0.2, step_count=2)
    assert method.schedule(0.5) == {"beta": pytest.approx(0.6), "theta": theta}
    out = method.outputs(net, x, 0.5)
    np.testing.assert_allclose(
        out.detach().numpy(), by_hand(net, x, theta, 0.6, name == "dasc"), rtol=1e-12
    )


def test_sctt_and_dasc_differ_from_each_other_and_from_the_true_dynamics():
    net, x = network(g=2.0), trials()
    true = net(x).outputs
    sctt = make_method("sctt", theta=3).outputs(net, x, 0.0)
    dasc = make_method("dasc", theta=3).outputs(net, x, 0.0)
    assert close(sctt[:2], true[:2]) and close(dasc[:2], true[:2])  # before the first landing
    for a, b in [(sctt, true), (dasc, true), (sctt, dasc)]:
        assert not close(a[2], b[2])
    # DASC is first order: closer to the true dynamics than SCTT (sec. 3.4, figure 3B)
    assert (dasc - true).square().mean() < (sctt - true).square().mean()


# --- strategic placement -------------------------------------------------------------------------
def test_strategic_skips_change_only_the_listed_steps():
    net, x = network(tau_ms=20.0), trials(steps=12)
    true, states = net(x, return_states=True)
    out = make_method("sctt", skip_steps=[3, 7], initial_ratio=0.25).outputs(net, x, 0.0)
    assert close(out[:6], true[:6])
    # h_7 = 0.75 h_3 + 0.25 h_7^base, with h_3 and h_7^base the true states (outputs 2, 6)
    mixed = 0.75 * states[2] + 0.25 * states[6]
    assert close(out[6], net.readout(mixed.unsqueeze(0))[0])
    assert not close(out[7:], true[7:])


def test_also_periodic_adds_the_theta_grid():
    net, x = network(tau_ms=20.0), trials(steps=12)
    only = make_method("dasc", theta=4, skip_steps=[2, 10]).skip_points(12, 3)
    both = make_method("dasc", theta=4, skip_steps=[2, 10], also_periodic=True).skip_points(12, 3)
    assert np.flatnonzero(only[:, 0]).tolist() == [2, 10]
    assert np.flatnonzero(both[:, 0]).tolist() == [0, 2, 4, 8, 10, 12]
    out = make_method("dasc", theta=4, skip_steps=[2, 10], also_periodic=True).outputs(net, x, 0.0)
    true = net(x).outputs
    assert close(out[:1], true[:1])
    assert not close(out[1], true[1])  # the skip 0 -> 2 lands at h_2


@pytest.mark.parametrize("name", ["sctt", "dasc"])
def test_per_trial_skip_points_act_on_each_trial_alone(name):
    """Both trials start a skip at step 2 but land at 5 and 6 (DASC spans differ per trial)."""
    net, x = network(tau_ms=20.0), trials(steps=10, batch=2)
    starts = np.array([[2, 5, 9], [2, 6, 9]])
    method = make_method(name, skip_steps="trial_start_steps")
    out = method.outputs(net, x, 0.0, conditions={"trial_start_steps": starts})
    for b in range(2):
        alone = make_method(name, skip_steps=starts[b].tolist())
        assert close(out[:, b], alone.outputs(net, x[:, b : b + 1], 0.0)[:, 0])


def test_rule_reversal_trial_starts_place_the_skips():
    task = make("rule_reversal")
    batch = task.generate(4, seed=3)
    net = make_model(
        "leaky_rate", task.n_inputs, task.n_outputs, dt_ms=task.params.dt_ms, n_hidden=8
    )
    inputs = torch.as_tensor(batch.inputs)
    method = make_method("dasc", skip_steps="trial_start_steps")
    out = method.outputs(net, inputs, 0.0, conditions=batch.conditions)
    true = net(inputs).outputs
    first_landing = int(batch.conditions["trial_start_steps"][:, 1].min())
    assert torch.allclose(out[: first_landing - 1], true[: first_landing - 1])
    assert not torch.allclose(out, true)


# --- schedules ---------------------------------------------------------------------------------
def test_beta_anneals_in_step_count_plus_one_stages():
    method = make_method("dasc", step_count=5, initial_ratio=0.5)
    betas = [method.beta(p) for p in (0.0, 0.17, 0.34, 0.5, 0.67, 0.84, 0.99, 1.0)]
    assert betas == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0])
    one = make_method("sctt", step_count=1, initial_ratio=0.2)
    assert [one.beta(p) for p in (0.0, 0.49, 0.5, 1.0)] == [0.2, 0.2, 1.0, 1.0]


def test_theta_anneals_to_one_as_the_authors_scripts():
    cd = make_method("cd", theta=10, step_count=5)
    assert [cd.theta(k / 6) for k in range(6)] + [cd.theta(1.0)] == [10, 8, 6, 4, 2, 1, 1]
    ten = make_method("cd", theta=10, step_count=10)
    assert [ten.theta((k + 0.5) / 11) for k in range(11)] == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    assert make_method("cd").schedule(np.float32(0.0)) == {"theta": 10}
    assert make_method("control").schedule(0.3) == {}


# --- gradients, ensembles, reproducibility ------------------------------------------------------
@pytest.mark.parametrize("name", ["cd", "sctt", "dasc"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", [{}, {"rank": 2}], ids=["dense", "rank2"])
def test_gradients_reach_every_trainable_parameter(name, kind, options):
    net = network(kind, ensemble=2, **NOISY, **options)
    out = make_method(name, theta=3).outputs(net, trials(), 0.0, gen())
    out.square().sum().backward()
    for param_name, param in net.named_parameters():
        assert param.grad is not None, param_name
        assert torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, param_name


@pytest.mark.parametrize("name", ["cd", "sctt", "dasc"])
def test_ensemble_members_run_as_standalone_networks(name):
    net, x = network(ensemble=3, tau_ms=[40.0, 60.0, 100.0]), trials()
    method = make_method(name, theta=3)
    out = method.outputs(net, x, 0.0)
    for i in range(3):
        assert close(out[:, i], method.outputs(net.member(i), x, 0.0))
    per_member = x.unsqueeze(1).expand(-1, 3, -1, -1)
    assert close(method.outputs(net, per_member, 0.0), out)


@pytest.mark.parametrize("name", ["cd", "sctt", "dasc"])
def test_noise_is_reproducible_from_the_generator(name):
    net, x = network(**NOISY), trials()
    method = make_method(name, theta=3)
    a, b = method.outputs(net, x, 0.0, gen(1)), method.outputs(net, x, 0.0, gen(1))
    assert torch.equal(a, b)
    assert not torch.equal(a, method.outputs(net, x, 0.0, gen(2)))


def test_float32_networks_train_in_float32():
    net = make_model("leaky_rate", 3, 2, n_hidden=8)
    out = make_method("dasc", theta=3).outputs(net, trials().float(), 0.0)
    assert out.dtype == torch.float32 and out.shape == (12, 3, 2)


# --- configuration and errors ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("cd", {"theta": 7, "step_count": 3, "inputs": "mean"}),
        ("sctt", {"theta": 20, "initial_ratio": 0.8, "skip_steps": "trial_start_steps"}),
        ("dasc", {"skip_steps": [0, 5, 9], "also_periodic": True}),
        ("control", {}),
    ],
)
def test_config_rebuilds_the_method(name, values):
    method = make_method(name, **values)
    config = method.config()
    assert config["name"] == name and make_method(**config).config() == config
    assert name in repr(method) or type(method).__name__ in repr(method)


@pytest.mark.parametrize(
    ("name", "values", "message"),
    [
        ("sctt", {"theta": 0}, "'theta' must be"),
        ("dasc", {"initial_ratio": 1.5}, "'initial_ratio' must be"),
        ("cd", {"step_count": 0}, "'step_count' must be"),
        ("cd", {"inputs": "median"}, "'inputs'"),
        ("sctt", {"beta0": 0.5}, "unknown parameter 'beta0'"),
        ("control", {"theta": 3}, "unknown parameter 'theta'"),
        ("dasc", {"skip_steps": [4]}, "'skip_steps' must list at least 2"),
        ("dasc", {"skip_steps": [-1, 4]}, "'skip_steps' must list at least 2 steps >= 0"),
        ("sctt", {"also_periodic": True}, "'also_periodic' applies only with 'skip_steps'"),
    ],
)
def test_bad_hyperparameters_are_named(name, values, message):
    with pytest.raises(InvalidParameterError, match=message):
        make_method(name, **values)


def test_bad_names_progress_networks_and_skip_steps_are_named():
    with pytest.raises(
        InvalidParameterError, match=r"'method' must be one of.*did you mean 'sctt'"
    ):
        make_method("scct")
    net, x = network(), trials()
    for progress in (-0.1, 1.5, math.nan, "half"):
        with pytest.raises(InvalidParameterError, match="'progress'"):
            make_method("sctt").outputs(net, x, progress)
    gru = make_model("gru", 3, 2, n_hidden=4)
    assert make_method("control").outputs(gru, trials().float(), 0.0).shape == (12, 3, 2)
    for name in ("cd", "sctt", "dasc"):
        with pytest.raises(InvalidParameterError, match=f"method '{name}' trains leaky"):
            make_method(name).outputs(gru, trials().float(), 0.0)
    with pytest.raises(
        InvalidParameterError, match=r"'skip_steps' must be integer steps in \[0, 12\]"
    ):
        make_method("sctt", skip_steps=[2, 13]).outputs(net, x, 0.0)
    with pytest.raises(
        InvalidParameterError, match=r"condition 'trial_starts'.*'trial_start_steps'"
    ):
        make_method("sctt", skip_steps="trial_starts").outputs(
            net, x, 0.0, conditions={"trial_start_steps": np.zeros((3, 2), int)}
        )
    with pytest.raises(InvalidParameterError, match="2 rows for a batch of 3"):
        make_method("sctt", skip_steps="starts").outputs(
            net, x, 0.0, conditions={"starts": np.zeros((2, 2), int)}
        )
    with pytest.raises(InvalidParameterError, match="inputs must have shape"):
        make_method("dasc").outputs(net, x[..., :2], 0.0)
