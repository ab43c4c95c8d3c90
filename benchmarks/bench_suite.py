"""What a batch of the Yang et al. suite costs, next to a batch of one of its rules.

Run by hand (not in CI)::

    .venv/bin/python benchmarks/bench_suite.py [--batch-size 64] [--repeats 40]
        [--compare-src /path/to/another/checkout/src]

For every seed index k the script times the suite's batch k (``make("yang2019")``: one rule
per batch, drawn with the paper's weights), the batch of that same rule built alone with the
same size, and an interleaved batch (every trial draws its rule, ``mode="interleave"``) next to
the mean over the 20 rules' own batches and next to the sum of the rules' own batches of the
trials they have in it.  It prints the median ratios.  ``--compare-src`` runs
the interleaved measurement again with another source tree (e.g. ``git archive`` of an older
commit) in a subprocess, in the same run, for a before/after ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np


def _timed(make_batch) -> float:
    start = time.perf_counter()
    make_batch()
    return time.perf_counter() - start


def measure(batch_size: int, repeats: int, blocked: bool) -> dict[str, float]:
    """Median ratios of suite batches to their rules' batches (see the module docstring)."""
    from rnnzoo import tasks
    from rnnzoo.tasks.yang2019 import RULES

    rules = [tasks.make(rule) for rule in RULES]
    for task in rules:
        task.generate(batch_size, 0)  # warm-up
    out: dict[str, float] = {}
    if blocked:
        suite = tasks.make("yang2019")
        suite.generate(batch_size, 0)
        ratios = []
        for k in range(repeats):
            seconds = _timed(lambda k=k: suite.generate(batch_size, 1, index=k))
            rule = suite.generate(1, 1, index=k).conditions["task_index"][0]
            alone = _timed(lambda k=k, r=rule: rules[r].generate(batch_size, 1, index=k))
            ratios.append(seconds / alone)
        out["blocked_over_its_rule"] = statistics.median(ratios)
    from rnnzoo.tasks.yang2019 import suite as yang_suite

    try:
        mixed = yang_suite(mode="interleave")
    except TypeError:  # an older checkout: the suite was interleaved, without a mode
        mixed = yang_suite()
    mixed.generate(batch_size, 0)
    ratios, parts = [], []
    for k in range(repeats):
        seconds = _timed(lambda k=k: mixed.generate(batch_size, 1, index=k))
        alone = statistics.mean(
            _timed(lambda k=k, t=t: t.generate(batch_size, 1, index=k)) for t in rules
        )
        ratios.append(seconds / alone)
        counts = np.bincount(
            mixed.generate(batch_size, 1, index=k).conditions["task_index"], minlength=len(rules)
        )
        own = sum(
            _timed(lambda k=k, t=t, n=n: t.generate(int(n), 1, index=k))
            for t, n in zip(rules, counts, strict=True)
            if n
        )
        parts.append(seconds / own)
    out["interleaved_over_mean_rule"] = statistics.median(ratios)
    out["interleaved_over_its_rules_trials"] = statistics.median(parts)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--compare-src", default=None, help="another checkout's src folder")
    parser.add_argument("--interleaved-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    result = measure(args.batch_size, args.repeats, blocked=not args.interleaved_only)
    if args.interleaved_only:
        print(json.dumps(result))
        return
    print(f"batch size {args.batch_size}, {args.repeats} batches, median ratios:")
    for name, value in result.items():
        print(f"  {name}: {value:.2f}")
    if args.compare_src:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--interleaved-only",
                "--batch-size",
                str(args.batch_size),
                "--repeats",
                str(args.repeats),
            ],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": args.compare_src, "PATH": "/usr/bin:/bin"},
            check=True,
        )
        other = json.loads(done.stdout)
        for name, value in other.items():
            print(f"  {name} with {args.compare_src}: {value:.2f}")


if __name__ == "__main__":
    main()
