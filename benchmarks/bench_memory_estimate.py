"""The memory estimate of `rnnzoo.training.budget` against the measured peak of real runs.

Each configuration trains 2 steps (with an evaluation each) in a fresh process; the growth of
its peak RSS (VmHWM) over the process's size after imports is the measured memory.  Prints one
Markdown row per configuration: the estimate, the measurement, their ratio, and the bytes per
unit, trial and step that the measurement implies for the activations (the measurement less
the estimate's other parts, over M max(B, B_eval) T N), next to the kind's
``activation_bytes`` (halved with ``memory="recompute"``).

    python benchmarks/bench_memory_estimate.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
MEASURE = """
import json, resource, sys, torch
torch.set_num_threads(1)
from rnnzoo.training.config import run_config
from rnnzoo.training.trainer import Trainer
config = run_config(json.loads(sys.argv[1]))
with open("/proc/self/statm") as f:  # resident now, not the import's high-water mark
    base = int(f.read().split()[1]) * resource.getpagesize()
Trainer(config, None, progress=False).run()
with open("/proc/self/status") as f:  # this program's peak; ru_maxrss may carry the parent's
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print(peak - base)
"""
CONFIGS = [  # (kind, N, B, B_eval, trial ms at dt 10 ms, ensemble, extra options)
    ("leaky_rate", 128, 64, 64, 8000.0, None, {}),
    ("leaky_rate", 256, 64, 256, 8000.0, None, {}),
    ("leaky_rate", 256, 64, 64, 8000.0, None, {"memory": "recompute"}),
    ("leaky_rate", 64, 32, 32, 4000.0, 16, {}),
    ("leaky_current", 256, 64, 64, 8000.0, None, {}),
    ("vanilla", 256, 64, 64, 8000.0, None, {}),
    ("gru", 256, 64, 64, 8000.0, None, {}),
    ("lstm", 128, 64, 64, 8000.0, None, {}),
    ("lstm", 256, 64, 64, 8000.0, None, {}),
]


def run_config_data(kind, n, batch, eval_batch, trial_ms, ensemble, extra) -> dict:
    return {
        "task": {
            "task": "flipflop",
            "params": {"trial_ms": trial_ms, "input_end_ms": trial_ms - 100},
        },
        "model": {"kind": kind, "ensemble": ensemble, "options": {"n_hidden": n, **extra}},
        "train": {
            "batch_size": batch,
            "eval_batch_size": eval_batch,
            "max_steps": 2,
            "eval_every": 1,
        },
    }


def measured_peak(data: dict) -> float:
    """Bytes by which the peak RSS of a fresh process grows while it trains the run config
    ``data`` (plain data) for its max_steps."""
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(data)],
        capture_output=True, text=True, env=env, check=True, timeout=1800,
    )  # fmt: skip
    return float(out.stdout.split()[-1])


def main() -> None:
    sys.path.insert(0, SRC)
    from rnnzoo.memory import longest_trial_steps
    from rnnzoo.training.budget import run_memory
    from rnnzoo.training.build import build_task
    from rnnzoo.training.config import run_config

    print(
        "| kind | N | B | B_eval | T | M | options | estimate (MB) | measured (MB) "
        "| estimate / measured | activation bytes: estimate | measured |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for row in CONFIGS:
        data = run_config_data(*row)
        config = run_config(data)
        task = build_task(config)
        steps = longest_trial_steps(task)
        parts = run_memory(config, task, steps)
        estimate = sum(parts.values())
        measured = measured_peak(data)
        kind, n, batch, eval_batch, _, ensemble, extra = row
        unit_steps = (ensemble or 1) * max(batch, eval_batch) * steps * n
        implied = (measured - estimate + parts["activations"]) / unit_steps
        options = ", ".join(f"{k}={v}" for k, v in extra.items()) or "-"
        print(
            f"| {kind} | {n} | {batch} | {eval_batch} | {steps} | {ensemble or 1} | {options} | "
            f"{estimate / 1e6:.0f} | {measured / 1e6:.0f} | {estimate / measured:.2f} | "
            f"{parts['activations'] / unit_steps:.1f} | {implied:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
