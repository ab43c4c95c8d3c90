"""The progress bar of a long training run (loss and performance)."""

from __future__ import annotations

import contextlib
from typing import Any


class ProgressBar:
    """A rich progress bar showing loss and performance."""

    def __init__(self, total: int, done: int) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("training"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            transient=False,
        )
        self.task = self.progress.add_task("train", total=total, completed=done, info="")
        self.progress.start()

    def update(self, step: int, loss: float, evaluation: dict[str, Any] | None) -> None:
        perf = "" if evaluation is None else f" perf {evaluation['statistic']:.3f}"
        self.progress.update(self.task, completed=step, info=f"loss {loss:.4g}{perf}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.progress.stop()
