"""Leaky firing-rate and current networks: the fused core against plain autograd, options,
initialisation statistics, noise, ensembles and the workspace's safety."""

import math

import pytest
import torch

from rnnzoo import InvalidParameterError
from rnnzoo.models import make_model
from rnnzoo.models.activations import activate
from rnnzoo.models.noise import draw_noise

KINDS = ["leaky_rate", "leaky_current"]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


OPTION_SETS = [
    {},
    {"rank": 2},
    {"dale": True, "connection_prob": 0.5, "self_connections": False, "tau_inhibitory_ms": 50.0},
    {"input_population": 3, "output_population": 2},
    {"activation": "prelu", "activation_slope": 0.3, "readout": "sigmoid"},
    {"activation": "softplus", "readout": "softmax"},
    {"activation": "sigmoid"},
    {"activation": "tanh"},
    {"memory": "recompute", "checkpoint_steps": 3},
    {"g": [0.5, 1.5], "tau_ms": [20.0, 40.0]},
    {"train_input": False, "train_bias": False},
]


def reference(net, inputs, initial, noise=None):
    """Plain autograd: loop `step` over time (adding the recurrent ``noise`` (M, T, B, N) to
    the drive when given), then the readout."""
    state, states = initial, []
    w_rec, w_in = net.recurrent_matrix(), net.input_weights()
    slope = float(net.activation_slope[0])
    for t, u in enumerate(inputs.unbind(0)):
        u = u.unsqueeze(0).expand(net.n_models, -1, -1)
        if noise is None:
            state = net.step(state, u)
            states.append(state)
            continue
        drive = u @ w_in.transpose(1, 2) + net.bias.unsqueeze(1) + noise[:, t]
        if net.form == "rate":
            update = activate(net.options.activation, state @ w_rec.transpose(1, 2) + drive, slope)
        else:
            update = activate(net.options.activation, state, slope) @ w_rec.transpose(1, 2) + drive
        state = (1 - net.alpha) * state + net.alpha * update
        states.append(state)
    stacked = torch.stack(states, 1)
    return net.readout(stacked).transpose(0, 1), stacked.transpose(0, 1)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: ",".join(o) or "default")
def test_fused_core_equals_plain_autograd_in_float64(kind, options, backend):
    net = make_model(
        kind, 3, 2, dt_ms=10, ensemble=2, seed=1, n_hidden=8, **{"tau_ms": 30.0, **options}
    ).double()
    net.rec_noise_std.fill_(0.3)  # the noise path too (the reference adds the same draws)
    inputs = torch.randn(7, 4, 3, dtype=torch.float64, requires_grad=True)
    initial = torch.randn(2, 4, 8, dtype=torch.float64, requires_grad=True)
    run = net(inputs, initial_state=initial, return_states=True, generator=_gen(5))
    outputs, states = run
    noise = net.sample_noise(inputs.detach(), _gen(5))[1]
    ref_outputs, ref_states = reference(net, inputs, initial, noise)
    torch.testing.assert_close(outputs, ref_outputs, rtol=0, atol=1e-12)
    torch.testing.assert_close(states, ref_states, rtol=0, atol=1e-12)
    weights = torch.randn_like(outputs)
    leaves = [p for p in net.parameters() if p.requires_grad] + [inputs, initial]
    # the loss also uses the states (an activity regulariser) so their gradient path is tested
    fast = torch.autograd.grad((outputs * weights).sum() + states.square().sum(), leaves)
    slow = torch.autograd.grad((ref_outputs * weights).sum() + ref_states.square().sum(), leaves)
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_frozen_weights_get_no_gradient():
    net = make_model("leaky_rate", 3, 2, n_hidden=8, train_input=False, train_recurrent=False)
    net(torch.randn(5, 2, 3)).outputs.sum().backward()
    assert net.w_in.grad is None and net.w_rec.grad is None and net.w_out.grad is not None


@pytest.mark.parametrize("kind", KINDS)
def test_low_rank_path_equals_the_dense_path(kind):
    low = make_model(kind, 3, 2, n_hidden=10, rank=3, seed=4).double()
    dense = make_model(kind, 3, 2, n_hidden=10, seed=4).double()
    with torch.no_grad():
        for name in ("w_in", "bias", "w_out", "b_out"):
            getattr(dense, name).copy_(getattr(low, name))
        dense.w_rec.copy_(low.m @ low.n.transpose(1, 2) / 10)
    inputs = torch.randn(9, 5, 3, dtype=torch.float64, requires_grad=True)
    a, b = low(inputs).outputs, dense(inputs).outputs
    torch.testing.assert_close(a, b)
    (ga,) = torch.autograd.grad(a.sum(), inputs)
    (gb,) = torch.autograd.grad(b.sum(), inputs)
    torch.testing.assert_close(ga, gb)
    # and the gradients of m, n follow from dense W's by the chain rule
    (gm, gn) = torch.autograd.grad(low(inputs).outputs.sum(), [low.m, low.n])
    (gw,) = torch.autograd.grad(dense(inputs).outputs.sum(), [dense.w_rec])
    torch.testing.assert_close(gm, gw @ low.n / 10)
    torch.testing.assert_close(gn, gw.transpose(1, 2) @ low.m / 10)


