"""`train_a2c`: the trainer's loop, run directory and results table for the ``a2c`` rule.

`RewardTrainer` is the BPTT `Trainer` with the policy's view of the task (`PolicyTask`: the
network gets action logits and a value output), the A2C loss in place of the supervised one,
and the rule's state (its action generator) in every checkpoint; evaluation is the greedy
policy's fraction of correct episodes on held-out trials.  The run directory is the trainer's
(config.yaml, checkpoints/, metrics.jsonl with ``reward`` and ``train_correct`` beside loss and
performance, model.safetensors, summary.json with a ``rule`` entry) plus ``rule.yaml`` with
the hyperparameters; ``resume=True`` continues bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.build import build_network
from rnnzoo.training.config import RunConfig
from rnnzoo.training.reward.a2c import A2CLearner, A2CParams
from rnnzoo.training.reward.policy import PolicyTask
from rnnzoo.training.trainer import Trainer, TrainResult

LEAKY = ("leaky_rate", "leaky_current")


class RewardTrainer(Trainer):
    """One reward-trained run (see the module docstring)."""

    def __init__(self, config: RunConfig, params: A2CParams, out: str | Path | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        if config.model.kind not in LEAKY:
            raise InvalidParameterError(
                f"rule 'a2c' trains the leaky networks ({', '.join(LEAKY)}); got "
                f"'{config.model.kind}'"
            )
        if config.method.name != "control":
            raise InvalidParameterError(
                f"rule 'a2c' runs the true dynamics; method '{config.method.name}' is for BPTT"
            )
        super().__init__(config, out, **kwargs)
        if self.needs_states:
            raise InvalidParameterError("rule 'a2c' has no activity penalties (l1/l2_activity)")
        self.params = params
        self.base_task = self.task
        self._policies: dict[int, PolicyTask] = {}
        policy = self._policy(self.task)
        self.net = build_network(config, policy).to(self.device)  # logits and a value
        self.optimizer = self._make_optimizer()
        self.learner = A2CLearner(params, self.net, self.noise, config.train.seed)
        self._window: list[tuple[float, float]] = []

    def _policy(self, task: Any) -> PolicyTask:
        if id(task) not in self._policies:
            self._policies = {id(task): PolicyTask(task, self.params.rewards())}
        return self._policies[id(task)]

    def current_task(self) -> PolicyTask:
        return self._policy(self.curriculum.task(self.step, self.base_task))

    def losses(self, batch: Any, progress: float) -> Any:
        loss = self.learner.losses(batch, self.current_task())
        self._window.append((float(self.learner.last_reward.mean()),
                             float(self.learner.last_outcome.mean())))  # fmt: skip
        return loss

    def state(self) -> dict[str, Any]:
        return {**super().state(), "a2c": self.learner.state_dict()}

    def _restore(self, weights: dict[str, Any], state: dict[str, Any]) -> None:
        super()._restore(weights, state)
        if hasattr(self, "learner"):
            self.learner.load_state_dict(state["a2c"])

    def _log(self, record: dict[str, Any]) -> None:
        if "performance" in record and self._window:
            rewards, correct = zip(*self._window, strict=True)
            record["reward"], record["train_correct"] = (
                float(np.mean(rewards)),
                float(np.mean(correct)),
            )
            self._window = []
        super()._log(record)

    def run(self, *, resume: bool = False) -> TrainResult:
        if self.out is not None:
            rule = {"rule": self.learner.config()}
            path = self.out / "rule.yaml"
            if resume and path.is_file() and yaml.safe_load(path.read_text()) != rule:
                raise InvalidParameterError(
                    f"cannot resume '{self.out}': its rule.yaml differs from these a2c settings"
                )
            self.out.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                Path(tmp).write_text(yaml.safe_dump(rule, sort_keys=False))
        return super().run(resume=resume)

    def _finish(self, status: str, divergence: dict[str, Any] | None) -> TrainResult:
        result = super()._finish(status, divergence)
        if self.out is not None:
            summary = {**result.summary(), "rule": self.learner.config()}
            with atomic_path(self.out / "summary.json") as tmp:
                Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
        return result


def train_a2c(config: RunConfig, out: str | Path | None = None,
              params: A2CParams | None = None, *, resume: bool = False,
              **kwargs: Any) -> TrainResult:  # fmt: skip
    """Train the leaky network of ``config`` as a recurrent policy with A2C on its task.

    ``params`` are the rule's hyperparameters (defaults: `A2CParams`); the other keywords are
    the trainer's (``db``, ``progress``, ``callback``).
    """
    trainer = RewardTrainer(config, params or A2CParams(), out, **kwargs)
    return trainer.run(resume=resume)
