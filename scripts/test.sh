#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite plus the linter. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -n 2 -q "$@"
