"""Side by side with Yang et al.'s own generator: the law of every epoch's length in steps.

Run by hand (not in CI) with a checkout of github.com/gyyang/multitask (its ``task.py`` needs
only NumPy; ``six.string_types`` is its one other name, supplied here when six is missing)::

    .venv/bin/python benchmarks/compare_yang_original.py --original PATH/TO/multitask \
        [--batches 4000] [--out docs/benchmarks/yang_original.md]

For each of the 14 rules with a uniform duration law it draws ``--batches`` batches from the
original (``generate_trials(rule, hp, 'random')``, dt 20 ms) and from rnnzoo's ``vanilla``
version, and compares per epoch the support in steps (must be equal) and the frequencies of
the two end values, next to the exact probabilities the rnnzoo card states.
"""

from __future__ import annotations

import argparse
import sys
import types
from pathlib import Path

import numpy as np

RULES = [
    "fdgo", "reactgo", "fdanti", "reactanti", "dm1", "dm2", "contextdm1", "contextdm2",
    "multidm", "delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2", "multidelaydm",
]  # fmt: skip
HP = {
    "dt": 20, "alpha": 0.2, "sigma_x": 0.01, "n_eachring": 32, "num_ring": 2, "n_rule": 20,
    "rule_start": 65, "n_input": 85, "n_output": 33, "ruleset": "all", "loss_type": "lsq",
}  # fmt: skip


def original_lengths(task_module, rule: str, batches: int) -> dict[str, np.ndarray]:
    """Steps of each epoch of ``batches`` original batches (timing is shared by a batch)."""
    hp = {**HP, "rng": np.random.RandomState(0)}
    out: dict[str, list[int]] = {}
    for _ in range(batches):
        trial = task_module.generate_trials(rule, hp, "random", batch_size=2)
        for name, (start, stop) in trial.epochs.items():
            start = 0 if start is None else int(np.atleast_1d(start)[0])
            stop = trial.tdim if stop is None else int(np.atleast_1d(stop)[0])
            out.setdefault(name, []).append(stop - start)
    return {k: np.array(v) for k, v in out.items()}


def rnnzoo_lengths(rule: str, batches: int) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Steps of each epoch of ``batches`` rnnzoo batches, and the card's text per epoch."""
    from rnnzoo import tasks

    task = tasks.make(rule)
    out: dict[str, list[int]] = {}
    for k in range(batches):
        for key, value in task.sample_conditions(np.random.default_rng(k), 2).items():
            if key.endswith("_steps"):
                out.setdefault(key.removesuffix("_steps"), []).append(int(value[0]))
    card = {e["name"]: e.get("steps", "") for e in task.card().parameters}
    stated = {epoch: card[field] for epoch, field in task.EPOCHS.items()}
    return {k: np.array(v) for k, v in out.items()}, stated


def compare(original: Path, batches: int) -> list[dict]:
    sys.modules.setdefault("six", types.SimpleNamespace(string_types=(str,)))
    sys.path.insert(0, str(original))
    import task as task_module

    rows = []
    for rule in RULES:
        theirs = original_lengths(task_module, rule, batches)
        ours, stated = rnnzoo_lengths(rule, batches)
        for epoch in ours:
            if epoch not in theirs:
                continue
            a, b = theirs[epoch], ours[epoch]
            sa, sb = sorted(set(a.tolist())), sorted(set(b.tolist()))
            rows.append(
                {
                    "rule": rule,
                    "epoch": epoch,
                    "original": f"{sa[0]}..{sa[-1]} ({len(sa)})",
                    "rnnzoo": f"{sb[0]}..{sb[-1]} ({len(sb)})",
                    "equal": sa == sb,
                    "ends_original": f"{(a == sa[0]).mean():.3f} {(a == sa[-1]).mean():.3f}",
                    "ends_rnnzoo": f"{(b == sb[0]).mean():.3f} {(b == sb[-1]).mean():.3f}",
                    "card": stated[epoch],
                }
            )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--original", type=Path, required=True, help="checkout of gyyang/multitask")
    p.add_argument("--batches", type=int, default=4000, help="batches per rule and generator")
    p.add_argument("--out", type=Path, help="write the Markdown table here")
    args = p.parse_args()
    rows = compare(args.original, args.batches)
    lines = [
        "| rule | epoch | original steps (values) | rnnzoo steps (values) | same support | "
        "end frequencies, original | rnnzoo | rnnzoo card |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['rule']} | {r['epoch']} | {r['original']} | {r['rnnzoo']} | {r['equal']} | "
        f"{r['ends_original']} | {r['ends_rnnzoo']} | {r['card']} |"
        for r in rows
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    print(f"{sum(r['equal'] for r in rows)} of {len(rows)} epochs have the same support")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
