"""The learner interface: what the trainer needs from a learning rule.

A learning rule (``bptt``, ``force``, ``rflo``, ...) is a class with validated hyperparameters
(`RuleParams`) and a card (`RuleCard`); bound to one network it is a `Learner`.  The trainer's
loop is the same for every rule; per training step it calls

    losses = learner.losses(batch, progress)   # (M,) training loss of this batch, as run
    bad = learner.prepare_update()             # the update is computed; None, or divergence
    learner.apply_update()                     # the network (and the rule's state) change

``losses`` runs the batch (an episode of B trials: a reward-based rule computes its rewards
here, from the batch and ``context.task()``) and computes the update without changing the
network; ``prepare_update`` finishes it (BPTT: backward and per-member clipping) and reports a
non-finite update as divergence, so the trainer can stop or roll back before anything changed;
``apply_update`` commits it.  A Ctrl-C before ``apply_update`` therefore leaves the network and
the rule's state as they were after the previous step, and that is what gets checkpointed.

Everything a rule carries from one step to the next (optimiser moments, RLS matrices P,
running baselines, random generators) is in ``state_dict()``: tensors and plain data only,
saved in every checkpoint (``torch.save``, loaded with ``weights_only=True``), so a resumed run
continues bit for bit.  Quantities a rule can rebuild from its seed (random feedback matrices)
are rebuilt, not saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.base import Network

Divergence = dict[str, Any]  # {"step", "reason", "members"} as the trainer reports it


def rule_field(default: Any, description: str, unit: str = "", **constraints: Any) -> Any:
    """A hyperparameter field with its unit (shown on the card and in the GUI)."""
    return Field(default, description=description, json_schema_extra={"unit": unit}, **constraints)


class RuleParams(BaseModel):
    """Hyperparameters of a rule (frozen; a misspelt name is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class RuleCard:
    """What `rnnzoo rules show` prints about a rule."""

    title: str
    source: str
    equations: str
    networks: tuple[str, ...]
    trains: str
    optimizer: str
    ensemble: str
    memory: str
    resume: str
    notes: str = ""


@dataclass
class LearnerContext:
    """What a learner may use besides its hyperparameters.

    net : the network it trains (leading model axis M).
    train : the run's `TrainConfig` (optimiser, clipping, loss, penalties, seed).
    method : seed 002's training method (BPTT only; others need "control").
    noise : the trainer's generator of network noise (its state is checkpointed by the trainer).
    task : the task at the current step (a curriculum may change it).
    """

    net: Network
    train: Any
    method: Any
    noise: torch.Generator
    task: Callable[[], Any]
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))


class Learner:
    """A learning rule bound to one network (see the module docstring for the protocol)."""

    name: ClassVar[str]
    Params: ClassVar[type[RuleParams]]
    card: ClassVar[RuleCard]
    uses_optimizer: ClassVar[bool] = False  # True: train.optimizer, lr, clip_grad_norm apply

    def __init__(self, params: RuleParams, context: LearnerContext) -> None:
        self.params = params
        self.context = context
        self.net = context.net
        self.n_models = self.net.n_models
        self.lr_scale = 1.0
        self.outputs: Tensor | None = None  # (T, M, B, O) of the last batch, as the rule ran it
        # (M,) bool: the members still training (the trainer's; diverged members stop alone)
        self.alive: Tensor = torch.ones(self.n_models, dtype=torch.bool)

    # --- checks before training ------------------------------------------------------------
    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        """Raise a one-line `InvalidParameterError` when this rule cannot train the context's
        network with its settings (called before any training or file writing)."""
        from rnnzoo.training.protocol import needs_protocol

        if needs_protocol(context.task()):
            raise InvalidParameterError(
                f"rule '{cls.name}' trains on vector inputs without a state penalty; this task "
                "shows images or adds a state penalty (seed 004): use rule 'bptt'"
            )
        method_name = getattr(context.method, "name", "control")
        if method_name != "control":
            raise InvalidParameterError(
                f"rule '{cls.name}' runs the network's true dynamics; method '{method_name}' "
                "(seed 002) changes the dynamics of BPTT only: use rule 'bptt' or method 'control'"
            )

    @classmethod
    def task_view(cls, task: Any, params: RuleParams) -> Any:
        """The task as this rule's network sees it; the trainer builds the network for it and
        the rule gets it as ``context.task()`` (default: the task itself; ``a2c``: a policy
        view with action logits and a value output)."""
        return task

    # --- the step --------------------------------------------------------------------------
    def begin(self) -> None:
        """Initialise a freshly built network the way the rule starts (e.g. FORCE: W_out = 0);
        called once, before a new run's first checkpoint (not on resume, not for a network
        handed in, such as the next stage of `train_sequence`)."""

    def losses(self, batch: Any, progress: float) -> Tensor:
        """Run ``batch`` and compute this step's update; the per-member loss (M,).  Rules that
        run their own loop keep what the network produced in ``outputs`` (T, M, B, O)."""
        raise NotImplementedError

    def prepare_update(self, step: int) -> Divergence | None:
        """Finish the update of the last ``losses`` call; divergence info when it is not
        finite (nothing has changed then)."""
        raise NotImplementedError

    def apply_update(self) -> None:
        """Commit the update prepared last."""
        raise NotImplementedError

    def flops(self, batch: Any, progress: float) -> float:
        """Floating-point operations of one step on ``batch`` (the leading terms)."""
        raise NotImplementedError

    def logged(self) -> dict[str, Any]:
        """Entries the rule adds to the next evaluation record of metrics.jsonl (``a2c``: the
        mean episode reward since the last one)."""
        return {}

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs from this rule (tensors and plain data)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``."""

    def set_lr_scale(self, scale: float) -> None:
        """Scale the learning rate (a rollback halves it)."""
        self.lr_scale = scale

    def config(self) -> dict[str, Any]:
        """{"name": ..., **hyperparameters}."""
        return {"name": self.name, **self.params.model_dump()}


def non_finite(step: int, values: Tensor, reason: str) -> Divergence | None:
    """Divergence info naming the members whose ``values`` (M, ...) are not all finite."""
    flat = values.detach().reshape(values.shape[0], -1)
    bad = ~torch.isfinite(flat).all(dim=1)
    if not bad.any():
        return None
    return {"step": step, "reason": reason, "members": bad.nonzero().flatten().tolist()}
