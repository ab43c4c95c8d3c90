"""The a2c rule: its loss is the REINFORCE-with-baseline loss of real gymnasium episodes, it
resumes bit for bit, it refuses what it cannot train, and it learns a decision from rewards."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnzoo import tasks
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training import RunConfig
from rnnzoo.training.reward import A2CParams, RewardTrainer, train_a2c

PDM = {"task": "perceptual_decision_making", "params": {"dt_ms": 20, "decision_ms": 200,
                                                          "input_duration_ms": 200}}  # fmt: skip


def _config(max_steps=6, kind="leaky_rate", task=PDM, **train):
    return RunConfig(
        task=task,
        model={"kind": kind, "options": {"n_hidden": 8, **({"tau_ms": 100.0} if "leaky" in kind else {})}},
        train={"batch_size": 8, "max_steps": max_steps, "eval_every": 3, "eval_batch_size": 16,
               "checkpoint_every": 3, **train},
    )  # fmt: skip


def test_loss_is_reinforce_with_baseline_on_gym_episodes():
    gym_env = pytest.importorskip("rnnzoo.interop.gym")
    params = A2CParams(value_coef=0.0, entropy_coef=0.0, fixation_break_penalty=-0.1)
    trainer = RewardTrainer(_config(), params, progress=False)
    task = trainer.task
    batch = task.generate(8, seed=3)
    loss = trainer.losses(batch, 0.0)
    actions = trainer.learner.last_actions[:, 0].numpy()  # (T, B)
    with torch.no_grad():
        out = trainer.net(torch.from_numpy(batch.inputs)).outputs.double()
    log_p, value = torch.log_softmax(out[..., :3], -1).numpy(), out[..., 3].numpy()
    expected = 0.0
    for b in range(8):
        env = gym_env.TaskEnv(task, fixation_break_penalty=-0.1)
        env.reset(options={"trial": batch.select([b])})
        rewards = []
        for t in range(batch.n_steps):
            _, reward, terminated, _, _ = env.step(int(actions[t, b]))
            rewards.append(reward)
            if terminated:
                break
        returns = np.cumsum(rewards[::-1])[::-1]  # gamma = 1
        for t, g in enumerate(returns):
            expected -= log_p[t, b, actions[t, b]] * (g - value[t, b])
    assert float(loss[0].detach()) == pytest.approx(expected / 8, rel=1e-5, abs=1e-6)
    assert trainer.net.config.n_outputs == 4  # fixate, two choices, value


def test_train_a2c_is_a_run_of_the_rule_and_keeps_its_settings_on_resume(tmp_path):
    """Exact resume of a2c runs: tests/cli/test_train_a2c_cli.py and the every-rule test of
    tests/training/test_rule_training.py."""
    result = train_a2c(_config(3), tmp_path / "run", A2CParams(gamma=0.9), report=False)
    assert result.rule == "a2c" and result.steps == 3
    saved = RunConfig.from_yaml(tmp_path / "run" / "config.yaml")
    assert saved.rule.name == "a2c" and saved.rule.hyperparameters == {"gamma": 0.9}
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3] and all("reward" in r for r in records)
    with pytest.raises(InvalidParameterError, match=r"rule\.hyperparameters\.gamma: run 0\.9"):
        train_a2c(_config(6), tmp_path / "run", A2CParams(), resume=True)


def test_refuses_what_it_cannot_train():
    with pytest.raises(InvalidParameterError, match="trains the leaky networks"):
        RewardTrainer(_config(kind="gru"), A2CParams())
    with pytest.raises(InvalidParameterError, match="no response epoch"):
        RewardTrainer(_config(task={"task": "flipflop"}), A2CParams())
    with pytest.raises(InvalidParameterError, match=r"a2c: 'gamma' must be > 0 and <= 1; got 2.0"):
        A2CParams.make(gamma=2.0)
    with pytest.raises(InvalidParameterError, match="unknown parameter 'gama'"):
        A2CParams.make(gama=0.9)


@pytest.mark.slow
def test_learns_a_decision_from_rewards_alone():
    config = RunConfig(
        task={"task": "perceptual_decision_making", "params": {"dt_ms": 20, "decision_ms": 200}},
        model={"kind": "leaky_rate", "options": {"n_hidden": 64, "tau_ms": 100.0}},
        train={"lr": 3e-3, "batch_size": 64, "max_steps": 400, "eval_every": 25,
               "eval_batch_size": 256, "target_performance": 0.85},
    )  # fmt: skip
    result = train_a2c(config, progress=False)
    assert result.final_performance >= 0.85  # the greedy policy, on held-out trials
    assert tasks.make("perceptual_decision_making").metric.name == "accuracy"
