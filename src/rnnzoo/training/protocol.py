"""How a batch runs through a network when its task asks for more than inputs: images held
once per trial (`TrialBatch.stimuli`) and a loss term on the network state
(`Task.state_penalty`, seed 004 eq. 4's spontaneous penalty).

The penalty: the network first runs the reference epoch (without gradient when
``detach_reference``, as the seed lets it settle to its spontaneous state under ``no_grad``);
its state at the end of that epoch is the baseline b and the initial state of the rest of the
trial; then

    penalty = weight * mean over state groups g of mean over the window's steps, trials and
              the units of g of (r_t - b)^2,

the groups being the network's areas (`state_groups()`, one group for networks without), as
the seed averages each area's mean squared deviation over the areas and the last 10 steps.
The reference and window epochs must sit at the same steps in every trial of a batch.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network
from rnnzoo.training.device_noise import input_tensor


def network_kwargs(batch: Any, device: torch.device | str) -> dict[str, Tensor]:
    """The keyword arguments beyond the inputs that ``batch`` needs: ``stimuli`` for image
    tasks, nothing otherwise."""
    if getattr(batch, "stimuli", None) is None:
        return {}
    return {"stimuli": torch.from_numpy(batch.stimuli).to(device)}


def needs_protocol(task: Any) -> bool:
    """True when the task shows images or declares a state penalty."""
    return (
        getattr(task, "stimulus_shape", None) is not None
        or getattr(task, "state_penalty", None) is not None
    )


def protocol_outputs(
    net: Network, task: Any, batch: Any, device: torch.device | str, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Outputs (T, [M,] B, O) of ``net`` on ``batch`` and the task's state penalty per member
    (M,) (zeros without one)."""
    inputs = input_tensor(batch, device)
    extra = network_kwargs(batch, device)
    spec = getattr(task, "state_penalty", None)
    zeros = torch.zeros(net.n_models, device=device)
    if spec is None or spec.weight == 0:
        return net(inputs, generator=generator, **extra).outputs, zeros
    start = _common(batch, spec.reference_epoch, 1)
    w0, w1 = _common(batch, spec.window_epoch, 0), _common(batch, spec.window_epoch, 1)
    if start < 1 or not start <= w0 < w1:
        raise InvalidParameterError(
            f"state penalty: epoch '{spec.window_epoch}' [{w0}, {w1}) must follow the end of "
            f"epoch '{spec.reference_epoch}' (step {start})"
        )
    window = list(range(w0 - start, w1 - start))
    with torch.set_grad_enabled(torch.is_grad_enabled() and not spec.detach_reference):
        first = _run(net, inputs[:start], None, generator, extra, [start - 1])
    baseline = first.states[-1]
    if spec.detach_reference:
        baseline = baseline.detach()
    rest = _run(net, inputs[start:], baseline, generator, extra, window)
    outputs = torch.cat([first.outputs, rest.outputs], 0)
    deviation = rest.states - baseline.unsqueeze(0)  # (W, [M,] B, S)
    if net.config.ensemble is None:
        deviation = deviation.unsqueeze(1)
    groups = net.state_groups() if hasattr(net, "state_groups") else [slice(None)]
    per_group = [deviation[..., g].square().mean(dim=(0, 2, 3)) for g in groups]
    return outputs, spec.weight * torch.stack(per_group).mean(0)


def _common(batch: Any, epoch: str, column: int) -> int:
    if epoch not in batch.epochs:
        raise InvalidParameterError(
            f"state penalty: the batch has no epoch '{epoch}'; it has {sorted(batch.epochs)}"
        )
    values = np.unique(batch.epochs[epoch][:, column])
    if len(values) != 1:
        raise InvalidParameterError(
            f"state penalty: epoch '{epoch}' must sit at the same steps in every trial; got "
            f"{values.tolist()}"
        )
    return int(values[0])


def _run(net, inputs, initial, generator, extra, steps):
    """``net`` over ``inputs`` keeping the states after ``steps`` only when it can (cordsnet's
    ``record_steps``), else all states, then picking them."""
    if "record_steps" in inspect.signature(net.forward).parameters:
        return net(inputs, initial_state=initial, generator=generator, record_steps=steps, **extra)
    out = net(inputs, initial_state=initial, generator=generator, return_states=True, **extra)
    return type(out)(out.outputs, out.states[steps])


__all__ = ["needs_protocol", "network_kwargs", "protocol_outputs"]
