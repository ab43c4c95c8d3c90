"""Learning rules: each update against its equation computed independently (NumPy, float64),
RLS against closed-form least squares, RFLO/e-prop against exact and truncated gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tests.training import rule_references as ref

from rnnzoo.models import make_model
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.training.config import TrainConfig
from rnnzoo.training.methods import make_method
from rnnzoo.training.rules import LearnerContext, make_learner
from rnnzoo.training.rules.dynamics import weights_of
from rnnzoo.training.rules.rls import initial_inverse_correlation, rls_correction, rls_gain

N, N_IN, N_OUT, T, B = 6, 2, 2, 9, 3


def tiny_net(kind="leaky_current", ensemble=None, **options):
    net = make_model(kind, N_IN, N_OUT, dt_ms=10, ensemble=ensemble, seed=3, n_hidden=N, **options)
    with torch.no_grad():  # nonzero biases so that the bias terms are tested too
        net.bias.copy_(
            0.1 * torch.randn(net.bias.shape, generator=torch.Generator().manual_seed(1))
        )
        net.b_out.copy_(0.2)
    return net.double()


def tiny_batch(seed=0, lengths=None, scored_from=2, conditions=None):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(T, B, N_IN))
    targets = np.sin(np.arange(T)[:, None, None] / 2 + rng.uniform(0, 3, size=(1, B, N_OUT)))
    weights = np.zeros((T, B, N_OUT))
    weights[scored_from:] = 1.0
    weights[scored_from:, :, 1] = 0.5  # channels weighted differently
    lengths = np.full(B, T) if lengths is None else np.asarray(lengths)
    pad = np.arange(T)[:, None] >= lengths[None, :]
    inputs[pad], targets[pad], weights[pad] = 0, 0, 0
    return TrialBatch(
        inputs=inputs,
        targets=targets,
        weights=weights,
        lengths=lengths,
        epochs={},
        conditions=conditions or {},
        input_names=("u0", "u1"),
        output_names=("z0", "z1"),
        dt_ms=10.0,
    )


class _Task:
    """Stands for the current task: its trials have the conditions of `tiny_batch`."""

    def __init__(self, conditions):
        self.conditions = conditions

    def generate(self, batch_size, seed):
        return tiny_batch(conditions=self.conditions)


def learner(net, rule, train=None, conditions=None, **hp):
    context = LearnerContext(
        net,
        TrainConfig(clip_grad_norm=None, **(train or {})),
        make_method("control"),
        torch.Generator().manual_seed(0),
        lambda: _Task(conditions),
    )
    return make_learner(rule, hp, context)


def numpy_weights(net, member=0):
    w = weights_of(net)
    return {
        "w": w["w"][member].numpy(),
        "w_in": w["w_in"][member].numpy(),
        "b": w["bias"][member].numpy(),
        "w_out": w["w_out"][member].numpy(),
        "b_out": w["b_out"][member].numpy(),
    }


def form_args(net, member=0):
    form = "rate" if net.kind in ("leaky_rate", "vanilla") else "current"
    alpha = np.ones(N) if net.kind == "vanilla" else net.alpha[member, 0].numpy()
    return form, net.options.activation, alpha


def grads(net):
    return {
        "w": net.w_rec.grad[0].numpy(),
        "w_in": net.w_in.grad[0].numpy(),
        "b": net.bias.grad[0].numpy(),
        "w_out": net.w_out.grad[0].numpy(),
        "b_out": net.b_out.grad[0].numpy(),
    }


def estimate(net, rule, batch, **hp):
    learn = learner(net, rule, **hp)
    learn.losses(batch, 1.0)
    assert learn.prepare_update(0) is None
    return learn, grads(net)


# --- RFLO and e-prop ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "kind", "feedback", "trace"),
    [
        ("rflo", "leaky_rate", "random", "inside"),
        ("rflo", "leaky_current", "random", "inside"),
        ("rflo", "leaky_current", "symmetric", "inside"),
        ("eprop", "leaky_current", "symmetric", "outside"),
        ("eprop", "leaky_current", "random", "outside"),
        ("eprop", "leaky_rate", "symmetric", "outside"),
        ("eprop", "vanilla", "symmetric", "outside"),
    ],
)
def test_eligibility_estimate_equals_the_forward_trace_recursion(rule, kind, feedback, trace):
    options = {"activation": "tanh"} if kind == "leaky_rate" else {}
    if kind != "vanilla":
        options["tau_ms"] = 40.0
    net = tiny_net(kind, **options)
    batch = tiny_batch(lengths=[T, T - 3, T - 1])
    learn, got = estimate(net, rule, batch, feedback=feedback)
    fb = None if feedback == "symmetric" else learn.feedback[0].numpy()
    want = ref.eligibility_gradient(
        *form_args(net), numpy_weights(net), batch.inputs, batch.targets, batch.weights, fb, trace
    )
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-12, err_msg=key)


def _autograd_gradient(net, batch, truncate):
    """dL/dtheta of the masked MSE by autograd in float64; ``truncate`` detaches the state fed
    to the next step (one-step-truncated BPTT)."""
    w = {k: v.clone().requires_grad_() for k, v in weights_of(net).items()}
    form, activation, alpha = form_args(net)
    f = torch.tanh if activation == "tanh" else torch.relu
    alpha = torch.tensor(alpha)
    u = torch.from_numpy(batch.inputs)
    state = torch.zeros(B, N, dtype=torch.float64)
    rates = state if form == "rate" else f(state)
    outs = []
    for t in range(T):
        prev_state, prev_rates = (state.detach(), rates.detach()) if truncate else (state, rates)
        a = prev_rates @ w["w"][0].T + u[t] @ w["w_in"][0].T + w["bias"][0]
        if form == "rate":
            state = (1 - alpha) * prev_state + alpha * f(a)
            rates = state
        else:
            state = (1 - alpha) * prev_state + alpha * a
            rates = f(state)
        outs.append(rates @ w["w_out"][0].T + w["b_out"][0])
    out = torch.stack(outs)
    targets, weights = torch.from_numpy(batch.targets), torch.from_numpy(batch.weights)
    loss = ((out - targets) ** 2 * weights).sum() / weights.sum()
    loss.backward()
    return {
        "w": w["w"].grad[0],
        "w_in": w["w_in"].grad[0],
        "b": w["bias"].grad[0],
        "w_out": w["w_out"].grad[0],
        "b_out": w["b_out"].grad[0],
    }


@pytest.mark.parametrize("kind", ["vanilla", "leaky_rate"])
def test_rflo_with_exact_feedback_and_alpha_1_is_the_one_step_truncated_gradient(kind):
    options = {} if kind == "vanilla" else {"tau_ms": 10.0, "activation": "tanh"}  # alpha = 1
    net = tiny_net(kind, **options)
    batch = tiny_batch()
    _, got = estimate(net, "rflo", batch, feedback="symmetric")
    want = _autograd_gradient(net, batch, truncate=True)
    for key in want:
        np.testing.assert_allclose(got[key], want[key].numpy(), rtol=1e-10, atol=1e-12)
    full = _autograd_gradient(net, batch, truncate=False)  # and it is not the full gradient
    assert not np.allclose(got["w"], full["w"].numpy(), rtol=1e-3)


@pytest.mark.parametrize(("rule", "kind"), [("rflo", "leaky_rate"), ("eprop", "leaky_current")])
def test_with_no_recurrence_the_eligibility_rules_are_exact(rule, kind):
    """W = 0 and symmetric feedback: nothing flows through W, so the own-leak eligibility of the
    form (RFLO on the rate form, e-prop on the current form) is the exact gradient."""
    options = {"tau_ms": 30.0} | ({"activation": "tanh"} if kind == "leaky_rate" else {})
    net = tiny_net(kind, **options)
    with torch.no_grad():
        net.w_rec.zero_()
    batch = tiny_batch(lengths=[T, T - 2, T])
    _, got = estimate(net, rule, batch, feedback="symmetric")
    want = _autograd_gradient(net, batch, truncate=False)
    for key in want:
        np.testing.assert_allclose(got[key], want[key].numpy(), rtol=1e-9, atol=1e-12)


def test_rflo_and_eprop_coincide_on_rate_networks_and_for_linear_units():
    batch = tiny_batch()
    for kind, options in (
        ("leaky_rate", {}),
        ("leaky_current", {"activation": "prelu", "activation_slope": 1.0}),
    ):
        a = estimate(tiny_net(kind, **options), "rflo", batch, feedback="symmetric")[1]
        b = estimate(tiny_net(kind, **options), "eprop", batch, feedback="symmetric")[1]
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-14)
    a = estimate(tiny_net(), "rflo", batch, feedback="symmetric")[1]  # tanh current: they differ
    b = estimate(tiny_net(), "eprop", batch, feedback="symmetric")[1]
    assert not np.allclose(a["w"], b["w"], rtol=1e-4)


def test_gradients_reach_constrained_parameters_by_the_chain_rule():
    """Dale's law (|w| times the presynaptic signs) and a sparse mask: the estimate of dL/dW
    lands on the raw parameter as dL/dW * sign(w) * signed mask."""
    net = tiny_net("leaky_rate", dale=True, connection_prob=0.7)
    batch = tiny_batch()
    learn = learner(net, "rflo")
    learn.losses(batch, 1.0)
    effective = learn._grads["w"][0].clone()
    learn.prepare_update(0)
    want = effective * torch.sign(net.w_rec[0].detach()) * net.rec_mask[0]
    assert (net.rec_mask[0] < 0).any() and (net.rec_mask[0] == 0).any()
    torch.testing.assert_close(net.w_rec.grad[0], want, rtol=1e-12, atol=1e-14)


# --- RLS, FORCE and full-FORCE ------------------------------------------------------------------
def test_rls_equals_the_closed_form_regularised_least_squares():
    rng = np.random.default_rng(4)
    k, o, alpha = 7, 3, 2.5
    x = rng.normal(size=(2, 40, k))  # two members, 40 samples
    y = rng.normal(size=(2, 40, o))
    w0 = rng.normal(size=(2, o, k))
    p = initial_inverse_correlation(2, k, alpha)
    w = torch.from_numpy(w0.copy())
    for start, size in ((0, 1), (1, 5), (6, 13), (19, 21)):  # blocks of several sizes
        rows = torch.from_numpy(x[:, start : start + size])
        errors = torch.bmm(rows, w.transpose(1, 2)) - torch.from_numpy(y[:, start : start + size])
        w += rls_correction(rls_gain(p, rows), errors)
    for m in range(2):
        gram = alpha * np.eye(k) + x[m].T @ x[m]
        want = np.linalg.solve(gram, alpha * w0[m].T + x[m].T @ y[m]).T
        np.testing.assert_allclose(w[m].numpy(), want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(p[m].numpy(), np.linalg.inv(gram), rtol=1e-9, atol=1e-12)


def test_force_without_feedback_fits_the_readout_by_least_squares():
    """feedback_scale = 0: the trajectory does not depend on the readout, so after one batch
    the readout is the regularised least-squares fit of the targets on the scored rates that
    were sampled every learn_every steps."""
    net = tiny_net()
    batch = tiny_batch(lengths=[T, T - 2, T])
    learn = learner(net, "force", feedback_scale=0.0, alpha=0.5, learn_every=2)
    learn.begin()
    learn.losses(batch, 1.0)
    learn.apply_update()
    states = net(torch.from_numpy(batch.inputs), return_states=True).states
    rates = net.rates(states.unsqueeze(1).transpose(0, 1)).transpose(0, 1)[:, 0]  # (T, B, N)
    rows, wanted = [], []
    for t in range(1, T, 2):
        for k in range(B):
            if batch.weights[t, k].max() > 0:
                rows.append(np.concatenate([rates[t, k].detach().numpy(), [1.0]]))
                wanted.append(batch.targets[t, k])
    x, y = np.array(rows), np.array(wanted)
    fit = np.linalg.solve(0.5 * np.eye(N + 1) + x.T @ x, x.T @ y).T
    np.testing.assert_allclose(net.w_out[0].detach().numpy(), fit[:, :N], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(net.b_out[0].detach().numpy(), fit[:, N], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["leaky_current", "leaky_rate", "vanilla"])
def test_force_equals_sussillo_abbotts_scalar_updates(kind):
    net = tiny_net(kind, ensemble=2, **({"g": 1.5} if kind != "vanilla" else {}))
    batch = tiny_batch(lengths=[T, T - 3, T], scored_from=1)
    learn = learner(net, "force", alpha=3.0, learn_every=2)
    learn.begin()
    for m in range(2):
        start = numpy_weights(net, m)
        want, p = ref.force(
            *form_args(net, m),
            start,
            batch.inputs,
            batch.targets,
            batch.weights,
            learn.feedback[m].numpy(),
            3.0,
            2,
        )
        learn.losses(batch, 1.0)
        got = learn._proposal
        for key, name in (("w", "w"), ("b", "bias"), ("w_out", "w_out"), ("b_out", "b_out")):
            np.testing.assert_allclose(got[name][m].numpy(), want[key], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got["p"][m].numpy(), p, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["leaky_current", "leaky_rate"])
def test_full_force_equals_its_scalar_updates(kind):
    net = tiny_net(kind)
    lengths = [T, T - 3, T - 1]
    batch = tiny_batch(lengths=lengths)
    learn = learner(net, "full_force", alpha=2.0, learn_every=1, teacher_g=1.2)
    learn.begin()
    want, p = ref.full_force(
        *form_args(net),
        numpy_weights(net),
        batch.inputs,
        batch.targets,
        batch.weights,
        learn.teacher[0].numpy(),
        learn.target_input[0].numpy(),
        2.0,
        1,
        lengths,
    )
    learn.losses(batch, 1.0)
    got = learn._proposal
    for key, name in (("w", "w"), ("b", "bias"), ("w_out", "w_out"), ("b_out", "b_out")):
        np.testing.assert_allclose(got[name][0].numpy(), want[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got["p"][0].numpy(), p, rtol=1e-9, atol=1e-12)


# --- node perturbation --------------------------------------------------------------------------
def test_node_perturbation_equals_miconis_rule_with_per_type_baselines():
    net = tiny_net(ensemble=2)
    hp = {
        "eta": 0.5,
        "max_update": 0.02,
        "trace_decay": 0.05,
        "baseline_decay": 0.75,
        "warmup_trials": 2,
        "perturbation_rate_hz": 30.0,
        "kick": 0.8,
    }
    kinds = {"kind": np.zeros(B, dtype=int)}
    learn = learner(net, "node_perturbation", conditions=kinds, baseline_by=["kind"], **hp)
    baselines = [{}, {}]
    for index, kinds in enumerate(([0, 1, 0], [1, 1, 0])):
        batch = tiny_batch(seed=index, conditions={"kind": np.array(kinds)})
        xi, _ = learn.kicks(T, B)
        start = {m: numpy_weights(net, m) for m in range(2)}
        learn.losses(batch, 1.0)
        assert learn.prepare_update(index) is None
        delta, delta_b = learn._proposal["w"], learn._proposal["bias"]
        for m in range(2):
            types = [f"[{k}]" for k in kinds]
            want, want_b, baselines[m] = ref.node_perturbation(
                *form_args(net, m),
                start[m],
                batch.inputs,
                batch.targets,
                batch.weights,
                xi[:, m].numpy(),
                hp,
                types,
                baselines[m],
                learn.trials_seen,
            )
            np.testing.assert_allclose(delta[m].numpy(), want, rtol=1e-9, atol=1e-15)
            np.testing.assert_allclose(delta_b[m].numpy(), want_b, rtol=1e-9, atol=1e-15)
        assert np.abs(delta.numpy()).max() > 0  # the update is not trivially zero
        learn.apply_update()
        for m in range(2):
            for key, value in baselines[m].items():
                assert float(learn.baselines[key][m]) == pytest.approx(value, rel=1e-12)
    assert learn.trials_seen == 2 * B


def test_node_perturbation_kicks_have_the_asked_rate_and_size():
    net = tiny_net(tau_ms=20.0)  # alpha = 0.5
    learn = learner(net, "node_perturbation", perturbation_rate_hz=50.0, kick=0.3)
    xi, mask = learn.kicks(4000, 5)
    assert mask.float().mean().item() == pytest.approx(50 * 0.01, abs=0.005)
    values = xi[mask] * 0.5  # the change of the state
    assert values.abs().max().item() <= 0.3 and values.abs().max().item() > 0.29
