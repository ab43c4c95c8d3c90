"""`PolicyTask`: a decision task seen by a recurrent policy.

The policy's outputs are one logit per action (0 = fixate, then one per choice, as
`rnnzoo.tasks.decisions`) followed by its value estimate, so the network trained on this view
has ``1 + C + 1`` outputs.  Batches are the task's own; a trial's performance is that of the
greedy policy (the argmax action at every step) played with neurogym's rules: 1 when the
episode ends with a correct response, else 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.decisions import Decisions, decisions, episode_rewards


class PolicyTask:
    """The task ``task`` as a recurrent policy sees it (see the module docstring).

    ``rewards`` are the keyword arguments of `episode_rewards` (correct, fail,
    fixation_break_penalty).
    """

    def __init__(self, task: Any, rewards: dict[str, Any]) -> None:
        self.base = task
        self.rewards = dict(rewards)
        probe = decisions(task, task.generate(8, 0))  # raises when the task has no decision
        self.n_actions = probe.n_actions
        choices = [f"choice_{k}" for k in range(1, self.n_actions)]
        self.output_names = ("fixate", *choices, "value")
        self.n_outputs = len(self.output_names)
        self.input_names = task.input_names
        self.n_inputs = task.n_inputs
        self.name, self.version, self.params = task.name, task.version, task.params
        self.metric = task.metric

    def generate(self, *args: Any, **kwargs: Any) -> TrialBatch:
        return self.base.generate(*args, **kwargs)

    def generate_test(self) -> TrialBatch | None:
        """The task's deterministic test grid (None when it has none)."""
        grid = getattr(self.base, "generate_test", None)
        return None if grid is None else grid()

    def config(self) -> dict[str, Any]:
        return self.base.config()

    def decisions(self, batch: TrialBatch) -> Decisions:
        return decisions(self.base, batch)

    def play(self, actions: np.ndarray, batch: TrialBatch):
        """`episode_rewards` of ``actions`` (T, B) on ``batch``."""
        return episode_rewards(actions, self.decisions(batch), **self.rewards)

    def performance(self, outputs: Any, batch: TrialBatch) -> np.ndarray:
        """1 per trial whose greedy episode ends correct: outputs (T, B, 1 + C + 1) -> (B,)."""
        if hasattr(outputs, "detach"):
            outputs = outputs.detach().cpu().numpy()
        greedy = np.asarray(outputs)[..., : self.n_actions].argmax(axis=-1)
        _, _, outcome = self.play(greedy, batch)
        return (outcome == 1).astype(np.float64)
