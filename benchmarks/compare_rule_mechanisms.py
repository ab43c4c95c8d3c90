"""The mechanisms the learning rules find: fixed points and similarity distances between the
networks of a finished rules sweep (docs/benchmarks/learning_rules.md).

Run by hand after the sweep (not in CI)::

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/compare_rule_mechanisms.py \
        examples/sweeps/learning_rules.yaml [--out docs/benchmarks/learning_rules/mechanisms]

For every task and model of the sweep, every network (rule x seed) runs, without noise, on the
task's test grid (the same trials for all).  Per network: held-out performance on that grid,
fixed and slow points at the resting input (`rnnzoo.analysis.fixed_points_from_trajectories`,
256 starts on the trajectories), the number of stable ones.  Per pair of networks: the
Procrustes shape distance of their rates (Williams et al. 2021, alpha = 1, cross-validated by
trial folds) and the DSA distance of their trajectories (Ostrow et al. 2023, rank 6 DMD).  Pairs
are summarised per pair of rules: the mean over the seeds' pairs (within a rule: different
seeds of that rule), over the networks that reached the task's criterion on the grid.  Writes
``<out>/mechanisms.json`` (every network and pair) and ``<out>/mechanisms.md`` (the tables),
and ``<out>/<task>_<model>.png`` (the two rule-by-rule matrices), all rewritten after every cell
(``cells_done`` in the JSON says how far a run got).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo.analysis import (
    cross_validated_shape_distance,
    dsa_distance,
    fixed_points_from_trajectories,
    simulate,
)
from rnnzoo.analysis.run import analysis_batch, load_run, resting_input
from rnnzoo.bench.sweep import expand, load_sweep

OUT = Path("docs/benchmarks/learning_rules/mechanisms")


def networks(sweep: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per (task label, model label): every finished network of the sweep."""
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for job in expand(sweep):
        run_dir = job.run_dir(sweep)
        if not (run_dir / "model.safetensors").is_file():
            continue
        for member, run in enumerate(job.runs):
            cells.setdefault((run.task_label, run.model_label), []).append(
                {"rule": run.rule_label, "seed": run.seed, "run_dir": run_dir, "member": member}
            )
    return cells


def describe(entry: dict[str, Any]) -> dict[str, Any]:
    """Run one network on its task's test grid: performance, rates, fixed points."""
    _, net, task = load_run(entry["run_dir"], entry["member"])
    batch = analysis_batch(task, 0)
    sim = simulate(net, batch.inputs)
    perf = float(np.mean(task.performance(sim.outputs, batch)))
    target = task.metric.criterion
    valid = batch.valid
    fixed = fixed_points_from_trajectories(net, sim.states[valid][None], resting_input(batch))
    return {
        "rule": entry["rule"],
        "seed": entry["seed"],
        "performance": perf,
        "reached": perf >= target,
        "n_fixed_points": int(fixed.n_fixed),
        "n_stable": int(fixed.n_stable),
        "n_points": len(fixed),
        "_rates": sim.rates,  # (T, B, N)
        "_valid": valid,
    }


def pair_distances(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    valid = a["_valid"]
    groups = np.broadcast_to(np.arange(valid.shape[1])[None, :], valid.shape)[valid]
    procrustes = cross_validated_shape_distance(
        a["_rates"][valid], b["_rates"][valid], alpha=1.0, n_folds=4, groups=groups
    )
    dsa = dsa_distance(a["_rates"], b["_rates"], rank=6, n_iters=100, n_restarts=2)
    return {"procrustes": float(procrustes), "dsa": float(dsa)}


def rule_matrix(
    nets: list[dict[str, Any]], pairs: dict[tuple[int, int], dict[str, float]], metric: str
) -> tuple[list[str], np.ndarray]:
    """(rules, K x K mean distance over the pairs of reached networks; NaN without pairs)."""
    rules = list(dict.fromkeys(n["rule"] for n in nets))
    sums = np.zeros((len(rules), len(rules)))
    counts = np.zeros_like(sums)
    for (i, j), d in pairs.items():
        if not (nets[i]["reached"] and nets[j]["reached"]):
            continue
        a, b = rules.index(nets[i]["rule"]), rules.index(nets[j]["rule"])
        for x, y in {(a, b), (b, a)}:
            sums[x, y] += d[metric]
            counts[x, y] += 1
    with np.errstate(invalid="ignore"):
        return rules, sums / counts


def markdown(cell: str, nets: list[dict[str, Any]], matrices: dict[str, Any]) -> str:
    lines = [
        f"### {cell}",
        "",
        "| rule | reached (grid) | fixed points (stable) per network |",
        "|---|---|---|",
    ]
    for rule in dict.fromkeys(n["rule"] for n in nets):
        mine = [n for n in nets if n["rule"] == rule]
        reached = sum(n["reached"] for n in mine)
        points = ", ".join(f"{n['n_fixed_points']} ({n['n_stable']})" for n in mine)
        lines.append(f"| {rule} | {reached}/{len(mine)} | {points} |")
    for metric, (rules, matrix) in matrices.items():
        lines += [
            "",
            f"{metric} distance, mean over pairs of reached networks (diagonal: "
            "different seeds of one rule):",
            "",
            "| | " + " | ".join(rules) + " |",
            "|---|" + "---|" * len(rules),
        ]
        for r, row in zip(rules, matrix, strict=True):
            cells = ["-" if np.isnan(v) else f"{v:.3f}" for v in row]
            lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(path: Path, cell: str, matrices: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(matrices), figsize=(5.2 * len(matrices), 4.4))
    for ax, (metric, (rules, matrix)) in zip(axes, matrices.items(), strict=True):
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap="viridis")
        ax.set_xticks(range(len(rules)), rules, rotation=40, ha="right", fontsize=8)
        ax.set_yticks(range(len(rules)), rules, fontsize=8)
        for (i, j), v in np.ndenumerate(matrix):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="w", fontsize=7)
        ax.set_title(f"{cell}: {metric}", fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sweep = load_sweep(args.sweep)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "sweep": sweep.name,
        "command": f"{__file__} {args.sweep}",
        "cells": {},
    }
    text = [f"# Mechanisms of the rules in sweep {sweep.name}\n"]
    start = time.perf_counter()
    cells = networks(sweep)
    for (task, model), entries in cells.items():
        cell = f"{task} / {model}"
        nets = [describe(e) for e in entries]
        pairs = {
            (i, j): pair_distances(nets[i], nets[j])
            for i, j in itertools.combinations(range(len(nets)), 2)
        }
        matrices = {m: rule_matrix(nets, pairs, m) for m in ("procrustes", "dsa")}
        report["cells"][cell] = {
            "networks": [{k: v for k, v in n.items() if not k.startswith("_")} for n in nets],
            "pairs": [{"a": i, "b": j, **d} for (i, j), d in pairs.items()],
            "rule_matrices": {
                m: {"rules": r, "mean": np.where(np.isnan(x), None, x).tolist()}
                for m, (r, x) in matrices.items()
            },
        }
        text.append(markdown(cell, nets, matrices))
        name = (
            f"{task}_{model}".replace(" ", "_")
            .replace("/", "_")
            .replace("(", "")
            .replace(")", "")
            .replace(".", "")
        )
        plot(args.out / f"{name}.png", cell, matrices)
        report["seconds"] = round(time.perf_counter() - start, 1)
        report["cells_done"] = f"{len(report['cells'])} of {len(cells)}"
        (args.out / "mechanisms.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "mechanisms.md").write_text("\n".join(text))  # after every cell
        print(f"{cell}: {len(nets)} networks, {report['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
