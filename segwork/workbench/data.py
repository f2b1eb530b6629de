"""segwork calls for the workbench: on the shared pool, with the session's rules, cached briefly.

Results are cached per (query, arguments, engine, data generation, time bucket): an ingest
through the workbench bumps the generation, so nobody sees results from before it; rows that
arrive by other ways (the HTTP API, another process on a server) show up within
SEGWORK_WORKBENCH_CACHE_SECONDS.
"""
from __future__ import annotations

import inspect
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pandas as pd
import streamlit as st
from clickhouse_connect.driver.client import Client

from segwork import analysis, demo, exports, history, origins, overview, queries, reset, retail, through_time
from segwork.ingestion import IngestReport, Progress, ingest as _ingest
from segwork.mapping import store as mapping_store
from segwork.workbench import engine, filters, state
from segwork.workbench.engine import ClientPool

QUERIES: dict[str, Callable] = {f.__name__: f for f in (
    queries.customer_segment_lookup, queries.customer_engagement_analysis, queries.customer_segments_summary,
    queries.segment_customers, queries.find_customers, queries.customer_timeline, queries.customer_event_count,
    queries.events_over_time,
    queries.event_types_present, queries.locations_present,
    overview.table_counts, overview.freshness, overview.quarantine, overview.ingest_history,
    overview.incomplete_ingests, origins.contents,
    through_time.segment_sizes, through_time.transitions, through_time.transition_members,
    through_time.segment_changes, through_time.exports_made, history.profile_versions,
    queries.rule_change_impact, analysis.rfm_scores, analysis.cohort_retention,
)}
_TAKES_RULES = {name for name, f in QUERIES.items() if "rules" in inspect.signature(f).parameters}
EXPORT_LIMIT = queries.MAX_LIMIT


