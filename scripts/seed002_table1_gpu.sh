#!/usr/bin/env bash
# Seed 002 Table 1 (dgo, danti) at the paper's scale on a CUDA GPU: checks that the fused core's
# GPU path makes no host synchronisation and times it against the floor, then plans, runs and
# reports examples/sweeps/seed002_table1.yaml.  Resumable: rerun after an interruption and the
# sweep continues from its checkpoints (finished runs are skipped).
#   WORKERS=6 bash scripts/seed002_table1_gpu.sh      # jobs sharing the GPU at once (default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
SWEEP=examples/sweeps/seed002_table1.yaml
OUT=docs/benchmarks/seed002_table1
[ -x .venv/bin/python ] || bash scripts/setup.sh --no-browser
.venv/bin/python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else \
'seed002_table1_gpu: no CUDA device (torch.cuda.is_available() is False); nothing was run')"
mkdir -p "$OUT"
.venv/bin/python benchmarks/bench_core_cuda.py --device cuda --out "$OUT/core_cuda.md"
.venv/bin/rnnzoo bench plan "$SWEEP"
.venv/bin/rnnzoo bench run "$SWEEP" --workers "${WORKERS:-4}"
.venv/bin/rnnzoo bench report "$SWEEP" --out "$OUT"
echo "Table 1 layout: $OUT/table.md"
