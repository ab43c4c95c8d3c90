#!/usr/bin/env bash
# Create .venv and install rnnzoo with its test extras (idempotent).
# torch is installed first and pinned: an unpinned torch pulls gigabytes of CUDA packages.
# The GUI's browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright; it is
# installed with apt-get when missing (as root, or through sudo). Never `playwright install`.
# `--no-browser` skips it (the main job needs no browser).
# The image tasks read Fashion-MNIST from Debian's dataset-fashion-mnist package
# (/usr/share/datasets/fashion-mnist), installed the same way when missing (nothing is
# downloaded by the code itself).
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

# apt_install PACKAGE PATH WHY: install a Debian package (as root or through sudo) unless PATH
# exists; fails loudly when it cannot.
updated=no
apt_install() {
    local package="$1" path="$2" why="$3"
    [ -e "$path" ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        echo "setup: $path is missing and cannot be installed (not root, no sudo);" \
            "install it with: apt-get install -y $package" >&2
        exit 1
    fi
    echo "setup: installing $package for $why (apt-get install $package)"
    if [ "$updated" = no ]; then
        "${as_root[@]}" apt-get update -qq
        updated=yes
    fi
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    if [ ! -e "$path" ]; then
        echo "setup: apt-get did not install $path" >&2
        exit 1
    fi
}

if [ "$browser" = yes ]; then
    apt_install chromium /usr/bin/chromium "the GUI's browser tests"
fi
apt_install dataset-fashion-mnist /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz \
    "the image tasks (Fashion-MNIST)"
