"""rnnzoo tasks as gymnasium environments, checked by gymnasium's own environment checker."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")  # CI installs it (with neurogym, scripts/setup.sh)

from gymnasium.utils.env_checker import check_env  # noqa: E402

from rnnzoo import tasks  # noqa: E402
from rnnzoo.errors import InvalidParameterError  # noqa: E402
from rnnzoo.interop.gym import TaskEnv, register_envs, task_env  # noqa: E402
from rnnzoo.tasks.decisions import decisions, episode_rewards  # noqa: E402

# Tasks without one choice in one response window: continuous actions, scored at the end
# (image_classification reads its choice in the image's last 60 ms, and the yang2019 suite's
# batches are compositions whose epochs are named per rule: neither has a response epoch).
CONTINUOUS = {
    "flipflop", "image_classification", "marked_input", "memory_pro", "moving_average",
    "rule_reversal", "serial_reaction_time", "sine_generator", "yang2019",
}  # fmt: skip


@pytest.mark.parametrize("name", tasks.task_names())
def test_every_task_passes_gymnasiums_checker(name):
    env = TaskEnv(tasks.make(name))
    assert env.action_kind == ("continuous" if name in CONTINUOUS else "discrete")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its advice on infinite bounds and action scaling
        check_env(env, skip_render_check=True)


def _episode(env, seed, policy):
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(len(rewards)))
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            return np.array(observations), rewards


def test_reset_seed_gives_the_same_episode_and_no_global_state():
    env = task_env("delayed_match_to_sample", dt_ms=20)
    state = np.random.get_state()
    a, _ = _episode(env, 7, lambda t: 0)
    b, _ = _episode(env, 7, lambda t: 0)
    c, _ = _episode(env, 8, lambda t: 0)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_no_go_trials_accept_withholding_only():
    task = tasks.make("dmsnogo", "soo2023")
    structure = decisions(task, task.generate(64, seed=0))
    nogo = structure.accepted[:, 0]
    assert 0 < nogo.sum() < 64  # both kinds of trial
    assert (
        not structure.accepted[nogo, 1:].any() and structure.accepted[~nogo, 1:].any(axis=1).all()
    )


def test_neurogym_reward_convention():
    env = TaskEnv(tasks.make("delayed_match_to_sample", dt_ms=20), fixation_break_penalty=-0.1)
    _, info = env.reset(seed=3)
    start, _ = info["response_window"]
    right = info["accepted"][0]
    wrong = 3 - right
    _, rewards = _episode(env, 3, lambda t: right if t >= start else 0)
    assert rewards[-1] == 1.0 and len(rewards) == start + 1 and sum(rewards[:-1]) == 0
    _, rewards = _episode(env, 3, lambda t: wrong if t >= start else 0)
    assert rewards[-1] == 0.0 and len(rewards) == start + 1
    _, rewards = _episode(env, 3, lambda t: right)  # breaks fixation on every early step
    assert rewards == [-0.1] * start + [1.0]
    aborting = TaskEnv(tasks.make("delayed_match_to_sample", dt_ms=20), fixation_break_penalty=-0.1,
                       abort=True)  # fmt: skip
    _, rewards = _episode(aborting, 3, lambda t: right)  # the first break ends the episode
    assert rewards == [-0.1]
    lenient = TaskEnv(tasks.make("delayed_match_to_sample", dt_ms=20))
    _, rewards = _episode(lenient, 3, lambda t: right)  # no penalty: early actions are ignored
    assert rewards[-1] == 1.0 and len(rewards) == start + 1
    _, rewards = _episode(lenient, 3, lambda t: 0)  # never responds: fails at the window's end
    assert rewards[-1] == 0.0 and len(rewards) == info["response_window"][1]


@pytest.mark.parametrize("abort", [False, True])
def test_vectorised_rewards_equal_stepping_the_env(abort):
    task = tasks.make("perceptual_decision_making")
    batch = task.generate(16, seed=4)
    structure = decisions(task, batch)
    rng = np.random.default_rng(0)
    actions = np.where(rng.random((batch.n_steps, 16)) < 0.003, 1, 0)  # a few early breaks
    respond = structure.start + rng.integers(-1, 2, size=16)  # then a choice near the window
    after = np.arange(batch.n_steps)[:, None] >= respond[None, :]
    actions[after] = np.broadcast_to(rng.integers(1, 3, size=16), actions.shape)[after]
    rewards, last, outcome = episode_rewards(
        actions, structure, fixation_break_penalty=-0.5, abort=abort
    )
    assert (outcome == -1).any() == abort and (outcome == 1).any()
    for b in range(16):
        env = TaskEnv(task, fixation_break_penalty=-0.5, abort=abort)
        env.reset(options={"trial": batch.select([b])})  # the same trial as column b
        got = []
        for t in range(batch.n_steps):
            _, reward, terminated, _, _ = env.step(int(actions[t, b]))
            got.append(reward)
            if terminated:
                break
        assert len(got) == last[b] + 1
        np.testing.assert_array_equal(rewards[: len(got), b], got)
        assert outcome[b] == (-1 if abort and got[-1] == -0.5 else 1 if got[-1] == 1 else 0)


def test_continuous_actions_score_with_the_tasks_metric():
    env = task_env("flipflop", n_bits=2)
    _, info = env.reset(seed=1)
    targets = env._batch.targets[:, 0]
    _, rewards = _episode(env, 1, lambda t: targets[t])
    assert len(rewards) == info["trial_steps"] and rewards[-1] == pytest.approx(1.0)
    _, rewards = _episode(env, 1, lambda t: -targets[t])
    assert rewards[-1] < 0.5


def test_gymnasium_make_and_errors():
    ids = register_envs()
    assert "rnnzoo/flipflop-v0" in ids
    env = gym.make("rnnzoo/delayed_match_to_sample-v0", dt_ms=20)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (17,)
    with pytest.raises(InvalidParameterError, match="'action' must be one of"):
        task_env("flipflop", action="binary")
    with pytest.raises(InvalidParameterError, match="asks for no choice"):
        task_env("sine_generator", action="discrete")
    with pytest.raises(InvalidParameterError, match="action must be in Discrete"):
        env = task_env("tmaze")
        env.reset(seed=0)
        env.step(7)


def test_a_neurogym_env_through_both_bridges():
    pytest.importorskip("neurogym")
    env = task_env("neurogym/PerceptualDecisionMaking", dt_ms=20)
    assert env.action_kind == "discrete" and env.action_space.n == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env, skip_render_check=True)
