"""Noise robustness of a staged CordsNet run against its own stage-1 CNN (seed 004 Fig. 3C-D).

For each noise level sigma (pixel units of the standardised images):

- CordsNet: fresh N(0, sigma^2) noise on every pixel at every step the image is shown (the
  network's ``pixel_noise``); accuracy by the task's metric, and the relative deviation
  |r - r_clean| / |r_clean| of the last area over the scored window from the noiseless run;
- CNN (the stage-1 network, batch norm in eval mode): one N(0, sigma^2) draw per pixel added to
  the image; accuracy, and the relative deviation of its last area's activations.

The same images (the first ``n_images`` of the task's test grid) are used for every level.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.cordsnet.cnn import fold_batch_norm, matched_cnn
from rnnzoo.training.protocol import network_kwargs


def noise_robustness(
    run_dir: str | Path,
    levels: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0),
    *,
    n_images: int = 256,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per level: noise, cordsnet_accuracy, cordsnet_deviation, cnn_accuracy,
    cnn_deviation (see the module docstring)."""
    from rnnzoo.analysis.run import load_run

    _, net, task = load_run(run_dir)
    cnn_path = Path(run_dir) / "stages" / "1_cnn" / "cnn.pt"
    if net.kind != "cordsnet" or not cnn_path.is_file():
        raise InvalidParameterError(
            f"'{run_dir}' is not a staged CordsNet run (no {cnn_path}); noise robustness compares "
            "the network with its stage-1 CNN"
        )
    if any(s < 0 for s in levels):
        raise InvalidParameterError(f"noise levels must be >= 0; got {list(levels)}")
    cnn = matched_cnn(net)
    cnn.load_state_dict(torch.load(cnn_path, map_location="cpu", weights_only=True)["cnn"])
    cnn.eval()
    folded = fold_batch_norm(cnn)
    batch = task.generate_test()
    batch = batch.select(np.arange(min(n_images, batch.batch_size)))
    scored = batch.epochs["scored_1"][0]
    window = list(range(int(scored[0]), int(scored[1])))
    last = net.state_groups()[len(net.arch.areas) - 1]
    inputs = torch.from_numpy(batch.inputs)
    extra = network_kwargs(batch, "cpu")
    images = extra["stimuli"][:, 0]
    labels = torch.from_numpy(np.asarray(batch.conditions["label"])[:, 0])

    def cordsnet(sigma: float) -> tuple[np.ndarray, torch.Tensor]:
        noisy = copy.deepcopy(net)
        noisy.pixel_noise_std.fill_(sigma)
        noisy.rec_noise_std.zero_()
        noisy.in_noise_std.zero_()
        with torch.no_grad():
            out = noisy(
                inputs, record_steps=window, generator=torch.Generator().manual_seed(seed), **extra
            )
        return out.outputs.numpy(), out.states[..., last]

    def feedforward(sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        noise = torch.randn(images.shape, generator=gen, dtype=images.dtype) * sigma
        with torch.no_grad():
            logits, acts = folded.forward(images + noise)
        return logits, acts["x"][-1]

    _, clean_states = cordsnet(0.0)
    _, clean_x = feedforward(0.0)
    rows = []
    for sigma in levels:
        outputs, states = cordsnet(sigma)
        logits, x = feedforward(sigma)
        rows.append(
            {
                "noise": float(sigma),
                "cordsnet_accuracy": float(np.mean(task.performance(outputs, batch))),
                "cordsnet_deviation": _relative(states, clean_states),
                "cnn_accuracy": float((logits.argmax(-1) == labels).double().mean()),
                "cnn_deviation": _relative(x, clean_x),
            }
        )
    return rows


def _relative(noisy: torch.Tensor, clean: torch.Tensor) -> float:
    return float((noisy - clean).norm() / clean.norm().clamp_min(1e-12))
