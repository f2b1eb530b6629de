"""Where the time goes: the measured decomposition behind each "why" in RESULTS.md.

Queries: the engine's own elapsed time (median) of stripped-down versions of the lookup and
engagement SQL on the same data, so the floors are figures of this run, not of a note.
Ingestion: the stages of segwork.ingest timed one after another on one core (read, type,
validate, to Arrow) and the insert of the same validated blocks alone (content hash and the
engine's write, gathered into inserts as segwork.ingest does); the real ingest overlaps the
two on the machine's cores.
"""
from __future__ import annotations

import statistics
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from segwork.ingestion import IngestReport, next_insert_target
from segwork.ingestion.validate import to_arrow, validate
from segwork.ingestion.write import write_blocks
from segwork.ingestion.parse import parse_chunk
from segwork.config import Settings

from bench.data import Dataset
from bench.engine import RawEngine, open_client
from bench.workload import Workload

# Step names (keys of the figures; bench/targets.py quotes them).
TRIVIAL = "trivial query (SELECT 1)"
LOOKUP_COLUMNS = "lookup: one profile's columns with FINAL, no expressions"
LOOKUP_FULL = "lookup: the full SQL"
SCAN = "engagement: count the window's rows"
GROUPS = "engagement: count the window's distinct customers"
TOP = "engagement: top customers (aggregate, no profiles)"

# The engagement query's first step (sql/customer_engagement_analysis.sql, `top`) on its own,
# and the bare scan it starts from.
_TOP = """SELECT customer_id, count() AS event_count, sum(event_value) AS total_value,
       min(timestamp) AS first_event, max(timestamp) AS last_event
FROM customer_events
WHERE timestamp >= {start_date:DateTime('UTC')} AND timestamp <= {end_date:DateTime('UTC')}
  AND event_type IN {event_types:Array(String)}
GROUP BY customer_id ORDER BY event_count DESC, total_value DESC, customer_id LIMIT {limit:UInt32}"""
_SCAN = """SELECT count() FROM customer_events
WHERE timestamp >= {start_date:DateTime('UTC')} AND timestamp <= {end_date:DateTime('UTC')}
  AND event_type IN {event_types:Array(String)}"""
_GROUPS = """SELECT uniqExact(customer_id) FROM customer_events
WHERE timestamp >= {start_date:DateTime('UTC')} AND timestamp <= {end_date:DateTime('UTC')}
  AND event_type IN {event_types:Array(String)}"""


def queries(database: str, w: Workload, rounds: int = 60) -> dict[str, float]:
    """Median engine-internal milliseconds of each step (interleaved), and the window's size."""
    raw = RawEngine(database)
    try:
        window = {"start_date": w.start.to_pydatetime(), "end_date": w.end.to_pydatetime(),
                  "event_types": list(w.event_types), "limit": w.limit}
        rules = w.rules.sql_parameters()
        steps = {
            TRIVIAL: lambda i: ("SELECT 1", {}),
            LOOKUP_COLUMNS: lambda i: (
                "SELECT * FROM customers FINAL WHERE customer_id = {customer_id:String}", {"customer_id": w.lookup_id(i)}),
            LOOKUP_FULL: lambda i: ("@customer_segment_lookup", {
                "customer_id": w.lookup_id(i), "as_of": w.as_of.to_pydatetime(), **rules}),
            SCAN: lambda i: (_SCAN, window),
            GROUPS: lambda i: (_GROUPS, window),
            TOP: lambda i: (_TOP, window),
        }
        times: dict[str, list[float]] = {k: [] for k in steps}
        values = {}
        for group in ((TRIVIAL, LOOKUP_COLUMNS, LOOKUP_FULL), (SCAN, GROUPS, TOP)):  # small and big steps apart
            for i in range(-3, rounds):
                for name in group:
                    sql, params = steps[name](i)
                    bound = raw.bind(sql[1:], params) if sql.startswith("@") else _bind(sql, params)
                    answer = raw.run(bound)
                    if i >= 0:
                        times[name].append(raw.elapsed[-1] * 1000)
                    elif name in (SCAN, GROUPS):
                        values[name] = int(answer.iloc[0, 0])
        return {"ms": {k: statistics.median(v) for k, v in times.items()},
                "window_rows": values[SCAN], "window_customers": values[GROUPS]}
    finally:
        raw.close()


