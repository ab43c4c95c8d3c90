"""Ensemble diagnostics: members that stopped learning.

A member is *stalled* at an evaluation when it is below the target, has at least
``STALL_WINDOW + 1`` evaluations, and its best held-out performance over the last
``STALL_WINDOW`` evaluations is less than ``STALL_GAIN`` above its best before them: for
example a member stuck at 0.0 while the others learn.  The flag is a diagnostic; the member
keeps training (a diverged member, in contrast, is stopped: see `rnnzoo.training.divergence`).
"""

from __future__ import annotations

from collections.abc import Sequence

STALL_WINDOW = 10  # evaluations
STALL_GAIN = 0.01  # performance


def stalled_members(
    history: Sequence[Sequence[float | None]],
    target: float,
    *,
    window: int = STALL_WINDOW,
    gain: float = STALL_GAIN,
) -> list[int]:
    """Members flagged as stalled after the evaluations ``history`` (one per-member list per
    evaluation, None for a stopped member), against ``target``."""
    if len(history) <= window:
        return []
    flagged = []
    for m in range(len(history[-1])):
        values = [row[m] for row in history]
        if values[-1] is None or values[-1] >= target:
            continue
        before = [v for v in values[:-window] if v is not None]
        recent = [v for v in values[-window:] if v is not None]
        if before and recent and max(recent) < max(before) + gain:
            flagged.append(m)
    return flagged


__all__ = ["STALL_GAIN", "STALL_WINDOW", "stalled_members"]
