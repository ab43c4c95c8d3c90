"""Reward-based training of recurrent policies: advantage actor-critic (``a2c``).

A leaky network is trained as a recurrent policy from rewards alone, on any task with a
decision structure (`rnnzoo.tasks.decisions`), with neurogym's reward convention, as Song,
Yang & Wang (2017) trained theirs.  `train_a2c` runs it with the trainer's run directory,
metrics, checkpoints (exact resume) and results table; `A2CLearner` is the rule itself, written
to the learner protocol of `rnnzoo.training.rules` (losses / prepare_update / apply_update /
state_dict), so that it becomes ``--rule a2c`` through a thin adapter when that lands.
"""

from rnnzoo.training.reward.a2c import A2CLearner, A2CParams
from rnnzoo.training.reward.policy import PolicyTask
from rnnzoo.training.reward.trainer import RewardTrainer, train_a2c

__all__ = ["A2CLearner", "A2CParams", "PolicyTask", "RewardTrainer", "train_a2c"]
