"""CordsNet measurements for docs/benchmarks/cordsnet.md, each a subcommand, run by hand::

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_cordsnet.py speed
    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_cordsnet.py memory
    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_cordsnet.py arnoldi [--small-only]
    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_cordsnet.py regimes

- ``speed``: seconds per training step (forward, backward) of the network as rnnzoo runs it
  against the same network written as the authors' plain PyTorch loop
  (`rnnzoo.models.cordsnet.reference`), interleaved in one run; and the single-area form of
  appendix B.3 on its dense engine against its conv engine.
- ``memory``: bytes autograd keeps for one training step (every saved tensor, by
  ``saved_tensors_hooks``) with memory="store" and "recompute", measured at small sizes, the
  floats per unit and step they imply, and the estimate (`memory_estimate`) for a batch of
  one 300-step trial at each preset on 224x224 images.
- ``arnoldi``: ARPACK eigenvalues against the dense ones at a small size (largest relative
  gap) and the time to the top 100 eigenvalues of the largest area of CordsNet-R8 on 224x224
  images (64 x 56 x 56 = 200,704 units), with their residuals.
- ``regimes``: random tanh CordsNets across gains (stable, oscillatory, chaotic), with the
  participation ratio and the largest Lyapunov exponent; writes regimes.png.

Each prints a JSON line; ``--out`` (default docs/benchmarks/cordsnet_runs) keeps it as
<name>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo.models import make_model


def _step_time(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        tick = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tick)
    return times


def speed(repeats: int = 5) -> dict[str, Any]:
    from rnnzoo.models.cordsnet.reference import plain_loop_outputs

    options = {
        "preset": "R2",
        "channels": [16, 16],
        "input_size": 14,
        "stem_kernel": 3,
        "stem_stride": 2,
        "stem_pool": False,
    }
    net = make_model("cordsnet", 1, 10, dt_ms=4, **options)
    steps, batch = 150, 32
    x = torch.zeros(steps, batch, 1)
    x[50:100] = 1.0
    images = torch.randn(batch, 1, 1, 14, 14)

    def fused():
        net.zero_grad()
        net(x, stimuli=images).outputs.square().mean().backward()

    def plain():
        net.zero_grad()
        plain_loop_outputs(net, x[:, :, 0:1], images).square().mean().backward()

    fused(), plain()  # warm up
    times = {"fused": [], "plain_loop": []}
    for _ in range(repeats):  # interleaved, so both see the same machine load
        times["fused"] += _step_time(fused, 1)
        times["plain_loop"] += _step_time(plain, 1)
    vector = {
        "dense": make_model("cordsnet", 1, 1, dt_ms=10, engine="dense"),
        "conv": make_model("cordsnet", 1, 1, dt_ms=10, engine="conv"),
    }
    u = torch.randn(100, batch, 1)

    def vector_step(engine):
        def run():
            vector[engine].zero_grad()
            vector[engine](u).outputs.square().mean().backward()

        return run

    for engine in vector:
        vector_step(engine)()
        times[f"b3_{engine}"] = []
    for _ in range(repeats):
        for engine in vector:
            times[f"b3_{engine}"] += _step_time(vector_step(engine), 1)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {
        "image_network": {
            **options,
            "dt_ms": 4,
            "steps": steps,
            "batch": batch,
            "units": net.state_size,
        },
        "b3_network": {"preset": "b3", "steps": 100, "batch": batch},
        "median_s": medians,
        "all_s": times,
        "speedup_over_plain_loop": medians["plain_loop"] / medians["fused"],
        "dense_over_conv_engine": medians["b3_conv"] / medians["b3_dense"],
    }


def _saved_bytes(net, x, images) -> int:
    """Bytes of every distinct storage autograd saves in one forward pass."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(x, stimuli=images).outputs.sum()
    return sum(seen.values())


