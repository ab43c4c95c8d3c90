#!/usr/bin/env bash
# The main job, from a fresh machine: set up, then train a leaky rate network on the 3-bit
# flip-flop to criterion, write its report (out/train/report.png) and analyse the trained
# network (out/train/analysis/: fixed points, PCA, spectrum).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-browser
mkdir -p out
rm -rf out/train  # a fresh run each time (a previous one would need --resume)
.venv/bin/rnnzoo train --config examples/main_job.yaml --out out/train
.venv/bin/rnnzoo analyze out/train
echo "done: open out/train/report.png and out/train/analysis/*.png;" \
    "summaries: out/train/summary.json, out/train/analysis/summary.json"
