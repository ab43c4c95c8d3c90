"""The fused leaky core on a GPU: no host synchronisation in a training step, and its speed
relative to the arithmetic floor, the ratio benchmarks/bench_models.py measures on the CPU.

Run by hand (not in CI; scripts/seed002_table1_gpu.sh runs it first)::

    .venv/bin/python benchmarks/bench_core_cuda.py [--device cuda] [--out FILE.md]

1. Synchronisation check: a forward and backward pass of leaky rate and current networks with
   every option that changes the core's code path (noise, ensembles, per-neuron tau, PReLU,
   recomputation, low rank, Dale's law) under ``torch.cuda.set_sync_debug_mode("error")``,
   which raises at any operation that makes the host wait for the GPU.  The noise comes from a
   generator on the GPU, as the trainer's.  With ``--device meta`` (what the test suite runs on
   a CPU) the same passes run on the meta device, where any read of tensor data raises.
2. Speed (cuda or cpu): the median wall-clock of a training step (forward, backward, Adam;
   ``torch.cuda.synchronize`` before reading the clock) of M networks at once, against the
   floor 6 M B N^2 T flops at the rate of one step-shaped batched matmul measured in the same
   process; seed 002's size (N 50, T 705, M 100, B 20) and two of bench_models' configurations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

SYNC_CASES = {
    "default": {},
    "noise": {"recurrent_noise": 0.1, "input_noise": 0.05},
    "ou noise": {"recurrent_noise": 0.1, "noise_tau_ms": 50.0},
    "per-member tau": {"tau_ms": [50.0, 100.0]},
    "prelu": {"activation": "prelu", "activation_slope": 0.3},
    "recompute": {"memory": "recompute", "checkpoint_steps": 3},
    "low rank": {"rank": 2},
    "dale": {"dale": True},
}
SPEED = [(50, 705, 100, 20), (64, 500, 32, 64), (256, 500, 1, 64)]


def check_no_sync(device: str) -> list[str]:
    """Forward + backward of every case on ``device`` ('cuda' under the sync debug mode, or
    'meta'); returns the names checked, raises at the first synchronisation."""
    import torch

    from rnnzoo.models import make_model

    checked = []
    for kind in ("leaky_rate", "leaky_current"):
        for name, options in SYNC_CASES.items():
            net = make_model(kind, 3, 2, dt_ms=10, n_hidden=8, ensemble=2, seed=0, **options)
            net = net.to(device)
            inputs = torch.zeros(6, 4, 3, device=device)
            generator = torch.Generator(device=device) if device == "cuda" else None
            if device == "cuda":
                torch.cuda.synchronize()
                torch.cuda.set_sync_debug_mode("error")
            try:
                out = net(inputs, generator=generator, return_states=True)
                (out.outputs.sum() + out.states.sum()).backward()
            finally:
                if device == "cuda":
                    torch.cuda.set_sync_debug_mode("default")
            checked.append(f"{kind}/{name}")
    checked += _check_methods(device)
    return checked


def _check_methods(device: str) -> list[str]:
    """Seed 002's training-time dynamics (CD, SCTT, DASC) at the start of annealing, forward
    and backward, under the same check."""
    import torch

    from rnnzoo.models import make_model
    from rnnzoo.training.methods import make_method

    checked = []
    for name, hyper in (("cd", {"theta": 3}), ("sctt", {"theta": 3}), ("dasc", {"theta": 3})):
        net = make_model(
            "leaky_rate", 3, 2, dt_ms=10, n_hidden=8, ensemble=2, seed=0, recurrent_noise=0.1
        ).to(device)
        inputs = torch.zeros(7, 4, 3, device=device)
        generator = torch.Generator(device=device) if device == "cuda" else None
        method = make_method(name, **hyper)
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.set_sync_debug_mode("error")
        try:
            method.outputs(net, inputs, 0.0, generator).sum().backward()
        finally:
            if device == "cuda":
                torch.cuda.set_sync_debug_mode("default")
        checked.append(f"method/{name}")
    return checked


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _median_seconds(step, device: str, repeats: int) -> float:
    step()  # warm-up: workspace, kernels
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(n: int, steps: int, members: int, batch: int, device: str, repeats: int) -> dict:
    """One configuration: fused training step vs the floor, on ``device``."""
    import torch

    from rnnzoo.models import make_model

    net = make_model("leaky_rate", 3, 3, dt_ms=5, n_hidden=n, tau_ms=100.0, ensemble=members)
    net = net.to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    inputs = torch.randn(steps, batch, 3, device=device)
    targets = torch.randn(steps, members, batch, 3, device=device)

    def train_step():
        loss = ((net(inputs).outputs - targets) ** 2).mean() * members
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    a = torch.randn(members, batch, n, device=device)
    w = torch.randn(members, n, n, device=device)
    out = torch.empty(members, batch, n, device=device)
    calls = max(20, int(2e9 / (2 * members * batch * n * n)))
    per_call = _median_seconds(lambda: [torch.bmm(a, w, out=out) for _ in range(calls)], device, 3)
    rate = 2 * members * batch * n * n / (per_call / calls)
    floor = 6 * members * batch * n * n * steps / rate
    fast = _median_seconds(train_step, device, repeats)
    return {
        "device": device,
        "N": n,
        "T": steps,
        "M": members,
        "B": batch,
        "gflops": rate / 1e9,
        "floor_s": floor,
        "fast_s": fast,
        "fast_over_floor": fast / floor,
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| device | N | T | M | B | matmul GFLOP/s | floor (s) | step (s) | step / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['device']} | {r['N']} | {r['T']} | {r['M']} | {r['B']} | {r['gflops']:.0f} | "
        f"{r['floor_s']:.4f} | {r['fast_s']:.4f} | {r['fast_over_floor']:.2f}x |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu", "meta"])
    p.add_argument("--repeats", type=int, default=5, help="timed training steps per size")
    p.add_argument("--quick", action="store_true", help="the smallest size only")
    p.add_argument("--out", type=Path, help="write the Markdown table here")
    args = p.parse_args()
    import torch

    torch.set_num_threads(1)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_core_cuda: no CUDA device is available (use --device cpu/meta)")
    sync_device = "meta" if args.device != "cuda" else "cuda"
    checked = check_no_sync(sync_device)
    print(f"no host synchronisation on {sync_device}: {len(checked)} cases ({', '.join(checked)})")
    if args.device == "meta":
        return
    devices = ["cuda", "cpu"] if args.device == "cuda" else ["cpu"]
    sizes = SPEED[1:2] if args.quick else SPEED
    rows = []
    for device in devices:
        for n, steps, members, batch in sizes:
            rows.append(speed(n, steps, members, batch, device, args.repeats))
            print(json.dumps(rows[-1]), flush=True)
    text = table(rows)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
