"""Reward-trained (A2C) against supervised (BPTT) leaky networks: learning curves, fixed points.

Run by hand (not in CI)::

    nice -n 10 .venv/bin/python benchmarks/bench_a2c.py [--out out/bench_a2c]
        [--docs docs/benchmarks/a2c] [--tasks pdm dms] [--rules a2c bptt] [--a2c-steps 1500]
        [--bptt-steps 1500] [--seed 0] [--reuse]

For each task the same leaky firing-rate network (64 neurons, tau 100 ms, dt 20 ms, seed 0) is
trained twice: with ``a2c`` from rewards alone (neurogym's
convention: +1 correct, 0 wrong, -0.1 per fixation break) and with BPTT on the supervised
targets.  Both stop at the task's criterion on held-out trials (the greedy policy's fraction of
correct episodes for A2C, the task's accuracy for BPTT) or at their step budget.  Then the fixed
points of both networks are found at the input of the memory period (the delay: no stimulus,
fixation on where the task has a fixation input), from states on their own noise-free
trajectories over the task's test grid.  Writes ``DOCS/results.json``, ``DOCS/curves.png`` and
``DOCS/fixed_points.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

torch.set_num_threads(1)

from rnnzoo import analysis, tasks  # noqa: E402
from rnnzoo.models import load_model  # noqa: E402
from rnnzoo.training import RunConfig, train  # noqa: E402
from rnnzoo.training.reward import A2CParams, train_a2c  # noqa: E402

TASKS = {
    "pdm": ("perceptual_decision_making", {"dt_ms": 20, "decision_ms": 200}, "delay"),
    "dms": ("delayed_match_to_sample", {"dt_ms": 20, "n_stimuli": 2, "delay_ms": 500}, "delay"),
}
NET = {"n_hidden": 64, "tau_ms": 100.0}


def config(name: str, params: dict, max_steps: int, seed: int) -> RunConfig:
    return RunConfig(
        task={"task": name, "params": params},
        model={"kind": "leaky_rate", "options": NET},
        train={"lr": 3e-3, "batch_size": 64, "max_steps": max_steps, "eval_every": 25,
               "eval_batch_size": 256, "seed": seed},
    )  # fmt: skip


def curve(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def memory_input(task, epoch: str) -> np.ndarray:
    """The noise-free input of ``epoch`` (the same on every step and trial of the grid)."""
    grid = task.generate_test()
    mask = grid.epoch_mask(epoch)
    return grid.inputs[mask].mean(axis=0)


def fixed_points(run: Path, task, epoch: str) -> dict:
    net = load_model(run / "model.safetensors")
    grid = task.generate_test()
    sim = analysis.simulate(net, grid.inputs)
    u = memory_input(task, epoch)
    fps = analysis.fixed_points_from_trajectories(net, sim.states, inputs=u, seed=0)
    kinds = [str(s) for s in fps.stability]
    pr = analysis.participation_ratio(sim.rates[grid.epoch_mask(epoch)])
    return {
        "input": u.round(4).tolist(),
        "n_points": len(kinds),
        "n_fixed": int(np.asarray(fps.is_fixed).sum()),
        "n_stable": kinds.count("stable"),
        "n_saddle": kinds.count("saddle"),
        "stability": kinds,
        "is_fixed": np.asarray(fps.is_fixed).tolist(),
        "n_stable_fixed": int(
            sum(k == "stable" and f for k, f in zip(kinds, fps.is_fixed, strict=True))
        ),
        "participation_ratio_memory": float(pr),
        "rates": np.asarray(fps.rates),  # for the figure; not written to results.json
        "readouts": np.asarray(fps.outputs).round(4).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/bench_a2c"))
    parser.add_argument("--docs", type=Path, default=Path("docs/benchmarks/a2c"))
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--a2c-steps", type=int, default=1500)
    parser.add_argument("--bptt-steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", nargs="+", default=["a2c", "bptt"], choices=["a2c", "bptt"])
    parser.add_argument("--reuse", action="store_true",
                        help="analyse the finished runs in --out again instead of training")  # fmt: skip
    args = parser.parse_args()
    args.docs.mkdir(parents=True, exist_ok=True)
    results = {}
    for key in args.tasks:
        name, params, epoch = TASKS[key]
        task = tasks.make(name, **params)
        row = {"task": name, "params": params, "network": NET}
        for rule, steps in (("a2c", args.a2c_steps), ("bptt", args.bptt_steps)):
            if rule not in args.rules:
                continue
            run = args.out / f"{key}_{rule}"
            start = time.perf_counter()
            cfg = config(name, params, steps, args.seed)
            if args.reuse and (run / "summary.json").is_file():
                summary = json.loads((run / "summary.json").read_text())
            elif rule == "a2c":
                summary = train_a2c(cfg, run, A2CParams(), progress=False).summary()
            else:
                summary = train(cfg, run, progress=False).summary()
            row[rule] = {
                "status": summary["status"], "steps": summary["steps"],
                "steps_to_criterion": summary["steps_to_criterion"],
                "final_performance": summary["final_performance"],
                "train_wall_clock_s": summary["wall_clock_s"],
                "process_wall_clock_s": round(time.perf_counter() - start, 1),
                "curve": curve(run), "fixed_points": fixed_points(run, task, epoch),
            }  # fmt: skip
            print(key, rule, summary["status"], summary["steps"], summary["final_performance"],
                  flush=True)  # fmt: skip
        results[key] = row
    if set(args.rules) != {"a2c", "bptt"}:
        return  # a partial run: analyse all with --reuse afterwards
    written = {
        key: {**row, **{rule: {**row[rule], "fixed_points": {
            k: v for k, v in row[rule]["fixed_points"].items() if k != "rates"}}
            for rule in ("a2c", "bptt")}}
        for key, row in results.items()
    }  # fmt: skip
    (args.docs / "results.json").write_text(json.dumps(written, indent=1) + "\n")
    plot_curves(results, args.docs / "curves.png")
    plot_fixed_points(results, args.out, args.docs / "fixed_points.png")


def plot_curves(results: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for ax, (_key, row) in zip(axes[0], results.items(), strict=True):
        a2c = [r for r in row["a2c"]["curve"] if "reward" in r]
        ax.plot([r["step"] for r in a2c], [r["train_correct"] for r in a2c],
                label="A2C: correct episodes while training (sampled)")  # fmt: skip
        ax.plot([r["step"] for r in a2c], [r["performance"] for r in a2c],
                label="A2C: greedy policy, held out")  # fmt: skip
        ax.plot([r["step"] for r in a2c], [r["reward"] for r in a2c], label="A2C: mean reward")
        bptt = [r for r in row["bptt"]["curve"] if "performance" in r]
        ax.plot([r["step"] for r in bptt], [r["performance"] for r in bptt], "k--o", ms=3,
                label="BPTT (supervised): accuracy, held out")  # fmt: skip
        ax.axhline(tasks.make(row["task"]).metric.criterion, color="grey", lw=0.5)
        ax.set_title(f"{row['task']} {row['params']}", fontsize=9)
        ax.set_xlabel("training step (64 trials each)")
        ax.set_ylim(-1.0, 1.05)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_fixed_points(results: dict, out: Path, path: Path) -> None:
    """Fixed points in the plane of the top 2 PCs of each network's memory-period activity."""
    fig, axes = plt.subplots(len(results), 2, figsize=(10, 4.2 * len(results)), squeeze=False)
    for row_axes, (key, row) in zip(axes, results.items(), strict=True):
        name, params, _epoch = TASKS[key]
        task = tasks.make(name, **params)
        grid = task.generate_test()
        for ax, rule in zip(row_axes, ("a2c", "bptt"), strict=True):
            net = load_model(out / f"{key}_{rule}" / "model.safetensors")
            sim = analysis.simulate(net, grid.inputs)
            rates = sim.rates[grid.valid]
            mean = rates.mean(axis=0)
            _, _, vt = np.linalg.svd(rates - mean, full_matrices=False)
            traj = (sim.rates - mean) @ vt[:2].T
            for b in range(0, grid.batch_size, max(1, grid.batch_size // 16)):
                n = grid.lengths[b]
                ax.plot(traj[:n, b, 0], traj[:n, b, 1], color="0.7", lw=0.6)
            fp = row[rule]["fixed_points"]
            pts = np.asarray(fp["rates"]).reshape(-1, sim.rates.shape[-1])
            if len(pts):
                xy = (pts - mean) @ vt[:2].T
                for (x, y), kind in zip(xy, fp["stability"], strict=True):
                    ax.plot(x, y, "o" if kind == "stable" else "x",
                            color="tab:blue" if kind == "stable" else "tab:red", ms=8)  # fmt: skip
            ax.set_title(f"{name}, {rule.upper()}\n{fp['n_fixed']} fixed ({fp['n_stable_fixed']} "
                         f"stable) and {fp['n_points'] - fp['n_fixed']} slow points; "
                         "o stable, x unstable", fontsize=9)  # fmt: skip
            ax.set_xlabel("PC 1")
            ax.set_ylabel("PC 2")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
