"""The cordsnet kind: presets, options rejected by name, the conv operator against its dense
matrix, the dense engine against the conv engine, gradients, recompute, ensembles, the image
drive against the authors' per-step loop, and save/load."""

import pytest
import torch
from torch.nn import functional

from rnnzoo import InvalidParameterError
from rnnzoo.models import load_model, make_model, save_model
from rnnzoo.models.cordsnet.dense import conv_to_matrix
from rnnzoo.models.cordsnet.layers import conv_same
from rnnzoo.models.cordsnet.reference import plain_loop_outputs

SMALL_IMAGE = {
    "preset": "R4",
    "channels": [2, 2, 3, 3],
    "input_size": 8,
    "stem_kernel": 3,
    "stem_stride": 1,
    "stem_pool": True,
}


@pytest.fixture
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def presented(steps: int, batch: int, k: int = 1, on=(2, 6)) -> torch.Tensor:
    x = torch.zeros(steps, batch, k)
    x[on[0] : on[1]] = 1.0
    return x


@pytest.mark.parametrize(
    ("preset", "sizes", "channels", "units"),
    [
        ("R2", [56, 56], [64, 64], 401408),
        ("R8", [56, 56, 28, 28, 14, 14, 7, 7], [64, 64, 128, 128, 256, 256, 512, 512], 752640),
    ],
)
def test_presets_follow_table_s3_on_224_pixel_images(preset, sizes, channels, units):
    from rnnzoo.models.cordsnet import CordsNetOptions

    arch = CordsNetOptions(preset=preset, input_size=224, input_channels=3).architecture()
    assert [a.size for a in arch.areas] == sizes
    assert [a.channels for a in arch.areas] == channels
    assert arch.units == units  # the reference notes' count for R8: about 753 k units
    assert arch.readout_pair  # the seed reads out the sum of the last two areas


def test_single_area_form_of_appendix_b3_has_table_s1_counts():
    net = make_model("cordsnet", 2, 1, dt_ms=10)
    assert net.options.n_hidden == 125 and net.state_size == 125
    assert net.recurrent[0].effective().numel() == 400  # 5 x 5 x 4 x 4, Table S1
    out = net(torch.randn(20, 3, 2), return_states=True)
    assert out.outputs.shape == (20, 3, 1) and out.states.shape == (20, 3, 125)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "R4", "channels": [4, 4], "areas": 3}, "'channels' must have 3 entries"),
        ({"channels": [0]}, "'channels' \\[0\\] input should be greater than or equal to 1; got 0"),
        ({"channels": [4, 4]}, "'strides' must be given for 2 areas \\(preset b3 has 1\\)"),
        ({"n_hidden": 64}, "'n_hidden' is derived \\(125 units"),
        ({"activation_slope": 0.5}, "'activation_slope' applies to activation='prelu' only"),
        ({"engine": "dense", "backend_hidden": 4}, "'engine'='dense' needs one area"),
        ({"train_front_end": False}, "'train_front_end'=false needs a back-end"),
        ({"kernel_size": 0}, "'kernel_size' must be >= 1"),
        ({"strides": [2]}, "'strides'\\[0\\] must be 1 with vector inputs"),
        ({"preset": "R5"}, "'preset'"),
        ({"n_stimuli": 2}, "'n_stimuli' applies to image inputs only"),
    ],
)
def test_bad_options_are_rejected_naming_them(options, message):
    with pytest.raises(InvalidParameterError, match=message):
        make_model("cordsnet", 1, 1, dt_ms=10, **options)


def test_time_constant_shorter_than_dt_and_bad_stimuli_are_errors():
    with pytest.raises(InvalidParameterError, match="time constants must be >= dt_ms"):
        make_model("cordsnet", 1, 1, dt_ms=20, tau_ms=10)
    net = make_model("cordsnet", 1, 3, dt_ms=2, **SMALL_IMAGE)
    with pytest.raises(InvalidParameterError, match=r"stimuli must be a tensor of shape"):
        net(presented(5, 2), stimuli=torch.zeros(2, 1, 1, 9, 9))
    with pytest.raises(InvalidParameterError, match="takes no stimuli"):
        make_model("cordsnet", 1, 1, dt_ms=10)(torch.zeros(3, 2, 1), stimuli=torch.zeros(2, 1))
    with pytest.raises(InvalidParameterError, match="does not see images"):
        make_model("leaky_rate", 1, 1)(torch.zeros(3, 2, 1), stimuli=torch.zeros(2, 1))


