"""What is in the database: row counts, quarantine counts, freshness, recent ingests."""
from __future__ import annotations

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, params
from segwork.schemas import TABLES

QUARANTINE_TABLES = tuple(f"{t}_quarantine" for t in TABLES)


def table_counts(client: Client) -> dict[str, int]:
    """Rows per table (customers counted once each) and per quarantine."""
    df = db.query_df(client, "table_counts", {})
    return {k: int(v) for k, v in df.iloc[0].items()}


def freshness(client: Client, *, as_of=None) -> dict:
    """Latest event/profile/ingest times and events in the last hour and day before as_of."""
    as_of = params.timestamp("as_of", as_of) or params.now()
    df = db.query_df(client, "freshness", {"as_of": as_of})
    row = df.iloc[0].to_dict()
    for key in ("latest_event", "latest_profile", "latest_ingest"):
        value = row.get(key)
        ts = pd.Timestamp(value) if value is not None else None
        if ts is not None:
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        row[key] = None if ts is None or ts.year <= 1970 else ts
    row["events_last_hour"] = int(row["events_last_hour"])
    row["events_last_day"] = int(row["events_last_day"])
    row["as_of"] = as_of
    return row


def quarantine(client: Client, table: str, *, ingest_id: str = "", limit: int = 1000) -> pd.DataFrame:
    """Quarantined rows of `table` (customers or customer_events), newest first."""
    if table not in TABLES:
        raise params.ParameterError("table", f"{table!r} is not one of: {', '.join(TABLES)}")
    return db.query_df(client, "quarantine_rows", {
        "quarantine_table": f"{table}_quarantine", "ingest_id": params.text("ingest_id", ingest_id) or "",
        "limit": params.integer("limit", limit, minimum=1, maximum=1_000_000),
    })


def ingest_history(client: Client, *, limit: int = 20) -> pd.DataFrame:
    """The latest ingests, newest first."""
    return db.query_df(client, "ingest_history", {"limit": params.integer("limit", limit, minimum=1, maximum=10_000)})


def incomplete_ingests(client: Client, *, limit: int = 100) -> pd.DataFrame:
    """Ingests that were interrupted (or run now) and not completed by a later one, newest first."""
    from segwork.ingestion import ingestlog

    return ingestlog.incomplete(client, limit=limit)


def is_empty(client: Client) -> bool:
    """True when neither table has a row (first start)."""
    counts = table_counts(client)
    return counts["customers"] == 0 and counts["customer_events"] == 0


def info(client: Client) -> dict:
    """What `python -m segwork info` shows, JSON-ready (GET /v0/info sends the same): the engine,
    rows per table and quarantine, freshness, and a line per incomplete ingest."""
    from segwork.ingestion import ingestlog

    fresh = freshness(client)
    return {
        "engine": db.describe_engine(client),
        "tables": table_counts(client),
        "latest_event": None if fresh["latest_event"] is None else str(fresh["latest_event"]),
        "latest_profile": None if fresh["latest_profile"] is None else str(fresh["latest_profile"]),
        "events_last_hour": fresh["events_last_hour"],
        "events_last_day": fresh["events_last_day"],
        "incomplete_ingests": [ingestlog.describe(row) for _, row in ingestlog.incomplete(client).iterrows()],
    }
