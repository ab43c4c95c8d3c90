"""Advantage actor-critic for recurrent policies (after Song, Yang & Wang 2017, eLife 6:e21492):
the learning rule ``a2c`` of `rnnzoo.training.rules` (``rnnzoo train --rule a2c``).

The network's outputs are action logits and a value estimate V (see `PolicyTask`, the view of
the task that `A2CLearner.task_view` gives the trainer, which builds the network for it).  Per
training step, B episodes run at once: the observations of a trial do not depend on the
actions until the episode ends (on the response, at the end of the response window, or at a
fixation break with ``abort``), so one forward pass over the whole trial, with actions sampled
at every step and the steps after each episode's end masked, is exactly B episodes of the
gymnasium environment (`rnnzoo.interop.gym`; tested).  With returns G_t = sum_k gamma^k r_{t+k}
inside the episode and the advantage A_t = G_t - V_t (V held fixed in the policy term), each
member's loss is

    L = [ - sum_t log pi(a_t | h_t) A_t + c_V sum_t (G_t - V_t)^2 - c_H sum_t H(pi(. | h_t)) ] / B

summed over the steps of the episodes.  Song et al. trained a separate baseline network that
reads the policy network's activity; here the value is a readout of the policy network itself
(the A2C form), and the optimiser is the run's (Adam by default, gradients clipped per member).
Actions are drawn from the learner's own seeded generator, saved in every checkpoint.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.device_noise import input_tensor
from rnnzoo.training.losses import weight_penalty
from rnnzoo.training.reward.policy import PolicyTask
from rnnzoo.training.rules.base import LearnerContext, RuleCard, RuleParams, rule_field
from rnnzoo.training.rules.bptt import GradientLearner, backward_alive

LEAKY = ("leaky_rate", "leaky_current")


class A2CParams(RuleParams):
    """Hyperparameters of ``a2c`` (frozen; a misspelt name is an error)."""

    gamma: float = rule_field(1.0, "discount per step", gt=0, le=1)
    value_coef: float = rule_field(0.5, "weight of the value loss c_V", ge=0, le=100)
    entropy_coef: float = rule_field(0.01, "weight of the entropy bonus c_H", ge=0, le=10)
    correct: float = rule_field(1.0, "reward of a correct response", ge=-100, le=100)
    fail: float = rule_field(0.0, "reward of a wrong or missing response", ge=-100, le=100)
    fixation_break_penalty: float | None = rule_field(
        -0.1,
        "reward of each non-zero action before the response window (neurogym's abort "
        "reward); None = early actions are ignored",
        ge=-100,
        le=100,
    )
    abort: bool = rule_field(False, "a fixation break ends the episode")

    @classmethod
    def make(cls, **values: Any) -> A2CParams:
        """Validated hyperparameters, or `InvalidParameterError` naming the bad one."""
        from rnnzoo.training.rules import rule_params

        return rule_params("a2c", **values)

    def rewards(self) -> dict[str, Any]:
        """The keyword arguments of `rnnzoo.tasks.decisions.episode_rewards`."""
        return {
            "correct": self.correct,
            "fail": self.fail,
            "fixation_break_penalty": self.fixation_break_penalty,
            "abort": self.abort,
        }


def discounted_returns(rewards: np.ndarray, last: np.ndarray, gamma: float) -> np.ndarray:
    """G_t for rewards (T, B) of episodes ending at ``last`` (B,); 0 after the end."""
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = np.where(t <= last, rewards[t] + gamma * running, 0.0)
        returns[t] = running
    return returns


class A2CLearner(GradientLearner):
    """The ``a2c`` rule bound to one policy network (see the module docstring)."""

    name = "a2c"
    Params = A2CParams
    card = RuleCard(
        title="Advantage actor-critic (reward-based recurrent policy)",
        source="Song H.F., Yang G.R. & Wang X.-J. (2017) Reward-based training of recurrent "
        "neural networks for cognitive and value-based tasks. eLife 6:e21492 (A2C form: the "
        "value is a readout of the policy network)",
        equations="L = [-sum_t log pi(a_t|h_t) (G_t - V_t) + c_V sum_t (G_t - V_t)^2 "
        "- c_H sum_t H(pi(.|h_t))] / B over B sampled episodes, G_t = sum_k gamma^k r_(t+k); "
        "rewards: neurogym's convention (correct, fail, fixation_break_penalty, abort)",
        networks=LEAKY,
        trains="every trainable parameter; the network gets one logit per action (fixate, "
        "then one per choice) and a value output; tasks with a decision only",
        optimizer="train.optimizer, train.lr, train.weight_decay, train.momentum, "
        "train.clip_grad_norm (per member); penalties train.l1_/l2_weights",
        ensemble="yes: one pass for M networks, episodes, gradients and clipping per member",
        memory="activations of every step: O(M B N T), as BPTT",
        resume="optimiser state, the action generator and the noise generator",
        notes="performance is the greedy policy's fraction of correct held-out episodes; "
        "metrics.jsonl adds the mean episode reward and train_correct (sampled episodes)",
    )

    def __init__(self, params: RuleParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        seed = int(context.train.seed)
        self.actions = torch.Generator().manual_seed(seed * 7919 + 17)
        self.last_reward: np.ndarray | None = None  # mean episode reward per member (M,)
        self.last_outcome: np.ndarray | None = None  # fraction correct per member (M,)
        self.last_actions: Tensor | None = None  # (T, M, B) actions of the last batch
        self.window: list[tuple[float, float]] = []  # (reward, correct) since the last log

    @classmethod
    def task_view(cls, task: Any, params: RuleParams) -> PolicyTask:
        """The policy's view of ``task`` with the rewards of ``params`` (a one-line error for
        a task without a decision)."""
        assert isinstance(params, A2CParams)
        try:
            return PolicyTask(task, params.rewards())
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"rule 'a2c' needs a task with a decision: {exc}") from None

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        """Leaky networks, method control, vector inputs, decision tasks, no activity
        penalty."""
        kind = context.net.config.kind
        if kind not in LEAKY:
            raise InvalidParameterError(
                f"rule 'a2c' trains the leaky networks ({', '.join(LEAKY)}); got '{kind}'"
            )
        super().check(params, context)
        train = context.train
        if train.l1_activity > 0 or train.l2_activity > 0:
            raise InvalidParameterError(
                "rule 'a2c' has no activity penalties: set l1_activity and l2_activity to 0"
            )
        task = context.task()
        if not isinstance(task, PolicyTask):
            cls.task_view(task, params)  # the one-line error of a task without a decision

    def _task(self) -> PolicyTask:
        task = self.context.task()
        if not isinstance(task, PolicyTask):
            raise InvalidParameterError(
                "rule 'a2c' needs the policy network the trainer builds for it "
                "(rnnzoo.training.train or Trainer)"
            )
        return task

    def losses(self, batch: Any, progress: float) -> Tensor:
        """Play ``batch`` as B episodes per member and return each member's loss (M,)."""
        task = self._task()
        device = self.context.device
        inputs = input_tensor(batch, device)
        outputs = self.net(inputs, generator=self.context.noise).outputs
        if self.net.config.ensemble is None:
            outputs = outputs.unsqueeze(1)  # (T, M, B, A + 1)
        n_actions = task.n_actions
        log_p = torch.log_softmax(outputs[..., :n_actions], dim=-1)
        value = outputs[..., n_actions]
        probs = log_p.detach().exp().cpu().reshape(-1, n_actions)
        actions = torch.multinomial(probs, 1, generator=self.actions).reshape(value.shape)
        n_steps, n_models, batch_size = value.shape
        returns = np.zeros((n_steps, n_models, batch_size))
        mask = np.zeros((n_steps, n_models, batch_size), dtype=bool)
        reward, correct = np.zeros(n_models), np.zeros(n_models)
        for m in range(n_models):
            rewards, last, outcome = task.play(actions[:, m].numpy(), batch)
            returns[:, m] = discounted_returns(rewards, last, self.params.gamma)
            mask[:, m] = np.arange(n_steps)[:, None] <= last[None, :]
            reward[m], correct[m] = rewards.sum(0).mean(), (outcome == 1).mean()
        self.last_reward, self.last_outcome, self.last_actions = reward, correct, actions
        self.window.append((float(reward.mean()), float(correct.mean())))
        g = torch.from_numpy(returns).to(value)
        w = torch.from_numpy(mask).to(value)
        chosen = log_p.gather(-1, actions.to(device).unsqueeze(-1)).squeeze(-1)
        advantage = (g - value).detach()
        entropy = -(log_p.exp() * log_p).sum(-1)
        p = self.params
        per_step = -chosen * advantage + p.value_coef * (g - value).square()
        per_step = per_step - p.entropy_coef * entropy
        loss = (per_step * w).sum(dim=(0, 2)) / batch_size
        tc = self.context.train
        if tc.l1_weights or tc.l2_weights:
            loss = loss + weight_penalty(self.net, tc.l1_weights, tc.l2_weights, self.n_models)
        self._losses = loss
        return loss

    def _write_gradients(self) -> None:
        assert self._losses is not None
        backward_alive(self._losses, self.alive)
        self._losses = None

    def flops(self, batch: Any, progress: float) -> float:
        """As BPTT: 6 M B N^2 per time step (forward 2, backward 4)."""
        return batch.n_steps * self.net.flops_per_time_step(batch.batch_size)

    def logged(self) -> dict[str, Any]:
        """The mean episode reward and fraction of correct sampled episodes since the last
        evaluation record."""
        if not self.window:
            return {}
        rewards, correct = zip(*self.window, strict=True)
        self.window = []
        return {"reward": float(np.mean(rewards)), "train_correct": float(np.mean(correct))}

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "actions": self.actions.get_state(),
            "window": json.dumps(self.window),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.actions.set_state(state["actions"].cpu())
        self.window = [tuple(w) for w in json.loads(state["window"])]
