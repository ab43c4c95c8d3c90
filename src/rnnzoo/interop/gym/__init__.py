"""rnnzoo tasks as gymnasium environments (``pip install "rnnzoo[gym]"``).

>>> from rnnzoo.interop.gym import task_env
>>> env = task_env("delayed_match_to_sample", dt_ms=20)      # doctest: +SKIP
>>> obs, info = env.reset(seed=0)                            # doctest: +SKIP

See `rnnzoo.interop.gym.env` for the episode, action and reward conventions.
"""

from rnnzoo.interop.gym.env import TaskEnv, register_envs, task_env

__all__ = ["TaskEnv", "register_envs", "task_env"]
