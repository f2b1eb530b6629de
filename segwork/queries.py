"""The three segmentation queries (thin wrappers over sql/*.sql) and their helpers.

Each function checks its parameters (clear ParameterError, never a database traceback),
runs one SQL file with server-side parameters only, and returns a pandas DataFrame whose
date/time columns are UTC-aware.

`as_of` is true: without it the queries read each customer's latest profile; with it, the
profile each customer had at that time (their latest version with timestamp <= as_of, from the
history: a customer created later does not exist yet, one deleted by then no longer does) and
only events up to as_of. When no stored version is newer than as_of the two are the same, and
the latest profiles are read (quicker).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, TypeVar

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, params, sqlfiles
from segwork.segments import DEFAULT_RULES, SegmentRules

MAX_LIMIT = 1_000_000
ORDER_BY = ("event_count", "total_value")
DEFAULT_WINDOW = timedelta(days=30)
T = TypeVar("T")
# (engine, database) -> the newest profile version seen stored there (see exactly_at)
_newest_seen: dict[tuple[str, str], datetime] = {}


def customer_segment_lookup(client: Client, customer_id: str, *, as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """One customer's latest profile plus value/loyalty segments; empty if unknown.

    Columns: customer_id, name, email, age (NULL if unknown), gender, location, signup_date,
    lifetime_value, days_since_signup, value_segment, loyalty_segment, profile_updated_at.
    """
    customer_id = params.text("customer_id", customer_id, required=True)
    p = {"customer_id": customer_id, "as_of": _as_of(as_of), **(rules or DEFAULT_RULES).sql_parameters()}
    if as_of is None or db.answering():
        return read_at(client, "customer_segment_lookup", as_of, p, utc=True)
    # One query in the usual case: the latest profile, when it is no newer than as_of, is the
    # profile at as_of (a newest-version check first would add ~1.5 ms to a ~10 ms lookup).
    latest = db.query_df(client, "customer_segment_lookup", p, utc=True)
    if len(latest) and latest["profile_updated_at"].iloc[0] <= pd.Timestamp(p["as_of"]):
        return latest
    return db.query_df(client, "customer_segment_lookup@as_of", p, utc=True)


def customer_engagement_analysis(client: Client, start_date=None, end_date=None, event_types=None, limit: int = 100, *,
                                 location: str | None = None, include_inactive: bool = False, order_by: str = "event_count",
                                 as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """Events and event value per customer in [start_date, end_date], top `limit`.

    Defaults: end_date = as_of (now), start_date = 30 days before end_date; a bare end date
    includes that whole day. event_types: list or comma-separated text, empty = all.
    Columns: customer_id, name, email, location, event_count, total_value, first_event,
    last_event, value_segment, loyalty_segment ('' for customers without a profile).
    """
    p = engagement_parameters(start_date, end_date, event_types, location=location, as_of=as_of, rules=rules)
    p["limit"] = params.integer("limit", limit, default=100, minimum=1, maximum=MAX_LIMIT)
    p["order_by"] = params.choice("order_by", order_by, ORDER_BY, "event_count")
    if include_inactive:
        return read_at(client, "customer_engagement_with_inactive", as_of, p, utc=True)
    return read_at(client, "customer_engagement_analysis", as_of, p, utc=True, location=p["location"])


def customer_segments_summary(client: Client, location: str | None = None, min_age=None, max_age=None, *,
                              as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """Customers and average lifetime value per (value, loyalty) segment, best first.

    An age bound keeps only customers whose age is known. Columns: value_segment,
    loyalty_segment, customer_count, avg_lifetime_value, total_lifetime_value, avg_age.
    """
    p = _segment_filters(location, min_age, max_age, as_of, rules)
    return read_at(client, "customer_segments_summary", as_of, p)


def segment_customers(client: Client, value_segment: str = "", loyalty_segment: str = "", *, location=None, min_age=None,
                      max_age=None, limit: int = 100, offset: int = 0, as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """The customers of one segment ('' = any), a page at a time; total_rows = segment size."""
    p = _segment_filters(location, min_age, max_age, as_of, rules)
    p["value_segment"] = params.text("value_segment", value_segment) or ""
    p["loyalty_segment"] = params.text("loyalty_segment", loyalty_segment) or ""
    p["limit"] = params.integer("limit", limit, default=100, minimum=1, maximum=MAX_LIMIT)
    p["offset"] = params.integer("offset", offset, default=0, minimum=0)
    return read_at(client, "segment_customers", as_of, p, utc=True)


def rule_change_impact(client: Client, new_rules: SegmentRules, *, rules: SegmentRules | None = None,
                       as_of=None) -> pd.DataFrame:
    """Customers per (segment under `rules`, segment under `new_rules`) at as_of: who would move
    where if the new thresholds were applied. Columns: from_segment, to_segment, customers."""
    as_of_dt = _as_of(as_of)
    p = {"as_of": as_of_dt, **(rules or DEFAULT_RULES).sql_parameters(),
         **{f"new_{k}": v for k, v in new_rules.sql_parameters().items()}}
    return read_at(client, "rule_change_impact", as_of, p)


def find_customers(client: Client, text: str, *, limit: int = 20) -> pd.DataFrame:
    """Customers whose id, email or name starts with `text` (exact id first)."""
    text = params.text("text", text, required=True)
    p = {"text": text, "limit": params.integer("limit", limit, minimum=1, maximum=1000)}
    return db.query_df(client, "find_customers", p, utc=True)


def customer_timeline(client: Client, customer_id: str, *, event_types=None, start_date=None, end_date=None,
                      limit: int = 10_000, offset: int = 0) -> pd.DataFrame:
    """One customer's events, newest first: `limit` of them after skipping `offset`.

    Only event_types (list or comma-separated text; empty = all) in [start_date, end_date]
    (either may be None = open; a bare end date includes that whole day). customer_event_count
    counts the same events. Columns: customer_id, event_id, event_type, event_value,
    product_id, category, timestamp.
    """
    p = _timeline_filters(customer_id, event_types, start_date, end_date)
    p["limit"] = params.integer("limit", limit, minimum=1, maximum=MAX_LIMIT)
    p["offset"] = params.integer("offset", offset, default=0, minimum=0)
    return db.query_df(client, "customer_timeline", p, utc=True)


def customer_event_count(client: Client, customer_id: str, *, event_types=None, start_date=None, end_date=None) -> int:
    """How many events customer_timeline lists for these filters without a limit."""
    p = _timeline_filters(customer_id, event_types, start_date, end_date)
    return int(db.query_df(client, "customer_event_count", p)["events"].iloc[0])


def _timeline_filters(customer_id, event_types, start_date, end_date) -> dict:
    start = params.timestamp("start_date", start_date)
    end = params.timestamp("end_date", end_date, end_of_day=True)
    if start is not None and end is not None and start > end:
        raise params.ParameterError("start_date", f"{start:%Y-%m-%d %H:%M:%S} is after end_date {end:%Y-%m-%d %H:%M:%S}; swap them")
    return {"customer_id": params.text("customer_id", customer_id, required=True),
            "event_types": params.event_types("event_type", event_types), "start_date": start, "end_date": end}


def events_over_time(client: Client, start_date=None, end_date=None, event_types=None, *, location=None, as_of=None) -> pd.DataFrame:
    """Events and value per day and event type for the engagement selection."""
    p = engagement_parameters(start_date, end_date, event_types, location=location, as_of=as_of, rules=None)
    return read_at(client, "events_over_time", as_of, p, location=p["location"])


def event_types_present(client: Client) -> list[str]:
    """Event types ingested so far."""
    return db.query_df(client, "event_types_present", {})["event_type"].tolist()


def locations_present(client: Client) -> pd.DataFrame:
    """Known locations with their customer counts."""
    return db.query_df(client, "locations_present", {})


def read_at(client: Client, name: str, as_of, parameters: dict, *, utc: bool = False, location=None) -> pd.DataFrame:
    """db.query_df of sql/<name>.sql with the profiles at parameters["as_of"] (see exactly_at);
    with a location, only its customers' events (see located)."""
    def run(history: bool) -> pd.DataFrame:
        full = located(f"{name}@as_of" if history else name, location)
        return db.query_df(client, full, {k: parameters[k] for k in sqlfiles.placeholders(full)}, utc=utc)
    return exactly_at(client, as_of, parameters["as_of"], run)


