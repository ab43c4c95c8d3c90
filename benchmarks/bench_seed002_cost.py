"""Cost model of a seed 002 sweep on this machine, and the plan that fits a time budget.

Run by hand (not in CI), one torch thread::

    .venv/bin/python benchmarks/bench_seed002_cost.py examples/sweeps/seed002_table1_cpu.yaml \
        --members 2,8 --repeats 3 --out docs/benchmarks/seed002_table1_cpu/cost.json

For every (task, method) cell of the sweep (its first model), at each ensemble size M of
``--members`` and at every annealing stage of the method, it times ``--repeats`` training steps
exactly as the trainer runs them (`Trainer.losses`, backward, per-member clipping, Adam) and one
held-out evaluation, in CPU seconds of this process (``time.process_time``: the work, not the
wait, so a loaded machine measures the same cost as an idle one; one thread means CPU seconds
are the seconds an idle core needs).  Per cell and stage it fits seconds = a + b M.  The plan
then prices the sweep's jobs at their full step budget (every stage for its share of
``anneal_steps``, an evaluation every ``eval_every``) and packs them onto ``--workers`` idle
cores (longest first).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _stage_progress(method, anneal: int, max_steps: int) -> list[tuple[float, int]]:
    """(progress at the stage's middle, training steps spent in it) for each stage the run
    passes through within ``max_steps`` (the true dynamics after annealing is one stage)."""
    params = method.params
    count = getattr(params, "step_count", None)
    if method.name == "control" or count is None or anneal == 0:
        return [(1.0, max_steps)]
    stages = []
    width = anneal / (count + 1)
    for k in range(count + 1):
        start, stop = k * width, min((k + 1) * width, max_steps)
        if k == count:  # the last stage lasts to the end of the budget
            stop = max_steps
        if stop > start:
            stages.append((min(1.0, (k + 0.5) / (count + 1)), round(stop - start)))
    return stages


def _time_steps(trainer, progress: float, repeats: int) -> float:
    """Median CPU seconds of one training step at ``progress``."""
    import torch

    from rnnzoo.training.losses import clip_grad_norm_per_member

    params = [p for p in trainer.net.parameters() if p.requires_grad]
    tc = trainer.tc
    times = []
    for k in range(repeats + 1):  # the first one warms the workspace up
        start = time.process_time()
        batch = trainer.task.generate(tc.batch_size, tc.seed, index=k)
        loss = trainer.losses(batch, progress)
        trainer.optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        clip_grad_norm_per_member(params, tc.clip_grad_norm or 1e9, trainer.n_models)
        trainer.optimizer.step()
        torch.isfinite(loss).all()
        if k:
            times.append(time.process_time() - start)
    return float(np.median(times))


def measure(sweep_path: Path, members: list[int], repeats: int) -> list[dict]:
    import torch

    from rnnzoo.bench.sweep import expand, load_sweep
    from rnnzoo.training.config import run_config
    from rnnzoo.training.methods import make_method
    from rnnzoo.training.trainer import Trainer

    torch.set_num_threads(1)
    sweep = load_sweep(sweep_path)
    rows, seen = [], set()
    for job in expand(sweep):
        run = job.runs[0]
        cell = (run.task_label, run.method_label)
        if cell in seen or run.model_label != expand(sweep)[0].runs[0].model_label:
            continue
        seen.add(cell)
        tc = job.config.train
        anneal = tc.anneal_steps if tc.anneal_steps is not None else tc.max_steps // 2
        method = make_method(job.config.method.name, **job.config.method.hyperparameters)
        for m in members:
            data = job.config.model_dump(mode="json")
            data["model"]["ensemble"] = m
            trainer = Trainer(run_config(data), None, progress=False)
            for progress, steps in _stage_progress(method, anneal, tc.max_steps):
                seconds = _time_steps(trainer, progress, repeats)
                rows.append(
                    {
                        "task": run.task_label,
                        "method": run.method_label,
                        "members": m,
                        "progress": progress,
                        "stage_steps": steps,
                        "step_cpu_s": seconds,
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            start = time.process_time()
            trainer.evaluate(0)
            rows.append(
                {
                    "task": run.task_label,
                    "method": run.method_label,
                    "members": m,
                    "progress": "eval",
                    "stage_steps": tc.max_steps // tc.eval_every,
                    "step_cpu_s": time.process_time() - start,
                }
            )
    return rows


def fit(rows: list[dict]) -> dict[tuple, tuple[float, float, int]]:
    """(task, method, progress) -> (a, b, stage_steps) with cost a + b M seconds."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["method"], r["progress"]), []).append(r)
    out = {}
    for key, items in groups.items():
        m = np.array([r["members"] for r in items], float)
        s = np.array([r["step_cpu_s"] for r in items])
        if len(set(m)) > 1:
            b, a = np.polyfit(m, s, 1)
        else:
            a, b = 0.0, float(s[0] / m[0])
        out[key] = (float(max(a, 0.0)), float(max(b, 0.0)), items[0]["stage_steps"])
    return out


def plan(sweep_path: Path, model: dict, workers: int) -> dict:
    """Seconds of every job of the sweep from the fitted model, and the wall-clock on
    ``workers`` idle cores (longest job first onto the least loaded core)."""
    from rnnzoo.bench.sweep import expand, load_sweep

    sweep = load_sweep(sweep_path)
    jobs = []
    for job in expand(sweep):
        run = job.runs[0]
        m = len(job.runs)
        seconds = sum(
            steps * (a + b * m)
            for (task, method, _), (a, b, steps) in model.items()
            if task == run.task_label and method == run.method_label
        )
        jobs.append(
            {
                "job": job.job_id,
                "task": run.task_label,
                "method": run.method_label,
                "members": m,
                "cpu_s": seconds,
            }
        )
    loads = [0.0] * workers
    for j in sorted(jobs, key=lambda j: -j["cpu_s"]):
        loads[int(np.argmin(loads))] += j["cpu_s"]
    return {
        "jobs": jobs,
        "total_cpu_s": sum(j["cpu_s"] for j in jobs),
        "wall_s_idle": max(loads),
        "workers": workers,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sweep", type=Path, help="sweep file (YAML)")
    p.add_argument("--members", default="2,8", help="ensemble sizes to time (comma-separated)")
    p.add_argument("--repeats", type=int, default=3, help="timed steps per stage")
    p.add_argument("--workers", type=int, default=2, help="idle cores of the plan")
    p.add_argument("--out", type=Path, help="write measurements, model and plan (JSON) here")
    p.add_argument(
        "--measured", type=Path, help="plan from the measurements of this earlier --out file"
    )
    args = p.parse_args()
    if args.measured:
        rows = json.loads(args.measured.read_text())["measurements"]
    else:
        rows = measure(args.sweep, [int(m) for m in args.members.split(",")], args.repeats)
    model = fit(rows)
    result = plan(args.sweep, model, args.workers)
    summary = {
        "sweep": str(args.sweep),
        "measured_from": str(args.measured) if args.measured else None,
        "measurements": rows,
        "model": [
            {"task": t, "method": me, "progress": pr, "a_s": a, "b_s_per_member": b, "steps": s}
            for (t, me, pr), (a, b, s) in model.items()
        ],
        "plan": result,
    }
    text = json.dumps(summary, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(
        f"total {result['total_cpu_s'] / 3600:.2f} CPU-hours; on {args.workers} idle cores "
        f"{result['wall_s_idle'] / 3600:.2f} h"
    )


if __name__ == "__main__":
    main()
