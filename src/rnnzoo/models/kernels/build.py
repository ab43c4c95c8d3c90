"""Compile the fused kernels once per machine and cache the shared library.

The library is built with the system's C++ compiler (``$CXX``, else ``g++``/``c++``) against
the installed torch's headers and libraries, into a cache folder keyed by everything that can
change the binary (sources, flags, torch and Python versions, compiler, CPU), so it is compiled
once and then only loaded (milliseconds).  Processes that start at the same time (pytest-xdist
workers, a sweep's workers) take a file lock: one compiles, the others wait and load its
result.  A failed build is recorded in the cache, so later processes fall back at once instead
of compiling again.

Cache folder: ``$RNNZOO_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/rnnzoo/kernels`` (default
``~/.cache``), else a folder in the system's temporary directory when those are not writable.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIBRARY_NAME = "rnnzoo_kernels.so"
# ops.cpp holds the torch ops (NaN-exact arithmetic); gates.cpp the gate rows, with fast math
# so that exp and tanh vectorise (libmvec)
SOURCES = {
    "ops.cpp": ["-O3", "-march=native", "-fno-math-errno"],
    "gates.cpp": ["-O3", "-march=native", "-ffast-math"],
}
COMMON = ["-std=c++20", "-fPIC", "-w"]


class BuildError(RuntimeError):
    """The kernels could not be compiled or loaded (the message says why, in one line)."""


def compiler() -> str:
    """The C++ compiler to use: $CXX, else g++ or c++ on PATH."""
    for name in (os.environ.get("CXX"), "g++", "c++"):
        if name and shutil.which(name):
            return shutil.which(name)
    raise BuildError("no C++ compiler found ($CXX, g++ or c++)")


def _cpu_signature() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = [ln for ln in lines if ln.startswith(("model name", "flags"))][:2]
    return "\n".join(wanted)


def _cache_root() -> Path:
    if os.environ.get("RNNZOO_KERNEL_CACHE"):
        return Path(os.environ["RNNZOO_KERNEL_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "rnnzoo" / "kernels"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def cache_dir(cxx: str) -> Path:
    """The folder for this machine's build (created; falls back to a temporary folder)."""
    import torch

    version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout
    key = hashlib.sha256()
    for name in sorted(SOURCES):
        key.update((HERE / name).read_bytes())
        key.update(" ".join(SOURCES[name]).encode())
    key.update((HERE / "gates.h").read_bytes())
    for part in (torch.__version__, sys.version, version.splitlines()[:1], _cpu_signature()):
        key.update(str(part).encode())
    digest = key.hexdigest()[:16]
    root = _cache_root()
    if not _writable(root):
        root = Path(tempfile.gettempdir()) / f"rnnzoo-kernels-{os.getuid()}"
        if not _writable(root):
            raise BuildError(f"no writable cache folder ({_cache_root()} or {root})")
    folder = root / digest
    folder.mkdir(exist_ok=True)
    return folder


def _compile(cxx: str, folder: Path) -> Path:
    import torch
    from torch.utils import cpp_extension

    abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
    includes = [f"-I{p}" for p in cpp_extension.include_paths()]
    libs = cpp_extension.library_paths()
    objects = []
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        for name, flags in SOURCES.items():
            obj = Path(scratch) / (Path(name).stem + ".o")
            cmd = [cxx, *COMMON, *flags, f"-D_GLIBCXX_USE_CXX11_ABI={abi}", *includes, "-c"]
            _run([*cmd, str(HERE / name), "-o", str(obj)])
            objects.append(str(obj))
        tmp = Path(scratch) / LIBRARY_NAME
        link = [f"-L{p}" for p in libs] + [f"-Wl,-rpath,{p}" for p in libs]
        _run([cxx, "-shared", *objects, "-o", str(tmp), *link, "-lc10", "-ltorch_cpu", "-lmvec"])
        target = folder / LIBRARY_NAME
        os.replace(tmp, target)  # atomic: a reader sees no library or a whole one
    return target


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        errors = [
            ln for ln in done.stderr.splitlines() if "error" in ln
        ] or done.stderr.splitlines()
        detail = errors[0].strip() if errors else f"exit status {done.returncode}"
        raise BuildError(f"{Path(cmd[0]).name} failed: {detail}")


def library() -> Path:
    """Path of the compiled library, building it (once per machine) when missing."""
    cxx = compiler()
    folder = cache_dir(cxx)
    target, failed = folder / LIBRARY_NAME, folder / "failed.txt"
    if target.exists():
        return target
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process compiles, the others wait here
        if target.exists():
            return target
        if failed.exists():
            raise BuildError(failed.read_text().strip() + f" (recorded in {failed})")
        try:
            return _compile(cxx, folder)
        except BuildError as exc:
            failed.write_text(str(exc) + "\n")
            raise
