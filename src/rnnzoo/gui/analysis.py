"""Analysis of a finished run for the results view: ``rnnzoo analyze RUN --out RUN/analysis``
in a separate process, and its summary.json read back.

The summary (written by the analysis command) holds ``n_fixed_points``, ``n_stable``,
``participation_ratio`` and ``figures``, a mapping of figure names (trials, pca, fixed_points,
spectrum, connectivity) to PNG files relative to the analysis folder.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANALYSIS_DIR = "analysis"
NUMBERS = ("n_fixed_points", "n_stable", "participation_ratio")
FIGURE_ORDER = ("trials", "pca", "fixed_points", "spectrum", "connectivity")


@dataclass(frozen=True)
class Analysis:
    """The numbers and figures of one run's analysis."""

    numbers: dict[str, Any]
    figures: dict[str, Path]  # name -> existing PNG file, in FIGURE_ORDER first


def read_analysis(run_dir: Path) -> Analysis | None:
    """The analysis in ``run_dir/analysis`` (None when it has not been run or is unreadable)."""
    folder = run_dir / ANALYSIS_DIR
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(summary, dict):
        return None
    listed = summary.get("figures") or {}
    if not isinstance(listed, dict):
        listed = {}
    names = [n for n in FIGURE_ORDER if n in listed] + [n for n in listed if n not in FIGURE_ORDER]
    figures = {name: figure_path(folder, listed[name]) for name in names}
    return Analysis(
        numbers={key: summary[key] for key in NUMBERS if key in summary},
        figures={name: path for name, path in figures.items() if path is not None},
    )


def figure_path(folder: Path, listed: Any) -> Path | None:
    """The PNG file a summary lists, when it is a file inside ``folder`` (no absolute paths,
    no ``..`` and no links that lead out); None otherwise (it is not shown)."""
    if not isinstance(listed, str) or not listed.lower().endswith(".png"):
        return None
    root = folder.resolve()
    path = (root / listed).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def analysis_command(run_dir: Path) -> list[str]:
    """The command that analyses ``run_dir`` into ``run_dir/analysis``."""
    out = run_dir / ANALYSIS_DIR
    return [sys.executable, "-m", "rnnzoo.cli.main", "analyze", str(run_dir), "--out", str(out)]


async def run_analysis(run_dir: Path) -> tuple[int, str]:
    """Analyse ``run_dir`` in a separate process without blocking the GUI's event loop;
    returns the exit status and the process's output."""
    process = await asyncio.create_subprocess_exec(
        *analysis_command(run_dir),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return int(process.returncode or 0), output.decode(errors="replace")
