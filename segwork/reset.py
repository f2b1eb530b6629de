"""Emptying the database, to start on one's own data: every customer (and profile version),
event and quarantined row, the ingest log, the log of segment exports and the indexes that
recognise rows seen before go; the API tokens, the
schema version, saved column mappings and saved segments stay."""
from __future__ import annotations

from clickhouse_connect.driver.client import Client

from segwork import db, overview, queries
from segwork.ingestion import dedup

# In this order: the block and id indexes before the rows they index (a run cut short leaves
# rows to re-check, never an index that skips rows no longer stored), the ingest log last.
# customer_history is the profiles' such index too (a version stored there is a duplicate).
EMPTIED = ("ingest_blocks", "customer_events", "event_ids", "event_types", "customer_history", "customers",
           "customers_quarantine", "customer_events_quarantine", "segment_exports", "ingest_log")
KEPT = ("segwork_meta", "api_tokens", "mappings", "segment_definitions")
ALSO = ("every profile version, the log of segment exports, the ingest log, and the record of what was loaded "
        "before (so the same files loaded again go in again)")
STAYS = "The API tokens, saved column mappings and saved segments stay."


def empty(client: Client) -> dict[str, int]:
    """Remove all data (EMPTIED; the API tokens stay); returns the row counts before.

    Writers of this process wait (each table's one writer), and the embedded engine's
    in-memory index of event ids is dropped, so the same rows loaded again go in again (and the
    newest profile version seen, so queries at an as_of read the latest profiles again).
    A run cut short is simply run again."""
    before = overview.table_counts(client)
    with dedup.writer(client, "customers"), dedup.writer(client, "customer_events"):
        try:
            for table in EMPTIED:
                db.command(client, "empty_table", {"table": table})
        finally:
            dedup.forget(client)
            queries.forget_versions(client)
    return before
