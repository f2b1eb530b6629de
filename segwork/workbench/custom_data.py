"""segwork.custom calls for the workbench (your own segments): on the shared pool, with the
session's rules, cached briefly like data.query.

A segment is passed as a Segment (a draft in the builder), by the name of a saved one, or None
(every customer, where the call allows it). Results are keyed by the definition's JSON (a draft)
or its name, the data generation and the time bucket; saving or removing a segment bumps the
generation, so lists, sizes and segments that name it are read afresh.
"""
from __future__ import annotations

import inspect
import time
from typing import Any, Callable

import pandas as pd
import streamlit as st

from segwork import custom
from segwork.custom import Segment, compare
from segwork.workbench import data, engine, state
from segwork.workbench.engine import ClientPool

CALLS: dict[str, Callable] = {
    "count": custom.count, "condition_counts": custom.condition_counts, "members": custom.members,
    "sizes": custom.sizes, "sql_of": custom.sql_of, "overlap": compare.overlap, "composition": compare.composition,
    "event_mix": compare.event_mix, "listing": custom.listing, "versions": custom.versions, "get": custom.get,
}
_TAKES_RULES = {name for name, f in CALLS.items() if "rules" in inspect.signature(f).parameters}
EVERYONE = "every customer"


def call(name: str, *segments, **kwargs) -> Any:
    """Run segwork.custom's `name` with `segments` (Segment, saved name or None) first, cached."""
    if name not in CALLS:
        raise KeyError(f"unknown custom segment call {name!r}")
    if name in _TAKES_RULES:
        kwargs.setdefault("rules", state.rules())
    encoded = tuple(_encode(s) for s in segments)
    pool = engine.pool()
    ttl = pool.settings.workbench_cache_seconds
    if ttl <= 0:
        return _run(pool, name, encoded, kwargs)
    s = pool.settings
    return _cached(name, encoded, kwargs, s.resolved_dsn, s.database, pool.generation, int(time.time() // ttl), _pool=pool)


@st.cache_data(show_spinner=False, max_entries=500, ttl=3600)
def _cached(name: str, encoded: tuple, kwargs: dict, dsn: str, database: str, generation: int, bucket: int,
            _pool: ClientPool) -> Any:
    return _run(_pool, name, encoded, kwargs)


def _run(pool: ClientPool, name: str, encoded: tuple, kwargs: dict) -> Any:
    with pool.client() as client:
        return CALLS[name](client, *(_decode(e) for e in encoded), **kwargs)


def _encode(segment) -> tuple | None:
    if segment is None:
        return None
    if isinstance(segment, Segment):
        return ("definition", custom.to_json(segment))
    if isinstance(segment, str):
        return ("saved", segment)
    if isinstance(segment, (list, tuple)):  # sizes([...])
        return ("many", tuple(_encode(s) for s in segment))
    raise TypeError(f"not a segment: {segment!r}")


def _decode(encoded):
    if encoded is None:
        return None
    kind, value = encoded
    if kind == "definition":
        return custom.from_json(value)
    if kind == "many":
        return [_decode(e) for e in value]
    return value


def saved_names() -> tuple[str, ...]:
    """The saved segments' names (by name)."""
    return tuple(call("listing")["name"])


def listing_with_sizes() -> pd.DataFrame:
    """The saved segments with their sizes now: name, customers, version, description, note, saved_at."""
    listing = call("listing")
    if listing.empty:
        return listing.assign(customers=pd.Series(dtype="int64"))
    sizes = call("sizes", None).rename(columns={"segment": "name"})
    merged = listing.merge(sizes, on="name", how="left")
    return merged[["name", "customers", "version", "description", "note", "saved_at"]]


def member_page(segment, *, page: int, page_size: int) -> tuple[pd.DataFrame, int, int]:
    """One page of a segment's members: (rows, members, page actually shown; past the end: the last)."""
    page = max(int(page), 1)
    rows = call("members", segment, limit=page_size, offset=(page - 1) * page_size)
    if rows.empty and page > 1:
        first = call("members", segment, limit=1, offset=0)
        total = int(first["total_rows"].iloc[0]) if len(first) else 0
        page = max(1, -(-total // page_size))
        rows = call("members", segment, limit=page_size, offset=(page - 1) * page_size)
    total = int(rows["total_rows"].iloc[0]) if len(rows) else 0
    return rows.drop(columns=["total_rows"], errors="ignore"), total, page


def members_export(segment) -> Callable[[], bytes]:
    """A deferred CSV of every member of a segment (not just the page shown), built when downloaded."""
    pool, rules, limit = engine.pool(), state.rules(), custom.run.MAX_LIMIT

    def build() -> bytes:
        with pool.client() as client:
            frame = custom.members(client, segment, limit=limit, offset=0, rules=rules)
        return data.csv_bytes(frame.drop(columns=["total_rows"], errors="ignore"))

    return build


def save(segment: Segment, note: str) -> int:
    """Save `segment` as its name's next version (DefinitionError when it names a missing segment); returns the version."""
    pool = engine.pool()
    try:
        with pool.client() as client:
            return custom.save(client, segment, note)
    finally:
        pool.data_changed()


def remove(name: str) -> int:
    """Remove a saved segment (its history stays); returns the removal's version."""
    pool = engine.pool()
    try:
        with pool.client() as client:
            return custom.remove(client, name)
    finally:
        pool.data_changed()


def value_by_loyalty(segment) -> pd.DataFrame:
    """Members per value x loyalty segment, shaped for charts.segment_heatmap (value_segment,
    loyalty_segment, customer_count)."""
    found = call("composition", segment, by="segment")
    if found.empty:
        return pd.DataFrame(columns=["value_segment", "loyalty_segment", "customer_count"])
    parts = found["segment"].str.split(" · ", n=1, expand=True)
    return pd.DataFrame({"value_segment": parts[0], "loyalty_segment": parts[1], "customer_count": found["customers"]})


def side_by_side(a, b, by: str) -> pd.DataFrame:
    """Composition of a and b (None: every customer) by `by`, one row per value: <by>, customers_a,
    share_a, customers_b, share_b, difference (share_a - share_b, in points of 0..1), biggest difference first."""
    first, second = (_with_columns(call("composition", s, by=by), [by, "customers", "share"]) for s in (a, b))
    merged = first.merge(second, on=by, how="outer", suffixes=("_a", "_b"))
    for column in ("customers_a", "customers_b"):
        merged[column] = merged[column].fillna(0).astype("int64")
    for column in ("share_a", "share_b"):
        merged[column] = merged[column].fillna(0.0).astype(float)
    merged["difference"] = merged["share_a"] - merged["share_b"]
    order = merged["difference"].abs().sort_values(ascending=False, kind="stable").index
    return merged.loc[order, [by, "customers_a", "share_a", "customers_b", "share_b", "difference"]].reset_index(drop=True)


def _with_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """An empty answer may come without columns (clickhouse-connect's API): give it the expected ones."""
    return frame if len(frame.columns) else pd.DataFrame(columns=columns)


def difference_colour(difference: float) -> str:
    """CSS for a share difference in a comparison table: A's colour where A has more, B's where B has."""
    from segwork.charts import COMPARE_COLORS

    if abs(difference) < 0.005:
        return ""
    return f"color: {COMPARE_COLORS['A' if difference > 0 else 'B']}; font-weight: bold"