def query(name: str, *, fresh: bool = False, **kwargs) -> Any:
    """Run the segwork query `name` (a function of segwork.queries, overview, origins, through_time or history).

    Segmenting queries follow the session's rules unless `rules=` is given; fresh=True
    skips the cache (live mode).
    """
    if name not in QUERIES:
        raise KeyError(f"unknown workbench query {name!r}")
    if name in _TAKES_RULES:
        kwargs.setdefault("rules", state.rules())
    pool = engine.pool()
    ttl = pool.settings.workbench_cache_seconds
    if fresh or ttl <= 0:
        return _run(pool, name, kwargs)
    s = pool.settings
    return _cached(name, kwargs, s.resolved_dsn, s.database, pool.generation, int(time.time() // ttl), _pool=pool)


@st.cache_data(show_spinner=False, max_entries=500, ttl=3600)
def _cached(name: str, kwargs: dict, dsn: str, database: str, generation: int, bucket: int, _pool: ClientPool) -> Any:
    return _run(_pool, name, kwargs)


def _run(pool: ClientPool, name: str, kwargs: dict) -> Any:
    with pool.client() as client:
        return QUERIES[name](client, **kwargs)


@contextmanager
def _changing() -> Iterator[Client]:
    """A client for a change to the data; cached results are dropped after it, even if it fails half-way."""
    pool = engine.pool()
    try:
        with pool.client() as client:
            yield client
    finally:
        pool.data_changed()


def ingest(table: str, data: bytes, name: str, progress: Progress | None = None, mapping=None,
           dialect=None) -> IngestReport:
    """Validate and load an uploaded file (written as `dialect` says; through `mapping`, if given)."""
    with _changing() as client:
        return _ingest(client, table, data, settings=engine.pool().settings.for_uploads(), progress=progress, source_name=name,
                       mapping=mapping, dialect=dialect)


def mappings() -> dict:
    """Built-in and saved column mappings, by name."""
    with engine.pool().client() as client:
        return mapping_store.saved(client)


def remove_mapping(name: str) -> None:
    """Remove a saved column mapping (MappingError for a built-in or unknown one)."""
    with engine.pool().client() as client:
        mapping_store.remove(client, name)


def save_mapping(mapping, name: str):
    """Save a column mapping under `name` (MappingError for a bad or built-in name)."""
    with engine.pool().client() as client:
        return mapping_store.save(client, mapping, name)


def load_demo(progress: Callable[[int], None] | None = None) -> list[IngestReport]:
    """Load the generated demo data (the sizes of SEGWORK_DEMO_CUSTOMERS / _EVENTS), events up to now, with
    the customers' profile history."""
    s = engine.pool().settings
    with _changing() as client:
        return demo.load(client, customers=s.demo_customers, events=s.demo_events, settings=s, progress=progress,
                         history=True)


def load_sample() -> list[IngestReport]:
    """Load the Online Retail sample (datasets/online-retail) onto both tables."""
    with _changing() as client:
        return retail.load(client)


def empty_database() -> dict[str, int]:
    """Remove all data (segwork.reset; the API tokens and saved mappings stay); returns the row counts before."""
    with _changing() as client:
        return reset.empty(client)


def trickle_demo(seconds: int) -> list[IngestReport]:
    """New demo events for live mode (segwork.demo.trickle: only while the demo is the only data),
    for at most the last `seconds`."""
    if not query("contents").demo_only:  # the cached answer spares the check on anyone's own data
        return []
    pool = engine.pool()
    with pool.client() as client:
        reports = demo.trickle(client, seconds=seconds, settings=pool.settings)
    if reports:
        pool.data_changed()
    return reports


def locations() -> tuple[str, ...]:
    """Known customer locations, for filter choices (none on an empty database)."""
    frame = query("locations_present")
    return tuple(frame["location"]) if len(frame) else ()


def engine_description() -> str:
    """The engine in use, in words."""
    return engine.pool().describe()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A frame as UTF-8 CSV for a spreadsheet (times in ISO 8601, formula-like text neutralised)."""
    return exports.frame_csv(frame, date_format="%Y-%m-%dT%H:%M:%SZ").encode("utf-8")


def segment_export(*, rules=None, **filters) -> Callable[[], bytes]:
    """A deferred CSV of a whole segment (not just the visible page), built when downloaded.

    Runs outside the script (in the download request), so it captures the pool and rules now.
    """
    pool, rules = engine.pool(), rules or state.rules()

    def build() -> bytes:
        with pool.client() as client:
            frame = queries.segment_customers(client, **filters, limit=EXPORT_LIMIT, offset=0, rules=rules)
        return csv_bytes(frame.drop(columns=["total_rows"]))

    return build


def export_limit() -> int:
    """Most rows one download may hold: the row cap of every read (SEGWORK_QUERY_MAX_ROWS)."""
    return min(engine.pool().settings.query_max_rows, EXPORT_LIMIT)


def timeline_page(customer_id: str, where: dict, *, page: int, page_size: int) -> tuple[pd.DataFrame, int, int]:
    """One page of a customer's events, newest first: (rows, events matching `where`, page actually shown).

    `where`: event_types, start_date, end_date of segwork.customer_timeline. A page past the
    end (a stale link, narrower filters) shows the last page instead.
    """
    total = query("customer_event_count", customer_id=customer_id, **where)
    page = min(max(int(page), 1), filters.page_count(total, page_size))
    rows = query("customer_timeline", customer_id=customer_id, **where, limit=page_size, offset=(page - 1) * page_size)
    return rows, total, page


def timeline_export(customer_id: str, where: dict) -> Callable[[], bytes]:
    """A deferred CSV of every event of the customer matching `where` (not just the page shown)."""
    pool, limit = engine.pool(), export_limit()

    def build() -> bytes:
        with pool.client() as client:
            return csv_bytes(queries.customer_timeline(client, customer_id, **where, limit=limit))

    return build


def quarantine_export(table: str, ingest_id: str) -> Callable[[], bytes]:
    """A deferred CSV of every quarantined row of one ingest, with its reasons."""
    from segwork.workbench.upload import quarantine_table

    pool = engine.pool()

    def build() -> bytes:
        with pool.client() as client:
            frame = overview.quarantine(client, table, ingest_id=ingest_id, limit=EXPORT_LIMIT)
        return csv_bytes(quarantine_table(frame))

    return build


def segment_page(value_segment: str, loyalty_segment: str, where: dict, *, page: int, page_size: int):
    """One page of a segment's customers: (rows, segment size, page actually shown).

    A page past the end (a stale link, a segment that shrank) shows the last page instead.
    """
    page = max(int(page), 1)
    kwargs = {"value_segment": value_segment, "loyalty_segment": loyalty_segment, **where, "limit": page_size}
    rows = query("segment_customers", **kwargs, offset=(page - 1) * page_size)
    if rows.empty and page > 1:
        first = query("segment_customers", **kwargs, offset=0)
        total = int(first["total_rows"].iloc[0]) if len(first) else 0
        page = max(1, -(-total // page_size))
        rows = query("segment_customers", **kwargs, offset=(page - 1) * page_size)
    total = int(rows["total_rows"].iloc[0]) if len(rows) else 0
    return rows.drop(columns=["total_rows"], errors="ignore"), total, page
