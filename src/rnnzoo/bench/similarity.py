"""A study on a finished sweep: how close each architecture's solutions are to those of a
reference architecture (seed 004 appendix B.3, Table S2).

Model labels name ARCHITECTURE/GROUP (e.g. ``cordsnet/relu``; a label without "/" is its own
architecture, grouped by its ``activation`` option).  For every task of the sweep and every
group, each trained
network (every seed of every model entry) is run without noise on the task's test grid; its
rates at the valid steps of every trial form a (samples x units) matrix.  The distance between
two networks is the Procrustes shape distance of Williams et al. 2021 (`shape_distance`,
alpha = 1: the angle between the centred, normalised matrices after the best rotation).  A
network's distance to the reference is its mean distance to the reference architecture's
networks (other seeds only, for the reference itself); the table gives, per architecture, the
mean and standard error of the mean over its networks.  The same is done for the untrained
networks (their initial weights), as the seed's trained/untrained comparison.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path
from rnnzoo.bench.sweep import Sweep, expand
from rnnzoo.errors import InvalidParameterError

MAX_TRIALS = 64


def _networks(sweep: Sweep) -> list[dict[str, Any]]:
    """Every finished network of the sweep (a stage sequence's: its last stage's): task and
    model labels, activation, seed, the trained standalone network and its initial
    (untrained) twin."""
    from rnnzoo.bench.stages import stage_dir
    from rnnzoo.models import from_config, load_model

    entries = {m.label or m.kind: m for m in sweep.models}
    found = []
    for job in expand(sweep):
        folder = job.run_dir(sweep)
        if job.stages:
            folder = stage_dir(folder, len(job.stages) - 1)
        path = folder / "model.safetensors"
        if not path.is_file():
            continue
        saved = load_model(path)
        for i, run in enumerate(job.runs):
            trained = saved.member(i) if saved.config.ensemble is not None else saved
            entry = entries[run.model_label]
            architecture, slash, group = run.model_label.partition("/")
            if not slash:
                group = str(entry.options.get("activation", trained.options.activation))
            found.append(
                {
                    "task": run.task_label,
                    "model": architecture,
                    "activation": group,
                    "seed": run.seed,
                    "trained": trained,
                    "untrained": from_config(trained.config),
                    "task_config": run.config.task,
                }
            )
    return found


def _trajectories(net: Any, batch: Any) -> np.ndarray:
    from rnnzoo.analysis.network import simulate

    sim = simulate(net, batch.inputs)
    return sim.rates[batch.valid]


def architecture_distances(sweep: Sweep, reference: str) -> list[dict[str, Any]]:
    """Rows {task, activation, model, state ("trained" or "untrained"), mean, sem, n}: the
    mean Procrustes distance of each model's networks to the ``reference`` model's."""
    from rnnzoo.analysis.similarity import shape_distance
    from rnnzoo.tasks import from_config

    labels = list(dict.fromkeys((m.label or m.kind).partition("/")[0] for m in sweep.models))
    if reference not in labels:
        raise InvalidParameterError(
            f"'reference' must be one of the sweep's architectures {labels}; got {reference!r}"
        )
    networks = _networks(sweep)
    if not networks:
        raise InvalidParameterError(f"sweep {sweep.name} has no trained networks yet; run it first")
    rows = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in networks:
        groups.setdefault((item["task"], item["activation"]), []).append(item)
    for (task_label, activation), items in groups.items():
        task = from_config(items[0]["task_config"])
        grid = task.generate_test()
        batch = grid.select(np.arange(min(MAX_TRIALS, grid.batch_size)))
        for state in ("trained", "untrained"):
            acts = [_trajectories(item[state], batch) for item in items]
            refs = [i for i, item in enumerate(items) if item["model"] == reference]
            for model in labels:
                mine = [i for i, item in enumerate(items) if item["model"] == model]
                if not mine or not refs:
                    continue
                per_network = []
                for i in mine:
                    others = [shape_distance(acts[i], acts[j]) for j in refs if j != i]
                    if others:
                        per_network.append(float(np.mean(others)))
                values = np.asarray(per_network)
                rows.append(
                    {
                        "task": task_label,
                        "activation": activation,
                        "model": model,
                        "state": state,
                        "mean": float(values.mean()) if len(values) else float("nan"),
                        "sem": float(values.std(ddof=1) / np.sqrt(len(values)))
                        if len(values) > 1
                        else float("nan"),
                        "n": len(values),
                    }
                )
    return rows


def write_distances(rows: list[dict[str, Any]], out: Path, reference: str) -> dict[str, Path]:
    """distances.csv (every row) and distances.md (trained networks: tasks x models, averaged
    over activations, mean (sem over all networks))."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "distances.csv", "markdown": out / "distances.md"}
    fields = ["task", "activation", "model", "state", "mean", "sem", "n"]
    with atomic_path(paths["csv"]) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    models = [m for m in dict.fromkeys(r["model"] for r in rows) if m != reference]
    lines = [
        f"Mean Procrustes distance to the {reference} networks (trained; mean over activations "
        "of the per-activation means, +- the standard error over networks)",
        "",
        "| task | " + " | ".join(models) + " |",
        "|---|" + "---|" * len(models),
    ]
    for task in tasks:
        cells = []
        for model in models:
            picked = [
                r
                for r in rows
                if r["task"] == task and r["model"] == model and r["state"] == "trained"
            ]
            if not picked:
                cells.append("-")
                continue
            mean = np.mean([r["mean"] for r in picked])
            sems = [r["sem"] for r in picked if np.isfinite(r["sem"])]
            sem = np.sqrt(np.sum(np.square(sems))) / len(picked) if sems else float("nan")
            cells.append(f"{mean:.3f} (+-{sem:.3f})")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    with atomic_path(paths["markdown"]) as tmp:
        Path(tmp).write_text("\n".join(lines) + "\n")
    return paths
