"""`train_a2c` and `RewardTrainer`: a run of the ``a2c`` rule with its hyperparameters given as
`A2CParams` (the same as a run config with ``rule: {name: a2c}``, e.g. ``rnnzoo train --rule
a2c``).

The run is the trainer's: it builds the network for the task's `PolicyTask` view (action logits
and a value output), evaluates the greedy policy's fraction of correct episodes on held-out
trials, and writes the run directory (config.yaml with the rule and its hyperparameters,
checkpoints/ with the rule's action generator, metrics.jsonl with ``reward`` and
``train_correct`` beside loss and performance, model.safetensors, summary.json with ``rule``
a2c) and its row of the results table; ``resume=True`` continues bit for bit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnzoo.training.config import RuleSpec, RunConfig
from rnnzoo.training.rules.a2c import A2CParams
from rnnzoo.training.trainer import Trainer, TrainResult, train


def with_a2c(config: RunConfig, params: A2CParams | None = None) -> RunConfig:
    """``config`` with the rule ``a2c`` and ``params`` (the ones that differ from the
    defaults are written, as ``--set rule.KEY=VALUE`` would)."""
    hyperparameters = (params or A2CParams()).model_dump(exclude_defaults=True)
    return config.model_copy(update={"rule": RuleSpec(name="a2c", hyperparameters=hyperparameters)})


class RewardTrainer(Trainer):
    """The trainer of ``config`` with the rule ``a2c`` and ``params`` (see the module
    docstring); ``kwargs`` are the `Trainer`'s."""

    def __init__(self, config: RunConfig, params: A2CParams | None = None,
                 out: str | Path | None = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(with_a2c(config, params), out, **kwargs)


def train_a2c(config: RunConfig, out: str | Path | None = None,
              params: A2CParams | None = None, *, resume: bool = False,
              **kwargs: Any) -> TrainResult:  # fmt: skip
    """Train the leaky network of ``config`` as a recurrent policy with A2C on its task.

    ``params`` are the rule's hyperparameters (defaults: `A2CParams`); the other keywords are
    `rnnzoo.training.train`'s (``db``, ``progress``, ``callback``, ``report``).
    """
    return train(with_a2c(config, params), out, resume=resume, **kwargs)
