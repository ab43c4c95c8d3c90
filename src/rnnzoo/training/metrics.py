"""A run's metrics.jsonl: one JSON record per line, appended as training goes.

A crash while a line is appended (kill -9, a full disk) can leave the last line torn.  Readers
drop such a line with a warning on stderr; the trainer, which rewrites the file when a run
resumes, removes it.  Any other line that is not a JSON record means the file is damaged: an
`InvalidParameterError` names the file and the line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rnnzoo.errors import InvalidParameterError

METRICS_FILE = "metrics.jsonl"


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Every record of the metrics file ``path`` ([] when it does not exist)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"'{path}' cannot be read: {exc}") from None
    lines = text.split("\n")
    complete, last = lines[:-1], lines[-1]  # a record is written with its newline, at once
    records = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        record = _record(line)
        if record is None:
            raise InvalidParameterError(
                f"'{path}' is damaged: line {number} is not a JSON record ({line[:40]!r})"
            )
        records.append(record)
    if last.strip():  # no newline: the write of this line was cut short
        sys.stderr.write(
            f"warning: '{path}': its last line is torn (a crash while it was written); "
            "it is left out\n"
        )
    return records


def _record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "step" in record else None


def write_metrics(path: str | Path, records: list[dict[str, Any]]) -> None:
    """Replace the metrics file ``path`` with ``records`` (atomically)."""
    from rnnzoo._atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text("".join(json.dumps(r) + "\n" for r in records))