def test_dale_signs_masks_and_readout_survive_training():
    net = make_model(
        "leaky_rate", 3, 2, n_hidden=20, dale=True, connection_prob=0.5, self_connections=False
    )
    optimiser = torch.optim.Adam(net.parameters(), lr=0.05)
    for _ in range(20):
        optimiser.zero_grad()
        net(torch.randn(6, 4, 3)).outputs.square().sum().backward()
        optimiser.step()
    (w,) = net.recurrent_weights()
    w = w[0].detach()
    assert (w[:, :16] >= 0).all() and (w[:, 16:] <= 0).all()  # 80 % excitatory columns
    assert (w.diagonal() == 0).all() and ((w == 0) == (net.rec_mask[0] == 0)).all()
    assert (net.input_weights() >= 0).all()
    assert (net.output_weights()[0, :, 16:] == 0).all()  # inhibitory neurons are not read out


def test_random_init_has_spectral_radius_g_and_dale_init_is_balanced():
    for options in (
        {"g": 1.5},
        {"g": 1.5, "connection_prob": 0.3},
        {"g": 1.5, "dale": True},
        {"g": 1.5, "dale": True, "connection_prob": 0.3},
    ):
        net = make_model("leaky_current", 1, 1, n_hidden=600, seed=3, **options)
        w = net.recurrent_matrix()[0].detach().double()
        radius = float(torch.linalg.eigvals(w).abs().max())
        # bulk edge at g, and no outlier eigenvalue (an unbalanced Dale init has one near 10)
        assert 0.93 * 1.5 < radius < 1.1 * 1.5, options
        if options.get("dale"):  # every row's excitation cancels its inhibition exactly
            torch.testing.assert_close(
                w.sum(1), torch.zeros(600, dtype=torch.float64), atol=1e-5, rtol=0
            )


def _divergence(g: float) -> float:
    net = make_model(
        "leaky_current", 1, 1, dt_ms=10, n_hidden=300, g=g, seed=0, tau_ms=100.0
    ).double()
    draws = torch.randn(2, 300, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    pair = torch.stack([draws[0], draws[0] + 1e-6 * draws[1]])
    with torch.no_grad():
        states = net(
            torch.zeros(3000, 2, 1, dtype=torch.float64), initial_state=pair, return_states=True
        ).states
    return float((states[-1, 0] - states[-1, 1]).norm() / (pair[0] - pair[1]).norm())


def test_gain_two_is_chaotic_and_small_gain_is_stable():
    assert _divergence(2.0) > 1e3  # nearby trajectories separate
    assert _divergence(0.5) < 1e-3  # and converge for a stable network


def test_noise_is_reproducible_from_a_seed_and_has_the_documented_std():
    net = make_model(
        "leaky_rate",
        3,
        2,
        dt_ms=10,
        n_hidden=16,
        recurrent_noise=0.1,
        input_noise=0.05,
        tau_ms=100.0,
    )
    inputs = torch.zeros(20, 4, 3)
    run = lambda seed: net(inputs, generator=torch.Generator().manual_seed(seed)).outputs  # noqa: E731
    torch.testing.assert_close(run(5), run(5), rtol=0, atol=0)
    assert not torch.equal(run(5), run(6))
    # per-step std sigma * sqrt(2 / alpha), alpha = dt / tau = 0.1
    assert float(net.rec_noise_std.flatten()[0]) == pytest.approx(0.1 * math.sqrt(20))
    ones = torch.ones(4000, 2, 50)
    white = draw_noise(
        ones.shape, torch.tensor(2.0), 0.0, torch.Generator().manual_seed(0), ones, 0
    )
    assert float(white.std()) == pytest.approx(2.0, rel=0.02)
    decay = math.exp(-10 / 50)
    ou = draw_noise(ones.shape, torch.tensor(2.0), decay, torch.Generator().manual_seed(0), ones, 0)
    lag1 = float((ou[1:] * ou[:-1]).mean() / ou.var())
    assert float(ou.std()) == pytest.approx(2.0, rel=0.05)
    assert lag1 == pytest.approx(decay, abs=0.02)


def test_ensemble_members_are_independent_networks_and_extractable():
    ens = make_model("leaky_rate", 3, 2, n_hidden=8, ensemble=3, seed=7, g=[0.5, 1.0, 1.5])
    single = make_model("leaky_rate", 3, 2, n_hidden=8, seed=7, g=0.5)
    torch.testing.assert_close(ens.w_rec[0], single.w_rec[0])
    assert not torch.equal(ens.w_rec[1] / 1.0, ens.w_rec[2] / 1.5)
    inputs = torch.randn(6, 5, 3)
    outputs = ens(inputs).outputs
    assert outputs.shape == (6, 3, 5, 2)
    member = ens.member(2)
    assert member.config.ensemble is None and member.options.g == 1.5
    torch.testing.assert_close(member(inputs).outputs, outputs[:, 2])
    per_member = torch.randn(6, 3, 5, 3)
    torch.testing.assert_close(
        ens(per_member).outputs[:, 1], ens.member(1)(per_member[:, 1]).outputs
    )


def test_reused_buffers_never_corrupt_held_outputs_or_pending_graphs():
    net = make_model("leaky_rate", 3, 2, n_hidden=8).double()
    a, b = torch.randn(5, 2, 3, dtype=torch.float64), torch.randn(5, 2, 3, dtype=torch.float64)
    kept = net(a, return_states=True).states
    snapshot = kept.clone()
    net(b, return_states=True)
    torch.testing.assert_close(kept, snapshot, rtol=0, atol=0)
    # two forwards before one backward (gradient accumulation) equal two separate backwards
    loss = net(a).outputs.square().sum() + net(b).outputs.square().sum()
    (together,) = torch.autograd.grad(loss, [net.w_rec])
    (ga,) = torch.autograd.grad(net(a).outputs.square().sum(), [net.w_rec])
    (gb,) = torch.autograd.grad(net(b).outputs.square().sum(), [net.w_rec])
    torch.testing.assert_close(together, ga + gb)
    out = net(a).outputs.sum()
    out.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="run backward once per forward"):
        out.backward()


