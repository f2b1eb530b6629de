"""An embedded folder that will not open: "in use" only when another process holds it; else what is wrong.

Each case runs segwork in processes of its own (one chDB folder per process, and this test
process has the in-memory engine open).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from segwork.config import PROJECT_DIR

OPEN = """
import segwork
try:
    segwork.connect({dsn!r})
    print("opened")
except segwork.SegworkError as exc:
    print(type(exc).__name__, exc)
"""
HOLD = """
import sys, segwork
client = segwork.connect({dsn!r})
print("holding", flush=True)
sys.stdin.read()
"""


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SEGWORK_DSN", "SEGWORK_DATA_DIR")}
    return {**env, **extra}


def _open(dsn: str | None = None, **env: str) -> str:
    """What `segwork.connect(dsn)` says in a fresh process: 'opened' or 'ErrorClass message'."""
    done = subprocess.run([sys.executable, "-c", OPEN.format(dsn=dsn)], cwd=PROJECT_DIR, env=_env(**env),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.fixture
def made(tmp_path) -> Path:
    """A folder with a segwork database in it, made by a process that has ended."""
    folder = tmp_path / "chdb"
    assert _open(f"chdb://{folder}") == "opened"
    return folder


def test_a_folder_held_by_another_process_is_in_use(made):
    holder = subprocess.Popen([sys.executable, "-c", HOLD.format(dsn=f"chdb://{made}")], cwd=PROJECT_DIR, env=_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        said = _open(f"chdb://{made}")
        assert said.startswith("EngineBusyError") and f"the embedded database at {made} is in use by another process" in said
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert _open(f"chdb://{made}") == "opened"  # and free again once it has gone


def test_a_damaged_metadata_file_is_named_not_called_in_use(made):
    (made / "metadata" / "segwork.sql").write_text("garbage ((( not sql\n")
    said = _open(f"chdb://{made}")
    assert said.startswith("EngineError") and "in use" not in said
    assert f"the embedded database at {made} cannot be opened, and no other process holds it" in said
    assert "Syntax error (in file metadata/segwork.sql)" in said and "(SYNTAX_ERROR)" in said
    assert "restore it from a backup" in said and "SEGWORK_DATA_DIR" in said


def test_a_file_where_the_folder_should_be_is_named(tmp_path):
    (tmp_path / "chdb").write_text("not a folder")
    said = _open(SEGWORK_DATA_DIR=str(tmp_path))
    assert said.startswith("EngineError") and "in use" not in said and "cannot reach ClickHouse" not in said
    assert f"the embedded database folder {tmp_path / 'chdb'} cannot be made: File exists" in said and "SEGWORK_DATA_DIR" in said
