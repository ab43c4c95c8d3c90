"""The one-step diagnostic of the learning-rate collapse: the change in recurrent drive after
one optimiser step, RMS over neurons and samples.

Under Adam every weight moves by about lr in its first step.  For a dense W the gradient's
outer-product structure makes the moves coherent along each row, so the drive W r changes by
about lr N <|r|>; for W = m n^T / N it changes by O(lr) whatever N (reference notes, sec.
1.3).  Keeping that change O(1) gives eta_max ~ 1 / (change per unit lr), so the slope of
log(change) against log N predicts the sweep's beta in seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnzoo.models import Network
from rnnzoo.training.losses import masked_mse


def one_step_drive_change(net: Network, batch: Any, lr: float) -> float:
    """RMS over neurons and valid samples of Delta(W r) = (W' - W) r after one Adam step
    (learning rate ``lr``, masked MSE on ``batch``) of a standalone leaky network, with r the
    rates of the forward pass before the step.  ``net`` is updated in place."""
    inputs, targets, weights = (
        torch.from_numpy(a) for a in (batch.inputs, batch.targets, batch.weights)
    )
    out = net(inputs, return_states=True)
    loss = masked_mse(out.outputs.unsqueeze(1), targets, weights).sum()
    rates = net.rates(out.states.unsqueeze(0))[0].detach()  # (T, B, N)
    before = [w.detach().clone() for w in net.recurrent_weights()]
    optimiser = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=lr)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    after = [w.detach() for w in net.recurrent_weights()]
    with torch.no_grad():
        change = _drive(rates, after) - _drive(rates, before)
    valid = torch.from_numpy(batch.valid)
    return float(change[valid].square().mean().sqrt())


def _drive(rates: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
    """W r for rates (T, B, N): dense (1, N, N) or low rank m, n (1, N, R)."""
    if len(weights) == 2:
        m, n = weights[0][0], weights[1][0]
        return (rates @ n) @ m.T / m.shape[0]
    return rates @ weights[0][0].T


def drive_change_table(
    task: Any,
    models: list[tuple[str, str, dict[str, Any]]],
    sizes: list[int],
    lr: float,
    seeds: list[int],
    batch_size: int = 16,
) -> list[dict[str, Any]]:
    """One row per (model label, N, seed): the drive change after one step at ``lr`` on the
    task's train batch 0; ``models`` holds (label, kind, options)."""
    from rnnzoo.models import make_model
    from rnnzoo.training.build import task_dt_ms

    batch = task.generate(batch_size, 0)
    rows = []
    for label, kind, options in models:
        for n in sizes:
            for seed in seeds:
                net = make_model(
                    kind,
                    task.n_inputs,
                    task.n_outputs,
                    dt_ms=task_dt_ms(task),
                    member=seed,
                    **{**options, "n_hidden": n},
                )
                change = one_step_drive_change(net, batch, lr)
                rows.append(
                    {"model": label, "n_hidden": n, "seed": seed, "lr": lr, "change": change}
                )
    return rows


def drive_change_slopes(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The slope of log10(mean change) against log10 N per model: the predicted beta."""
    slopes = {}
    for model in sorted({r["model"] for r in rows}):
        sizes = sorted({r["n_hidden"] for r in rows if r["model"] == model})
        means = [
            np.mean([r["change"] for r in rows if r["model"] == model and r["n_hidden"] == n])
            for n in sizes
        ]
        if len(sizes) >= 2:
            slopes[model] = float(np.polyfit(np.log10(sizes), np.log10(means), 1)[0])
    return slopes