def _bind(sql: str, params: dict) -> tuple[str, dict]:
    from clickhouse_connect.driver.binding import bind_query

    bound_sql, bound = bind_query(sql, params)
    return bound_sql, {k.removeprefix("param_"): v for k, v in bound.items()}


def ingestion(ds: Dataset) -> dict:
    """Seconds per stage for the Parquet ingestion file, one stage after another, and the
    engine's insert of the validated blocks on its own (into a fresh database, gathered into
    inserts as segwork.ingest does; the content hash of each insert is timed with it)."""
    table = "customer_events"
    chunk_rows = Settings().chunk_rows
    stages = {"read Parquet": 0.0, "type (parse)": 0.0, "validate (pandera)": 0.0, "to Arrow": 0.0}
    blocks: list[pa.Table] = []
    with open(ds.ingest_file("parquet", ds.ingest_rows), "rb") as f:
        batches = pq.ParquetFile(f, pre_buffer=False, buffer_size=1 << 20).iter_batches(batch_size=chunk_rows)
        while True:
            t = time.perf_counter()
            batch = next(batches, None)
            if batch is None:
                break
            frame = batch.to_pandas()
            stages["read Parquet"] += time.perf_counter() - t
            t = time.perf_counter()
            parsed = parse_chunk(table, frame)
            stages["type (parse)"] += time.perf_counter() - t
            t = time.perf_counter()
            validate(table, parsed)
            stages["validate (pandera)"] += time.perf_counter() - t
            t = time.perf_counter()
            block = to_arrow(table, parsed.typed)
            stages["to Arrow"] += time.perf_counter() - t
            blocks.append(block)
    inserts = _gather(blocks, Settings().insert_rows)
    name = f"anat_{uuid.uuid4().hex[:10]}"
    client = open_client(name)
    report = IngestReport("anatomy", table, "anatomy", "parquet")
    try:
        t = time.perf_counter()
        for group in inserts:
            write_blocks(client, table, group, None, report)
        engine_insert = time.perf_counter() - t
    finally:
        client.command(f"DROP DATABASE `{name}`")
    return {"rows": ds.ingest_rows, "chunk_rows": chunk_rows, "python_stages_s": stages,
            "python_total_s": sum(stages.values()), "engine_insert_s": engine_insert, "blocks": len(blocks),
            "inserts": len(inserts)}


def _gather(blocks: list[pa.Table], insert_rows: int) -> list[list[pa.Table]]:
    """The validated blocks grouped as segwork.ingest groups them into inserts."""
    inserts, group, rows, target = [], [], 0, 1
    for block in blocks:
        group.append(block)
        rows += block.num_rows
        if rows >= target:
            target = next_insert_target(rows, insert_rows)
            inserts.append(group)
            group, rows = [], 0
    if group:
        inserts.append(group)
    return inserts


