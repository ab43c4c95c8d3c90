"""Training runs of the GUI: each is a separate process (``python -m rnnzoo.gui.worker train``).

A run lives in ``RUNS/<name>/`` (the trainer's run directory plus ``train.log``, the process's
output, and ``worker.pid``); its row is in ``RUNS/results.sqlite``, the trainer's results table,
which also holds runs started from the command line with ``--out RUNS/<name>``.  Processes are
started in their own session, so closing the browser, or even the GUI, does not stop them.
Stop sends SIGINT: the trainer checkpoints and ends with status "interrupted"; Resume starts
``rnnzoo train --out RUNS/<name> --resume``, which continues bit-identically.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.budget import check_config_fits
from rnnzoo.training.config import RunConfig
from rnnzoo.training.results import RESERVED_NAMES, read_runs

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
LOG_FILE = "train.log"
PID_FILE = "worker.pid"
FINAL_STATUSES = ("reached", "max_steps", "interrupted", "diverged")


class RunManager:
    """Starts, stops and resumes training processes in ``runs_dir`` and lists every run there."""

    def __init__(self, runs_dir: str | Path) -> None:
        self.runs_dir = Path(runs_dir).resolve()
        self.db = self.runs_dir / "results.sqlite"
        self._processes: dict[Path, subprocess.Popen[bytes]] = {}

    # --- starting and stopping -----------------------------------------------------------
    def run_dir(self, name: str) -> Path:
        """The folder of run ``name`` (checked: a plain folder name)."""
        if not RUN_NAME.match(name):
            raise InvalidParameterError(
                f"'name' must be 1-100 letters, digits, '.', '_' or '-' (starting with a letter "
                f"or digit); got {name!r}"
            )
        if name.lower() in RESERVED_NAMES:
            raise InvalidParameterError(
                f"'name': {name!r} is reserved (the runs folder's results table); choose another"
            )
        return self.runs_dir / name

    def start(self, name: str, config: RunConfig) -> Path:
        """Write ``RUNS/<name>/config.yaml`` and start training it; returns the run folder."""
        out = self.run_dir(name)
        if out.exists():
            raise InvalidParameterError(
                f"'name': a run '{name}' already exists in {self.runs_dir}; choose another name"
            )
        check_config_fits(config)  # the memory budget, before the run folder is made
        out.mkdir(parents=True)
        with atomic_path(out / "config.yaml") as tmp:
            Path(tmp).write_text(config.to_yaml())
        self._spawn(out, ["--config", str(out / "config.yaml")])
        return out

    def resume(self, run_dir: Path) -> None:
        """Continue a stopped run from its latest checkpoint."""
        if self.is_alive(run_dir):
            raise InvalidParameterError(f"run '{run_dir.name}' is still running")
        if not (run_dir / "checkpoints" / "latest.json").is_file():
            raise InvalidParameterError(f"run '{run_dir.name}' has no checkpoint to resume from")
        self._spawn(run_dir, ["--resume"])

    def stop(self, run_dir: Path) -> bool:
        """Send SIGINT to the run's process (it checkpoints and ends "interrupted"); False when
        no process of this run is alive."""
        pid = self._pid(run_dir)
        if pid is None or not self.is_alive(run_dir):
            return False
        os.kill(pid, signal.SIGINT)
        return True

    def _spawn(self, out: Path, args: list[str]) -> None:
        command = [sys.executable, "-m", "rnnzoo.gui.worker", "train", "--out", str(out)]
        command += [*args, "--db", str(self.db)]
        with open(out / LOG_FILE, "ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes[out] = process
        with atomic_path(out / PID_FILE) as tmp:
            Path(tmp).write_text(f"{process.pid}\n")

    # --- state ---------------------------------------------------------------------------
    def _pid(self, run_dir: Path) -> int | None:
        if run_dir in self._processes:
            return self._processes[run_dir].pid
        try:
            return int((run_dir / PID_FILE).read_text())
        except (OSError, ValueError):
            return None

    def is_alive(self, run_dir: Path) -> bool:
        """Whether this run's training process is running (also one a previous GUI started)."""
        process = self._processes.get(run_dir)
        if process is not None:
            return process.poll() is None
        pid = self._pid(run_dir)
        if pid is None:
            return False
        try:  # the pid file may name a finished process whose pid was reused: check its command
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return b"rnnzoo.gui.worker" in command and str(run_dir).encode() in command

    def exit_code(self, run_dir: Path) -> int | None:
        """The exit status of a process this GUI started and that has ended, else None."""
        process = self._processes.get(run_dir)
        return None if process is None else process.poll()

    def log_tail(self, run_dir: Path, lines: int = 20) -> str:
        """The last ``lines`` lines of the run's process output ('' when there is none)."""
        try:
            text = (run_dir / LOG_FILE).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def runs(self) -> list[dict[str, Any]]:
        """Every run: the results table's rows (newest first) plus runs started here that have
        no row yet; ``status`` also tells running, finishing and failed processes apart."""
        rows = read_runs(self.db) if self.db.is_file() else []
        by_dir = {Path(row["run_dir"]): row for row in rows if row["run_dir"]}
        for run_dir in self._processes:
            by_dir.setdefault(run_dir, {"run_dir": str(run_dir), "status": None})
        listed = []
        for run_dir, row in by_dir.items():
            alive = self.is_alive(run_dir)
            exit_code = self.exit_code(run_dir)
            ended = not alive and (exit_code is not None or (run_dir / PID_FILE).is_file())
            status = run_status(row.get("status"), alive, ended, exit_code)
            resumable = status == "interrupted" or status.startswith("failed")
            listed.append(
                {
                    **row,
                    "name": run_dir.name,
                    "status": status,
                    "alive": alive,
                    "resumable": resumable and (run_dir / "checkpoints" / "latest.json").is_file(),
                }
            )
        listed.sort(key=lambda r: r.get("created") or "9999", reverse=True)
        return listed


def run_status(recorded: str | None, alive: bool, ended: bool, exit_code: int | None) -> str:
    """The status shown for a run: its recorded status, refined by what its process is doing.

    ``recorded`` is the results table's status (None before the trainer wrote a row); ``ended``
    says the GUI's process for this run has ended (its ``exit_code`` when known)."""
    if alive:
        return "finishing" if recorded in FINAL_STATUSES else "running"
    if recorded in FINAL_STATUSES:
        return recorded
    if ended:  # the process ended without writing its final status
        return "failed" + (f" (exit code {exit_code})" if exit_code is not None else "")
    return recorded or "unknown"
