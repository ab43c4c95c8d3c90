"""The CordsNet written as a plain PyTorch loop, the way the authors' ``cordsnet.py`` does it:
every step recomputes the stem of the (gated) image for every area, and the areas are updated
in reverse order so each reads the previous step's state of the area below.  It is the
reference the fused network is tested against and the baseline of the speed benchmark
(`benchmarks/bench_cordsnet.py`); standalone image networks without noise or back-end only.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.cordsnet.layers import conv_same


def plain_loop_outputs(net, inputs: Tensor, stimuli: Tensor) -> Tensor:
    """Outputs (T, B, O) of the standalone image CordsNet ``net`` on presentation ``inputs``
    (T, B, K) and ``stimuli`` (B, K, C, H, W), by the authors' per-step formulation."""
    arch, opts = net.arch, net.options
    if net.config.ensemble is not None or not arch.image or opts.backend_hidden:
        raise InvalidParameterError("the plain loop covers standalone image networks only")
    alpha, slope = float(net.alpha[0]), float(net.activation_slope[0])

    def f(z: Tensor) -> Tensor:
        if opts.activation == "identity":
            return z
        if opts.activation == "prelu":
            return torch.where(z > 0, z, z * slope)
        return (
            getattr(torch, opts.activation)(z)
            if opts.activation != "softplus"
            else (functional.softplus(z))
        )

    def g(r: Tensor) -> Tensor:
        return torch.relu(r) if opts.feedforward_activation == "relu" else r

    batch = inputs.shape[1]
    states = [inputs.new_zeros(batch, a.channels, a.size, a.size) for a in arch.areas]
    outputs = []
    for t in range(inputs.shape[0]):
        image = (inputs[t, :, : stimuli.shape[1], None, None, None] * stimuli).sum(1)
        for i in range(len(arch.areas) - 1, -1, -1):
            stem = conv_same(image, net.stem.effective()[0], opts.stem_stride, 1)
            if opts.stem_pool:
                stem = functional.avg_pool2d(stem, 3, 2, 1)
            area = arch.areas[i]
            if i == 0:
                h = stem
            else:
                h = g(states[i - 1])
                if area.skip == "stem":
                    h = h + conv_same(stem, net.stem_skip.effective()[0], area.skip_stride, 1)
                elif area.skip == "identity":
                    h = h + g(states[i - 2])
                elif area.skip == "project":
                    weight = net.skips[str(i)].effective()[0]
                    h = h + conv_same(g(states[i - 2]), weight, area.skip_stride, 1)
            drive = conv_same(h, net.area_inputs[str(i)].effective()[0], area.stride, 1)
            rec = conv_same(states[i], net.recurrent[i].effective()[0], 1, 1)
            z = rec + net.biases[i][0] + drive
            states[i] = (1 - alpha) * states[i] + alpha * f(z)
        last = g(states[-1]) + (g(states[-2]) if arch.readout_pair else 0)
        feature = last.mean(dim=(-2, -1)) if arch.readout_pooled else states[-1].flatten(1)
        linear = feature @ net.readout_weights.effective()[0].T + net.b_out[0]
        outputs.append(net.readout_activation(linear))
    return torch.stack(outputs)
