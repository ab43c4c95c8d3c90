"""The memory a run needs, estimated from its config and the task and model schemas, and
checked against the memory budget (`rnnzoo.memory`) before any network is built or any file
is written.

With T the longest trial's steps, B and B_eval the training and evaluation batches, I and O
the task's channels, M members, N units and G recurrent weight blocks per member (the
kind's ``weight_blocks``; 3 for the GRU, 4 for the LSTM):

- weights: M G (N^2 + N (I + O + 2)) floats, four times (weights, gradients, Adam's two
  moments); low rank R counts 2 N R instead of N^2, and a kind whose recurrence is not a
  matrix counts its own (`Network.recurrent_weight_count`: CordsNet's kernels); image tasks
  give the network its image geometry first, as when it is built;
- trials: (B + B_eval) T (I + 2 O) floats plus the float64 input noise;
- activations: M max(B, B_eval) T N x the kind's ``activation_bytes`` (peak bytes per unit,
  trial and step, set above what `benchmarks/bench_memory_estimate.py` measures: 36 for the
  leaky and vanilla networks, 76 GRU, 88 LSTM; half with ``memory="recompute"``); evaluation
  reuses the buffers of training.

The estimate errs on the large side (docs/reliability.md has the benchmark's table: 1.1 to 1.8
times the measured peak, 3.1 with an evaluation batch 4 times the training batch, since
evaluation keeps nothing for a backward pass); trials whose length is a random count (not a
duration law) may be a little longer than the probe's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rnnzoo.memory import FLOAT_BYTES, batch_bytes, check_budget, check_probe_fits
from rnnzoo.memory import longest_trial_steps as _trial_steps
from rnnzoo.training.config import RunConfig

MODEL_KEYWORDS = ("member",)  # keywords of make_model that a config's options may carry


def run_memory(config: RunConfig, task: Any, trial_steps: int) -> dict[str, float]:
    """Estimated bytes of training ``config`` on ``task`` by part (see the module docstring)."""
    from rnnzoo.models import get_model_class
    from rnnzoo.models.options import validate_options

    spec, tc = config.model, config.train
    cls = get_model_class(spec.kind)
    given = {k: v for k, v in spec.options.items() if k not in MODEL_KEYWORDS}
    given = cls.options_for_task(given, getattr(task, "stimulus_shape", None))
    options = validate_options(spec.kind, cls.Options, given)
    members, units = spec.ensemble or 1, options.n_hidden
    io = cls.weight_blocks * (units * (task.n_inputs + task.n_outputs + 2) + task.n_outputs)
    weights = members * (cls.recurrent_weight_count(options) + io) * FLOAT_BYTES * 4
    per_unit_step = cls.activation_bytes / (
        2 if getattr(options, "memory", "") == "recompute" else 1
    )
    largest = max(tc.batch_size, tc.eval_batch_size)  # evaluation reuses training's buffers
    return {
        "weights and optimiser state": float(weights),
        "trials": batch_bytes(task, tc.batch_size + tc.eval_batch_size, trial_steps),
        "activations": float(members) * largest * trial_steps * units * per_unit_step,
    }


def device_memory(device: Any) -> int | None:
    """Bytes of memory of a CUDA ``device`` (None for the CPU: the machine's memory counts)."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return None
    return int(torch.cuda.get_device_properties(device).total_memory)


def check_run_fits(config: RunConfig, tasks: Sequence[Any], device: Any = "cpu") -> float:
    """Raise `InvalidParameterError` when training ``config`` needs more memory than the budget
    of ``device``; ``tasks``: every task the run trains on (the configured one, a curriculum's
    extremes), the longest trial of which counts.  Returns the estimate in bytes."""
    what = "this run"
    for task in tasks:
        check_probe_fits(task, what)
    steps = max(_trial_steps(task) for task in tasks)
    parts = run_memory(config, tasks[0], steps)
    advice = (
        f"its trials last up to {steps} steps; use fewer or smaller networks (n_hidden, "
        "ensemble), a smaller batch_size or eval_batch_size, or shorter trials"
    )
    return check_budget(what, parts, advice, device_memory(device))


def check_config_fits(config: RunConfig) -> float:
    """`check_run_fits` for a config alone (builds its task and curriculum; no network)."""
    from rnnzoo.training.build import build_task, resolve_device
    from rnnzoo.training.curriculum import Curriculum

    task = build_task(config)
    tasks = Curriculum(config.train.curriculum, config.task, task).extremes(task)
    return check_run_fits(config, tasks, resolve_device(config.train.device))
