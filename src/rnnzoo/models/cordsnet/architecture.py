"""The shape of a CordsNet: its stem, areas, residual wiring and readout, derived from the
options alone (no torch), so option validation, memory estimates and the network agree.

Wiring (seed 004 appendix C.1, the authors' ``cordsnet.py``): area l receives h_l and evolves
r_l <- (1 - alpha) r_l + alpha f(Rec_l(r_l) + B_l + In_l(h_l)) with

- image input: s = Pool(Stem(x)); h_0 = s; h_1 = g(r_0) + P(s) (P a 3x3 conv of the stride of
  In_0); for l >= 2, h_l = g(r_{l-1}) + Skip_l(g(r_{l-2})), Skip_l the identity when the two
  areas have the same shape, else a 1x1 conv with the stride of In_{l-1} (ResNet-18's
  downsampling shortcut);
- vector input u: area 0's drive is W_in u reshaped to its grid (no In_0); h_1 = g(r_0); then
  as above;
- ``residual=False``: h_l = g(r_{l-1}) only (a plain chain).

g is the feed-forward activation (ReLU in the seed).  Every area reads the previous step's
states (the seed updates areas in reverse order), so each area adds one step of delay.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AreaShape:
    """One area: ``channels`` x ``size`` x ``size`` units, fed by In (kernel ``input_kernel``,
    ``stride``) from ``in_channels`` channels, with a ``kernel`` x ``kernel`` recurrent conv;
    ``skip``: "stem" (area 1 of an image network: P), "identity", "project" (1x1 conv of
    ``skip_stride`` from ``skip_channels``) or "none"."""

    channels: int
    size: int
    in_channels: int
    stride: int
    kernel: int
    input_kernel: int
    skip: str
    skip_channels: int = 0
    skip_stride: int = 1

    @property
    def units(self) -> int:
        return self.channels * self.size * self.size


@dataclass(frozen=True)
class Architecture:
    """Stem (image input only), areas and readout of one member."""

    image: bool
    input_channels: int
    input_size: int
    stem_channels: int
    stem_kernel: int
    stem_stride: int
    stem_pool: bool
    stem_size: int
    areas: tuple[AreaShape, ...]
    readout_pooled: bool
    readout_pair: bool  # pooled readout sums the last two areas (same shape), as the seed

    @property
    def units(self) -> int:
        """Recurrent units of all areas."""
        return sum(a.units for a in self.areas)

    @property
    def readout_features(self) -> int:
        last = self.areas[-1]
        return last.channels if self.readout_pooled else last.units

    def offsets(self) -> list[tuple[int, int]]:
        """[start, stop) of each area in the flat state vector."""
        out, start = [], 0
        for area in self.areas:
            out.append((start, start + area.units))
            start += area.units
        return out

    def recurrent_macs(self) -> int:
        """Multiply-accumulates of one step of all areas for one trial (Rec, In, Skip)."""
        total = 0
        for area in self.areas:
            pixels = area.size * area.size
            total += pixels * area.channels * area.channels * area.kernel**2
            total += pixels * area.channels * area.in_channels * area.input_kernel**2
            if area.skip == "project":
                total += pixels * area.channels * area.skip_channels
        return total


def conv_size(size: int, kernel: int, stride: int) -> int:
    """Output side of a "same"-padded conv (kernel - 1 zeros in all, the extra one after for
    even kernels): ceil(size / stride)."""
    del kernel  # the padding makes the side independent of the kernel
    return (size - 1) // stride + 1


def derive(
    *,
    channels: list[int],
    strides: list[int],
    kernel: int,
    input_kernel: int,
    residual: bool,
    input_size: int | None,
    input_channels: int,
    grid_size: int,
    stem_channels: int | None,
    stem_kernel: int,
    stem_stride: int,
    stem_pool: bool,
    readout_from: str,
) -> Architecture:
    """The architecture of the options; raises ValueError naming the option when an area would
    have no pixels."""
    image = input_size is not None
    stem_c = channels[0] if stem_channels is None else stem_channels
    if image:
        stem_size = conv_size(input_size, stem_kernel, stem_stride)
        if stem_pool:
            stem_size = conv_size(stem_size, 3, 2)
        if stem_size < 1:
            raise ValueError(f"'input_size' {input_size} is too small for the stem")
        size = conv_size(stem_size, input_kernel, strides[0])
        previous = stem_c
    else:
        if strides[0] != 1:
            raise ValueError(
                f"'strides'[0] must be 1 with vector inputs (area 0 has no input convolution); "
                f"got {strides[0]}"
            )
        stem_size, size, previous = 0, grid_size, 0
    areas: list[AreaShape] = []
    for index, (c, s) in enumerate(zip(channels, strides, strict=True)):
        if index > 0:
            size = conv_size(areas[-1].size, input_kernel, s)
        if size < 1:
            raise ValueError(
                f"'strides' leave area {index} with no pixels (input side too small for the "
                "strides; raise input_size or grid_size or lower the strides)"
            )
        skip, skip_c, skip_s = "none", 0, 1
        if residual and index == 1 and image:
            skip, skip_c, skip_s = "stem", stem_c, strides[0]
        elif residual and index >= 2:
            two_back, one_back = areas[index - 2], areas[index - 1]
            same = (two_back.channels, two_back.size) == (one_back.channels, one_back.size)
            skip = "identity" if same else "project"
            skip_c, skip_s = two_back.channels, strides[index - 1]
            if not same and conv_size(two_back.size, 1, skip_s) != one_back.size:
                raise ValueError(
                    f"area {index}'s residual cannot map area {index - 2} onto area {index - 1} "
                    "(sizes do not match with its stride); use residual=false"
                )
        in_c = previous if index == 0 else channels[index - 1]
        areas.append(AreaShape(c, size, in_c, s, kernel, input_kernel, skip, skip_c, skip_s))
    pooled = readout_from == "pooled" or (readout_from == "auto" and image)
    pair = (
        pooled
        and residual
        and len(areas) >= 2
        and (areas[-1].channels, areas[-1].size) == (areas[-2].channels, areas[-2].size)
    )
    return Architecture(
        image=image,
        input_channels=input_channels,
        input_size=input_size or 0,
        stem_channels=stem_c if image else 0,
        stem_kernel=stem_kernel,
        stem_stride=stem_stride,
        stem_pool=stem_pool,
        stem_size=stem_size,
        areas=tuple(areas),
        readout_pooled=pooled,
        readout_pair=pair,
    )
