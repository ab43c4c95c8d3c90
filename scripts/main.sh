#!/usr/bin/env bash
# The main job, from a fresh machine: set up, then generate and plot a task.
# (Later issues turn this into "train a network on a task and show it".)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/rnnzoo tasks list
.venv/bin/rnnzoo tasks show flipflop --version jarne2020
.venv/bin/rnnzoo tasks preview flipflop --version jarne2020 --out out/flipflop.png
.venv/bin/rnnzoo tasks export flipflop --version jarne2020 --batch-size 256 --seed 0 --out out/flipflop.h5
echo "done: open out/flipflop.png; the dataset is out/flipflop.h5"
