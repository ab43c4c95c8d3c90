"""Advantage actor-critic for recurrent policies (after Song, Yang & Wang 2017, eLife 6:e21492).

The network's outputs are action logits and a value estimate V (see `PolicyTask`).  Per
training step, B episodes run at once: the observations of a trial do not depend on the
actions until the episode ends (on the response, at the end of the response window, or at a
fixation break with ``abort``), so one forward pass over the whole trial, with actions sampled at every step and the
steps after each episode's end masked, is exactly B episodes of the gymnasium environment
(`rnnzoo.interop.gym`; tested).  With returns G_t = sum_k gamma^k r_{t+k} inside the episode
and the advantage A_t = G_t - V_t (V held fixed in the policy term), each member's loss is

    L = [ - sum_t log pi(a_t | h_t) A_t + c_V sum_t (G_t - V_t)^2 - c_H sum_t H(pi(. | h_t)) ] / B

summed over the steps of the episodes.  Song et al. trained a separate baseline network that
reads the policy network's activity; here the value is a readout of the policy network itself
(the A2C form), and the optimiser is the run's (Adam by default, gradients clipped per member).
Actions are drawn from the learner's own seeded generator, saved in every checkpoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error
from rnnzoo.training.reward.policy import PolicyTask


class A2CParams(BaseModel):
    """Hyperparameters of ``a2c`` (frozen; a misspelt name is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gamma: float = Field(1.0, gt=0, le=1, description="discount per step")
    value_coef: float = Field(0.5, ge=0, le=100, description="weight of the value loss c_V")
    entropy_coef: float = Field(0.01, ge=0, le=10, description="weight of the entropy bonus c_H")
    correct: float = Field(1.0, description="reward of a correct response")
    fail: float = Field(0.0, description="reward of a wrong or missing response")
    fixation_break_penalty: float | None = Field(
        -0.1,
        description="reward of each non-zero action before the response window (neurogym's "
        "abort reward); None = early actions are ignored",
    )
    abort: bool = Field(False, description="a fixation break ends the episode")

    @classmethod
    def make(cls, **values: Any) -> A2CParams:
        """Validated hyperparameters, or `InvalidParameterError` naming the bad one."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise InvalidParameterError(parse_validation_error("a2c", cls, exc)) from None

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


class A2CLearner:
    """The ``a2c`` rule bound to one network (learner protocol: `losses`, `state_dict`)."""

    name = "a2c"

    def __init__(self, params: A2CParams, net: Any, noise: torch.Generator, seed: int) -> None:
        self.params = params
        self.net = net
        self.noise = noise
        self.actions = torch.Generator().manual_seed(int(seed) * 7919 + 17)
        self.last_reward: np.ndarray | None = None  # mean episode reward per member (M,)
        self.last_outcome: np.ndarray | None = None  # fraction correct per member (M,)
        self.last_actions: Tensor | None = None  # (T, M, B) actions of the last batch

    def losses(self, batch: Any, task: PolicyTask) -> Tensor:
        """Play ``batch`` as B episodes per member and return each member's loss (M,)."""
        device = next(self.net.parameters()).device
        outputs = self.net(torch.from_numpy(batch.inputs).to(device), generator=self.noise).outputs
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
        g = torch.from_numpy(returns).to(value)
        w = torch.from_numpy(mask).to(value)
        chosen = log_p.gather(-1, actions.to(device).unsqueeze(-1)).squeeze(-1)
        advantage = (g - value).detach()
        entropy = -(log_p.exp() * log_p).sum(-1)
        p = self.params
        per_step = -chosen * advantage + p.value_coef * (g - value).square()
        per_step = per_step - p.entropy_coef * entropy
        return (per_step * w).sum(dim=(0, 2)) / batch_size

    def state_dict(self) -> dict[str, Any]:
        """The action generator's state (the network noise is the trainer's)."""
        return {"actions": self.actions.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.actions.set_state(state["actions"].cpu())

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.params.model_dump()}
