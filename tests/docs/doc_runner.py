"""Run a Markdown document's examples as written: its ```bash and ```python blocks, in order,
in one folder (the repository's examples/ linked into it), the Python blocks in one shared
namespace like a notebook session.  ```yaml blocks that describe a sweep are validated.

A block right after the line ``<!-- not run: REASON -->`` is skipped (set-up scripts, servers
that do not return, command synopses with placeholders); every skip has a reason, and the
tests list them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
SKIP = re.compile(r"<!-- not run: (.+?) -->\s*$")


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int
    skip: str | None  # the reason it is not run


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with its language, first line and skip reason."""
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").splitlines()
        marker = SKIP.search(before[-1]) if before else None
        line = text[: match.start()].count("\n") + 1
        found.append(Block(match.group(1), match.group(2), line, marker and marker.group(1)))
    return found


def run_document(path: Path, folder: Path) -> list[Block]:
    """Run the blocks of ``path`` in ``folder``; returns those run.  A failing block raises
    AssertionError naming its line and showing its output."""
    (folder / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    env.pop("RNNZOO_PLUGINS", None)
    session = subprocess.Popen(
        [sys.executable, "-u", str(Path(__file__).with_name("python_session.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=folder,
        env=env,
    )
    ran = []
    try:
        for block in blocks(path):
            if block.skip or block.language not in ("bash", "python", "yaml"):
                continue
            where = f"{path.name}:{block.line}"
            start = time.perf_counter()
            if block.language == "bash":
                done = subprocess.run(
                    ["bash", "-euo", "pipefail", "-c", block.code],
                    cwd=folder,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=1200,
                )
                assert done.returncode == 0, (
                    f"{where} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
                )
            elif block.language == "python":
                _send(session, block.code, where)
            elif "tasks:" in block.code:
                _send(session, _sweep_check(block.code), where)
            ran.append(block)
            print(f"{where} ({block.language}): {time.perf_counter() - start:.1f} s")  # pytest -s
    finally:
        session.stdin.close()
        session.wait(timeout=60)
    return ran


def _sweep_check(yaml_text: str) -> str:
    return (
        "import yaml\nfrom rnnzoo.bench.sweep import sweep_from_dict\n"
        f"sweep_from_dict(yaml.safe_load({yaml_text!r}))\n"
    )


def _send(session: subprocess.Popen, code: str, where: str) -> None:
    """Execute ``code`` in the session; its output up to the end marker is checked."""
    session.stdin.write(repr(code) + "\n")
    session.stdin.flush()
    output = []
    for line in session.stdout:
        if line.startswith("@@done "):
            status = line.split()[1]
            assert status == "ok", f"{where} failed:\n{code}\n{''.join(output)}"
            return
        output.append(line)
    raise AssertionError(f"{where}: the Python session ended:\n{''.join(output)}")
