"""Discrete-time baselines: equal to torch.nn.RNN/GRU/LSTM, ensembles, flags, shapes, graph size."""

import math

import pytest
import torch
from torch import nn

from rnnzoo import InvalidParameterError
from rnnzoo.models import describe_kind, get_model_class, load_model, make_model, model_kinds
from rnnzoo.models import save_model as save

KINDS = ["vanilla", "gru", "lstm"]
# (kind, options) pairs compared with PyTorch's own modules
REFERENCE_CASES = [
    ("vanilla", {"activation": "tanh"}),
    ("vanilla", {"activation": "relu"}),
    ("gru", {}),
    ("lstm", {}),
]
STEPS, BATCH, N_IN, N_OUT, N = 7, 4, 3, 2, 5


def _net(kind: str, ensemble: int | None = None, **options):
    return make_model(kind, N_IN, N_OUT, ensemble=ensemble, n_hidden=N, seed=3, **options).double()


def _reference(net, member: int) -> tuple[nn.Module, nn.Linear]:
    """torch.nn.RNN/GRU/LSTM and nn.Linear holding the weights of ``member``."""
    if net.kind == "vanilla":
        rnn = nn.RNN(N_IN, N, nonlinearity=net.options.activation)
    else:
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[net.kind](N_IN, N)
    rnn, linear = rnn.double(), nn.Linear(N, N_OUT).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(net.w_in[member])
        rnn.weight_hh_l0.copy_(net.w_rec[member])
        rnn.bias_ih_l0.copy_(net.bias[member])
        hidden_bias = net.bias_hidden[member] if net.kind != "vanilla" else 0.0
        rnn.bias_hh_l0.copy_(torch.zeros(rnn.bias_hh_l0.shape, dtype=torch.float64) + hidden_bias)
        linear.weight.copy_(net.w_out[member])
        linear.bias.copy_(net.b_out[member])
    return rnn, linear


def _loss(outputs, hidden, final_cell):
    """A loss touching outputs, every hidden state and the last cell state (LSTM)."""
    loss = (outputs**2).sum() + (hidden.sin() * torch.arange(N)).sum()
    return loss if final_cell is None else loss + final_cell.cos().sum()


@pytest.mark.parametrize(("kind", "options"), REFERENCE_CASES)
def test_outputs_and_gradients_equal_torch_modules(kind, options, backend):
    net = _net(kind, ensemble=2, **options)
    inputs = torch.randn(STEPS, BATCH, N_IN, dtype=torch.float64, requires_grad=True)
    initial = torch.randn(2, BATCH, net.state_size, dtype=torch.float64, requires_grad=True)
    ours = net(inputs, initial_state=initial, return_states=True)
    hidden = ours.states[..., :N]
    cells = ours.states[-1, :, :, N:] if kind == "lstm" else None
    _loss(ours.outputs, hidden, cells).backward()

    ref_inputs = inputs.detach().clone().requires_grad_()
    ref_initial = initial.detach().clone().requires_grad_()
    for member in range(2):
        rnn, linear = _reference(net, member)
        h0 = ref_initial[member, :, :N].unsqueeze(0)
        if kind == "lstm":
            ref_hidden, (_, c_last) = rnn(ref_inputs, (h0, ref_initial[member, :, N:].unsqueeze(0)))
            c_last = c_last[0]
        else:
            ref_hidden, c_last = rnn(ref_inputs, h0)[0], None
        ref_outputs = linear(ref_hidden)
        torch.testing.assert_close(ours.outputs[:, member], ref_outputs)
        torch.testing.assert_close(hidden[:, member], ref_hidden)
        if kind == "lstm":
            torch.testing.assert_close(cells[member], c_last)
        _loss(ref_outputs, ref_hidden, c_last).backward()

        grads = {
            "w_in": rnn.weight_ih_l0.grad,
            "w_rec": rnn.weight_hh_l0.grad,
            "bias": rnn.bias_ih_l0.grad,
            "w_out": linear.weight.grad,
            "b_out": linear.bias.grad,
        }
        if kind != "vanilla":
            grads["bias_hidden"] = rnn.bias_hh_l0.grad
        assert set(grads) == {name for name, _ in net.named_parameters()}
        for name, expected in grads.items():
            torch.testing.assert_close(getattr(net, name).grad[member], expected, msg=name)
    torch.testing.assert_close(inputs.grad, ref_inputs.grad)
    torch.testing.assert_close(initial.grad, ref_initial.grad)


@pytest.mark.parametrize("kind", KINDS)
def test_looping_step_gives_the_forward_states(kind):
    net = _net(kind, ensemble=2)
    inputs = torch.randn(STEPS, 2, BATCH, N_IN, dtype=torch.float64)
    state = torch.randn(2, BATCH, net.state_size, dtype=torch.float64)
    states = net(inputs, initial_state=state, return_states=True).states
    assert states.shape == (STEPS, 2, BATCH, net.state_size)
    for t in range(STEPS):
        state = net.step(state, inputs[t])
        torch.testing.assert_close(state, states[t])


