"""Layer 3: training — BPTT with masked losses, thresholds, checkpoints with exact resume,
run directories and the SQLite results table.

    >>> config = RunConfig(task={"task": "flipflop"})      # the defaults of every entry point
    >>> result = train(config, "out/run")          # writes out/run/summary.json and report.png
    >>> result = train(recommended_config("dm1"), "out/dm1")   # the set-up of the task's source
"""

from rnnzoo.training.config import MethodSpec, ModelSpec, Ramp, RunConfig, TrainConfig
from rnnzoo.training.evaluation import ensemble_statistic
from rnnzoo.training.recommended import recommended_config
from rnnzoo.training.sequence import train_sequence
from rnnzoo.training.trainer import Trainer, TrainResult, train

__all__ = [
    "MethodSpec",
    "ModelSpec",
    "Ramp",
    "RunConfig",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "ensemble_statistic",
    "recommended_config",
    "train",
    "train_sequence",
]
