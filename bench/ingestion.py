"""Validated ingestion (segwork.ingest: read, type, validate, quarantine, dedup, insert)
against the engine loading the same file itself with INSERT ... SELECT FROM file(...)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import chdb

import segwork

from bench.data import CACHE, Dataset
from bench.engine import ENGINE_PATH, open_client
from bench.timing import Stats

EVENTS_STRUCTURE = ("event_id String, customer_id String, event_type String, event_value Float64, "
                    "product_id String, category String, timestamp DateTime(\\'UTC\\')")


def _fresh_database() -> tuple[object, str]:
    name = f"ing_{uuid.uuid4().hex[:10]}"
    return open_client(name), name


def segwork_load(path: Path) -> tuple[float, int]:
    """(seconds, rows inserted) of segwork.ingest into a fresh database."""
    client, name = _fresh_database()
    try:
        started = time.perf_counter()
        report = segwork.ingest(client, "customer_events", path)
        return time.perf_counter() - started, report.inserted
    finally:
        client.command(f"DROP DATABASE `{name}`")


def engine_source(path: Path) -> str:
    """The table function the engine reads an events file with (format from the suffix)."""
    return (f"file('{path}', Parquet)" if path.suffix == ".parquet"
            else f"file('{path}', CSVWithNames, '{EVENTS_STRUCTURE}')")


def engine_load(conn, path: Path) -> tuple[float, int]:
    """(seconds, rows) of the engine's own file load into the same table in a fresh database."""
    client, name = _fresh_database()
    source = engine_source(path)
    try:
        started = time.perf_counter()
        conn.query(f"INSERT INTO `{name}`.customer_events SELECT * FROM {source}", "TabSeparated")
        seconds = time.perf_counter() - started
        return seconds, client.command(f"SELECT count() FROM `{name}`.customer_events")
    finally:
        client.command(f"DROP DATABASE `{name}`")


def rates(ds: Dataset, rounds: int, log=print) -> dict:
    """Per format: rows, and Stats of seconds and rows/s for segwork and the engine, interleaved."""
    conn = chdb.connect(str(ENGINE_PATH))
    out = {}
    try:
        for fmt in ("parquet", "csv"):
            path = ds.ingest_file(fmt, ds.ingest_rows)
            times = {"segwork": [], "engine": []}
            for r in range(rounds):
                ways = [("segwork", lambda: segwork_load(path)), ("engine", lambda: engine_load(conn, path))]
                for name, run in (ways if r % 2 == 0 else ways[::-1]):
                    seconds, rows = run()
                    if rows != ds.ingest_rows:
                        raise RuntimeError(f"{name} loaded {rows:,} of {ds.ingest_rows:,} rows from {path.name}")
                    times[name].append(seconds)
            out[fmt] = {"rows": ds.ingest_rows, **{n: _rate(t, ds.ingest_rows) for n, t in times.items()}}
            log(f"  {fmt}: segwork {out[fmt]['segwork']['rows_per_s'] / 1e6:.2f} M rows/s, "
                f"engine {out[fmt]['engine']['rows_per_s'] / 1e6:.2f} M rows/s")
    finally:
        conn.close()
    return out


def _rate(seconds: list[float], rows: int) -> dict:
    stats = Stats.of(seconds)
    return {"seconds": stats.as_dict(), "rows_per_s": rows / (stats.median_ms / 1000)}


def peak_memory(ds: Dataset, log=print) -> dict:
    """Peak RSS of a fresh process loading files 10x apart in size, per format, through
    segwork.ingest and (the baseline) the engine's own file load: {fmt: {rows: {way: probe}}}.
    When the whole events file is 10x the ingestion file (size M: 3M and 30M events), the
    Parquet pair is also measured one step up, where both files are past the first blocks."""
    pairs = [("parquet", ds.ingest_rows // 10, ds.ingest_file("parquet", ds.ingest_rows // 10)),
             ("parquet", ds.ingest_rows, ds.ingest_file("parquet", ds.ingest_rows)),
             ("csv", ds.ingest_rows // 10, ds.ingest_file("csv", ds.ingest_rows // 10)),
             ("csv", ds.ingest_rows, ds.ingest_file("csv", ds.ingest_rows))]
    if ds.events == 10 * ds.ingest_rows:
        pairs.append(("parquet", ds.events, ds.events_parquet))
    out: dict = {}
    for fmt, rows, path in pairs:
        out.setdefault(fmt, {})[rows] = {way: probe(path, way) for way in ("segwork", "engine")}
    for fmt, by_rows in out.items():
        keys = sorted(by_rows)
        for small, large in zip(keys, keys[1:]):
            s, e = (by_rows[large][w]["peak_rss_mb"] / by_rows[small][w]["peak_rss_mb"] - 1 for w in ("segwork", "engine"))
            log(f"  {fmt} {small:,} -> {large:,} rows: peak RSS {s:+.0%} through segwork, {e:+.0%} for the engine's own load")
    return out


def probe(path: Path, way: str = "segwork") -> dict:
    """Run bench.memprobe in a subprocess (its own engine folder) and return its report."""
    engine_dir = CACHE / f"probe-{uuid.uuid4().hex[:8]}"
    try:
        done = subprocess.run([sys.executable, "-m", "bench.memprobe", str(path), str(engine_dir), way],
                              capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"memory probe failed for {path.name}: {exc.stderr[-2000:]}") from exc
    finally:
        subprocess.run(["rm", "-rf", str(engine_dir)], check=False)
