"""Reward-based training of recurrent policies: advantage actor-critic (``a2c``).

A leaky network is trained as a recurrent policy from rewards alone, on any task with a
decision structure (`rnnzoo.tasks.decisions`), with neurogym's reward convention, as Song,
Yang & Wang (2017) trained theirs.  The rule is ``a2c`` of `rnnzoo.training.rules`
(`A2CLearner`, hyperparameters `A2CParams`): ``rnnzoo train --rule a2c``, or a run config with
``rule: {name: a2c}`` through `rnnzoo.training.train`, the benchmark runner or the GUI, where
the trainer builds the policy network for the task's `PolicyTask` view.  `train_a2c` and
`RewardTrainer` are that run with the hyperparameters given as `A2CParams`.

The names are loaded on first use (the rule registry imports `PolicyTask` from here).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "A2CLearner": "rnnzoo.training.rules.a2c",
    "A2CParams": "rnnzoo.training.rules.a2c",
    "PolicyTask": "rnnzoo.training.reward.policy",
    "RewardTrainer": "rnnzoo.training.reward.trainer",
    "train_a2c": "rnnzoo.training.reward.trainer",
}
__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
