"""Peak memory of one training step against N (poster panel 3), each measured in a fresh
process, with the analytical model beside it.

One Adam step (forward, backward, step) of a leaky firing-rate network on a B x T x D batch
(the poster's 100 x 500 x 10: D inputs and D outputs), in a new Python process per
configuration (``python -m rnnzoo.bench.scaling_memory``) whose address space is capped
(``cap_gb``), so that running out of memory is a data point ("OOM") and never a crash of
the machine.  Measured: peak RSS (VmHWM) and its rise over the process before the
network existed; the bytes autograd saves for backward (``saved_tensors_hooks``, each storage
counted once); on CUDA, ``max_memory_allocated`` and ``max_memory_reserved``.

Variants: ``dense`` (full-rank W, fused core), ``dense_recompute`` (the same with
``memory="recompute"``), ``low_rank`` (W = m n^T / N, fused core, unrolled N-dimensional
states) and ``latent`` (the latent-checkpointed low-rank form, `rnnzoo.models.latent_form`).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from typing import Any

VARIANTS = ("dense", "dense_recompute", "low_rank", "latent")


def analytical_bytes(
    variant: str, n_hidden: int, batch: int, steps: int, width: int, rank: int = 2
) -> dict[str, float]:
    """The memory model of one Adam step (float32 bytes) for the rnnzoo implementation.

    parameters: 16 P (weights, gradients, two Adam moments) with P = N^2 (dense) or 2 N R
    (low rank) plus N (2 D + 1) + D; saved: the fused core keeps its activity buffer
    [r, u, 1] (T + 1, B, N + D + 1, padded to a multiple of 8), the rates f(z) (T, B, N) and
    the inputs, i.e. c = 2 tensors of B x T x N; the loss keeps one (T, B, D) residual; the
    core's backward adds a (T, B, N + D) buffer; the fused cores also keep their stacked weights
    (the recurrent P plus N (2 D + 2)); ``dense_recompute`` keeps only chunk
    boundaries (100 steps) plus one chunk's buffers; ``latent`` keeps (T + 1, B, R + D) states
    and (T, B, R + D + 1) inputs, with three transients of max(B N, 2^22) elements.
    """
    from rnnzoo.models.latent_form import BLOCK_ELEMENTS

    n, d = n_hidden, width
    recurrent = n * n if variant.startswith("dense") else 2 * n * rank
    params = 16.0 * (recurrent + n * (2 * d + 1) + d)
    data = 2 * 4.0 * batch * steps * d
    residual = 4.0 * batch * steps * d  # the loss keeps (outputs - targets)
    width_aug = -(-(n + d + 1) // 8) * 8  # the core pads [r, u, 1] to a multiple of 8
    stacked = 4.0 * (recurrent + n * (2 * d + 2))  # the weights as the fused core keeps them
    if variant in ("dense", "low_rank"):
        saved = 4.0 * batch * ((steps + 1) * width_aug + steps * (n + d)) + residual + stacked
        transient = 4.0 * batch * steps * (n + d)
    elif variant == "dense_recompute":
        chunk = min(100, steps)
        boundaries = 4.0 * batch * n * -(-steps // chunk)
        saved = boundaries + 4.0 * batch * steps * d + residual
        transient = 2 * 4.0 * batch * ((chunk + 1) * width_aug + chunk * n)
    elif variant == "latent":
        saved = 4.0 * batch * ((steps + 1) * (rank + d) + steps * (rank + d + 1)) + residual
        saved += stacked
        transient = 3 * 4.0 * max(batch * n, BLOCK_ELEMENTS)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    return {
        "parameters": params,
        "saved": saved,
        "transient": transient,
        "total": params + data + saved + transient,
    }


def measure_step(
    variant: str, n_hidden: int, batch: int, steps: int, width: int, rank: int, device: str
) -> dict[str, Any]:
    """Run one Adam step in this process and measure it (see the module docstring)."""
    import torch

    from rnnzoo.models import make_model
    from rnnzoo.models.latent_form import network_latent_rollout

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(steps, batch, width, generator=gen)
    targets = torch.randn(steps, batch, width, generator=gen)
    cuda = device == "cuda"
    if cuda:
        inputs, targets = inputs.cuda(), targets.cuda()
        torch.cuda.reset_peak_memory_stats()
    before = _rss()
    options: dict[str, Any] = {"n_hidden": n_hidden, "tau_ms": 50.0, "activation": "tanh"}
    if variant in ("low_rank", "latent"):
        options["rank"] = rank
    if variant == "dense_recompute":
        options["memory"] = "recompute"
    net = make_model("leaky_rate", width, width, dt_ms=10.0, **options).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    saved: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run = network_latent_rollout if variant == "latent" else None
        outputs = run(net, inputs).linear if run else net(inputs).outputs
        loss = (outputs - targets).square().mean()
    loss.backward()
    optimiser.step()
    result = {
        "peak_rss_bytes": _rss(),
        "rss_before_bytes": before,
        "saved_bytes": float(sum(saved.values())),
    }
    if cuda:
        result["cuda_max_allocated_bytes"] = float(torch.cuda.max_memory_allocated())
        result["cuda_max_reserved_bytes"] = float(torch.cuda.max_memory_reserved())
    return result


def _rss() -> float:
    """This process's peak resident size (bytes): VmHWM, since ``ru_maxrss`` may carry the
    parent's high-water mark into a fresh process; ``ru_maxrss`` where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            return next(float(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # KiB on Linux


def measure_in_fresh_process(
    variant: str,
    n_hidden: int,
    *,
    batch: int = 100,
    steps: int = 500,
    width: int = 10,
    rank: int = 2,
    device: str = "cpu",
    cap_gb: float = 4.0,
    timeout_s: float = 3600,
) -> dict[str, Any]:
    """`measure_step` in a new process with its address space capped at ``cap_gb`` (CPU);
    returns the measurement, or {"oom": True} when it ran out of memory."""
    if variant not in VARIANTS:
        raise ValueError(f"'variant' must be one of {', '.join(VARIANTS)}; got {variant!r}")
    args = [variant, n_hidden, batch, steps, width, rank, device, cap_gb]
    command = [sys.executable, "-m", "rnnzoo.bench.scaling_memory", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    row: dict[str, Any] = {
        "variant": variant,
        "n_hidden": n_hidden,
        "batch": batch,
        "steps": steps,
        "width": width,
        "rank": rank,
        "device": device,
        "cap_gb": cap_gb,
        "shape": f"{batch}x{steps}x{width}",
        "model": analytical_bytes(variant, n_hidden, batch, steps, width, rank),
    }
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode == 0 and lines:
        return {**row, "oom": False, **json.loads(lines[-1])}
    text = done.stderr + done.stdout
    oom = any(word in text for word in ("MemoryError", "can't allocate", "out of memory"))
    if not oom:
        tail = text.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise RuntimeError(f"memory measurement {variant} N={n_hidden} failed: {tail[0]}")
    return {**row, "oom": True}


def _main(argv: list[str]) -> None:
    variant, n_hidden, batch, steps, width, rank, device, cap_gb = argv
    if device == "cpu":
        cap = int(float(cap_gb) * 1e9)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    result = measure_step(
        variant, int(n_hidden), int(batch), int(steps), int(width), int(rank), device
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    _main(sys.argv[1:])
