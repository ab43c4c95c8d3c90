#!/usr/bin/env bash
# A separate virtualenv with neurogym for the comparison in bench_tasks.py
# (neurogym pins numpy 2.2 and matplotlib 3.10, and imports torch without declaring it).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-neurogym
.venv-neurogym/bin/pip install --quiet "torch==2.13.0"
.venv-neurogym/bin/pip install --quiet neurogym
