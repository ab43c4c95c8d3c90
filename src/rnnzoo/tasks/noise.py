"""Input noise: white or Ornstein-Uhlenbeck, stationary std ``noise_scale``.

White (``noise_decay_ms == 0``): independent N(0, noise_scale^2) at every step.
OU (``noise_decay_ms = tau > 0``): x_0 ~ N(0, s^2), x_{t+1} = a x_t + s sqrt(1 - a^2) xi_t with
a = exp(-dt/tau); the exact discretisation, so the stationary std is ``noise_scale`` and the
autocorrelation at lag k steps is exp(-k dt / tau) for any dt.
Noise is added to every input channel on the steps of each trial, never on padding.
"""

from __future__ import annotations

import numpy as np


def input_noise(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    scale: float,
    decay_ms: float,
    dt_ms: float,
) -> np.ndarray:
    """Noise of ``shape`` (T, B, I), float32."""
    xi = rng.standard_normal(shape, dtype=np.float32)
    if decay_ms > 0 and shape[0] > 1:
        a = np.float32(np.exp(-dt_ms / decay_ms))
        b = np.float32(np.sqrt(1.0 - a * a))
        for t in range(1, shape[0]):
            xi[t] *= b
            xi[t] += a * xi[t - 1]
    xi *= np.float32(scale)
    return xi
