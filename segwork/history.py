"""Profile history: every version of every customer is kept (customer_history), so the past can
be asked about (`as_of` in segwork.queries, segwork.through_time). A deletion is a version too.

Rules (README, "Segments through time"): a version is its (customer_id, timestamp) and the first
copy wins; at any time t a customer's profile is their latest version with timestamp <= t; a
customer whose latest version by t is a deletion does not exist at t, and a later version
re-creates them. An older version arriving late changes the past, never the present.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from segwork import db, params
from segwork.errors import ParameterError
from segwork.ingestion import dedup, write

MAX_IDS = 100_000  # customers one delete_customers call takes


def profile_versions(client: Client, customer_id: str, *, limit: int = 1000) -> pd.DataFrame:
    """Every stored version of one customer's profile, newest first (is_deleted = 1: a deletion)."""
    p = {"customer_id": params.text("customer_id", customer_id, required=True),
         "limit": params.integer("limit", limit, minimum=1, maximum=1_000_000)}
    return db.query_df(client, "profile_versions", p, utc=True)


def delete_customers(client: Client, customer_ids, *, at=None) -> int:
    """Delete customers as of `at` (default now): each gets a version with is_deleted = 1, kept
    in the history like any other. Queries after `at` no longer see them, queries at an earlier
    as_of still do; a later version re-creates them. Customers without a version at or before
    `at` are left alone. Returns how many deletions were stored (a repeat is not stored again)."""
    ids = [customer_ids] if isinstance(customer_ids, str) else list(customer_ids)
    if not ids:
        return 0
    if len(ids) > MAX_IDS:
        raise ParameterError("customer_ids", f"{len(ids):,} customers at once; delete at most {MAX_IDS:,} per call")
    ids = sorted({params.text("customer_id", i, required=True) for i in ids})
    when = (params.timestamp("at", at) or params.now()).astimezone(timezone.utc).replace(microsecond=0)
    known = sorted({r[0] for r in db.query_rows_in_parts(client, "customers_with_versions", "ids", ids, at=when)})
    if not known:
        return 0
    n = len(known)
    block = pa.table({
        "customer_id": pa.array(known, pa.string()), "name": pa.array([""] * n, pa.string()),
        "email": pa.array([""] * n, pa.string()), "age": pa.array([0] * n, pa.int32()),
        "gender": pa.array([""] * n, pa.string()), "location": pa.array([""] * n, pa.string()),
        "signup_date": pa.array([datetime(1970, 1, 1, tzinfo=timezone.utc)] * n, pa.timestamp("s", tz="UTC")),
        "lifetime_value": pa.array([0.0] * n, pa.float64()),
        "timestamp": pa.array([when] * n, pa.timestamp("s", tz="UTC")), "is_deleted": pa.array([1] * n, pa.uint8()),
    })
    with dedup.writer(client, "customers"):
        new = dedup.new_profiles(client, block)
        if new.num_rows:
            write.insert(client, "customers", new)
    return new.num_rows
