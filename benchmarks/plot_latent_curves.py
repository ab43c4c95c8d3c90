"""Step I learning curves of several `rnnzoo latent expand` runs on one figure (run by hand):

    python benchmarks/plot_latent_curves.py out/ssl_1000 out/ssl_10000 out/ssl_50000 \
        --out docs/benchmarks/large_networks/ssl_curves.png

Draws the held-out normalised SSL loss (log scale) and the held-out task performance against
the Step I step, one line per run, labelled by N; prints each run's first step below 0.05 and
0.01.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def curves(run: Path) -> tuple[int, list[dict]]:
    """N and the Step I evaluation records of a latent run directory."""
    config = yaml.safe_load((run / "latent.yaml").read_text())
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return int(config["n_hidden"]), [r for r in records if r.get("phase") == "ssl"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.0), sharex=True)
    for i, run in enumerate(args.runs):
        n, records = curves(run)
        steps = [r["step"] for r in records]
        top.semilogy(
            steps, [r["ssl_loss"] for r in records], "o-", ms=3, color=f"C{i}", label=f"N = {n:,}"
        )
        bottom.plot(steps, [r["performance"] for r in records], "o-", ms=3, color=f"C{i}")
        firsts = {
            level: next((r["step"] for r in records if r["ssl_loss"] < level), None)
            for level in (0.05, 0.01)
        }
        print(
            f"N = {n}: first held-out SSL loss < 0.05 at step {firsts[0.05]}, < 0.01 at {firsts[0.01]}"
        )
    for level in (0.05, 0.01):
        top.axhline(level, color="0.6", ls=":", lw=1)
    top.set(
        ylabel="held-out SSL loss\n|kappa - z|^2 / |z - mean z|^2",
        title="Step I from random weights, the same learning rate at every N",
    )
    top.legend()
    bottom.axhline(0.95, color="0.6", ls=":", lw=1)
    bottom.set(xlabel="Step I step (Adam, batch 32)", ylabel="held-out task\nperformance")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(args.out)


if __name__ == "__main__":
    main()
