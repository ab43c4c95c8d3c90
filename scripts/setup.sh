#!/usr/bin/env bash
# Create .venv and install rnnzoo with its test extras (idempotent).
# torch is installed first and pinned: an unpinned torch pulls gigabytes of CUDA packages.
# The GUI's browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright; it is
# installed with apt-get when missing (as root, or through sudo). Never `playwright install`.
# `--no-browser` skips it (the main job needs no browser).
set -euo pipefail
browser=yes
[ "${1:-}" = "--no-browser" ] && browser=no
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet "torch==2.13.0"
# the neurogym extra for the interop tests (it pins numpy 2.2.*: the whole suite runs on it)
.venv/bin/python -m pip install --quiet -e ".[test,neurogym]"
# compile the fused CPU kernels once (cached per machine), so that test and training processes
# only load them; without a compiler the PyTorch path is used
.venv/bin/python -m rnnzoo.models.kernels || echo "setup: fused kernels not built; using the PyTorch path"

if [ "$browser" = yes ] && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        echo "setup: /usr/bin/chromium is missing and cannot be installed (not root, no sudo);" \
            "install it with: apt-get install -y chromium" >&2
        exit 1
    fi
    echo "setup: installing Chromium for the GUI's browser tests (apt-get install chromium)"
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    if [ ! -x /usr/bin/chromium ]; then
        echo "setup: apt-get did not install /usr/bin/chromium" >&2
        exit 1
    fi
fi