def small_post(rows: int = 1, rounds: int = 30) -> dict[str, float]:
    """Median milliseconds of each step one small POST /v0/events goes through (a body of
    `rows` new events), the steps run one after another as segwork.ingest runs them, on a fresh
    database of the benchmark's engine; and segwork.ingest of the same bodies whole."""
    import asyncio
    import json
    from concurrent.futures import ThreadPoolExecutor

    from segwork import db
    from segwork.api import body as api_body
    from segwork.ingestion import dedup, ingest, ingestlog, read as readers
    from segwork.ingestion.write import content_token, insert
    from segwork.schemas import columns

    table, settings = "customer_events", Settings()
    name = f"anat_{uuid.uuid4().hex[:10]}"
    client = open_client(name)
    pool = ThreadPoolExecutor(max_workers=1)
    loop = asyncio.new_event_loop()

    def payload(tag: str) -> bytes:
        return "".join(json.dumps({"event_id": f"{tag}-{i}", "customer_id": f"c{i % 50:04d}", "event_type": "purchase",
                                   "event_value": 1.5 + i, "product_id": "p1", "category": "books",
                                   "timestamp": "2026-11-30 12:00:00"}) + "\n" for i in range(rows)).encode()

    steps = ("thread offload (event loop -> API thread -> back)", "body: decode and sniff", "read NDJSON",
             "type (parse)", "validate (pandera)", "to Arrow", "ingest_log 'started' insert",
             "content token + ingest_blocks lookup", "dedup lookup (event_id index)", "data insert",
             "ingest_blocks insert", "ingest_log 'finished' insert")
    times: dict[str, list[float]] = {k: [] for k in (*steps, "segwork.ingest, whole", "sum of the steps")}
    try:
        for i in range(-3, rounds):
            lap: dict[str, float] = {}

            def timed(step, fn, *args):
                t = time.perf_counter()
                out = fn(*args)
                lap[step] = time.perf_counter() - t
                return out

            timed(steps[0], lambda: loop.run_until_complete(loop.run_in_executor(pool, int)))
            data, fmt = timed(steps[1], api_body.events_body, payload(f"a{i}"), None, settings.api_max_inflated_bytes)
            chunk = timed(steps[2], lambda: next(readers.rechunk(readers.read_chunks(
                readers.open_source(data, fmt, "anatomy", settings), columns(table), settings.chunk_rows), settings.chunk_rows)))
            frame = chunk.frame.drop(columns="__row")
            parsed = timed(steps[3], parse_chunk, table, frame)
            timed(steps[4], validate, table, parsed)
            block = timed(steps[5], to_arrow, table, parsed.typed)
            report = IngestReport(uuid.uuid4().hex, table, "anatomy", "ndjson")
            timed(steps[6], ingestlog.log, client, report, "started")
            timed(steps[7], lambda: db.query_rows(client, "ingest_blocks_seen",
                                                  {"table_name": table, "tokens": [content_token(table, block)]}))
            new, hashes = timed(steps[8], dedup.new_events, client, block)
            timed(steps[9], insert, client, table, new)
            dedup.remember(client, hashes)
            timed(steps[10], insert, client, "ingest_blocks", pa.table({
                "table_name": [table], "token": [content_token(table, block)], "ingest_id": [report.ingest_id],
                "rows": pa.array([block.num_rows], pa.uint64()),
                "inserted_at": pa.array([report.started_at.replace(microsecond=0)], pa.timestamp("s", tz="UTC"))}))
            timed(steps[11], ingestlog.log, client, report, "finished")
            t = time.perf_counter()
            ingest(client, table, payload(f"b{i}"), format="ndjson", settings=settings, source_name="anatomy")
            whole = time.perf_counter() - t
            if i >= 0:
                for step in steps:
                    times[step].append(lap[step] * 1000)
                times["sum of the steps"].append(sum(lap.values()) * 1000)
                times["segwork.ingest, whole"].append(whole * 1000)
    finally:
        loop.close()
        pool.shutdown()
        client.command(f"DROP DATABASE `{name}`")
    return {k: statistics.median(v) for k, v in times.items()}


if __name__ == "__main__":  # python -m bench.anatomy [rows]: the anatomy of one small POST /v0/events
    import os
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    figures = small_post(n)
    print(f"One POST /v0/events of {n} event(s), steps one after another (medians of 30; load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}):\n\n| step | ms |\n|---|---:|")
    for step, ms in figures.items():
        print(f"| {step} | {ms:.1f} |")
