"""Progress of a long training run (loss and performance): a bar on a terminal, plain
lines otherwise."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, TextIO


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


class ProgressLines:
    """Plain progress lines on stderr when it is not a terminal (a log file, a notebook, a
    pipe): one line per evaluation, so a long run is never silent."""

    def __init__(self, total: int, done: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._shown: dict[str, Any] | None = None
        self._write(f"training: step {done}/{total}")

    def update(self, step: int, loss: float, evaluation: dict[str, Any] | None) -> None:
        if evaluation is None or evaluation is self._shown:  # a line per new evaluation
            return
        self._shown = evaluation
        elapsed = time.perf_counter() - self.start
        self._write(
            f"training: step {step}/{self.total}  loss {loss:.4g}  "
            f"perf {evaluation['statistic']:.3f}  {elapsed:.1f} s"
        )

    def close(self) -> None:
        self.stream.flush()

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def progress_display(total: int, done: int) -> ProgressBar | ProgressLines:
    """A bar on a terminal, plain lines otherwise."""
    return ProgressBar(total, done) if sys.stderr.isatty() else ProgressLines(total, done)
