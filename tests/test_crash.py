"""kill -9 in the middle of `python -m segwork ingest`, then the same command again: the
database opens, and holds the file's good rows once and its bad rows once in quarantine."""
from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from segwork import synth

ROOT = Path(__file__).resolve().parent.parent
COUNTS = ("import json, segwork; from segwork import overview; from segwork.ingestion import ingestlog; c = segwork.connect(); "
          "n = c.query('SELECT count(), uniqExact(event_id) FROM customer_events').result_rows[0]; "
          "print(json.dumps({**overview.table_counts(c), 'distinct': n[1], 'incomplete': len(ingestlog.incomplete(c))}))")


def _env(data_dir: Path, insert_rows: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGWORK_")}
    env.update(SEGWORK_DSN=f"chdb://{data_dir}/chdb", SEGWORK_CHUNK_ROWS="20000", SEGWORK_INSERT_ROWS=str(insert_rows))
    return env


def _ingest(path: Path, env: dict, kill_at: int | None = None) -> subprocess.CompletedProcess | None:
    """The ingest command; with kill_at, killed (-9) as soon as its progress bar shows at least
    that many rows read (a point in the file, not a time: at a fixed 1.0 s after the first rows
    a quick machine had already ingested the whole file once)."""
    cmd = [sys.executable, "-m", "segwork", "ingest", "customer_events", str(path)]
    if kill_at is None:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen, deadline = b"", time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:  # the progress bar (\r, no newline) shows rows read
        seen += os.read(proc.stderr.fileno(), 4096)
        read = [int(n.replace(b",", b"")) for n in re.findall(rb"([1-9][0-9,]*) rows", seen)]
        if read and max(read) >= kill_at:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    return None


def _counts(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", COUNTS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def events_file(tmp_path_factory) -> tuple[Path, int, int]:
    df = synth.events(400_000, 2000, seed=11).astype({"event_value": object})
    bad = list(range(7, len(df), 997))
    df.loc[bad, "event_value"] = "not a number"
    df.loc[len(df) - 5:, "event_id"] = df.loc[:4, "event_id"].to_numpy()  # 5 repeats of earlier ids, far apart
    path = tmp_path_factory.mktemp("crash") / "events.csv"
    df.to_csv(path, index=False)
    good = len(df) - len(bad) - 5
    return path, good, len(bad)


@pytest.mark.parametrize("kill_at", [1, 100_000, 240_000])  # rows read of the 400,000: the first chunk, a quarter, 60 %
def test_kill_9_mid_ingest_then_rerun_with_other_insert_size_is_exact(tmp_path, events_file, kill_at):
    path, good, bad = events_file
    _ingest(path, _env(tmp_path, 40000), kill_at=kill_at)
    after_kill = _counts(_env(tmp_path, 10000))  # the database opens: no stale lock
    assert after_kill["customer_events"] == after_kill["distinct"] < good  # < good: the kill did stop it midway
    rerun = _ingest(path, _env(tmp_path, 10000))
    assert rerun.returncode == 0, rerun.stderr
    final = _counts(_env(tmp_path, 10000))
    assert (final["customer_events"], final["distinct"], final["customer_events_quarantine"]) == (good, good, bad)
    assert final["incomplete"] == 0


def test_an_interrupted_ingest_shows_in_info_until_completed(tmp_path, events_file):
    path, good, _ = events_file
    env = _env(tmp_path, 40000)
    _ingest(path, env, kill_at=60_000)
    info = subprocess.run([sys.executable, "-m", "segwork", "info"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert info.returncode == 0, info.stderr
    assert _counts(env)["customer_events"] < good  # the kill did stop it midway
    assert "incomplete: customer_events from events.csv" in info.stdout and "Ingest the same input again" in info.stdout
    assert _ingest(path, env).returncode == 0
    info = subprocess.run([sys.executable, "-m", "segwork", "info"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "incomplete" not in info.stdout
