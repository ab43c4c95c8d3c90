"""Stage 1 of seed 004's staged initialisation: the CordsNet's structurally matched CNN
(with batch norm), its batch-norm folding, and the transfer of the folded weights into a
CordsNet.

The CNN replaces each area's recurrence by one pass (the authors' ``class_rnn_1_*``):

    s = Pool(BN(Stem(x)));  a_l = BN(In_l(h_l));  x_l = ReLU(BN(Rec_l(a_l)))

with h_l wired as the network's (x instead of g(r); the stem's 3x3 P without batch norm, the
1x1 projections with it) and the same pooled readout.  Folding (eval-mode statistics) turns
every BN(y) = s y + c into scaled weights; the shifts c become per-pixel biases: a_l =
In'_l(h_l) + A_l, x_l = ReLU(Rec'_l(a_l) + R_l), where A_l collects the shifts that reach
area l through zero-padded convolutions and the average pool (hence per pixel, exact at the
borders).  `FoldedCNN` computes exactly what the CNN computes in eval mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.base import seeded_generator
from rnnzoo.models.cordsnet.architecture import Architecture
from rnnzoo.models.cordsnet.layers import conv_same

BN_EPS = 1e-5


def _pool(x: Tensor, on: bool) -> Tensor:
    return functional.avg_pool2d(x, 3, 2, 1) if on else x


class MatchedCNN(nn.Module):
    """The feed-forward twin of a (standalone, image-input) CordsNet with batch norm."""

    def __init__(self, arch: Architecture, n_outputs: int, generator: torch.Generator) -> None:
        super().__init__()
        if not arch.image:
            raise InvalidParameterError("the staged initialisation needs an image network")
        self.arch = arch

        def weight(c_out: int, c_in: int, k: int) -> nn.Parameter:
            std = math.sqrt(2.0 / (c_in * k * k))
            w = torch.randn(c_out, c_in, k, k, generator=generator, dtype=torch.float64) * std
            return nn.Parameter(w.to(torch.get_default_dtype()))

        first = arch.areas[0]
        self.stem = weight(arch.stem_channels, arch.input_channels, arch.stem_kernel)
        self.stem_norm = nn.BatchNorm2d(arch.stem_channels, eps=BN_EPS)
        self.stem_skip = None
        if len(arch.areas) > 1 and arch.areas[1].skip == "stem":
            self.stem_skip = weight(first.channels, arch.stem_channels, first.input_kernel)
        self.inputs = nn.ParameterList(
            weight(a.channels, a.in_channels, a.input_kernel) for a in arch.areas
        )
        self.in_norms = nn.ModuleList(nn.BatchNorm2d(a.channels, eps=BN_EPS) for a in arch.areas)
        self.recurrent = nn.ParameterList(
            weight(a.channels, a.channels, a.kernel) for a in arch.areas
        )
        self.rec_norms = nn.ModuleList(nn.BatchNorm2d(a.channels, eps=BN_EPS) for a in arch.areas)
        self.skips = nn.ParameterDict(
            {
                str(i): weight(a.in_channels, a.skip_channels, 1)
                for i, a in enumerate(arch.areas)
                if a.skip == "project"
            }
        )
        self.skip_norms = nn.ModuleDict(
            {
                str(i): nn.BatchNorm2d(a.in_channels, eps=BN_EPS)
                for i, a in enumerate(arch.areas)
                if a.skip == "project"
            }
        )
        features = arch.areas[-1].channels
        w = torch.randn(n_outputs, features, generator=generator, dtype=torch.float64)
        self.w_out = nn.Parameter((w / math.sqrt(features)).to(torch.get_default_dtype()))
        self.b_out = nn.Parameter(torch.zeros(n_outputs))

    def forward(self, images: Tensor) -> Tensor:
        """Logits (B, O) of images (B, C, H, W)."""
        arch = self.arch
        stem = _pool(
            self.stem_norm(conv_same(images, self.stem, arch.stem_stride, 1)), arch.stem_pool
        )
        xs: list[Tensor] = []
        for i, area in enumerate(arch.areas):
            h = area_input(arch, i, stem, xs, self.stem_skip, self._projection)
            a = self.in_norms[i](conv_same(h, self.inputs[i], area.stride, 1))
            xs.append(torch.relu(self.rec_norms[i](conv_same(a, self.recurrent[i], 1, 1))))
        return _pooled_logits(arch, xs, self.w_out, self.b_out)

    def _projection(self, i: int, x: Tensor) -> Tensor:
        area = self.arch.areas[i]
        return self.skip_norms[str(i)](conv_same(x, self.skips[str(i)], area.skip_stride, 1))


def area_input(
    arch: Architecture,
    i: int,
    stem: Tensor,
    xs: list[Tensor],
    stem_skip: Tensor | None,
    projection: Callable[[int, Tensor], Tensor],
) -> Tensor:
    """h_i of the feed-forward twin: the stem for area 0, else x_{i-1} plus the residual
    (P of the stem, x_{i-2}, or ``projection(i, x_{i-2})``)."""
    area = arch.areas[i]
    if i == 0:
        return stem
    h = xs[i - 1]
    if area.skip == "stem":
        h = h + conv_same(stem, stem_skip, area.skip_stride, 1)
    elif area.skip == "identity":
        h = h + xs[i - 2]
    elif area.skip == "project":
        h = h + projection(i, xs[i - 2])
    return h


def _pooled_logits(arch: Architecture, xs: list[Tensor], w_out: Tensor, b_out: Tensor) -> Tensor:
    last = xs[-1] + xs[-2] if arch.readout_pair else xs[-1]
    return last.mean(dim=(-2, -1)) @ w_out.T + b_out


def _scale_shift(norm: nn.BatchNorm2d) -> tuple[Tensor, Tensor]:
    """BN(y) = s y + c (eval mode): s, c (C,)."""
    s = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return s, norm.bias - norm.running_mean * s


@dataclass
class FoldedCNN:
    """The CNN with batch norm folded: effective weights, per-pixel biases ``in_bias`` (A_l)
    and ``rec_bias`` (R_l) of shape (C, H, W) per area, and the readout."""

    arch: Architecture
    stem: Tensor
    stem_skip: Tensor | None
    inputs: list[Tensor]
    recurrent: list[Tensor]
    skips: dict[str, Tensor]
    in_bias: list[Tensor]
    rec_bias: list[Tensor]
    w_out: Tensor
    b_out: Tensor

    def forward(self, images: Tensor) -> tuple[Tensor, dict[str, list[Tensor]]]:
        """Logits (B, O) and per area: "drive" In'_l(h_l) (no bias), "pre" (the pre-ReLU
        Rec'_l(a_l) + R_l) and "x" (the activations)."""
        arch = self.arch
        stem = _pool(conv_same(images, self.stem, arch.stem_stride, 1), arch.stem_pool)
        out: dict[str, list[Tensor]] = {"drive": [], "pre": [], "x": []}
        xs = out["x"]
        for i, area in enumerate(arch.areas):
            h = area_input(arch, i, stem, xs, self.stem_skip, self._projection)
            drive = conv_same(h, self.inputs[i], area.stride, 1)
            pre = conv_same(drive + self.in_bias[i], self.recurrent[i], 1, 1) + self.rec_bias[i]
            out["drive"].append(drive)
            out["pre"].append(pre)
            xs.append(torch.relu(pre))
        return _pooled_logits(arch, xs, self.w_out, self.b_out), out

    def _projection(self, i: int, x: Tensor) -> Tensor:
        area = self.arch.areas[i]
        return conv_same(x, self.skips[str(i)], area.skip_stride, 1)


