"""Input noise: white or Ornstein-Uhlenbeck, stationary std ``noise_scale``.

White (``noise_decay_ms == 0``): independent N(0, noise_scale^2) at every step.
OU (``noise_decay_ms = tau > 0``): x_0 ~ N(0, s^2), x_{t+1} = a x_t + s sqrt(1 - a^2) xi_t with
a = exp(-dt/tau); the exact discretisation, so the stationary std is ``noise_scale`` and the
autocorrelation at lag k steps is exp(-k dt / tau) for any dt.
Noise is added to every input channel on the steps of each trial, never on padding.

A batch generated with ``defer_noise=True`` carries its noise as an `InputNoise` instead of in
its inputs: the law above with a 63-bit seed drawn from the batch's noise stream, so that it is
drawn where the network consumes it (``rnnzoo.training.device_noise``, torch's generator on the
training device).  The same (seed, split, index) gives the same deferred seed, but not the same
numbers as the NumPy draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

NOISE_SEED_LIMIT = 2**63  # deferred seeds are integers in [0, 2**63)


@dataclass(frozen=True)
class InputNoise:
    """Input noise a batch still owes, to be drawn where it is consumed.

    Attributes
    ----------
    seed : int in [0, 2**63), drawn from the batch's noise stream.
    std : stationary standard deviation (input units).
    decay_ms : OU time constant in ms (0 = white).
    dt_ms : sampling period in ms.
    """

    seed: int
    std: float
    decay_ms: float
    dt_ms: float


def deferred_noise(
    rng: np.random.Generator, std: float, decay_ms: float, dt_ms: float
) -> InputNoise:
    """The `InputNoise` of a batch whose noise stream is ``rng`` (one draw from it)."""
    seed = int(rng.integers(0, NOISE_SEED_LIMIT, dtype=np.int64))
    return InputNoise(seed=seed, std=float(std), decay_ms=float(decay_ms), dt_ms=float(dt_ms))


def input_noise(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    scale: float,
    decay_ms: float,
    dt_ms: float,
) -> np.ndarray:
    """Noise of ``shape`` (T, B, I), float32."""
    xi = correlate_in_time(rng.standard_normal(shape, dtype=np.float32), decay_ms, dt_ms)
    xi *= np.float32(scale)
    return xi


def correlate_in_time(xi: Any, decay_ms: float, dt_ms: float) -> Any:
    """Turn white unit-variance noise ``xi`` (T, ...) into the unit-variance OU process of
    time constant ``decay_ms``, in place along axis 0, and return it (white when
    ``decay_ms == 0``).  ``xi`` is a NumPy array or a torch tensor; the coefficients are
    float32 values, as the NumPy draw has always used."""
    if decay_ms > 0 and xi.shape[0] > 1:
        a32 = np.float32(np.exp(-dt_ms / decay_ms))
        b32 = np.float32(np.sqrt(1.0 - a32 * a32))
        a, b = float(a32), float(b32)  # python floats work on both; NumPy keeps float32
        for t in range(1, xi.shape[0]):
            xi[t] *= b
            xi[t] += a * xi[t - 1]
    return xi
