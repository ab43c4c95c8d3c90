"""Input noise drawn where the network consumes it (``TrainConfig.noise_on_device``).

A batch generated with ``defer_noise=True`` carries noise-free inputs and an `InputNoise`
(seed, std, OU time constant, dt).  `input_tensor` moves the inputs to the training device and
adds the noise there, from a ``torch.Generator`` on that device seeded with the batch's noise
seed: the same law as the NumPy draw (`rnnzoo.tasks.noise`: white, or the exact OU
discretisation; zero on padding), the same numbers for the same seed and device, and no host
work or host synchronisation beyond the noise-free inputs' copy.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.noise import InputNoise, correlate_in_time


def input_tensor(batch: Any, device: torch.device | str) -> Tensor:
    """Inputs (T, B, I) of ``batch`` on ``device``, with its deferred noise (if any) added."""
    inputs = torch.from_numpy(batch.inputs).to(device)
    owed = getattr(batch, "input_noise", None)
    if owed is None:
        return inputs
    lengths = torch.from_numpy(batch.lengths).to(device)
    return inputs + draw_noise(owed, lengths, tuple(inputs.shape), inputs.dtype, inputs.device)


def draw_noise(
    owed: InputNoise,
    lengths: Tensor,
    shape: tuple[int, int, int],
    dtype: torch.dtype,
    device: torch.device,
) -> Tensor:
    """Noise (T, B, I) of law ``owed`` on ``device``: zero at and after ``lengths[b]`` (B,)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(owed.seed)
    xi = torch.randn(shape, generator=generator, dtype=dtype, device=device)
    correlate_in_time(xi, owed.decay_ms, owed.dt_ms).mul_(owed.std)
    valid = torch.arange(shape[0], device=device)[:, None] < lengths[None, :]
    return xi.mul_(valid.unsqueeze(-1).to(dtype))


def check_deferrable(task: Any) -> None:
    """Raise when ``task`` cannot generate batches with deferred noise (a composition, or a
    task whose ``generate`` has no ``defer_noise``)."""
    try:
        task.generate(1, 0, defer_noise=True)
    except TypeError as exc:
        raise InvalidParameterError(
            f"'noise_on_device': task {getattr(task, 'name', task)!r} cannot defer its noise "
            f"(its generate() takes no defer_noise: {exc})"
        ) from None
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"'noise_on_device': {exc}") from None
