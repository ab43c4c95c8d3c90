"""The network and training set-up a task's source states, as data.

A task (or suite) lists, per version, the settings its source gives: the network kind and
options and the training settings, with where they come from.  `rnnzoo train --recommended`
(and `rnnzoo.training.recommended`) takes them; the task card shows them.  Settings the source
does not state are left to rnnzoo's defaults, never guessed.  (Layer 1 holds the numbers only;
the training layer checks them against the model options and `TrainConfig`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recommended:
    """Settings from a task's source.

    Attributes
    ----------
    source : where the numbers come from (paper, section, code).
    model : network kind (`rnnzoo models list`).
    options : model options (`rnnzoo models show KIND`).
    train : training settings (`rnnzoo.training.TrainConfig`).
    """

    source: str
    model: str = "leaky_rate"
    options: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (for the task card)."""
        return {
            "source": self.source,
            "model": self.model,
            "options": dict(self.options),
            "train": dict(self.train),
        }


__all__ = ["Recommended"]