@pytest.mark.parametrize(("kernel", "stride", "size"), [(3, 1, 5), (4, 1, 5), (3, 2, 7), (1, 2, 6)])
def test_conv_equals_its_dense_matrix(kernel, stride, size, float64):
    weight = torch.randn(3, 2, kernel, kernel)
    x = torch.randn(1, 2, size, size)
    dense = conv_to_matrix(weight, size, stride)
    assert torch.allclose(
        conv_same(x, weight, stride, 1).reshape(-1), dense @ x.reshape(-1), atol=1e-12
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "softplus", "identity", "prelu"])
def test_dense_engine_equals_conv_engine_with_gradients(activation, float64):
    kw = {
        "activation": activation,
        "gain": 0.8,
        "ensemble": 2,
        "recurrent_noise": 0.05,
        "input_noise": 0.05,
    }
    if activation == "prelu":
        kw["activation_slope"] = 0.3
    dense = make_model("cordsnet", 2, 3, dt_ms=10, engine="dense", **kw)
    conv = make_model("cordsnet", 2, 3, dt_ms=10, engine="conv", **kw)
    conv.load_state_dict(dense.state_dict())
    x = torch.randn(30, 4, 2)
    outs = [
        net(x, return_states=True, generator=torch.Generator().manual_seed(3))
        for net in (dense, conv)
    ]
    assert torch.allclose(outs[0].outputs, outs[1].outputs, atol=1e-12)
    assert torch.allclose(outs[0].states, outs[1].states, atol=1e-12)
    grads = [
        torch.autograd.grad(o.outputs.square().sum(), list(n.parameters()))
        for o, n in zip(outs, (dense, conv), strict=True)
    ]
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-9, rtol=1e-9)


def test_gradients_of_an_image_network_pass_gradcheck(float64):
    net = make_model(
        "cordsnet",
        2,
        2,
        dt_ms=2,
        preset="R2",
        channels=[2, 2],
        input_size=4,
        stem_kernel=3,
        stem_stride=1,
        stem_pool=False,
        n_stimuli=1,
        backend_hidden=3,
        recurrent_noise=0.1,
    )
    x = presented(6, 2, 2, on=(1, 4))
    images = torch.randn(2, 1, 1, 4, 4)
    names = [n for n, p in net.named_parameters() if p.requires_grad]

    def outputs(image, *values):
        return torch.func.functional_call(
            net,
            dict(zip(names, values, strict=True)),
            (x,),
            {"stimuli": image, "generator": torch.Generator().manual_seed(0)},
        ).outputs

    values = tuple(net.get_parameter(n).detach().clone().requires_grad_() for n in names)
    assert torch.autograd.gradcheck(outputs, (images.clone().requires_grad_(), *values))


def test_recompute_equals_store_exactly(float64):
    kw = dict(SMALL_IMAGE, recurrent_noise=0.1, pixel_noise=0.2, checkpoint_steps=3)
    store = make_model("cordsnet", 1, 3, dt_ms=2, **kw)
    recompute = make_model("cordsnet", 1, 3, dt_ms=2, memory="recompute", **kw)
    recompute.load_state_dict(store.state_dict())
    x, images = presented(8, 2), torch.randn(2, 1, 1, 8, 8)
    outs = [
        net(x, stimuli=images, generator=torch.Generator().manual_seed(1)).outputs
        for net in (store, recompute)
    ]
    assert torch.equal(outs[0], outs[1])
    grads = [
        torch.autograd.grad(o.sum(), list(n.parameters()))
        for o, n in zip(outs, (store, recompute), strict=True)
    ]
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-12)


def test_image_drive_equals_the_authors_per_step_loop(float64):
    net = make_model("cordsnet", 1, 4, dt_ms=2, **SMALL_IMAGE)
    x = presented(9, 3) * torch.tensor([1.0, 0.5, 0.25]).view(1, 3, 1)  # contrasts per trial
    images = torch.randn(3, 1, 1, 8, 8)
    fused = net(x, stimuli=images).outputs
    assert torch.allclose(fused, plain_loop_outputs(net, x, images), atol=1e-10)
    assert {a.skip for a in net.arch.areas} == {"none", "stem", "identity", "project"}


def test_ensemble_members_equal_standalone_networks(float64):
    kw = dict(SMALL_IMAGE, gain=[0.5, 1.0, 1.5])
    ens = make_model("cordsnet", 1, 3, dt_ms=2, ensemble=3, **kw)
    x, images = presented(7, 2), torch.randn(2, 1, 1, 8, 8)
    out = ens(x, stimuli=images).outputs
    for i in range(3):
        single = make_model(
            "cordsnet", 1, 3, dt_ms=2, member=i, **dict(SMALL_IMAGE, gain=[0.5, 1.0, 1.5][i])
        )
        assert torch.allclose(single(x, stimuli=images).outputs, out[:, i], atol=1e-10)
        assert torch.allclose(ens.member(i)(x, stimuli=images).outputs, out[:, i], atol=1e-10)


