"""`TaskEnv`: one rnnzoo trial per gymnasium episode.

Observations are the task's inputs, one step per `step` (``Box`` of shape (I,), float32).
Two kinds of actions:

- ``"discrete"`` (decision tasks, see `rnnzoo.tasks.decisions`): ``Discrete(1 + C)``, 0 =
  fixate, k = choice k; neurogym's rewards: ``correct`` for an accepted response, ``fail``
  otherwise, an optional ``fixation_break_penalty`` for each non-zero action before the
  response window (with ``abort=True`` the break ends the episode, neurogym's ``abort``);
  the episode ends on the response, or at the end of the window.
- ``"continuous"`` (every task): ``Box`` of shape (O,), the network's outputs; the episode is
  the whole trial and its last step's reward is the task's own score of the actions (1 =
  perfect), every other step's 0.

``action="auto"`` takes "discrete" where the task has a decision structure, else
"continuous".  Seeding is gymnasium's: ``reset(seed=s)`` reseeds ``self.np_random`` and every
trial is drawn from it (``task.generate(1, self.np_random)``), so the same seed gives the same
episodes; no global random state is touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.interop._optional import require
from rnnzoo.tasks.decisions import decisions

gym = require("gymnasium")

ACTIONS = ("auto", "discrete", "continuous")
ACTION_BOUND = 10.0
"""Bound of a continuous action (outputs of the zoo's tasks lie well inside +-10)."""


class TaskEnv(gym.Env):
    """An rnnzoo task as a gymnasium environment (see the module docstring).

    Parameters
    ----------
    task : a `rnnzoo.tasks.Task` (or composition).
    action : "auto", "discrete" or "continuous".
    correct, fail : rewards of a correct / wrong (or missing) response.
    fixation_break_penalty : reward of each non-zero action before the window; None = none.
    abort : a fixation break ends the episode (needs a penalty).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        task: Any,
        action: str = "auto",
        *,
        correct: float = 1.0,
        fail: float = 0.0,
        fixation_break_penalty: float | None = None,
        abort: bool = False,
    ) -> None:
        if action not in ACTIONS:
            raise InvalidParameterError(
                f"'action' must be one of {', '.join(ACTIONS)}; got {action!r}"
            )
        self.task = task
        probe = task.generate(64, 0)
        if action != "continuous":
            try:
                structure = decisions(task, probe)
                action = "discrete"
            except InvalidParameterError:
                if action == "discrete":
                    raise
                action = "continuous"
        self.action_kind = action
        self.rewards = {"correct": float(correct), "fail": float(fail)}
        self.fixation_break_penalty = fixation_break_penalty
        self.abort = abort
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(task.n_inputs,), dtype=np.float32
        )
        if action == "discrete":
            self.action_space = gym.spaces.Discrete(structure.n_actions)
        else:
            self.action_space = gym.spaces.Box(
                -ACTION_BOUND, ACTION_BOUND, shape=(task.n_outputs,), dtype=np.float32
            )
        self._batch = None
        self._t = 0

    # ---- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode: a trial drawn from ``self.np_random``, or the one-trial batch
        ``options["trial"]`` (to replay a given trial)."""
        super().reset(seed=seed)
        trial = (options or {}).get("trial")
        if trial is not None and trial.batch_size != 1:
            raise InvalidParameterError(
                f"options['trial'] must be a batch of one trial; got {trial.batch_size}"
            )
        self._batch = trial if trial is not None else self.task.generate(1, self.np_random)
        self._length = int(self._batch.lengths[0])
        self._t = 0
        self._actions: list[np.ndarray] = []
        if self.action_kind == "discrete":
            self._structure = decisions(self.task, self._batch)
        return self._observation(), self._info()

    def step(self, action: Any):
        if self._batch is None:
            raise InvalidParameterError("call reset() before step()")
        if not self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)):
            raise InvalidParameterError(f"action must be in {self.action_space}; got {action!r}")
        if self.action_kind == "discrete":
            reward, terminated = self._decide(int(action))
        else:
            reward, terminated = self._follow(np.asarray(action, dtype=np.float32))
        self._t += 1
        observation = self._observation() if not terminated else self._observation(last=True)
        return observation, reward, terminated, False, self._info()

    # ---- internals ------------------------------------------------------------------------------
    def _observation(self, last: bool = False) -> np.ndarray:
        t = min(self._t, self._length - 1) if not last else self._length - 1
        return self._batch.inputs[t, 0].astype(np.float32)

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"step": self._t, "trial_steps": self._length}
        if self.action_kind == "discrete":
            info["accepted"] = np.flatnonzero(self._structure.accepted[0]).tolist()
            info["response_window"] = (int(self._structure.start[0]), int(self._structure.stop[0]))
        return info

    def _decide(self, action: int) -> tuple[float, bool]:
        s, t = self._structure, self._t
        if t < s.start[0]:
            if action != 0 and self.fixation_break_penalty is not None:
                return float(self.fixation_break_penalty), self.abort
            return 0.0, False
        if action != 0 or t >= s.stop[0] - 1:
            ok = bool(s.accepted[0, action])
            return self.rewards["correct"] if ok else self.rewards["fail"], True
        return 0.0, False

    def _follow(self, action: np.ndarray) -> tuple[float, bool]:
        self._actions.append(action)
        if self._t < self._length - 1:
            return 0.0, False
        outputs = np.stack(self._actions)[:, None, :]
        return float(self.task.performance(outputs, self._batch)[0]), True


def task_env(
    name: str,
    version: str = "vanilla",
    action: str = "auto",
    *,
    correct: float = 1.0,
    fail: float = 0.0,
    fixation_break_penalty: float | None = None,
    abort: bool = False,
    **params: Any,
) -> TaskEnv:
    """`TaskEnv` of task ``name`` in ``version`` with task parameters ``params`` (the reward
    settings as in `TaskEnv`)."""
    from rnnzoo import tasks

    return TaskEnv(
        tasks.make(name, version, **params),
        action,
        correct=correct,
        fail=fail,
        fixation_break_penalty=fixation_break_penalty,
        abort=abort,
    )


def register_envs() -> list[str]:
    """Register every rnnzoo task with gymnasium as ``rnnzoo/NAME-v0`` (``gymnasium.make``
    accepts ``version=...``, task parameters and ``action=...`` as keywords); returns the ids."""
    from rnnzoo import tasks

    ids = []
    for name in tasks.task_names():
        env_id = f"rnnzoo/{name}-v0"
        if env_id not in gym.envs.registry:
            gym.register(id=env_id, entry_point=task_env, kwargs={"name": name})
        ids.append(env_id)
    return ids
