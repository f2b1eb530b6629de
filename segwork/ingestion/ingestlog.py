"""The ingest log: every ingest's states, so that an interrupted one leaves a trace.

An ingest is logged 'started' before its first insert, 'running' before each further
insert (with the counts so far), then 'finished' or 'failed'. One whose latest state is
'started' or 'running' was interrupted (or runs now): `incomplete()` lists it until the
same source is ingested again to the end.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from segwork import db, params
from segwork.ingestion.write import insert

STATES = ("started", "running", "finished", "failed")


def log(client: Client, report, status: str, error: str = "") -> None:
    """Append one state of `report`'s ingest."""
    log_many(client, [report], status, error)


def log_many(client: Client, reports: list, status: str, error: str = "") -> None:
    """Append one state of each of `reports`' ingests, in one insert (inputs written together)."""
    if status not in STATES:
        raise ValueError(f"unknown ingest state {status!r}")
    n = len(reports)
    insert(client, "ingest_log", pa.table({
        "ingest_id": [r.ingest_id for r in reports], "table_name": [r.table for r in reports],
        "source": [r.source for r in reports],
        "rows_read": pa.array([r.rows_read for r in reports], pa.uint64()),
        "inserted": pa.array([r.inserted for r in reports], pa.uint64()),
        "duplicates": pa.array([r.duplicates for r in reports], pa.uint64()),
        "quarantined": pa.array([r.quarantined for r in reports], pa.uint64()),
        "started_at": pa.array([r.started_at for r in reports], pa.timestamp("ms", tz="UTC")),
        "elapsed_s": [float(r.elapsed_s) for r in reports],
        "status": [status] * n, "error": [error[:2000]] * n,
        "updated_at": pa.array([datetime.now(timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
    }))


def incomplete(client: Client, *, limit: int = 100) -> pd.DataFrame:
    """Ingests that were interrupted (or run now) and not completed by a later one, newest first."""
    return db.query_df(client, "incomplete_ingests", {"limit": params.integer("limit", limit, minimum=1, maximum=10_000)},
                       utc=True)


def describe(row) -> str:
    """One line for an incomplete ingest: what is in and what to do."""
    return (f"incomplete: {row['table_name']} from {row['source']} (ingest {row['ingest_id'][:8]}, started "
            f"{pd.Timestamp(row['started_at']):%Y-%m-%d %H:%M:%S} UTC) stopped after {int(row['rows_read']):,} rows read, "
            f"at least {int(row['inserted']):,} inserted (an insert in progress may have added some rows of the next "
            "block). Ingest the same input again: rows already in are recognised, the rest go in once.")
