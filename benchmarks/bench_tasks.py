"""Batch-generation speed of every task, and of neurogym's Dataset on the same work.

Run by hand (not in CI)::

    .venv/bin/python benchmarks/bench_tasks.py [--neurogym-python .venv-neurogym/bin/python]
                                               [--out docs/benchmarks/tasks.md]

For each task and each sampling period in ``--dt`` the script times ``generate(256, seed)``
in CPU seconds of the process (`time.process_time`: less disturbed than wall-clock time on a
shared machine; NumPy runs on one thread here; repeats, best and median) and reports
trials/s and generated trial-steps/s.  Where neurogym has an equivalent task, a separate
interpreter with neurogym installed (it pins an older NumPy, so it lives in its own
virtualenv: ``bash benchmarks/setup_neurogym.sh``) times ``neurogym.Dataset`` producing the
same number of trials of the same duration, in the same
run, and the table shows the ratio.  A third rnnzoo column times the training path with
``noise_on_device``: ``generate(256, seed, defer_noise=True)`` and the inputs moved to
``--noise-device`` with the noise drawn there (`rnnzoo.training.device_noise.input_tensor`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from rnnzoo import tasks
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.device_noise import input_tensor

# rnnzoo task -> (neurogym env id, env kwargs that give the same number of input channels)
NEUROGYM_EQUIVALENTS = {
    "delayed_match_to_sample": ("DelayMatchSample-v0", {"dim_ring": 16}),
    "evidence_accumulation": ("PerceptualDecisionMaking-v0", {"dim_ring": 2}),
}


def time_ours(
    task: tasks.Task, batch_size: int, repeats: int, noise_device: str | None = None
) -> dict:
    """Best and median CPU seconds of ``task.generate(batch_size, seed)``; with
    ``noise_device``, of the deferred batch and its noisy inputs on that device."""

    def generate(seed: int):
        if noise_device is None:
            return task.generate(batch_size, seed)
        batch = task.generate(batch_size, seed, defer_noise=True)
        inputs = input_tensor(batch, noise_device)
        if inputs.is_cuda:
            torch.cuda.synchronize()
        return batch

    generate(0)  # warm-up
    times = []
    for k in range(repeats):
        start = time.process_time()
        batch = generate(k + 1)
        times.append(time.process_time() - start)
    steps = int(batch.lengths.sum())
    return {
        "best_s": min(times),
        "median_s": statistics.median(times),
        "steps": steps,
        "n_steps": batch.n_steps,
        "mean_trial_ms": float(batch.lengths.mean() * batch.dt_ms),
    }


def time_neurogym(
    python: str,
    env: tuple[str, dict],
    dt_ms: float,
    trial_steps: int,
    batch_size: int,
    repeats: int,
) -> dict:
    code = Path(__file__).with_name("_neurogym_worker.py")
    env_id, kwargs = env
    env_kwargs = json.dumps({**kwargs, "dt": dt_ms})
    args = [python, str(code), env_id, env_kwargs, str(trial_steps), str(batch_size), str(repeats)]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dt", type=float, nargs="+", default=[1.0, 10.0, 20.0])
    parser.add_argument(
        "--neurogym-python", default=None, help="interpreter with neurogym installed"
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    parser.add_argument("--tasks", nargs="+", default=None, help="only these tasks (default: all)")
    parser.add_argument(
        "--noise-device", default="cpu", help="device of the noise-on-device column (cpu, cuda)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows = [
        "| task | dt (ms) | T (steps) | mean trial (ms) | rnnzoo ms/batch | rnnzoo trials/s | "
        f"rnnzoo ms/batch, no noise | rnnzoo ms/batch, noise on {args.noise_device} | "
        "neurogym ms/batch | speed-up | speed-up, no noise | "
        f"speed-up, noise on {args.noise_device} |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.tasks or tasks.task_names():
        for dt in args.dt:
            try:
                task = tasks.make(name, dt_ms=dt)
            except Exception as exc:  # a dt this task cannot use (a duration < 1 step)
                print(f"skip {name} at dt={dt}: {exc}", file=sys.stderr)
                continue
            ours = time_ours(task, args.batch_size, args.repeats)
            quiet = time_ours(
                tasks.make(name, dt_ms=dt, add_noise=False), args.batch_size, args.repeats
            )
            try:
                on_device = time_ours(task, args.batch_size, args.repeats, args.noise_device)
                device_cell = f"{1e3 * on_device['best_s']:.2f}"
            except InvalidParameterError:  # a composition draws its noise on the host
                on_device, device_cell = None, ""
            ng_cell, ratio_cell, quiet_ratio_cell, device_ratio_cell = "", "", "", ""
            if args.neurogym_python and name in NEUROGYM_EQUIVALENTS:
                trial_steps = round(ours["mean_trial_ms"] / dt)
                ng = time_neurogym(
                    args.neurogym_python,
                    NEUROGYM_EQUIVALENTS[name],
                    dt,
                    trial_steps,
                    args.batch_size,
                    max(3, args.repeats // 2),
                )
                ng_cell = f"{1e3 * ng['best_s']:.1f} ({NEUROGYM_EQUIVALENTS[name][0]})"
                ratio_cell = f"{ng['best_s'] / ours['best_s']:.1f}x"
                quiet_ratio_cell = f"{ng['best_s'] / quiet['best_s']:.1f}x"
                if on_device is not None:
                    device_ratio_cell = f"{ng['best_s'] / on_device['best_s']:.1f}x"
            rows.append(
                f"| {name} | {dt:g} | {ours['n_steps']} | {ours['mean_trial_ms']:.0f} | "
                f"{1e3 * ours['best_s']:.2f} | {args.batch_size / ours['best_s']:,.0f} | "
                f"{1e3 * quiet['best_s']:.2f} | {device_cell} | {ng_cell} | "
                f"{ratio_cell} | {quiet_ratio_cell} | {device_ratio_cell} |"
            )
            print(rows[-1], flush=True)
    table = "\n".join(rows)
    print("\n" + table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