@torch.no_grad()
def fold_batch_norm(cnn: MatchedCNN) -> FoldedCNN:
    """Fold the (eval-mode) batch norms of ``cnn`` into its weights and per-pixel biases."""
    arch = cnn.arch
    s, c = _scale_shift(cnn.stem_norm)
    stem = cnn.stem * s[:, None, None, None]
    stem_side = _conv_side(arch.input_size, arch.stem_stride)
    shift = _pool(c[None, :, None, None].expand(1, -1, stem_side, stem_side), arch.stem_pool)
    inputs, recurrent, skips, in_bias, rec_bias = [], [], {}, [], []
    for i, area in enumerate(arch.areas):
        reaching = None  # shifts entering h_i through the wiring (1, C_in, H, W)
        if i == 0:
            reaching = shift
        elif area.skip == "stem":
            reaching = conv_same(shift, cnn.stem_skip, area.skip_stride, 1)
        elif area.skip == "project":
            ps, pc = _scale_shift(cnn.skip_norms[str(i)])
            skips[str(i)] = cnn.skips[str(i)] * ps[:, None, None, None]
            size = arch.areas[i - 1].size
            reaching = pc[None, :, None, None].expand(1, -1, size, size)
        si, ci = _scale_shift(cnn.in_norms[i])
        w_in = cnn.inputs[i] * si[:, None, None, None]
        bias = ci[:, None, None].expand(-1, area.size, area.size)
        if reaching is not None:
            bias = bias + conv_same(reaching, w_in, area.stride, 1)[0]
        sr, cr = _scale_shift(cnn.rec_norms[i])
        inputs.append(w_in)
        in_bias.append(bias.clone())
        recurrent.append(cnn.recurrent[i] * sr[:, None, None, None])
        rec_bias.append(cr[:, None, None].expand(-1, area.size, area.size).clone())
    return FoldedCNN(
        arch,
        stem,
        None if cnn.stem_skip is None else cnn.stem_skip.detach().clone(),
        inputs,
        recurrent,
        skips,
        in_bias,
        rec_bias,
        cnn.w_out.detach().clone(),
        cnn.b_out.detach().clone(),
    )


def _conv_side(size: int, stride: int) -> int:
    return (size - 1) // stride + 1


@torch.no_grad()
def load_feedforward_weights(net, folded: FoldedCNN) -> None:
    """Copy the folded CNN's feed-forward weights (stem, P, In, projections, readout) into
    the standalone CordsNet ``net`` (stage 2 then fits its recurrence and biases)."""
    if net.config.ensemble is not None:
        raise InvalidParameterError("the staged initialisation trains one network (no ensemble)")
    net.stem.assign(folded.stem.unsqueeze(0))
    if folded.stem_skip is not None:
        net.stem_skip.assign(folded.stem_skip.unsqueeze(0))
    for i, weight in enumerate(folded.inputs):
        net.area_inputs[str(i)].assign(weight.unsqueeze(0))
    for key, weight in folded.skips.items():
        net.skips[key].assign(weight.unsqueeze(0))
    net.readout_weights.assign(folded.w_out.unsqueeze(0))
    net.b_out.copy_(folded.b_out.unsqueeze(0))


def matched_cnn(net) -> MatchedCNN:
    """A freshly initialised CNN matching the standalone ``net``'s architecture, drawn from
    stream 3 of its seed (the network's own weights use stream 0)."""
    generator = seeded_generator(net.config.seed, 3, net.config.member)
    return MatchedCNN(net.arch, net.config.n_outputs, generator)