@pytest.mark.parametrize("kind", KINDS)
def test_ensemble_members_are_the_standalone_networks(kind):
    ensemble = make_model(kind, N_IN, N_OUT, ensemble=3, n_hidden=N, seed=11)
    larger = make_model(kind, N_IN, N_OUT, ensemble=5, n_hidden=N, seed=11)
    standalone = make_model(kind, N_IN, N_OUT, n_hidden=N, seed=11)
    other_seed = make_model(kind, N_IN, N_OUT, n_hidden=N, seed=12)
    for name, weight in ensemble.named_parameters():
        assert weight.shape[0] == 3
        assert torch.equal(weight, getattr(larger, name)[:3]), name  # member i: (seed, i) only
        assert torch.equal(weight[:1], getattr(standalone, name)), name
        if name != "bias" or kind != "vanilla":  # the vanilla bias starts at 0
            assert not torch.equal(weight[0], weight[1]), name
            assert not torch.equal(weight[:1], getattr(other_seed, name)), name


@pytest.mark.parametrize("kind", KINDS)
def test_member_extraction_runs_like_its_slice(kind):
    net = _net(kind, ensemble=3)
    shared = torch.randn(STEPS, BATCH, N_IN, dtype=torch.float64)
    per_member = torch.randn(STEPS, 3, BATCH, N_IN, dtype=torch.float64)
    out_shared = net(shared, return_states=True)
    out_each = net(per_member, return_states=True)
    for index in range(3):
        single = net.member(index).double()
        assert single.config.ensemble is None
        alone = single(shared, return_states=True)
        assert alone.outputs.shape == (STEPS, BATCH, N_OUT)
        torch.testing.assert_close(alone.outputs, out_shared.outputs[:, index])
        torch.testing.assert_close(alone.states, out_shared.states[:, index])
        torch.testing.assert_close(single(per_member[:, index]).outputs, out_each.outputs[:, index])


@pytest.mark.parametrize("kind", KINDS)
def test_shared_inputs_equal_the_same_inputs_given_per_member(kind):
    net = _net(kind, ensemble=2)
    inputs = torch.randn(STEPS, BATCH, N_IN, dtype=torch.float64)
    shared = net(inputs, return_states=True)
    repeated = net(inputs.unsqueeze(1).expand(STEPS, 2, BATCH, N_IN), return_states=True)
    assert shared.outputs.shape == (STEPS, 2, BATCH, N_OUT)
    torch.testing.assert_close(shared.outputs, repeated.outputs)
    torch.testing.assert_close(shared.states, repeated.states)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("flag", ["train_input", "train_recurrent", "train_output", "train_bias"])
def test_frozen_parameters_get_no_gradient(kind, flag):
    frozen_names = {
        "train_input": {"w_in"},
        "train_recurrent": {"w_rec"},
        "train_output": {"w_out", "b_out"},
        "train_bias": {"bias", "bias_hidden"},
    }[flag]
    net = make_model(kind, N_IN, N_OUT, n_hidden=N, **{flag: False})
    net(torch.randn(STEPS, BATCH, N_IN)).outputs.sum().backward()
    for name, weight in net.named_parameters():
        frozen = name in frozen_names
        assert weight.requires_grad is not frozen, name
        assert (weight.grad is None) is frozen, name


