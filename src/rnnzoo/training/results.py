"""The SQLite results table: one row per run, safe under concurrent writers.

Writers open the database with WAL journaling and a busy timeout and insert inside an
``IMMEDIATE`` transaction, so several training processes can finish at the same moment.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

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
)
NAMES = tuple(name for name, _ in COLUMNS)
BUSY_TIMEOUT_MS = 60_000


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and create) the results database at ``path`` with WAL and a busy timeout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
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
    return con


def record_run(path: str | Path, row: dict[str, Any]) -> None:
    """Insert or replace the row of ``row["run_id"]`` (missing columns are NULL)."""
    values = [row.get(name) for name in NAMES]
    con = connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            f"INSERT OR REPLACE INTO runs ({', '.join(NAMES)}) "
            f"VALUES ({', '.join('?' for _ in NAMES)})",
            values,
        )
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def read_runs(path: str | Path) -> list[dict[str, Any]]:
    """Every row of the results table, oldest first."""
    con = connect(path)
    try:
        cur = con.execute(f"SELECT {', '.join(NAMES)} FROM runs ORDER BY created, run_id")
        return [dict(zip(NAMES, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
