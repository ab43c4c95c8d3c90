"""Stage sequences inside a sweep (its ``stages:`` axis): one network (or one ensemble of
seeds) trained on each stage's task in turn, as `rnnzoo.training.sequence.train_sequence`
does, inside the job's run directory.

``RUN_DIR/stage<i>/`` is stage i's ordinary run directory (config.yaml, checkpoints, metrics,
model.safetensors); stage i > 0 starts from stage i - 1's final weights (its
model.safetensors) with a fresh optimiser.  A finished stage writes ``stage.json`` (its member
rows, as `rnnzoo.bench.worker.member_rows` derives them, and each member's scores on the first
stage's test batch, `stage_scores`); a rerun never retrains a stage with a stage.json and resumes the
unfinished one from its latest checkpoint.  A stage in which the whole job diverged ends the
sequence.

*The first stage's trials* ("task A"): the first stage's task, or for a composition the trials
of the composed tasks it gives a weight > 0 (all trials in parallel mode).  After every stage
each member is scored on them (held-out test batch 0, `evaluate_network`; a composition: the
mean of those tasks' scores), and the sweep's analyses run on the first stage's test grid
restricted to them (`first_view`), into ``RUN_DIR/stage<i>/mechanisms/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path

STAGE_FILE = "stage.json"


def stage_dir(run_dir: str | Path, stage: int) -> Path:
    """The run directory of stage ``stage`` of a stage sequence."""
    return Path(run_dir) / f"stage{stage}"


def finished_stages(run_dir: str | Path, n_stages: int) -> int:
    """How many stages, from the first, have finished (their stage.json exists)."""
    done = 0
    while done < n_stages and (stage_dir(run_dir, done) / STAGE_FILE).is_file():
        done += 1
    return done


def first_labels(task: Any) -> list[str] | None:
    """The labels of the composed tasks a composition trains on (weight > 0; all of them in
    parallel mode); None for a task that is not a composition."""
    if not hasattr(task, "weights"):
        return None
    if task.mode == "parallel":
        return list(task.labels)
    return [label for label, w in zip(task.labels, task.weights, strict=True) if w > 0]


def first_trials(task: Any, seed: int, max_trials: int) -> Any:
    """The first stage's test grid (``task`` is the first stage's) restricted to its trained
    tasks' trials, at most ``max_trials`` of them."""
    from rnnzoo.analysis.run import analysis_batch

    batch = analysis_batch(task, seed, np.iinfo(np.int32).max)
    labels = first_labels(task)
    if labels is not None and task.mode != "parallel":
        keep = [task.labels.index(label) for label in labels]
        batch = batch.select(np.flatnonzero(np.isin(batch.conditions["task_index"], keep)))
    return batch.select(np.arange(min(batch.batch_size, max_trials)))


def first_view(run_dir: str | Path, member: int, seed: int, max_trials: int) -> tuple[Any, Any]:
    """(the first stage's task, its trials as `first_trials` picks them) of member ``member``
    of a stage sequence's run directory."""
    from rnnzoo.analysis.run import load_run

    _config, _net, task = load_run(stage_dir(run_dir, 0), member)
    return task, first_trials(task, seed, max_trials)


def row_network(row: dict[str, Any], seed: int, max_trials: int) -> tuple[Any, Any]:
    """(the trained network, the trials it is analysed on) of a results row: a plain run's
    network on its test grid, a stage sequence's last stage on its first stage's trials."""
    from rnnzoo.analysis.run import analysis_batch, load_run

    run_dir, member = Path(row["run_dir"]), row["member"]
    if not row.get("stage_performance"):
        _config, net, task = load_run(run_dir, member)
        return net, analysis_batch(task, seed, max_trials)
    last = len(json.loads(row["stage_performance"])) - 1
    net = load_run(stage_dir(run_dir, last), member)[1]
    return net, first_view(run_dir, member, seed, max_trials)[1]


