"""Layer 1: the task zoo (NumPy only; never imports torch).

>>> from rnnzoo import tasks
>>> task = tasks.make("flipflop", version="vanilla", n_bits=3)
>>> batch = task.generate(batch_size=16, seed=0)
>>> batch.inputs.shape[1:]
(16, 3)
"""

from rnnzoo.tasks.base import Metric, StatePenalty, Task, TaskCard, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.compose import MultiTask, compose
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import (
    describe_all,
    from_config,
    get_task_class,
    make,
    register,
    task_names,
)
from rnnzoo.tasks.timing import Choice, Duration, Fixed, TruncExp, Uniform, steps

__all__ = [
    "Choice",
    "Duration",
    "Fixed",
    "Metric",
    "MultiTask",
    "StatePenalty",
    "Task",
    "TaskCard",
    "TaskParams",
    "TrialBatch",
    "TruncExp",
    "Uniform",
    "Version",
    "compose",
    "describe_all",
    "from_config",
    "get_task_class",
    "make",
    "ms_field",
    "register",
    "steps",
    "task_names",
]
