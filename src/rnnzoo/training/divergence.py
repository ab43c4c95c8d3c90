"""Divergence: which members' loss or gradient blew up, freezing them, and saying why in words.

In an ensemble a member that diverges stops alone: it is masked out of the loss, its gradient
is zeroed and its weights are held where they were (Adam's moments, weight decay or momentum
would otherwise keep moving them), while the other members train on.  The run stops (or rolls
back, with ``on_divergence: rollback``) only when every member still training diverges at once.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def bad_members(values: Tensor, limit: float | Tensor | None = None) -> Tensor:
    """Boolean (M,): members whose value is not finite or, with ``limit``, above it."""
    values = values.detach().cpu()
    bad = ~torch.isfinite(values)
    if limit is not None:
        bad |= values > limit
    return bad


def loss_reason(values: Tensor, members: Tensor) -> str:
    """Why the ``members`` of a per-member loss ``values`` count as diverged."""
    finite = torch.isfinite(values.detach().cpu()[members]).all()
    return "loss above divergence_loss" if finite else "non-finite loss"


class MemberFreeze:
    """Holds the weights of diverged ensemble members fixed while the others train.

    ``params``: the trainable parameters, member axis first.  `freeze` records members (and a
    copy of the weights as they are); `mask_gradients` zeroes their gradient slices before the
    optimiser step and `restore` puts their weights back after it.
    """

    def __init__(self, params: list[Tensor], n_models: int) -> None:
        self.params = params
        self.alive = torch.ones(n_models, dtype=torch.bool)
        self._held: list[Tensor] | None = None

    @property
    def dead(self) -> list[int]:
        """Indices of the frozen members."""
        return (~self.alive).nonzero().flatten().tolist()

    def freeze(self, members: list[int]) -> None:
        """Stop ``members`` (their current weights are kept from now on)."""
        self.alive[members] = False
        self._held = [p.detach().clone() for p in self.params]

    def reset(self, dead: list[int]) -> None:
        """Set the frozen members to ``dead`` (after a checkpoint or rollback restore)."""
        self.alive[:] = True
        self._held = None
        if dead:
            self.freeze(dead)

    @torch.no_grad()
    def mask_gradients(self) -> None:
        if self._held is None:
            return
        dead = torch.as_tensor(self.dead)
        for p in self.params:
            if p.grad is not None:
                p.grad[dead.to(p.grad.device)] = 0.0

    @torch.no_grad()
    def restore(self) -> None:
        if self._held is None:
            return
        dead = torch.as_tensor(self.dead)
        for p, held in zip(self.params, self._held, strict=True):
            index = dead.to(p.device)
            p[index] = held[index]


def explain(divergence: dict[str, Any], config: Any) -> str:
    """A sentence on what diverged and what usually fixes it, for the user."""
    tc, options = config.train, config.model.options
    members = divergence.get("members", [])
    ensemble = config.model.ensemble
    who = (
        "the network"
        if not ensemble
        else f"member{'s' if len(members) > 1 else ''} {', '.join(map(str, members))}"
    )
    step = divergence.get("step", 0)
    reason = divergence.get("reason", "")
    what = {
        "non-finite loss": "produced a non-finite (NaN or infinite) loss",
        "loss above divergence_loss": f"had a loss above divergence_loss ({tc.divergence_loss:g})",
        "non-finite gradient": "produced a non-finite gradient",
    }.get(reason, reason)
    text = f"training diverged at step {step}: {who} {what}."
    hints = []
    if step <= 1:
        hints.append(
            "at the first step it is the initial network that is unstable: lower the gain "
            f"(--set g=..., now {options.get('g', 1.0)}) or use tanh/softplus instead of relu"
        )
        if options.get("dale"):
            hints.append("with dale=true, also a smaller g or a larger excitatory_fraction")
    hints.append(f"lower the learning rate (--set lr=..., now {tc.lr:g})")
    if tc.clip_grad_norm is None:
        hints.append("clip the gradient (--set clip_grad_norm=1)")
    if tc.on_divergence == "stop":
        hints.append(
            "or let the run roll back with half the learning rate (on_divergence=rollback)"
        )
    return text + " What usually fixes it: " + "; ".join(hints) + "."


__all__ = ["MemberFreeze", "bad_members", "explain", "loss_reason"]
