"""Learners that produce a gradient for the run's optimiser, and BPTT, the exact one.

`GradientLearner` owns the optimiser of `TrainConfig` (adam, adamw or sgd with lr, weight decay
and momentum) and per-member gradient clipping; a subclass only fills the parameters' ``.grad``
(`_write_gradients`).  BPTT does it with autograd through the network's (or seed 002's
method's) dynamics, as the trainer always has; RFLO and e-prop write their eligibility-trace
estimates (`rnnzoo.training.rules.eligibility`); ``a2c`` backpropagates its actor-critic loss
through a network the trainer built with a value output (`rnnzoo.training.rules.a2c`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.device_noise import input_tensor
from rnnzoo.training.losses import (
    activity_penalty,
    clip_grad_norm_per_member,
    masked_cross_entropy,
    masked_mse,
    member_grad_norms,
    weight_penalty,
)
from rnnzoo.training.protocol import needs_protocol, protocol_outputs
from rnnzoo.training.rules.base import Divergence, Learner, LearnerContext, RuleCard, RuleParams


class GradientLearner(Learner):
    """A rule whose update is ``optimizer.step()`` on a gradient it writes into ``.grad``."""

    uses_optimizer = True

    def __init__(self, params: RuleParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        self.optimizer = self._make_optimizer()
        self._losses: Tensor | None = None

    def parameters(self) -> list[Tensor]:
        """The tensors the optimiser updates (the network's trainable parameters)."""
        return [p for p in self.net.parameters() if p.requires_grad]

    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = self.parameters()
        if not params:
            raise InvalidParameterError("the network has no trainable parameters")
        tc = self.context.train
        if tc.optimizer == "adam":
            return torch.optim.Adam(params, lr=tc.lr, weight_decay=tc.weight_decay)
        if tc.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)
        return torch.optim.SGD(params, lr=tc.lr, momentum=tc.momentum, weight_decay=tc.weight_decay)

    def _write_gradients(self) -> None:
        """Fill ``.grad`` of `parameters` for the batch of the last `losses` call."""
        raise NotImplementedError

    def prepare_update(self, step: int) -> Divergence | None:
        self.optimizer.zero_grad(set_to_none=True)
        self._write_gradients()
        params = self.parameters()
        clip = self.context.train.clip_grad_norm
        if clip is not None:
            norms = clip_grad_norm_per_member(params, clip, self.n_models)
        else:
            norms = member_grad_norms(params, self.n_models)
        if not torch.isfinite(norms).all():
            members = (~torch.isfinite(norms)).nonzero().flatten().tolist()
            return {"step": step, "reason": "non-finite gradient", "members": members}
        return None

    def apply_update(self) -> None:
        self.optimizer.step()

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])

    def set_lr_scale(self, scale: float) -> None:
        super().set_lr_scale(scale)
        for group in self.optimizer.param_groups:
            group["lr"] = self.context.train.lr * scale


class BPTTParams(RuleParams):
    """BPTT has no hyperparameters of its own: the optimiser, learning rate and clipping are
    the training settings (train.optimizer, train.lr, ...), the dynamics seed 002's method."""


