"""The memory budget that every run and export is checked against before anything is written.

The budget is ``RNNZOO_MEMORY_GB`` (gigabytes, 10^9 bytes) when that variable is set, else 80%
of this machine's memory (``MemTotal`` in /proc/meminfo, or the cgroup's ``memory.max`` when that
is lower).  An estimate above the budget is an `InvalidParameterError` that gives the estimate,
its largest parts, the budget and how to change either.

Trial lengths come from the task itself, so every task kind (and composition) is covered: the
longest trial a configuration can draw is built once with every duration law at its highest
value (`longest_trial_steps`).  Its cost is bounded first from the parameter schema (every
duration is at most `MAX_DURATION_STEPS` steps), so that the probe itself never exhausts memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rnnzoo.errors import InvalidParameterError

BUDGET_ENV = "RNNZOO_MEMORY_GB"
BUDGET_FRACTION = 0.8
FLOAT_BYTES = 4
GB = 1e9


def machine_memory_bytes() -> int | None:
    """This machine's memory in bytes (the cgroup limit when lower), None when unknown."""
    sizes = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                sizes.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            sizes.append(int(limit))
    except OSError:
        pass
    if not sizes:
        try:
            sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(sizes)


def memory_budget(device_bytes: int | None = None) -> tuple[float, str]:
    """The budget in bytes and where it comes from (for messages).  ``device_bytes``: the
    memory of the accelerator a run trains on, used instead of the machine's."""
    text = os.environ.get(BUDGET_ENV)
    if text is not None:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 < value < 1e9:  # also NaN
            raise InvalidParameterError(
                f"{BUDGET_ENV} must be a number of gigabytes > 0; got {text!r}"
            )
        return value * GB, f"{BUDGET_ENV}={text}"
    total = device_bytes if device_bytes is not None else machine_memory_bytes()
    where = "the device's memory" if device_bytes is not None else "this machine's memory"
    if total is None:
        return float("inf"), "unknown machine memory (no budget)"
    return BUDGET_FRACTION * total, f"{BUDGET_FRACTION:.0%} of {where}"


def format_bytes(n: float) -> str:
    """``n`` bytes as text in MB, GB or TB (10^6, 10^9, 10^12)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1e6:.3g} MB"


def check_budget(
    what: str, parts: dict[str, float], advice: str, device_bytes: int | None = None
) -> float:
    """Raise `InvalidParameterError` when the bytes of ``parts`` (name -> bytes) add up to more
    than the budget; ``advice`` says which settings shrink the estimate.  Returns the total."""
    total = float(sum(parts.values()))
    budget, source = memory_budget(device_bytes)
    if total > budget:
        largest = sorted(parts.items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"{name} {format_bytes(size)}" for name, size in largest)
        raise InvalidParameterError(
            f"{what} needs about {format_bytes(total)} of memory ({shown}), more than the budget "
            f"of {format_bytes(budget)} ({source}); {advice}, or set {BUDGET_ENV} to raise the "
            "budget"
        )
    return total


# --- trial sizes ------------------------------------------------------------------------------
def _single_tasks(task: Any) -> tuple[Any, ...]:
    """The tasks of a composition, or the task itself."""
    return tuple(getattr(task, "tasks", (task,)))


def _longest(task: Any) -> Any:
    """``task`` with every duration law replaced by its highest value (same class, version)."""
    from rnnzoo.tasks.timing import DURATION_TYPES, Fixed

    params = task.params
    update = {
        name: Fixed(ms=value.highest_ms)
        for name in type(params).model_fields
        if isinstance(value := getattr(params, name), DURATION_TYPES)
    }
    return type(task)(params.model_copy(update=update), version=task.version)


def duration_steps_bound(task: Any) -> int:
    """An upper bound from the parameter schema alone: the steps of every duration parameter,
    at its highest value, added up (over the tasks of a composition, the largest)."""
    from rnnzoo.tasks.timing import DURATION_TYPES

    bounds = []
    for single in _single_tasks(task):
        params, total = single.params, 0.0
        for name, info in type(params).model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            value = getattr(params, name)
            if not extra.get("time") or value is None:
                continue
            ms = value.highest_ms if isinstance(value, DURATION_TYPES) else float(value)
            total += ms / params.dt_ms + 1
        bounds.append(int(total))
    return max(bounds)


def longest_trial_steps(task: Any) -> int:
    """Steps T of the longest trial ``task`` (or a composition) can draw: one noise-free trial
    of the task's `longest_conditions`, built with every duration at its highest value (its
    channels as the task's)."""
    steps = 0
    for single in _single_tasks(task):
        longest = _longest(single)
        draws = longest.longest_conditions(_probe_rng())
        steps = max(steps, longest.build(draws).n_steps)
    return steps


def _probe_rng() -> Any:
    import numpy as np

    return np.random.default_rng(0)


def trial_channels(task: Any) -> int:
    """Floats per trial step of a batch: inputs, targets and loss weights (I + 2 O)."""
    return task.n_inputs + 2 * task.n_outputs


def check_probe_fits(task: Any, what: str) -> None:
    """Before `longest_trial_steps` builds its trial: the schema bound of one trial must fit."""
    bound = duration_steps_bound(task) * trial_channels(task) * FLOAT_BYTES
    check_budget(what, {"one trial": bound}, "shorten its durations or use a larger dt_ms")


def batch_bytes(task: Any, batch_size: int, steps: int) -> float:
    """Bytes of a generated batch of ``batch_size`` trials of ``steps`` steps (its arrays plus
    the float64 noise drawn for the inputs)."""
    per_step = trial_channels(task) * FLOAT_BYTES + task.n_inputs * 8
    return float(batch_size) * steps * per_step


def check_export(task: Any, batch_size: int) -> None:
    """Raise unless a batch of ``batch_size`` of the longest trials of ``task`` fits the budget
    (`rnnzoo tasks export`, `export_task`)."""
    what = f"a batch of {batch_size} trials of {getattr(task, 'name', 'the task')}"
    check_probe_fits(task, what)
    steps = longest_trial_steps(task)
    check_budget(
        what,
        {f"{batch_size} trials x {steps} steps": batch_bytes(task, batch_size, steps)},
        "use a smaller batch_size or shorter trials",
    )
