"""Seed 002's Table 1 at CPU scale: steps, wall-clock and flops to criterion per training method.

Run by hand (not in CI)::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_methods.py \
        [--tasks delaygo,delayanti] [--version soo2023] [--set warmup_ms=0] \
        [--methods control,cd,sctt,dasc] [--steps 2000] [--ensemble 8] [--n-hidden 64] \
        [--activation relu] [--seeds 0,1,2] [--workers 2] [--out docs/benchmarks/methods_run]

For every (task, method, seed) one training run trains an ensemble of ``--ensemble`` leaky
firing-rate networks (the members are streams of the seed; tau from the task, 100 ms in
``soo2023``; sigmoid readout; the first quarter of the neurons receive the inputs, the next
quarter is read out) with Adam until the mean over the 10th-90th percentile of members
(``mean_10_90``) reaches the target, or ``--steps`` updates.  Methods anneal over the first half
of the budget (seed 002: 20,000 of 40,000 steps).  Hyperparameters are seed 002's Table 1
columns: CD_10 (theta_0 = 10), SCTT_40 and DASC_40 (theta = 40, beta_0 = 0.5, 5 annealing
steps).  A non-finite loss rolls the run back to its last checkpoint with half the learning
rate (``--on-divergence rollback``, at most 3 times).

Every run is its own process with one torch thread (``--workers`` at a time) and its run
directory ``<out>/runs/<task>-<method>-seed<k>/`` (metrics.jsonl has every member's held-out
performance at every evaluation); each finished run is appended to ``<out>/methods.csv`` at
once (an interrupted benchmark keeps its rows).
At the end ``<out>/methods.md`` holds three blocks shaped like seed 002's Table 1 (training
steps, wall-clock seconds, flops to criterion: mean over the seeds whose run reached the
criterion, with "k/n seeds" when some did not; "failed" when none did, with the mean final
performance in brackets), and a fourth block: the networks (members over all seeds) at the
criterion at the end of their runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import yaml

METHODS = ("control", "cd", "sctt", "dasc")
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "control": {},
    "cd": {"theta": 10},
    "sctt": {"theta": 40},
    "dasc": {"theta": 40},
}
COLUMNS = {"control": "Control", "cd": "CD_10", "sctt": "SCTT_40", "dasc": "DASC_40"}
CSV_FIELDS = [
    "task",
    "version",
    "method",
    "seed",
    "status",
    "reached",
    "steps_to_criterion",
    "wall_clock_to_criterion_s",
    "flops_to_criterion",
    "steps",
    "wall_clock_s",
    "flops",
    "final_performance",
    "best_performance",
    "target",
    "member_performance",
]


def _overrides(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects KEY=VALUE; got {pair!r}")
        out[key] = yaml.safe_load(value)
    return out


def run_one(job: dict[str, Any]) -> dict[str, Any]:
    """Train one ensemble (one task, one method) and return its CSV row."""
    import torch

    torch.set_num_threads(1)
    from rnnzoo.tasks import make
    from rnnzoo.training.config import run_config
    from rnnzoo.training.trainer import train

    task = make(job["task"], job["version"], **job["overrides"])
    n = job["n_hidden"]
    config = run_config(
        {
            "task": task.config(),
            "model": {
                "kind": "leaky_rate",
                "ensemble": job["ensemble"],
                "options": {
                    "n_hidden": n,
                    "activation": job["activation"],
                    "readout": "sigmoid",
                    "input_population": n // 4,
                    "output_population": n // 4,
                },
            },
            "method": {"name": job["method"], "hyperparameters": HYPERPARAMETERS[job["method"]]},
            "train": {
                "lr": job["lr"],
                "batch_size": job["batch_size"],
                "max_steps": job["steps"],
                "eval_every": job["eval_every"],
                "eval_batch_size": job["eval_batch_size"],
                "target_performance": job["target"],
                "statistic": "mean_10_90",
                "checkpoint_every": job["eval_every"],
                "on_divergence": job["on_divergence"],
                "seed": job["seed"],
            },
        }
    )
    best = [0.0]

    def watch(record: dict[str, Any]) -> None:
        if record.get("eval") is not None:
            best[0] = max(best[0], float(record["eval"]["statistic"]))

    start = time.perf_counter()
    run_dir = Path(job["out"]) / "runs" / f"{job['task']}-{job['method']}-seed{job['seed']}"
    shutil.rmtree(run_dir, ignore_errors=True)
    result = train(config, run_dir, progress=False, callback=watch)
    print(
        f"{job['task']:>10} {job['method']:>8} seed {job['seed']}: {result.status} at step "
        f"{result.steps} rollbacks {result.rollbacks} "
        f"({time.perf_counter() - start:.0f} s), performance {result.final_performance}",
        file=sys.stderr,
        flush=True,
    )
    return {
        "task": job["task"],
        "version": job["version"],
        "method": job["method"],
        "seed": job["seed"],
        "status": result.status,
        "reached": result.reached_criterion,
        "steps_to_criterion": result.steps_to_criterion,
        "wall_clock_to_criterion_s": result.wall_clock_to_criterion_s,
        "flops_to_criterion": result.flops_to_criterion,
        "steps": result.steps,
        "wall_clock_s": result.wall_clock_s,
        "flops": result.flops,
        "final_performance": result.final_performance,
        "best_performance": best[0],
        "target": result.target_performance,
        "member_performance": json.dumps([round(p, 3) for p in result.member_performance or []]),
    }


def _cell(runs: list[dict[str, Any]], key: str, fmt: str) -> str:
    if not runs:
        return "-"
    reached = [r for r in runs if r["reached"]]
    if not reached:
        final = np.mean([r["final_performance"] or 0.0 for r in runs])
        return f"failed ({final:.2f})"
    values = np.array([float(r[key]) for r in reached])
    text = format(values.mean(), fmt)
    if len(values) > 1:
        text += " ± " + format(values.std(ddof=1), fmt)
    if len(reached) < len(runs):
        text += f" ({len(reached)}/{len(runs)} seeds)"
    return text


def _networks_at_criterion(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "-"
    members = [p for r in runs for p in json.loads(r["member_performance"])]
    hits = sum(p >= float(r["target"]) for r in runs for p in json.loads(r["member_performance"]))
    return f"{hits}/{len(members)}"


def table(rows: list[dict[str, Any]], tasks: list[str], methods: list[str]) -> str:
    """Markdown table shaped like seed 002's Table 1 (rows tasks, columns methods, 3 blocks;
    mean ± sd over the seeds that reached the criterion)."""
    head = "| Task | " + " | ".join(COLUMNS[m] for m in methods) + " |"
    rule = "|---|" + "---|" * len(methods)
    blocks = [
        ("Training steps", "steps_to_criterion", ".0f"),
        ("Wall-clock training time (s)", "wall_clock_to_criterion_s", ".0f"),
        ("Floating point operations", "flops_to_criterion", ".3g"),
    ]
    lines = [head, rule]
    for title, key, fmt in blocks:
        lines.append(f"| **{title}** |" + " |" * len(methods))
        for task in tasks:
            cells = [
                _cell([r for r in rows if (r["task"], r["method"]) == (task, m)], key, fmt)
                for m in methods
            ]
            lines.append(f"| {task} | " + " | ".join(cells) + " |")
    lines.append("| **Networks at the criterion at the end** |" + " |" * len(methods))
    for task in tasks:
        cells = [
            _networks_at_criterion([r for r in rows if (r["task"], r["method"]) == (task, m)])
            for m in methods
        ]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default="delaygo", help="comma-separated task names")
    p.add_argument("--version", default="soo2023", help="task version (dt 5 ms: soo2023)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="task parameter override for every task (YAML value), e.g. delay_ms=2000",
    )
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods")
    p.add_argument("--steps", type=int, default=2000, help="training-step budget per run")
    p.add_argument("--ensemble", type=int, default=8, help="members (seeds) per run")
    p.add_argument("--n-hidden", type=int, default=64, help="neurons per network")
    p.add_argument("--batch-size", type=int, default=32, help="trials per step")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument(
        "--target",
        type=float,
        default=None,
        help="criterion (mean_10_90 performance); default: the task metric's",
    )
    p.add_argument("--eval-every", type=int, default=50, help="steps between evaluations")
    p.add_argument("--eval-batch-size", type=int, default=128, help="held-out trials")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (one run each)")
    p.add_argument("--activation", default="relu", help="neuron nonlinearity")
    p.add_argument(
        "--on-divergence",
        default="rollback",
        choices=("rollback", "stop"),
        help="on a non-finite loss: roll back with half the learning rate, or stop",
    )
    p.add_argument("--workers", type=int, default=2, help="runs in parallel (processes)")
    p.add_argument("--out", default="out/bench_methods", help="folder for methods.md/.csv")
    args = p.parse_args(argv)

    tasks = [t for t in args.tasks.split(",") if t]
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            raise SystemExit(f"--methods: unknown method {m!r}; choose from {', '.join(METHODS)}")
    overrides = _overrides(args.set)
    seeds = [int(x) for x in args.seeds.split(",") if x]
    jobs = [
        {
            "task": task,
            "version": args.version,
            "overrides": overrides,
            "method": method,
            "steps": args.steps,
            "ensemble": args.ensemble,
            "n_hidden": args.n_hidden,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "target": args.target,
            "eval_every": args.eval_every,
            "eval_batch_size": args.eval_batch_size,
            "seed": seed,
            "activation": args.activation,
            "on_divergence": args.on_divergence,
            "out": args.out,
        }
        for task in tasks
        for seed in seeds
        for method in methods
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = []
    with open(out / "methods.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for done in as_completed([pool.submit(run_one, job) for job in jobs]):
                rows.append(done.result())
                writer.writerow(rows[-1])
                f.flush()
    total = time.perf_counter() - start
    settings = " ".join(sys.argv[1:] if argv is None else argv)
    text = (
        f"Settings: `{settings or '(defaults)'}`; target {rows[0]['target']} (mean_10_90 of "
        f"{args.ensemble} members); seeds {args.seeds}; total {total:.0f} s with "
        f"{args.workers} workers.\n\n" + table(rows, tasks, methods)
    )
    (out / "methods.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
