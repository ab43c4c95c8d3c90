"""The cheap image augmentations of seed 004 Table S4 / appendix C.2, in NumPy: horizontal
flip, a small random affine map (rotation, translation, scale, shear) and brightness/contrast
jitter.  Draws and their application are separate, so a task keeps the draws as trial
conditions and rebuilds the same augmented images from them.

Definitions (as torchvision's RandomHorizontalFlip, RandomAffine and ColorJitter):
- flip: x[..., ::-1] when drawn (probability 1/2);
- affine: output pixel p (centred coordinates) samples the input at
  A^-1 (p - t), A = R(angle) Sh(shear) * scale, bilinear, 0 outside the image;
- brightness b: x * b; contrast c: (x - m) * c + m with m the image's mean; then clip to [0, 1].
"""

from __future__ import annotations

import numpy as np

AUGMENT_KEYS = (
    "flip",
    "angle_deg",
    "shift_x",
    "shift_y",
    "scale",
    "shear_deg",
    "brightness",
    "contrast",
)


def draw_augmentations(
    rng: np.random.Generator,
    n: int,
    *,
    flip: bool,
    degrees: float,
    translate: float,
    scale: float,
    shear_deg: float,
    brightness: float,
    contrast: float,
) -> dict[str, np.ndarray]:
    """Per-image draws (each (n,), float64; flip as 0/1): uniform angle in [-degrees, degrees],
    shifts in [-translate, translate] (fractions of the side), scale in [1 - scale, 1 + scale],
    shear in [-shear_deg, shear_deg], brightness and contrast factors in [1 - b, 1 + b].  A
    disabled augmentation (0 or False) draws its identity value but still consumes its draws,
    so the stream does not depend on which augmentations are on."""
    u = rng.random((8, n))

    def symmetric(row: int, half: float, centre: float = 0.0) -> np.ndarray:
        return centre + (2 * u[row] - 1) * half

    return {
        "flip": (u[0] < 0.5).astype(np.float64) * float(flip),
        "angle_deg": symmetric(1, degrees),
        "shift_x": symmetric(2, translate),
        "shift_y": symmetric(3, translate),
        "scale": symmetric(4, scale, 1.0),
        "shear_deg": symmetric(5, shear_deg),
        "brightness": symmetric(6, brightness, 1.0),
        "contrast": symmetric(7, contrast, 1.0),
    }


def apply_augmentations(images: np.ndarray, draws: dict[str, np.ndarray]) -> np.ndarray:
    """Augmented copy of images (N, C, H, W) float32 in [0, 1] under per-image ``draws``."""
    out = np.array(images, dtype=np.float32, copy=True)
    flip = draws["flip"].astype(bool)
    out[flip] = out[flip][..., ::-1]
    identity = (
        (draws["angle_deg"] == 0)
        & (draws["shift_x"] == 0)
        & (draws["shift_y"] == 0)
        & (draws["scale"] == 1)
        & (draws["shear_deg"] == 0)
    )
    moved = np.nonzero(~identity)[0]
    if len(moved):
        out[moved] = _affine(out[moved], {k: v[moved] for k, v in draws.items()})
    jitter = (draws["brightness"] != 1) | (draws["contrast"] != 1)
    if jitter.any():
        b = draws["brightness"][:, None, None, None].astype(np.float32)
        c = draws["contrast"][:, None, None, None].astype(np.float32)
        bright = out * b
        mean = bright.mean(axis=(1, 2, 3), keepdims=True)
        out = np.where(jitter[:, None, None, None], np.clip((bright - mean) * c + mean, 0, 1), out)
    return out.astype(np.float32)


def _affine(images: np.ndarray, draws: dict[str, np.ndarray]) -> np.ndarray:
    n, channels, height, width = images.shape
    ys, xs = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    cy, cx = (height - 1) / 2, (width - 1) / 2
    angle = np.deg2rad(draws["angle_deg"])
    shear = np.deg2rad(draws["shear_deg"])
    scale = draws["scale"]
    # forward map A = scale * R(angle) @ [[1, -tan(shear)], [0, 1]] (x, y) about the centre
    cos, sin, tan = np.cos(angle), np.sin(angle), np.tan(shear)
    a = (
        np.stack(
            [
                np.stack([cos, -cos * tan - sin], -1),
                np.stack([sin, -sin * tan + cos], -1),
            ],
            -2,
        )
        * scale[:, None, None]
    )
    inverse = np.linalg.inv(a)  # (n, 2, 2)
    px = xs.ravel() - cx - draws["shift_x"][:, None] * width
    py = ys.ravel() - cy - draws["shift_y"][:, None] * height
    src_x = inverse[:, 0, 0, None] * px + inverse[:, 0, 1, None] * py + cx
    src_y = inverse[:, 1, 0, None] * px + inverse[:, 1, 1, None] * py + cy
    return _bilinear(images, src_y, src_x).reshape(n, channels, height, width)


def _bilinear(images: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """Sample images (N, C, H, W) at (N, P) positions, zero outside -> (N, C, P)."""
    n, channels, height, width = images.shape
    y0, x0 = np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64)
    fy, fx = (src_y - y0)[:, None], (src_x - x0)[:, None]
    flat = images.reshape(n, channels, height * width)
    result = np.zeros((n, channels, src_y.shape[1]), dtype=np.float64)
    for dy, dx, w in (
        (0, 0, (1 - fy) * (1 - fx)),
        (0, 1, (1 - fy) * fx),
        (1, 0, fy * (1 - fx)),
        (1, 1, fy * fx),
    ):
        yy, xx = y0 + dy, x0 + dx
        inside = (yy >= 0) & (yy < height) & (xx >= 0) & (xx < width)
        index = np.where(inside, yy * width + xx, 0)
        picked = np.take_along_axis(flat, index[:, None, :].repeat(channels, 1), axis=2)
        result += np.where(inside[:, None], picked, 0.0) * w
    return result.astype(np.float32)
