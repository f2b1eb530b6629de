"""The real Tinybird clients, each in its own environment, built once and cached outside the repo.

Their pins clash with ours and with each other's (tinybird-sdk wants the Forward CLI 4.6.23, the
Forward CLI test pins 5.0.3), so each Python client gets its own virtual environment, installed
from the full pinned set committed next to this file (`<name>.txt`, `pip install --no-deps`:
exactly those versions, nothing resolved), and the JavaScript clients one `npm ci` of the
committed package-lock.json (integrity hashes checked by npm, install scripts not run).

The cache is `$XDG_CACHE_HOME/segwork/test-clients/<name>-<hash>` (default ~/.cache), the hash
over the pins and the interpreter, so a changed pin builds a new environment. A file lock keeps
two pytest-xdist workers from building the same one at once: the second waits and reuses it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_CLIENTS = ("tb-classic", "tb-forward", "tinybird-sdk", "tinybird-python-sdk", "verdin")
BUILT = ".segwork-built"  # written last: an environment without it is half-built and is built again


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "segwork" / "test-clients"


def _key(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _built(target: Path, build) -> Path:
    """`target`, built by `build(target)` unless a complete build is there; one builder at a time."""
    if (target / BUILT).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks while another worker builds it
        if not (target / BUILT).exists():
            shutil.rmtree(target, ignore_errors=True)
            started = time.monotonic()
            build(target)
            (target / BUILT).write_text(f"built in {time.monotonic() - started:.0f} s\n")
    return target


def python_env(name: str) -> Path:
    """The virtual environment of one Python client (its folder; `bin/` holds python and its commands)."""
    pins = HERE / f"{name}.txt"
    target = cache_root() / f"{name}-{_key(pins.read_bytes(), sys.version.encode())}"

    def build(path: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        _run([str(path / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
              "--no-deps", "-r", str(pins)], f"installing {name}")

    return _built(target, build)


def node_env() -> Path:
    """The folder whose node_modules holds the JavaScript clients (package-lock.json)."""
    files = [HERE / "package.json", HERE / "package-lock.json"]
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    target = cache_root() / f"node-{_key(*(f.read_bytes() for f in files), node.encode())}"

    def build(path: Path) -> None:
        path.mkdir(parents=True)
        for f in files:
            shutil.copy(f, path / f.name)
        _run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci", cwd=path)

    return _built(target, build)


def _run(argv: list[str], what: str, **kwargs) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


if __name__ == "__main__":  # build them all: python -m tests.clients.envs
    for n in PYTHON_CLIENTS:
        started = time.monotonic()
        print(n, python_env(n), f"{time.monotonic() - started:.1f} s", flush=True)
    started = time.monotonic()
    print("node", node_env(), f"{time.monotonic() - started:.1f} s")