def test_prelu_slope_anneals_from_linear_to_relu():
    net = make_model("leaky_rate", 1, 1, n_hidden=4, activation="prelu", activation_slope=1.0)
    x = torch.full((3, 1, 1), -5.0)
    linear_states = net(x, return_states=True).states
    net.set_activation_slope(0.0)
    relu_states = net(x, return_states=True).states
    assert (relu_states >= 0).all() and (linear_states < 0).any()
    with pytest.raises(ValueError, match="activation_slope"):
        net.set_activation_slope(1.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_hiden": 10}, "unknown parameter 'n_hiden'; did you mean 'n_hidden'"),
        ({"rank": 2, "dale": True}, "'rank' cannot be combined with dale"),
        ({"rank": 2, "g": 1.5}, "'g' sets the full-rank initialisation"),
        ({"tau_ms": 5.0}, "time constants must be >= dt_ms = 10 ms"),
        ({"g": -1}, "'g'"),
        ({"tau_inhibitory_ms": 20.0}, "needs dale=True"),
        ({"input_population": 100, "output_population": 100}, "must be <= 128"),
        ({"activation": "elu"}, "'activation'"),
        ({"activation_slope": 0.5}, "applies to activation='prelu' only"),
    ],
)
def test_bad_options_name_the_option(options, message):
    with pytest.raises(
        InvalidParameterError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        make_model("leaky_rate", 3, 2, dt_ms=10, **options)


def test_bad_shapes_and_member_lists_are_clear_errors():
    with pytest.raises(InvalidParameterError, match="'g' has 2 values but the ensemble has 3"):
        make_model("leaky_rate", 3, 2, ensemble=3, g=[1.0, 2.0])
    net = make_model("leaky_rate", 3, 2, n_hidden=8)
    with pytest.raises(
        InvalidParameterError, match=r"inputs must have shape \(T, B, I\) with I = 3"
    ):
        net(torch.zeros(5, 2, 4))
    with pytest.raises(InvalidParameterError, match="initial_state must have shape"):
        net(torch.zeros(5, 2, 3), initial_state=torch.zeros(3, 8))


def test_member_keeps_dtype_and_its_config_rebuilds_its_initial_weights():
    from rnnzoo.models import from_config

    ens = make_model("leaky_rate", 3, 2, n_hidden=6, ensemble=3, seed=2).double()
    member = ens.member(2)
    assert member.w_rec.dtype == torch.float64 and member.config.member == 2
    rebuilt = from_config(member.config)
    torch.testing.assert_close(rebuilt.w_rec[0].double(), ens.w_rec[2])


def test_empty_batches_are_clear_errors():
    net = make_model("leaky_rate", 3, 2, n_hidden=6)
    for shape in ((0, 2, 3), (4, 0, 3)):
        with pytest.raises(InvalidParameterError, match="at least one time step and one trial"):
            net(torch.zeros(shape))


def test_workspace_keeps_buffers_between_steps_until_cleared():
    from rnnzoo.models.workspace import WORKSPACE

    net = make_model("leaky_rate", 3, 2, n_hidden=8)
    net(torch.randn(5, 2, 3)).outputs.sum().backward()
    assert WORKSPACE.bytes_held > 0
    WORKSPACE.clear()
    assert WORKSPACE.bytes_held == 0
    assert net(torch.randn(5, 2, 3)).outputs.shape == (5, 2, 2)
