"""Training-step speed of the fused cores vs a plain PyTorch loop and the arithmetic floor.

Run by hand (not in CI), one torch thread::

    .venv/bin/python benchmarks/bench_models.py [--quick] [--out tables.md]

Each configuration (N neurons, T steps, M networks, B = 64 trials, 3 inputs, 3 outputs, MSE
loss, Adam) runs in its own fresh process so that its peak memory (max RSS) is its own.  Times
are CPU seconds of that process (`time.process_time`, one thread), the median of the repeats:
on a machine shared with other jobs they are less disturbed than wall-clock times.  In the same
process it measures:

- fast: one training step (forward + backward + Adam) of `make_model(kind, ..., ensemble=M)`
  on M networks at once, with the compiled kernels (`rnnzoo.models.kernels`);
- fast, PyTorch path: the same step with the kernels switched off (the reference loops);
- plain: the same step for ONE network written the way users write it: for the leaky
  (ReLU rate) network a Python loop over time with autograd, `torch.stack` of the states and
  the readout after the loop; for GRU and LSTM PyTorch's own `torch.nn.GRU`/`LSTM` + Linear;
- floor: 6 * G * M * B * N^2 * T flops (forward, input-gradient and weight-gradient matmuls;
  G = 1 leaky, 3 GRU, 4 LSTM gates) at the rate of one (M, B, N) x (M, N, G*N) batched matmul
  measured in the same process.

Per-network speed-up = plain * M / fast.  A second table compares peak memory of the `store`
and `recompute` activation-memory modes on a long trial; a third times the leaky kernels with
their members processed in chunks of different sizes (the member blocking).
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
GATES = {"leaky_rate": 1, "gru": 3, "lstm": 4}
GRID = [
    (64, 500, 1, "leaky_rate"),
    (64, 2000, 1, "leaky_rate"),
    (256, 500, 1, "leaky_rate"),
    (256, 2000, 1, "leaky_rate"),
    (64, 500, 32, "leaky_rate"),
    (64, 2000, 32, "leaky_rate"),
    (256, 500, 1, "gru"),
    (256, 500, 4, "gru"),
    (256, 500, 1, "lstm"),
    (256, 500, 4, "lstm"),
]
LARGE = [(1024, 500, 1, "leaky_rate"), (1024, 2000, 1, "leaky_rate")]
QUICK = [(64, 500, 1, "leaky_rate"), (64, 500, 32, "leaky_rate"), (256, 200, 2, "gru")]
CHUNKS = [1, 2, 4, 8, 16, 32]


def _timed(step, repeats: int) -> float:
    step()  # warm-up (allocations, workspace)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        step()
        times.append(time.process_time() - start)
    return statistics.median(times)


def _plain_step(n: int, steps: int, kind: str):
    import torch

    inputs, targets = torch.randn(steps, B, N_IN), torch.randn(steps, B, N_OUT)
    if kind != "leaky_rate":
        rnn = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind](N_IN, n)
        linear = torch.nn.Linear(n, N_OUT)
        optimiser = torch.optim.Adam([*rnn.parameters(), *linear.parameters()], lr=1e-3)

        def step():
            loss = ((linear(rnn(inputs)[0]) - targets) ** 2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

        return step

    w_in = torch.nn.Parameter(torch.randn(n, N_IN) / N_IN**0.5)
    w_rec = torch.nn.Parameter(torch.randn(n, n) / n**0.5)
    bias = torch.nn.Parameter(torch.zeros(n))
    w_out = torch.nn.Parameter(torch.randn(N_OUT, n) / n**0.5)
    optimiser = torch.optim.Adam([w_in, w_rec, bias, w_out], lr=1e-3)
    alpha = 0.2

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


def _fast_step(n: int, steps: int, members: int, kind: str, memory: str = "store"):
    import torch

    from rnnzoo.models import make_model

    leaky = {"dt_ms": 20, "tau_ms": 100.0, "memory": memory} if kind == "leaky_rate" else {}
    net = make_model(
        kind,
        N_IN,
        N_OUT,
        n_hidden=n,
        ensemble=members if members > 1 else None,
        **leaky,
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


def _matmul_rate(n: int, members: int, gates: int) -> float:
    import torch

    a, w = torch.randn(members, B, n), torch.randn(members, n, gates * n)
    out = torch.empty(members, B, gates * n)
    flops = 2 * members * B * n * n * gates
    repeats = max(20, int(2e9 / flops))
    seconds = _timed(lambda: [torch.bmm(a, w, out=out) for _ in range(repeats)], 3) / repeats
    return flops / seconds


def run_one(n: int, steps: int, members: int, kind: str, which: str) -> dict:
    """Measure one configuration in this process (called in a child process)."""
    import torch

    from rnnzoo.models import kernels

    torch.set_num_threads(1)
    torch.manual_seed(0)
    assert kernels.available(), kernels.unavailable_reason()
    gates = GATES[kind]
    repeats = 3 if gates * n * n * steps * members <= 64 * 64 * 2000 * 32 else 2
    row = {"N": n, "T": steps, "M": members, "B": B, "kind": kind}
    if which == "speed":
        rate = _matmul_rate(n, members, gates)
        row["gflops"] = rate / 1e9
        row["floor_s"] = 6 * gates * members * B * n * n * steps / rate
        row["fast_s"] = _timed(_fast_step(n, steps, members, kind), repeats)
        with kernels.use_kernels(False):
            row["pytorch_s"] = _timed(_fast_step(n, steps, members, kind), repeats)
        row["plain_s"] = _timed(_plain_step(n, steps, kind), repeats)
    elif which.startswith("chunk:"):
        row["chunk"] = int(which.split(":")[1])
        kernels.members_per_chunk = lambda *args: row["chunk"]
        row["fast_s"] = _timed(_fast_step(n, steps, members, kind), repeats)
    else:
        row["memory"] = which
        row["fast_s"] = _timed(_fast_step(n, steps, members, kind, which), 2)
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return row


def _child(n: int, steps: int, members: int, kind: str, which: str) -> dict:
    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks'); import bench_models as b; "
        f"print(json.dumps(b.run_one({n}, {steps}, {members}, {kind!r}, {which!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed_table(rows: list[dict]) -> str:
    lines = [
        "| network | N | T | M | matmul GFLOP/s | floor (s) | fast (s) | fast / floor "
        "| PyTorch path (s) | PyTorch path / floor | plain, 1 net (s) | plain / floor "
        "| speed-up per network | peak RSS (GB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per_net_floor = r["floor_s"] / r["M"]
        lines.append(
            f"| {r['kind']} | {r['N']} | {r['T']} | {r['M']} | {r['gflops']:.0f} | "
            f"{r['floor_s']:.3f} | {r['fast_s']:.3f} | {r['fast_s'] / r['floor_s']:.2f}x | "
            f"{r['pytorch_s']:.3f} | {r['pytorch_s'] / r['floor_s']:.2f}x | {r['plain_s']:.3f} | "
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


def chunk_table(rows: list[dict]) -> str:
    lines = ["| N | T | M | members per chunk | step (s) |", "|---:|---:|---:|---:|---:|"]
    lines += [
        f"| {r['N']} | {r['T']} | {r['M']} | {r['chunk']} | {r['fast_s']:.3f} |" for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three small configurations")
    parser.add_argument("--large", action="store_true", help="also N = 1024 (T = 500, 2000)")
    parser.add_argument("--out", type=Path, help="write the Markdown tables here")
    args = parser.parse_args()
    rows = []
    for config in QUICK if args.quick else GRID + (LARGE if args.large else []):
        rows.append(_child(*config, "speed"))
        print(json.dumps(rows[-1]), flush=True)
    long_trial = (256, 500 if args.quick else 2500, 1, "leaky_rate")
    memory = [_child(*long_trial, mode) for mode in ("store", "recompute")]
    chunks = [_child(64, 500, 32, "leaky_rate", f"chunk:{k}") for k in CHUNKS]
    text = "\n\n".join([speed_table(rows), memory_table(memory), chunk_table(chunks)]) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