class BPTT(GradientLearner):
    """Backpropagation through time: autograd through the training dynamics."""

    name = "bptt"
    Params = BPTTParams
    card = RuleCard(
        title="Backpropagation through time",
        source="Werbos P.J. (1990) Backpropagation through time: what it does and how to do it. "
        "Proc. IEEE 78(10):1550-1560; the reference arm of every benchmark",
        equations="dL/dtheta by reverse-mode autograd through all T steps of the trial (the "
        "fused core's own backward); seed 002's methods (--method cd|sctt|dasc) change the "
        "dynamics it differentiates, evaluation runs the true dynamics",
        networks=("leaky_rate", "leaky_current", "vanilla", "gru", "lstm"),
        trains="every trainable parameter (the network's train_* flags)",
        optimizer="train.optimizer, train.lr, train.weight_decay, train.momentum, "
        "train.clip_grad_norm (per member); penalties train.l1_/l2_weights and _activity",
        ensemble="yes: one pass for M networks, gradients and clipping per member",
        memory="activations of every step: O(M B N T) (memory=recompute: chunk boundaries)",
        resume="optimiser state (moments, step counts) and the noise generator",
    )

    def __init__(self, params: RuleParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        self.needs_states = _needs_states(context.train)

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        """Every network kind, with the methods that can simulate it (CD, SCTT and DASC need a
        leaky network); activity penalties need the true dynamics."""
        method = context.method
        if _needs_states(context.train) and method.name != "control":
            raise InvalidParameterError(
                f"'l1_activity'/'l2_activity' need the network's rates; method "
                f"'{method.name}' gives outputs only (use them with method 'control')"
            )
        if hasattr(method, "check"):
            method.check(context.net)
        if _needs_states(context.train) and needs_protocol(context.task()):
            raise InvalidParameterError(
                "'l1_activity'/'l2_activity' are not available on tasks with images or a state "
                "penalty"
            )

    def _member_axis(self, x: Tensor) -> Tensor:
        return x if self.net.config.ensemble is not None else x.unsqueeze(1)

    def losses(self, batch: Any, progress: float) -> Tensor:
        """Per-member training loss (M,) on ``batch`` under the method's dynamics."""
        ctx, tc = self.context, self.context.train
        inputs, targets, weights = batch_tensors(batch, ctx.device)
        penalty = None
        if needs_protocol(ctx.task()):  # images and/or a state penalty (seed 004)
            outputs, penalty = protocol_outputs(self.net, ctx.task(), batch, ctx.device, ctx.noise)
            outputs = self._member_axis(outputs)
        elif self.needs_states:
            out = self.net(inputs, return_states=True, generator=ctx.noise)
            outputs = self._member_axis(out.outputs)
            states = self._member_axis(out.states)
            rates = self.net.rates(states.transpose(0, 1)).transpose(0, 1)
        else:
            outputs = self._member_axis(
                ctx.method.outputs(
                    self.net, inputs, progress, ctx.noise, conditions=batch.conditions
                )
            )
        if tc.loss == "mse":
            loss = masked_mse(outputs, targets, weights)
        else:
            softmax = getattr(self.net.options, "readout", "") == "softmax"
            loss = masked_cross_entropy(outputs, targets, weights, softmax)
        if tc.l1_weights or tc.l2_weights:
            loss = loss + weight_penalty(self.net, tc.l1_weights, tc.l2_weights, self.n_models)
        if self.needs_states:
            loss = loss + activity_penalty(rates, weights, tc.l1_activity, tc.l2_activity)
        if penalty is not None:
            loss = loss + penalty
        self._losses = loss
        return loss

    def _write_gradients(self) -> None:
        assert self._losses is not None
        backward_alive(self._losses, self.alive)
        self._losses = None

    def flops(self, batch: Any, progress: float) -> float:
        """The network's operations per time step (the leaky networks: 6 M B N^2, forward 2 and
        backward 4) times the recurrent updates the method runs (CD: coarse steps)."""
        updates = batch.n_steps
        method = self.context.method
        if hasattr(method, "recurrent_steps"):
            updates = method.recurrent_steps(batch.n_steps, progress)
        return updates * self.net.flops_per_time_step(batch.batch_size)


def backward_alive(losses: Tensor, alive: Tensor) -> None:
    """Backpropagate the sum of the per-member losses (M,) of the members still training
    (``alive`` (M,) bool: a stopped member is out of the loss)."""
    alive = alive.to(losses.device)
    torch.where(alive, losses, torch.zeros_like(losses)).sum().backward()


def _needs_states(train: Any) -> bool:
    return train.l1_activity > 0 or train.l2_activity > 0


def batch_tensors(batch: Any, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Inputs (T, B, I), targets and weights (T, B, O) of a `TrialBatch` as tensors (deferred
    input noise drawn on ``device``)."""

    def to(a: np.ndarray) -> Tensor:
        return torch.from_numpy(a).to(device)

    return input_tensor(batch, device), to(batch.targets), to(batch.weights)
