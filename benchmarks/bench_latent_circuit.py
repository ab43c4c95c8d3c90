"""How much latent-circuit fits of one trained network agree between seeds.

Run by hand (not in CI), one torch thread::

    .venv/bin/python benchmarks/bench_latent_circuit.py fit RUN_DIR OUT.npz [--iters 500]
    .venv/bin/python benchmarks/bench_latent_circuit.py agreement OUT.npz [MORE.npz ...]

``fit`` takes the network, trials and circuit size as ``rnnzoo analyze --latent-circuit`` does
(its analysis batch, the first 32 trials, I + O nodes, structured when every target is >= 0)
and fits one restart for each of ``--seeds`` seeds with the library's defaults, saving each
fit's w_rec, Q and scores.  It needs nothing newer than ``fit_latent_circuit`` itself, so an
older checkout can fit with its own code (``PYTHONPATH=OLD/src``).  ``agreement`` compares the
saved fits: the mean correlation of w_rec over pairs of seeds (nodes matched by embedding when
unstructured) and the mean subspace overlap, with this checkout's `restart_agreement`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def fit(run_dir: Path, out: Path, iters: int, seeds: int) -> None:
    import torch

    from rnnzoo.analysis.latent_circuit import fit_latent_circuit
    from rnnzoo.analysis.network import simulate
    from rnnzoo.analysis.run import LATENT_TRIALS, analysis_batch, load_run

    torch.set_num_threads(1)
    _, net, task = load_run(run_dir, None)
    batch = analysis_batch(task, 0)
    sim = simulate(net, batch.inputs)
    trials = slice(0, LATENT_TRIALS)
    structured = bool((batch.targets >= 0).all())
    saved = {"structured": structured}
    for seed in range(seeds):
        circuit = fit_latent_circuit(
            sim.rates[:, trials],
            batch.inputs[:, trials],
            sim.outputs[:, trials],
            n_nodes=net.config.n_inputs + net.config.n_outputs,
            alpha=float(net.alpha.mean()),
            seed=seed,
            n_iters=iters,
            n_restarts=1,
            structured=structured,
        )
        saved[f"w_rec{seed}"], saved[f"q{seed}"] = circuit.w_rec, circuit.q
        saved[f"r2_{seed}"] = np.array([circuit.embedding_r2, circuit.output_r2])
        print(
            f"seed {seed}: embedding_r2 {circuit.embedding_r2:.3f}, "
            f"output_r2 {circuit.output_r2:.3f}",
            flush=True,
        )
    np.savez(out, **saved)


def agreement(paths: list[Path]) -> None:
    from rnnzoo.analysis.latent_circuit import restart_agreement

    for path in paths:
        data = np.load(path)
        seeds = sorted(int(k[5:]) for k in data.files if k.startswith("w_rec"))
        w_rec = np.stack([data[f"w_rec{s}"] for s in seeds])
        q = np.stack([data[f"q{s}"] for s in seeds])
        r2 = np.stack([data[f"r2_{s}"] for s in seeds])
        matched, mean, overlap = restart_agreement(w_rec, q, 0, bool(data["structured"]))
        flat = matched.reshape(len(seeds), -1)
        pairs = [np.corrcoef(flat[i], flat[j])[0, 1] for i in seeds for j in seeds if i < j]
        print(
            f"{path}: w_rec correlation {mean:.2f} (pairs {min(pairs):.2f} to "
            f"{max(pairs):.2f}), subspace overlap {overlap:.2f}, embedding_r2 "
            f"{r2[:, 0].min():.2f}-{r2[:, 0].max():.2f}, output_r2 "
            f"{r2[:, 1].min():.2f}-{r2[:, 1].max():.2f}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit one restart per seed and save the fits")
    f.add_argument("run_dir", type=Path)
    f.add_argument("out", type=Path)
    f.add_argument("--iters", type=int, default=500, help="Adam steps (analyze uses 500)")
    f.add_argument("--seeds", type=int, default=4)
    a = sub.add_parser("agreement", help="agreement of saved fits")
    a.add_argument("paths", type=Path, nargs="+")
    args = p.parse_args()
    if args.command == "fit":
        fit(args.run_dir, args.out, args.iters, args.seeds)
    else:
        agreement(args.paths)


if __name__ == "__main__":
    main()