def exactly_at(client: Client, as_of, as_of_dt: datetime, run: Callable[[bool], T]) -> T:
    """run(history) answered as of as_of: run(False) reads the latest profiles (quicker), run(True)
    each customer's profile at as_of from the history; they agree when no stored profile version
    is newer than as_of. as_of None: the latest profiles, nothing checked.

    The latest profiles are read first and the newest version checked after: one committed
    during the read is then seen, and the answer read again from the history (checked first, a
    version committed between the check and the read would be shown). Versions only grow, so
    once one newer than as_of has been seen in this database, run(True) goes first and alone
    (segwork.reset forgets it; were it stale, that would cost speed only: the history read is
    exact too). A captured query (db.query_capture) runs later: the caller checks after running
    it (db.note_latest_read says against which as_of).
    """
    if as_of is None:
        return run(False)
    key = _database_key(client)
    seen = _newest_seen.get(key)
    if seen is not None and seen > as_of_dt:
        return run(True)
    answer = run(False)
    if not needs_history(client, as_of, as_of_dt):
        db.note_latest_read(as_of_dt)
        return answer
    db.forget_answer()
    return run(True)


def located(name: str, location: str | None) -> str:
    """The query `name` (maybe "<query>@as_of") reading only the location's customers' events
    ("@located": sql/tables/located_events.sql) when a location is chosen."""
    if location is None:
        return name
    return f"{name}+located" if "@" in name else f"{name}@located"