@pytest.mark.parametrize("kind", KINDS)
def test_readout_activations(kind):
    inputs = torch.randn(STEPS, BATCH, N_IN, dtype=torch.float64)
    linear_net = _net(kind, ensemble=2)
    result = linear_net(inputs, return_states=True)
    hidden = result.states[..., :N]
    linear = hidden @ linear_net.w_out.transpose(1, 2) + linear_net.b_out.unsqueeze(1)
    torch.testing.assert_close(result.outputs, linear)
    torch.testing.assert_close(
        linear_net.readout(result.states.transpose(0, 1)).transpose(0, 1), linear
    )
    sigmoid = _net(kind, ensemble=2, readout="sigmoid")(inputs).outputs
    torch.testing.assert_close(sigmoid, torch.sigmoid(linear))
    softmax = _net(kind, ensemble=2, readout="softmax")(inputs).outputs
    torch.testing.assert_close(softmax, torch.softmax(linear, dim=-1))
    torch.testing.assert_close(softmax.sum(-1), torch.ones(STEPS, 2, BATCH, dtype=torch.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_bad_shapes_name_the_argument(kind):
    net = make_model(kind, N_IN, N_OUT, n_hidden=N, ensemble=2)
    s = net.state_size
    for bad in [
        torch.zeros(STEPS, BATCH, N_IN + 1),
        torch.zeros(STEPS, 3, BATCH, N_IN),
        torch.zeros(BATCH, N_IN),
    ]:
        with pytest.raises(InvalidParameterError, match="inputs must have shape"):
            net(bad)
    with pytest.raises(InvalidParameterError, match=r"inputs must be a torch\.Tensor"):
        net([[0.0] * N_IN])
    with pytest.raises(InvalidParameterError, match="initial_state"):
        net(torch.zeros(STEPS, BATCH, N_IN), initial_state=torch.zeros(BATCH, s + 1))
    with pytest.raises(InvalidParameterError, match="state must have shape"):
        net.step(torch.zeros(1, BATCH, s), torch.zeros(2, BATCH, N_IN))
    with pytest.raises(InvalidParameterError, match="inputs must have shape"):
        net.step(torch.zeros(2, BATCH, s), torch.zeros(2, BATCH, N_IN + 1))


def _graph(tensor) -> list[str]:
    """Names of the autograd nodes behind ``tensor``."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(child for child, _ in node.next_functions)
    return [type(node).__name__ for node in seen]


@pytest.mark.parametrize("kind", KINDS)
def test_the_recurrence_is_one_autograd_node_whatever_the_length(kind):
    """Indexing a grad-requiring (T, ...) tensor in a loop of autograd ops makes backward
    O(T^2); every baseline's loop is one node (vanilla in the fused leaky core, GRU and LSTM
    in the gated cores), so the graph does not grow with T."""
    net = make_model(kind, N_IN, N_OUT, n_hidden=N, ensemble=2)
    sizes = {}
    for steps in (4, 8, 16):
        names = _graph(net(torch.randn(steps, BATCH, N_IN)).outputs.sum())
        assert not [n for n in names if n.startswith(("Select", "Index", "AsStrided", "Unbind"))]
        core = {"vanilla": "_LeakyNetworkBackward", "gru": "_GRUSequenceBackward"}
        assert names.count(core.get(kind, "_LSTMSequenceBackward")) == 1
        sizes[steps] = len(names)
    assert sizes[4] == sizes[8] == sizes[16]


@pytest.mark.parametrize("kind", KINDS)
def test_seed_reproduces_the_network(kind):
    first = make_model(kind, N_IN, N_OUT, n_hidden=N, seed=4, ensemble=2)
    second = make_model(kind, N_IN, N_OUT, n_hidden=N, seed=4, ensemble=2)
    inputs = torch.randn(STEPS, BATCH, N_IN)
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert torch.equal(first(inputs).outputs, second(inputs).outputs)


def test_vanilla_initialisation_scales():
    size, n_in, g = 400, 9, 2.0
    net = make_model("vanilla", n_in, N_OUT, n_hidden=size, g=g)
    assert net.w_rec.std().item() == pytest.approx(g / math.sqrt(size), rel=0.02)
    assert net.w_rec.mean().item() == pytest.approx(0.0, abs=0.01 * g / math.sqrt(size) * 3)
    assert net.w_in.abs().max().item() <= 1 / math.sqrt(n_in)
    assert net.w_in.std().item() == pytest.approx(1 / math.sqrt(3 * n_in), rel=0.1)
    assert torch.equal(net.bias, torch.zeros(1, size))
    assert net.w_out.abs().max().item() <= 1 / math.sqrt(size)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_gated_initialisation_is_pytorch_uniform(kind):
    size = 100
    net = make_model(kind, N_IN, N_OUT, n_hidden=size)
    bound = 1 / math.sqrt(size)
    gates = 3 if kind == "gru" else 4
    assert net.w_rec.shape == (1, gates * size, size)
    for name, weight in net.named_parameters():
        assert weight.abs().max().item() <= bound, name
    w_rec = net.w_rec.flatten()
    assert w_rec.abs().max().item() > 0.99 * bound
    assert w_rec.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_kinds_are_registered_after_the_leaky_networks():
    kinds = model_kinds()
    assert kinds[-3:] == KINDS
    for kind, title in zip(KINDS, ["vanilla RNN", "GRU", "LSTM"], strict=True):
        assert title in get_model_class(kind).title
        assert describe_kind(kind)["options"][0]["name"] == "n_hidden"
    assert {row["name"] for row in describe_kind("vanilla")["options"]} >= {"activation", "g"}
    assert make_model("lstm", N_IN, N_OUT, n_hidden=N).state_size == 2 * N


@pytest.mark.parametrize("kind", KINDS)
def test_save_and_load_round_trip(tmp_path, kind):
    net = make_model(kind, N_IN, N_OUT, n_hidden=N, ensemble=2, seed=8)
    with torch.no_grad():
        net.w_rec.add_(0.25)
    loaded = load_model(save(net, tmp_path / "net.safetensors"))
    inputs = torch.randn(STEPS, BATCH, N_IN)
    torch.testing.assert_close(loaded(inputs).outputs, net(inputs).outputs, rtol=0, atol=0)


def test_float64_inputs_run_a_float32_network():
    net = make_model("gru", N_IN, N_OUT, n_hidden=N)
    inputs = torch.randn(STEPS, BATCH, N_IN, dtype=torch.float64)
    assert net(inputs).outputs.dtype == torch.float32
    torch.testing.assert_close(net(inputs).outputs, net(inputs.float()).outputs)
