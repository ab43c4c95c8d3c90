"""The SQLite results table: one row per run, safe under concurrent writers.

Writers open the database with WAL journaling and a busy timeout and write inside an
``IMMEDIATE`` transaction, so several training processes can finish at the same moment.  A
write sets the columns it names and keeps the others (an upsert on ``run_id``), so the
trainer's row and the benchmark runner's extra columns (sweep, labels, error) can meet in one
row.  Tables made by older versions get the newer columns on first open (``ALTER TABLE ... ADD
COLUMN``; old rows read NULL there).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rnnzoo.errors import InvalidParameterError

COLUMNS = (
    ("run_id", "TEXT PRIMARY KEY"),
    ("task", "TEXT"),
    ("version", "TEXT"),
    ("model", "TEXT"),
    ("method", "TEXT"),
    ("seed", "INTEGER"),
    ("status", "TEXT"),
    ("steps", "INTEGER"),
    ("wall_clock_s", "REAL"),
    ("final_performance", "REAL"),
    ("flops", "REAL"),
    ("run_dir", "TEXT"),
    ("created", "TEXT"),
    # added for the benchmark runner (rnnzoo.bench); NULL for plain `rnnzoo train` rows
    # unless the trainer's summary has them
    ("sweep", "TEXT"),
    ("member", "INTEGER"),
    ("task_label", "TEXT"),
    ("model_label", "TEXT"),
    ("method_label", "TEXT"),
    ("target_performance", "REAL"),
    ("reached_criterion", "INTEGER"),
    ("steps_to_criterion", "INTEGER"),
    ("wall_clock_to_criterion_s", "REAL"),
    ("flops_to_criterion", "REAL"),
    ("error", "TEXT"),
    # per-task held-out performance of a composition (JSON: task label -> performance)
    ("task_performance", "TEXT"),
    # added for the learning rules (rnnzoo.training.rules); older rows read NULL (BPTT)
    ("rule", "TEXT"),
    ("rule_label", "TEXT"),
    ("trials_to_criterion", "INTEGER"),
    # added for the analyses inside sweeps (rnnzoo.bench.mechanisms); NULL without them
    ("analysis_id", "TEXT"),
    ("analysis_status", "TEXT"),
    ("analysis_error", "TEXT"),
    ("analysis_dir", "TEXT"),
    ("n_fixed_points", "INTEGER"),
    ("n_stable_fixed_points", "INTEGER"),
    ("fixed_point_classes", "TEXT"),  # JSON: stability class -> count (fixed points only)
    ("participation_ratio", "REAL"),
    ("spectral_radius", "REAL"),
    ("lyapunov_exponent_per_s", "REAL"),
    ("latent_fit", "TEXT"),  # JSON: nodes -> {embedding_r2, subspace_r2, output_r2}
    # added for stage sequences (rnnzoo.bench.stages); NULL for plain runs
    ("sequence_label", "TEXT"),
    ("stage_performance", "TEXT"),  # JSON: per stage {stage, status, steps, performance, ...}
)
NAMES = tuple(name for name, _ in COLUMNS)
BUSY_TIMEOUT_MS = 60_000
RESULTS_FILE = "results.sqlite"
RESERVED_NAMES = tuple(f"{RESULTS_FILE}{end}" for end in ("", "-wal", "-shm", "-journal"))
"""Files of a runs folder (the results table and SQLite's companions): never a run's name."""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and create or migrate) the results database at ``path`` with WAL and a busy
    timeout; a file that is not an SQLite database is an `InvalidParameterError`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open(path)
    except sqlite3.OperationalError:
        raise  # busy or locked: the caller's timeout applies
    except sqlite3.DatabaseError as exc:
        raise InvalidParameterError(
            f"results table '{path}' is damaged or not an SQLite database ({exc}); move it "
            "aside (a new one is made) or name another with --db"
        ) from None


def check_results_table(path: str | Path) -> None:
    """Raise `InvalidParameterError` when the results table ``path`` cannot be opened."""
    connect(path).close()


def _open(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        for attempt in range(50):  # switching to WAL needs a moment without other writers
            try:
                con.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.05)
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
        con.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
        _add_missing_columns(con)
    except BaseException:
        con.close()
        raise
    return con


def _add_missing_columns(con: sqlite3.Connection) -> None:
    """Migrate a table created by an older version: add the columns it lacks."""
    have = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
    if have.issuperset(NAMES):
        return
    con.execute("BEGIN IMMEDIATE")  # one migrating writer at a time
    try:
        have = {row[1] for row in con.execute("PRAGMA table_info(runs)")}
        for name, kind in COLUMNS:
            if name not in have:
                con.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def record_runs(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Insert or update the rows of ``row["run_id"]`` in one transaction: the columns a row
    names are set (unknown keys are ignored), the others keep their values (NULL when new)."""
    con = connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        for row in rows:
            names = [name for name in NAMES if name in row]
            updates = ", ".join(f"{name} = excluded.{name}" for name in names if name != "run_id")
            con.execute(
                f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
                f"ON CONFLICT(run_id) DO UPDATE SET {updates}",
                [row[name] for name in names],
            )
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def record_run(path: str | Path, row: dict[str, Any]) -> None:
    """Insert or update the row of ``row["run_id"]`` (see `record_runs`)."""
    record_runs(path, [row])


def read_runs(path: str | Path, *, sweep: str | None = None) -> list[dict[str, Any]]:
    """Every row of the results table (those of ``sweep`` only, when given), oldest first."""
    con = connect(path)
    try:
        where, args = ("WHERE sweep = ?", (sweep,)) if sweep is not None else ("", ())
        cur = con.execute(
            f"SELECT {', '.join(NAMES)} FROM runs {where} ORDER BY created, run_id", args
        )
        return [dict(zip(NAMES, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