def test_recorded_steps_continuation_and_step_agree(float64):
    net = make_model(
        "cordsnet",
        2,
        2,
        dt_ms=10,
        engine="conv",
        channels=[3],
        grid_size=4,
        kernel_size=3,
        activation="tanh",
        gain=1.2,
    )
    x = torch.randn(10, 3, 2)
    full = net(x, return_states=True)
    picked = net(x, record_steps=[2, 7])
    assert torch.allclose(picked.states, full.states[[2, 7]])
    first = net(x[:4], return_states=True)
    rest = net(x[4:], initial_state=first.states[-1])
    assert torch.allclose(torch.cat([first.outputs, rest.outputs]), full.outputs, atol=1e-12)
    one = net.step(full.states[3].unsqueeze(0), x[4].unsqueeze(0))[0]
    assert torch.allclose(one, full.states[4], atol=1e-12)
    assert torch.allclose(net.readout(full.states.unsqueeze(0))[0], full.outputs, atol=1e-12)


def test_multi_area_back_end_reads_the_front_end_and_can_freeze_it():
    net = make_model(
        "cordsnet",
        2,
        3,
        dt_ms=5,
        backend_hidden=6,
        train_front_end=False,
        **dict(SMALL_IMAGE, n_stimuli=1),
    )
    assert net.state_size == net.arch.units + 6
    frozen = [n for n, p in net.named_parameters() if not p.requires_grad]
    assert any(n.startswith("recurrent") for n in frozen) and "w_bb" not in frozen
    x = presented(6, 2, 2)
    out = net(x, stimuli=torch.randn(2, 1, 1, 8, 8), return_states=True)
    assert out.outputs.shape == (6, 2, 3) and out.states.shape == (6, 2, net.state_size)


def test_save_and_load_round_trip(tmp_path):
    net = make_model(
        "cordsnet", 2, 3, dt_ms=5, ensemble=2, backend_hidden=4, **dict(SMALL_IMAGE, n_stimuli=1)
    )
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    path = save_model(net, tmp_path / "net.safetensors")
    again = load_model(path)
    x, images = presented(5, 2, 2), torch.randn(2, 1, 1, 8, 8)
    assert torch.equal(net(x, stimuli=images).outputs, again(x, stimuli=images).outputs)
    assert again.config == net.config


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    net = make_model("cordsnet", 1, 3, dt_ms=2, **SMALL_IMAGE)
    x, images = presented(6, 2), torch.randn(2, 1, 1, 8, 8)
    cpu = net(x, stimuli=images).outputs
    gpu = net.to("cuda")(x.cuda(), stimuli=images.cuda()).outputs.cpu()
    assert torch.allclose(cpu, gpu, atol=1e-4)


def test_pooled_readout_averages_the_last_two_areas():
    net = make_model("cordsnet", 1, 2, dt_ms=2, **SMALL_IMAGE)
    states = [torch.rand(2, a.channels, a.size, a.size) for a in net.arch.areas]
    expected = (functional.relu(states[-1]) + functional.relu(states[-2])).mean(dim=(-2, -1))
    assert torch.allclose(net._pooled(states)[0], expected)


def test_the_memory_estimate_counts_kernels_at_the_tasks_image_size():
    """The budget checked before training sees the task's image geometry (not the vector
    form's grid) and counts the kernels, not N x N matrices: it bounds the built network's
    parameters (weights, gradients, Adam's moments) within 3x, and its units are the
    network's."""
    from rnnzoo.training.budget import run_memory
    from rnnzoo.training.build import build_network, build_task
    from rnnzoo.training.config import run_config

    options = {"preset": "R2", "channels": [4, 4], "stem_kernel": 3, "stem_stride": 1}
    config = run_config(
        {
            "task": {"task": "image_classification", "version": "digits"},
            "model": {"kind": "cordsnet", "options": options},
            "train": {"batch_size": 4, "eval_batch_size": 4, "loss": "cross_entropy"},
        }
    )
    task = build_task(config)
    net = build_network(config, task)
    parts = run_memory(config, task, 10)
    params = sum(p.numel() for p in net.parameters())
    assert 16 * params <= parts["weights and optimiser state"] <= 3 * 16 * params
    assert parts["activations"] == 4 * 10 * net.state_size * type(net).activation_bytes