def stage_scores(net: Any, first: Any) -> list[dict[str, Any]]:
    """Per member of ``net``: {"first_performance": its performance on the first stage's
    trials, "task_performance": label -> score of every composed task (None for a plain
    task)} on held-out test batch 0 of ``eval_batch_size`` trials of the first stage's task
    (``first``: its RunConfig; a composition's batch is balanced over its tasks)."""
    from rnnzoo.training.build import build_task
    from rnnzoo.training.evaluation import evaluate_network

    tc = first.train
    task = build_task(first)
    perf = evaluate_network(net, task, tc.eval_batch_size, tc.seed, tc.statistic, split="test")
    labels = first_labels(task)
    members = range(len(perf["members"]))
    if labels is None:
        return [
            {"first_performance": perf["members"][m], "task_performance": None} for m in members
        ]
    by_task = perf["tasks_members"]
    scores = []
    for m in members:
        mine = [by_task[label][m] for label in labels]
        first_score = None if None in mine else float(np.mean(mine))
        scores.append(
            {
                "first_performance": first_score,
                "task_performance": {label: values[m] for label, values in by_task.items()},
            }
        )
    return scores


def train_stages(task: Any, train_dir: Any) -> tuple[int | None, list[dict[str, Any]]]:
    """Train the unfinished stages of ``task.job`` (a `JobTask` of a stage sequence) with
    ``train_dir(task, config, folder, run_id, net)`` (the worker's training of one run
    directory: (resumed_from, TrainResult, evaluation records)).  Returns (the step the
    interrupted stage resumed from or None, one results row per run)."""
    from rnnzoo.bench.worker import member_rows
    from rnnzoo.models import load_model

    job = task.job
    resumed_from = None
    records = []
    for i, config in enumerate(job.stages):
        folder = stage_dir(task.run_dir, i)
        done = folder / STAGE_FILE
        if not done.is_file():
            start = (
                None if i == 0 else load_model(stage_dir(task.run_dir, i - 1) / "model.safetensors")
            )
            resumed, result, metrics = train_dir(
                task, config, folder, f"{job.job_id}.stage{i}", start
            )
            resumed_from = resumed if resumed is not None else resumed_from
            record = {
                "stage": i,
                "status": result.status,
                "rows": member_rows(job, result, metrics),
                "scores": stage_scores(result.net, job.stages[0]),
            }
            with atomic_path(done) as tmp:
                Path(tmp).write_text(json.dumps(record, indent=1) + "\n")
        records.append(json.loads(done.read_text()))
        if records[-1]["status"] == "diverged":
            break
    return resumed_from, sequence_rows(len(job.runs), records)


def sequence_rows(members: int, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per member from the stages' records: the row of the stage where the member
    diverged, else of the last stage trained, with ``stage_performance`` (JSON: per stage
    {stage, status, steps, performance (the trainer's, on its own task), first_performance,
    task_performance})."""
    rows = []
    for m in range(members):
        stages = [
            {
                "stage": r["stage"],
                "status": r["rows"][m]["status"],
                "steps": r["rows"][m]["steps"],
                "performance": r["rows"][m]["final_performance"],
                **r["scores"][m],
            }
            for r in records
        ]
        diverged = [r["rows"][m] for r in records if r["rows"][m]["status"] == "diverged"]
        row = dict(diverged[0] if diverged else records[-1]["rows"][m])
        rows.append({**row, "stage_performance": json.dumps(stages)})
    return rows


def analyse_stages(
    run_dir: Path, n_stages: int, member: int, section: Any, task_label: str
) -> dict[str, Any]:
    """The section's pieces (`rnnzoo.bench.mechanisms.analyse_member`) on member ``member``
    after every finished stage, on the first stage's trials; returns the last stage's
    results-table columns."""
    from rnnzoo.bench.mechanisms import analyse_member

    def view(seed: int, max_trials: int) -> tuple[Any, Any]:
        return first_view(run_dir, member, seed, max_trials)

    values: dict[str, Any] = {}
    for i in range(finished_stages(run_dir, n_stages)):
        values = analyse_member(stage_dir(run_dir, i), member, section, task_label, view)
    return values
