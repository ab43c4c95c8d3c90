"""The leaky core's GPU path, checked on the CPU: a forward and backward pass never reads
device memory (on the meta device any read raises, as torch.cuda's sync debug mode does on a
GPU), noise is drawn on the generator's device, and the backward loop's alpha comes from the
host.  benchmarks/bench_core_cuda.py runs the same check under CUDA's sync debug mode."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from rnnzoo.models import make_model
from rnnzoo.models.core import RecurrenceSpec, _uniform_keep
from rnnzoo.models.noise import draw_noise

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_core_cuda


def test_forward_and_backward_read_no_device_memory():
    checked = bench_core_cuda.check_no_sync("meta")
    assert len(checked) == 2 * len(bench_core_cuda.SYNC_CASES) + 3


def test_a_read_of_device_memory_would_be_caught():
    """The check is not vacuous: the old noise switch, bool((std > 0).any()), raises there."""
    net = make_model("leaky_rate", 3, 2, dt_ms=10, n_hidden=8, recurrent_noise=0.1).to("meta")
    with pytest.raises(RuntimeError, match="meta"):
        bool((net.rec_noise_std > 0).any())


def test_noise_is_drawn_where_the_generator_lives():
    gen = torch.Generator().manual_seed(3)
    like = torch.zeros(2)
    noise = draw_noise((4, 5), torch.tensor(2.0), 0.0, gen, like, time_dim=0)
    expected = 2.0 * torch.randn((4, 5), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(noise, expected, rtol=0, atol=0)
    # a generator elsewhere than the network: drawn there, then moved
    moved = draw_noise(
        (4, 5),
        torch.tensor(2.0),
        0.0,
        torch.Generator().manual_seed(3),
        torch.zeros(2, device="meta"),
        time_dim=0,
    )
    assert moved.device.type == "meta" and moved.shape == (4, 5)


def test_the_backward_alpha_comes_from_the_host():
    alpha = torch.full((2, 1, 8), 0.05)
    rate = RecurrenceSpec("rate", "relu")
    keep = float(1 - alpha.flatten()[0])  # float32 arithmetic, as the tensor path
    assert _uniform_keep(alpha, rate) == keep
    assert _uniform_keep(alpha.to("meta"), RecurrenceSpec("rate", "relu", alpha=0.05)) == keep
    assert _uniform_keep(alpha.to("meta"), rate) is None  # general path, no device read
    mixed = alpha.clone()
    mixed[1] = 0.1
    assert _uniform_keep(mixed, rate) is None


@pytest.mark.parametrize("options", [{}, {"tau_ms": [50.0, 100.0]}, {"dale": True}])
def test_networks_know_their_alpha_and_slope_on_the_host(options):
    net = make_model("leaky_current", 3, 2, dt_ms=10, n_hidden=8, ensemble=2, **options)
    alphas = set(net.alpha.flatten().tolist())
    assert net._common_alpha == (alphas.pop() if len(alphas) == 1 else None)
    assert net.max_alpha == float(net.alpha.max())
    prelu = make_model("leaky_rate", 3, 2, dt_ms=10, n_hidden=8, activation="prelu")
    prelu.set_activation_slope(0.4)
    again = make_model("leaky_rate", 3, 2, dt_ms=10, n_hidden=8, activation="prelu")
    again.load_state_dict(prelu.state_dict())
    assert again.slope == pytest.approx(0.4) and again.member(0).slope == pytest.approx(0.4)
