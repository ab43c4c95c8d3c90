"""Training-step speed of the fused leaky core vs a plain PyTorch loop and the arithmetic floor.

Run by hand (not in CI), one torch thread::

    .venv/bin/python benchmarks/bench_models.py [--quick] [--out tables.md]

Each configuration (N neurons, T steps, M networks, B = 64 trials, 3 inputs, 3 outputs, ReLU
rate network, MSE loss, Adam) runs in its own fresh process so that its peak memory (max RSS)
is its own.  In the same process it measures:

- fast: one training step (forward + backward + Adam) of `make_model("leaky_rate", ...,
  ensemble=M)` on M networks at once;
- plain: the same step for ONE network written the way users write it (a Python loop over
  time, autograd, `torch.stack` of the states, the readout after the loop);
- floor: 6 * M * B * N^2 * T flops (forward, input-gradient and weight-gradient matmuls) at the
  rate of one (M, B, N) x (M, N, N) batched matmul measured in the same process.

Per-network speed-up = plain * M / fast.  A second table compares peak memory of the `store`
and `recompute` activation-memory modes on a long trial.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

B, N_IN, N_OUT = 64, 3, 3
GRID = [
    (64, 500, 1),
    (64, 2000, 1),
    (256, 500, 1),
    (256, 2000, 1),
    (1024, 500, 1),
    (1024, 2000, 1),
    (64, 500, 32),
    (64, 2000, 32),
]
QUICK = [(64, 500, 1), (256, 500, 1), (64, 500, 32)]


def _timed(step, repeats: int) -> float:
    step()  # warm-up (allocations, workspace)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _plain_step(n: int, steps: int):
    import torch

    w_in = torch.nn.Parameter(torch.randn(n, N_IN) / N_IN**0.5)
    w_rec = torch.nn.Parameter(torch.randn(n, n) / n**0.5)
    bias = torch.nn.Parameter(torch.zeros(n))
    w_out = torch.nn.Parameter(torch.randn(N_OUT, n) / n**0.5)
    optimiser = torch.optim.Adam([w_in, w_rec, bias, w_out], lr=1e-3)
    inputs, targets, alpha = torch.randn(steps, B, N_IN), torch.randn(steps, B, N_OUT), 0.2

    def step():
        h, states = torch.zeros(B, n), []
        for u in inputs.unbind(0):
            h = (1 - alpha) * h + alpha * torch.relu(h @ w_rec.T + u @ w_in.T + bias)
            states.append(h)
        loss = ((torch.stack(states) @ w_out.T - targets) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return step


def _fast_step(n: int, steps: int, members: int, memory: str = "store"):
    import torch

    from rnnzoo.models import make_model

    net = make_model(
        "leaky_rate",
        N_IN,
        N_OUT,
        dt_ms=20,
        n_hidden=n,
        tau_ms=100.0,
        memory=memory,
        ensemble=members if members > 1 else None,
    )
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    inputs = torch.randn(steps, B, N_IN)
    targets = torch.randn(steps, members, B, N_OUT) if members > 1 else torch.randn(steps, B, N_OUT)

    def step():
        loss = ((net(inputs).outputs - targets) ** 2).mean() * members  # sum over members
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()

    return step


def _matmul_rate(n: int, members: int) -> float:
    import torch

    a, w, out = torch.randn(members, B, n), torch.randn(members, n, n), torch.empty(members, B, n)
    repeats = max(20, int(2e9 / (2 * members * B * n * n)))
    seconds = _timed(lambda: [torch.bmm(a, w, out=out) for _ in range(repeats)], 3) / repeats
    return 2 * members * B * n * n / seconds


def run_one(n: int, steps: int, members: int, which: str) -> dict:
    """Measure one configuration in this process (called in a child process)."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    repeats = 3 if n * n * steps * members <= 64 * 64 * 2000 * 32 else 2
    row = {"N": n, "T": steps, "M": members, "B": B}
    if which == "speed":
        rate = _matmul_rate(n, members)
        row["gflops"] = rate / 1e9
        row["floor_s"] = 6 * members * B * n * n * steps / rate
        row["fast_s"] = _timed(_fast_step(n, steps, members), repeats)
        row["plain_s"] = _timed(_plain_step(n, steps), repeats)
    else:
        row["memory"] = which
        row["fast_s"] = _timed(_fast_step(n, steps, members, which), 2)
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return row


def _child(n: int, steps: int, members: int, which: str) -> dict:
    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks'); import bench_models as b; "
        f"print(json.dumps(b.run_one({n}, {steps}, {members}, {which!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed_table(rows: list[dict]) -> str:
    lines = [
        "| N | T | M | matmul GFLOP/s | floor (s) | fast (s) | fast / floor | plain, 1 net (s) "
        "| plain / floor | speed-up per network | peak RSS (GB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per_net_floor = r["floor_s"] / r["M"]
        lines.append(
            f"| {r['N']} | {r['T']} | {r['M']} | {r['gflops']:.0f} | {r['floor_s']:.3f} | "
            f"{r['fast_s']:.3f} | {r['fast_s'] / r['floor_s']:.2f}x | {r['plain_s']:.3f} | "
            f"{r['plain_s'] / per_net_floor:.2f}x | {r['plain_s'] * r['M'] / r['fast_s']:.1f}x | "
            f"{r['peak_rss_gb']:.2f} |"
        )
    return "\n".join(lines)


def memory_table(rows: list[dict]) -> str:
    lines = ["| N | T | B | memory | step (s) | peak RSS (GB) |", "|---:|---:|---:|---|---:|---:|"]
    lines += [
        f"| {r['N']} | {r['T']} | {r['B']} | {r['memory']} | {r['fast_s']:.2f} | "
        f"{r['peak_rss_gb']:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three small configurations")
    parser.add_argument("--out", type=Path, help="write the Markdown tables here")
    args = parser.parse_args()
    rows = []
    for config in QUICK if args.quick else GRID:
        rows.append(_child(*config, "speed"))
        print(json.dumps(rows[-1]), flush=True)
    memory = [_child(256, 2500, 1, mode) for mode in ("store", "recompute")]
    text = speed_table(rows) + "\n\n" + memory_table(memory) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
