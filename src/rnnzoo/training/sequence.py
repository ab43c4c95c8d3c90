"""Sequential training: one network trained on task A, then B, ... with the record of how it
performs on every earlier task after each stage ("performance on A after B").

Stage i is an ordinary run (its own directory ``out/stage{i}_{task}`` with config.yaml,
checkpoints, metrics, summary) whose initial weights are the final weights of stage i - 1
(stage 0 starts from the seeded initialisation of its config); the optimiser starts afresh each
stage.  All stages must build the same network: same model kind, options and ensemble size, and
tasks with the same input/output sizes and ``dt_ms`` (checked before anything trains).

After each stage the network is evaluated on the held-out *test* stream of every task seen so
far: batch 0 of ``eval_batch_size`` trials with that task's stage seed and statistic, so a task
is scored on the same trials after every stage (a task with a curriculum: at its final values).
``out/sequence.json`` holds, per stage, the run's summary and these performances.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.build import Method, build_task, task_dt_ms
from rnnzoo.training.config import RunConfig
from rnnzoo.training.evaluation import evaluate_network
from rnnzoo.training.trainer import Trainer


def _task_name(config: RunConfig) -> str:
    return str(config.task.get("task", "compose"))


def check_sequence(configs: Sequence[RunConfig]) -> None:
    """Raise `InvalidParameterError` unless every stage builds the same network (model) for
    tasks of the same input/output sizes and ``dt_ms``."""
    if len(configs) < 1:
        raise InvalidParameterError("'configs' must hold at least one stage")
    first = configs[0]
    shape0 = None
    for i, cfg in enumerate(configs):
        if not isinstance(cfg, RunConfig):
            raise InvalidParameterError(
                f"stage {i}: expected a RunConfig; got {type(cfg).__name__}"
            )
        if cfg.model != first.model:
            raise InvalidParameterError(
                f"stage {i} ({_task_name(cfg)}): its model {cfg.model.model_dump()} differs "
                f"from stage 0's {first.model.model_dump()}; sequential training needs one "
                "network (same kind, options and ensemble)"
            )
        task = build_task(cfg)
        shape = {"n_inputs": task.n_inputs, "n_outputs": task.n_outputs, "dt_ms": task_dt_ms(task)}
        if shape0 is None:
            shape0 = shape
        elif shape != shape0:
            raise InvalidParameterError(
                f"stage {i} ({_task_name(cfg)}): task sizes {shape} differ from stage 0's "
                f"{shape0}; every task must fit the same network"
            )


def train_sequence(
    configs: Sequence[RunConfig],
    out: str | Path,
    *,
    method: Method | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Train one network on ``configs[0]``'s task, then ``configs[1]``'s, ...; write
    ``out/sequence.json`` and return its content.

    ``method`` overrides every stage's configured method object (tests).  The SQLite table
    is ``out/results.sqlite`` (one row per stage).
    """
    configs = list(configs)
    check_sequence(configs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    net = None
    seen: list[dict[str, Any]] = []  # per earlier stage: its task (final values) and settings
    stages: list[dict[str, Any]] = []
    for i, cfg in enumerate(configs):
        run_dir = out / f"stage{i}_{_task_name(cfg)}"
        trainer = Trainer(
            cfg,
            run_dir,
            method=method,
            db=out / "results.sqlite",
            progress=progress,
            net=None if net is None else copy.deepcopy(net),
        )
        result = trainer.run()
        net = trainer.net
        seen.append({"stage": i, "task": trainer.current_task(), "train": cfg.train})
        performance = []
        for s in seen:
            tc = s["train"]
            perf = evaluate_network(
                net, s["task"], tc.eval_batch_size, tc.seed, tc.statistic, split="test"
            )
            performance.append(
                {
                    "stage": s["stage"],
                    "task": _task_name(configs[s["stage"]]),
                    "performance": perf["statistic"],
                    "members": perf["members"],
                }
            )
        stages.append(
            {
                "stage": i,
                "task": _task_name(cfg),
                "run_dir": str(run_dir.resolve()),
                "initial_weights": "seed" if i == 0 else f"stage {i - 1} final weights",
                "summary": result.summary(),
                "performance": performance,
            }
        )
        record = {"stages": stages}
        with atomic_path(out / "sequence.json") as tmp:
            Path(tmp).write_text(json.dumps(record, indent=2) + "\n")
    return record


__all__ = ["check_sequence", "train_sequence"]
