"""Rows a client appends, and their reading back over plain HTTP, row by row.

Each append uses ids of its own (a tag per client and format), so a test checks exactly its rows.
Events each get a customer of their own in April 2025 (the seed is March), so
customer_engagement_analysis answers one row per sent event: its customer, time and value, and
the event_type filter finds it under its type. Profiles are read back through
customer_segment_lookup, field by field.
"""
from __future__ import annotations

import csv
import io
import json
import time

import pandas as pd

CUSTOMER_COLUMNS = ["customer_id", "name", "email", "age", "gender", "location", "signup_date", "lifetime_value", "timestamp"]
EVENT_COLUMNS = ["event_id", "customer_id", "event_type", "event_value", "product_id", "category", "timestamp"]
EVENT_TYPES = ("purchase", "page_view", "login", "add_to_cart")
APRIL = ("2025-04-01 00:00:00", "2025-04-30 23:59:59")


def new_customers(tag: str, n: int = 4) -> list[dict]:
    locations = ("New York", "London", "Paris", "Berlin, \"Mitte\"")  # a comma and quotes to survive CSV
    return [{"customer_id": f"{tag}{i:03d}", "name": f"{tag} name {i}", "email": f"{tag}{i}@example.com", "age": 20 + 7 * i,
             "gender": ("female", "male")[i % 2], "location": locations[i % 4],
             "signup_date": f"2024-0{1 + i % 9}-1{i % 10} 08:30:00", "lifetime_value": round(12.5 + 301.25 * i, 2),
             "timestamp": "2025-02-01 00:00:00"} for i in range(n)]


def new_events(tag: str, n: int = 6) -> list[dict]:
    return [{"event_id": f"{tag}-e{i}", "customer_id": f"{tag}c{i:03d}", "event_type": EVENT_TYPES[i % 4],
             "event_value": round(1.5 + 10.25 * i, 2), "product_id": f"p{i}", "category": "toys",
             "timestamp": f"2025-04-{1 + i:02d} 1{i % 10}:0{i % 6}:3{i % 10}"} for i in range(n)]


def to_csv(rows: list[dict], columns: list[str], header: bool = True) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r[c] is None else r[c] for c in columns])
    return out.getvalue()


def to_ndjson(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def utc_seconds(text: str) -> pd.Timestamp:
    """A time as written by a client or the API, in UTC without a zone, to the second."""
    t = pd.Timestamp(text)
    return (t.tz_convert("UTC").tz_localize(None) if t.tzinfo else t).floor("s")


def same_time(a: str, b: str) -> bool:
    return utc_seconds(a) == utc_seconds(b) if a and b else a == b


def assert_customers_stored(server, sent: list[dict]) -> None:
    """Each sent profile is the customer's profile now, every field as sent."""
    found = server.profiles([r["customer_id"] for r in sent])
    assert sorted(found) == sorted(r["customer_id"] for r in sent), f"profiles found: {sorted(found)}"
    for r in sent:
        got = found[r["customer_id"]]
        for name in ("name", "email", "age", "gender", "location"):
            assert got[name] == r[name], (r["customer_id"], name, got[name], r[name])
        assert abs(got["lifetime_value"] - r["lifetime_value"]) < 0.005, (r, got)
        assert same_time(got["signup_date"], r["signup_date"]), (r, got)


def assert_events_stored(server, sent: list[dict], period=APRIL) -> None:
    """Each sent event is its customer's one event of the period: time, value and type as sent."""
    mine = {r["customer_id"] for r in sent}
    found = {c: row for c, row in server.events_by_customer(*period).items() if c in mine}
    assert sorted(found) == sorted(mine), f"customers with events: {sorted(found)}"
    for r in sent:
        got = found[r["customer_id"]]
        assert got["event_count"] == 1, (r, got)
        assert abs(got["total_value"] - r["event_value"]) < 0.005, (r, got)
        assert same_time(got["first_event"], r["timestamp"]), (r, got)
    for kind in {r["event_type"] for r in sent}:
        typed = {c for c in server.events_by_customer(*period, event_type=kind) if c in mine}
        assert typed == {r["customer_id"] for r in sent if r["event_type"] == kind}, kind


def eventually(check, seconds: float = 20.0) -> None:
    """`check` passes within `seconds` (for writes the server accepted before doing them)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
