"""One writer per run directory: an exclusive lock on ``RUN/.lock`` for as long as a process
trains there (`rnnzoo train`, a GUI run, a sweep job).

The lock is an ``flock`` on the file, so the operating system releases it when the process
ends, however it ends (kill -9 included); the file holds the holder's pid for the message a
second writer gets.  Within one thread the lock is re-entrant (the sweep worker holds it
around the trainer, which takes it again).  A run directory that the lock created and that
holds nothing else when it is released is removed again, so a refused or failed start leaves
no folder behind.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rnnzoo.errors import InvalidParameterError

LOCK_FILE = ".lock"
_held: dict[Path, tuple[int, int]] = {}  # run dir -> (thread id, depth) of this process


def lock_holder(run_dir: Path) -> int | None:
    """The pid written in ``run_dir``'s lock file (None when unknown)."""
    try:
        return int((run_dir / LOCK_FILE).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _in_use(run_dir: Path) -> InvalidParameterError:
    holder = lock_holder(run_dir)
    who = f"process {holder}" if holder is not None else "another process"
    return InvalidParameterError(
        f"run folder '{run_dir}' is in use by {who} (another `rnnzoo train`, a GUI run "
        "or a sweep job trains there); wait for it to end, or stop it"
    )


def check_not_in_use(run_dir: str | Path) -> None:
    """Raise the `run_lock` error if another process holds ``run_dir``'s lock now; creates
    nothing (a folder without a lock file is free)."""
    run_dir = Path(run_dir)
    if run_dir.resolve() in _held:
        return
    try:
        fd = os.open(run_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _in_use(run_dir) from None
    finally:
        os.close(fd)


@contextmanager
def run_lock(run_dir: str | Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the exclusive lock of ``run_dir`` (created if missing).  ``wait``: block until
    another holder ends; otherwise a held lock is an `InvalidParameterError` naming the
    holder's pid."""
    run_dir = Path(run_dir)
    key = run_dir.resolve()
    thread = threading.get_ident()
    if key in _held and _held[key][0] == thread:
        _held[key] = (thread, _held[key][1] + 1)
        try:
            yield
        finally:
            _held[key] = (thread, _held[key][1] - 1)
        return
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _in_use(run_dir) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[key] = (thread, 1)
        try:
            yield
        finally:
            del _held[key]
            if created and {p.name for p in run_dir.iterdir()} == {LOCK_FILE}:
                (run_dir / LOCK_FILE).unlink()
                run_dir.rmdir()
    finally:
        os.close(fd)  # releases the lock
