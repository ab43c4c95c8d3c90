"""A neurogym environment through the bridge against neurogym's own `Dataset`, in one run.

Run by hand (not in CI), in the main virtualenv with the neurogym extra::

    nice -n 10 .venv/bin/python benchmarks/bench_neurogym_bridge.py [--batch-size 64]
        [--repeats 7] [--out docs/benchmarks/neurogym_bridge.json]

For each environment both sides produce whole trials of the same environment with the same
keyword arguments: the bridge ``tasks.make("neurogym/NAME", ...).generate(B, seed)`` (B padded
trials with weights, epochs and conditions) and ``neurogym.Dataset(env, batch_size=B,
seq_len=S)()`` with S the bridge's mean trial length, so that one call yields about the same
number of trial-steps (B * S).  The two are timed alternately, ``--repeats`` batches each
after a warm-up (so that a change of the machine's load hits both); the table gives the median
microseconds per trial-step and their ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

import torch  # noqa: E402

torch.set_num_threads(1)

from rnnzoo import tasks  # noqa: E402

ENVS = {
    "PerceptualDecisionMaking": {"dt": 20},
    "DelayMatchSample": {"dt": 20},
    "GoNogo": {"dt": 20},
    "ContextDecisionMaking": {"dt": 20},
}


def time_both(name: str, kwargs: dict, batch_size: int, repeats: int) -> dict:
    """Median microseconds per trial-step of the bridge and of Dataset, timed alternately."""
    import neurogym as ngym

    params = {("dt_ms" if k == "dt" else k): v for k, v in kwargs.items()}
    task = tasks.make(f"neurogym/{name}", **params)
    seq_len = max(1, round(float(task.generate(batch_size, 0).lengths.mean())))
    dataset = ngym.Dataset(f"{name}-v0", env_kwargs=kwargs, batch_size=batch_size,
                           seq_len=seq_len, cache_len=seq_len)  # fmt: skip
    dataset()  # warm-up
    ours, theirs = [], []
    for k in range(repeats):
        start = time.perf_counter()
        batch = task.generate(batch_size, k + 1)
        ours.append((time.perf_counter() - start) / int(batch.lengths.sum()))
        start = time.perf_counter()
        inputs, _ = dataset()  # cache_len = seq_len: every call makes fresh trials
        theirs.append((time.perf_counter() - start) / (inputs.shape[0] * inputs.shape[1]))
    return {
        "seq_len": seq_len,
        "bridge_us_per_step": round(1e6 * statistics.median(ours), 3),
        "dataset_us_per_step": round(1e6 * statistics.median(theirs), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for name, kwargs in ENVS.items():
        row = {"env": name, "kwargs": kwargs, "batch_size": args.batch_size}
        row |= time_both(name, kwargs, args.batch_size, args.repeats)
        row["dataset_over_bridge"] = round(
            row["dataset_us_per_step"] / row["bridge_us_per_step"], 2
        )
        rows.append(row)
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
