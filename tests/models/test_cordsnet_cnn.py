"""Stage 1 of the staged initialisation: the matched CNN, batch-norm folding (folded equals
unfolded) and the transfer of its feed-forward weights into a CordsNet."""

import pytest
import torch

from rnnzoo.models import make_model
from rnnzoo.models.cordsnet.cnn import fold_batch_norm, load_feedforward_weights, matched_cnn
from rnnzoo.models.cordsnet.layers import conv_same

ARCH = {
    "preset": "R4",
    "channels": [3, 3, 4, 4],
    "input_size": 12,
    "stem_kernel": 5,
    "stem_stride": 2,
    "stem_pool": True,
    "kernel_size": 4,
}


def _trained_statistics(cnn, generator):
    """Non-trivial batch-norm statistics and affine parameters, then eval mode."""
    with torch.no_grad():
        for module in cnn.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=generator))
                module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                module.weight.copy_(torch.randn(n, generator=generator))
                module.bias.copy_(torch.randn(n, generator=generator))
    cnn.eval()


@pytest.mark.parametrize("options", [ARCH, {**ARCH, "stem_pool": False, "kernel_size": 3}])
def test_folded_cnn_equals_the_cnn_with_batch_norm(options):
    torch.set_default_dtype(torch.float64)
    try:
        net = make_model("cordsnet", 1, 5, dt_ms=2, **options)
        cnn = matched_cnn(net)
        _trained_statistics(cnn, torch.Generator().manual_seed(1))
        images = torch.randn(6, 1, 12, 12)
        folded = fold_batch_norm(cnn)
        logits, _ = folded.forward(images)
        assert torch.allclose(logits, cnn(images), atol=1e-10)
        assert {a.skip for a in net.arch.areas} >= {"stem", "identity", "project"}
        assert folded.in_bias[0].shape == (3, net.arch.areas[0].size, net.arch.areas[0].size)
        assert not torch.allclose(folded.in_bias[0], folded.in_bias[0].mean((1, 2), True))
    finally:
        torch.set_default_dtype(torch.float32)


def test_transferred_feed_forward_weights_give_the_cnns_drives():
    """After the transfer the CordsNet's drives (stem then In_0; In_l of the areas' inputs) and
    readout are the folded CNN's."""
    torch.set_default_dtype(torch.float64)
    try:
        net = make_model("cordsnet", 1, 5, dt_ms=2, **ARCH)
        cnn = matched_cnn(net)
        _trained_statistics(cnn, torch.Generator().manual_seed(2))
        folded = fold_batch_norm(cnn)
        load_feedforward_weights(net, folded)
        images = torch.randn(4, 1, 12, 12)
        _, acts = folded.forward(images)
        w = net._effective()
        drive0, _ = net._stem_drives(images, w)
        assert torch.allclose(drive0, acts["drive"][0], atol=1e-10)
        assert torch.allclose(net.readout_weights.effective()[0], folded.w_out)
        area = net.arch.areas[2]
        h = acts["x"][1] + acts["x"][0]
        assert area.skip == "identity"
        assert torch.allclose(
            conv_same(h, w["in"]["2"][0], area.stride, 1), acts["drive"][2], atol=1e-10
        )
    finally:
        torch.set_default_dtype(torch.float32)