def memory() -> dict[str, Any]:
    from rnnzoo.models.cordsnet import CordsNetOptions, memory_estimate

    rows = []
    steps, batch = 20, 2
    for preset, size in (("R2", 32), ("R4", 32)):
        kw = {"preset": preset, "input_size": size, "checkpoint_steps": 5}
        x = torch.zeros(steps, batch, 1)
        x[5:15] = 1
        images = torch.randn(batch, 1, 1, size, size)
        measured = {}
        for mode in ("store", "recompute"):
            net = make_model("cordsnet", 1, 10, dt_ms=2, memory=mode, **kw)
            measured[mode] = _saved_bytes(net, x, images)
        units = net.arch.units
        rows.append(
            {
                "preset": preset,
                "input_size": size,
                "steps": steps,
                "batch": batch,
                "units": units,
                "saved_bytes": measured,
                "floats_per_unit_step_store": measured["store"] / (4 * units * steps * batch),
            }
        )
    estimates = []
    for preset in ("R2", "R4", "R6", "R8"):
        options = CordsNetOptions(preset=preset, input_size=224, input_channels=3)
        estimate = memory_estimate(options, batch_size=1, steps=300)
        estimates.append(
            {
                "preset": preset,
                "units": options.n_hidden,
                "store_GB": estimate["store"] / 1e9,
                "recompute_GB": estimate["recompute"] / 1e9,
            }
        )
    cpu = CordsNetOptions(
        preset="R2", channels=[16, 16], input_size=14, stem_kernel=3, stem_stride=2, stem_pool=False
    )
    cpu_estimate = memory_estimate(cpu, batch_size=32, steps=150)
    return {
        "measured": rows,
        "per_preset_224px_one_trial_300_steps": estimates,
        "cpu_table1_config_batch32_150_steps": {
            "store_MB": cpu_estimate["store"] / 1e6,
            "recompute_MB": cpu_estimate["recompute"] / 1e6,
        },
    }


def arnoldi(small_only: bool = False) -> dict[str, Any]:
    from rnnzoo.analysis.convolutional import conv_matrix, conv_operator, eigenpairs

    small = make_model(
        "cordsnet", 1, 1, dt_ms=10, channels=[8], grid_size=10, kernel_size=3, gain=1.0
    )
    dense = np.linalg.eigvals(conv_matrix(small))
    gaps = {}
    for which in ("LR", "LM"):
        pairs = eigenpairs(conv_operator(small), 20, which=which)
        gaps[which] = {
            "max_relative_gap_to_dense": float(
                max(np.min(np.abs(dense - v)) / abs(v) for v in pairs.eigenvalues)
            ),
            "max_residual": float(pairs.residuals.max()),
        }
    if small_only:
        return {"small": {"units": 800, **gaps}}
    big = make_model("cordsnet", 1, 1000, dt_ms=2, preset="R8", input_size=224, input_channels=3)
    op = conv_operator(big, 0)
    tick = time.perf_counter()
    pairs = eigenpairs(op, 100, which="LR", tol=1e-8)
    total = time.perf_counter() - tick
    return {
        "small": {"units": 800, **gaps},
        "r8_area0": {
            "units": op.shape[0],
            "k": 100,
            "seconds": total,
            "applications": pairs.applications,
            "max_residual": float(pairs.residuals.max()),
            "spectral_abscissa": float(pairs.eigenvalues.real.max()),
        },
    }


def regimes(out: Path) -> dict[str, Any]:
    from rnnzoo.analysis.convolutional import dynamical_regime
    from rnnzoo.analysis.cordsnet_plots import plot_regimes

    rows = []
    for gain in (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0):
        net = make_model(
            "cordsnet",
            1,
            1,
            dt_ms=1,
            channels=[8],
            grid_size=8,
            kernel_size=3,
            activation="tanh",
            gain=gain,
        )
        regime = dynamical_regime(net, steps=2000, seed=0).summary()
        regime.pop("autocorrelation")
        rows.append(regime)
    plot_regimes(rows, out / "regimes.png")
    return {
        "network": "one area, 8 channels on 8x8, 3x3 kernels, tanh, tau 10 ms, dt 1 ms",
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("speed", "memory", "arnoldi", "regimes"))
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/cordsnet_runs"))
    parser.add_argument(
        "--small-only", action="store_true", help="arnoldi: only the check against dense"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.what + ("_small" if args.small_only and args.what == "arnoldi" else "")
    if args.what == "arnoldi":
        data = arnoldi(args.small_only)
    elif args.what == "regimes":
        data = regimes(args.out)
    else:
        data = {"speed": speed, "memory": memory}[args.what]()
    text = json.dumps(data, indent=2)
    (args.out / f"{name}.json").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