def needs_history(client: Client, as_of, as_of_dt: datetime) -> bool:
    """True when as_of was given and a stored profile version is newer than it (at 1M profiles
    3.6 ms against 1.6 for SELECT 1, medians of 31 at load ~2). Keeps the newest it saw for
    exactly_at."""
    if as_of is None:
        return False
    newest = db.query_df(client, "newest_profile_version", {}, utc=True, answer=False)["newest"].iloc[0]
    if pd.isna(newest):
        return False
    key = _database_key(client)
    _newest_seen[key] = max(_newest_seen.get(key, newest), newest)
    return newest > as_of_dt


def forget_versions(client: Client) -> None:
    """Forget the newest profile version seen in the client's database (segwork.reset empties it):
    reads at an as_of before it would go on reading the history (exact, only slower)."""
    _newest_seen.pop(_database_key(client), None)


def _database_key(client: Client) -> tuple[str, str]:
    return str(getattr(client, "path", None) or getattr(client, "url", "")), str(client.database)


def engagement_parameters(start_date, end_date, event_types, *, location, as_of, rules) -> dict:
    """Checked parameters shared by the engagement queries; with an as_of given, no event after
    it counts (end_date is cut there)."""
    as_of_dt = _as_of(as_of)
    end = params.timestamp("end_date", end_date, end_of_day=True) or as_of_dt
    if as_of is not None and end > as_of_dt:
        end = as_of_dt
    start = params.timestamp("start_date", start_date) or (end - DEFAULT_WINDOW)
    if start > end:
        raise params.ParameterError("start_date", f"{start:%Y-%m-%d %H:%M:%S} is after end_date {end:%Y-%m-%d %H:%M:%S}; swap them")
    return {
        "start_date": start, "end_date": end, "event_types": params.event_types("event_type", event_types),
        "location": params.text("location", location), "as_of": as_of_dt, **(rules or DEFAULT_RULES).sql_parameters(),
    }


def _segment_filters(location, min_age, max_age, as_of, rules) -> dict:
    lo = params.integer("min_age", min_age, minimum=0, maximum=150)
    hi = params.integer("max_age", max_age, minimum=0, maximum=150)
    if lo is not None and hi is not None and lo > hi:
        raise params.ParameterError("min_age", f"{lo} is greater than max_age {hi}")
    return {"location": params.text("location", location), "min_age": lo if lo else None, "max_age": hi,
            "as_of": _as_of(as_of), **(rules or DEFAULT_RULES).sql_parameters()}


def _as_of(value) -> datetime:
    return params.timestamp("as_of", value) or params.now()
