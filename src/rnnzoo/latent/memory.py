"""The latent path's own memory model (bytes): parameters O(N (2K + I + O)), Adam state,
latent-checkpointed trajectories O(B T (K + O)) and a few B x N or chunk transients, never
O(N^2) or O(B T N).  It is checked before anything is written (``max_memory_gb``), so that
large low-rank networks are judged by what they need, not by an N^2 rule.
"""

from __future__ import annotations

from rnnzoo.analysis.large import CHUNK_ELEMENTS
from rnnzoo.latent.fits import CHUNK_ELEMENTS as FIT_CHUNK
from rnnzoo.models.latent_form import BLOCK_ELEMENTS

BASELINE_BYTES = 450e6  # Python, torch and NumPy loaded (measured peak RSS of an idle import)
FIXED_POINT_BATCH = 8  # points per (points, K, N) block of the analytic latent Jacobian


def estimate_bytes(
    *,
    n_hidden: int,
    rank: int,
    n_inputs: int,
    n_outputs: int,
    steps: int,
    ssl_batch: int,
    test_trials: int,
    ridge_samples: int = 0,
    teacher_forced_samples: int = 0,
    rate_samples: int = 2048,
) -> dict[str, float]:
    """Peak bytes of each phase and the total (baseline + parameters + the largest phase).

    float32 parameters with gradients and Adam's two moments (4 copies) plus one float64 copy
    for the latent field; Step I: forward B x N transients, backward blocks of
    max(B N, `BLOCK_ELEMENTS`) elements (three buffers), trajectories B T (K + O) + B T (K + I
    + 1); the ridge fit: an S x S float64 Gram matrix and two S x chunk feature blocks;
    inference: the test rollout's B x N transients, recomputed rate chunks (three buffers of
    `CHUNK_ELEMENTS`), the Gram of ``rate_samples`` points, and the Jacobian blocks.
    """
    n, k = n_hidden, rank
    width = 2 * k + n_inputs + n_outputs + 1
    params = 4 * 4.0 * n * width + 8.0 * n * width
    trajectories = 4.0 * steps * ssl_batch * (2 * k + n_inputs + n_outputs + 1)
    ssl = trajectories + 4.0 * ssl_batch * n + 3 * 4.0 * max(ssl_batch * n, BLOCK_ELEMENTS)
    forced = 3 * 4.0 * teacher_forced_samples * n
    ridge = 8.0 * ridge_samples**2 + 2 * 8.0 * FIT_CHUNK if ridge_samples else 0.0
    inference = (
        3 * 4.0 * test_trials * n
        + 3 * 4.0 * CHUNK_ELEMENTS
        + 8.0 * rate_samples**2
        + 8.0 * FIXED_POINT_BATCH * k * n
    )
    phases = {"ssl": ssl, "teacher_forced": forced, "ridge": ridge, "inference": inference}
    total = BASELINE_BYTES + params + max(phases.values())
    return {"baseline": BASELINE_BYTES, "parameters": params, **phases, "total": total}
