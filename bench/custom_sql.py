"""Copies of a custom segment's compiled count query, stripped down or changed, to see where its
time goes and what a change to the compiler would gain (segwork/ itself is not touched).

The text is what segwork.custom.count runs (its private `_query`, so the copy cannot drift);
each step edits that text and binds the same parameters for a bare chDB handle (bench.engine).
"""
from __future__ import annotations

import pandas as pd
from clickhouse_connect.driver.binding import bind_query

from segwork import queries, sqlfiles
from segwork.custom.run import _query
from segwork.segments import DEFAULT_RULES

FULL = "segwork's count query, as compiled"
PROFILES = "profiles alone: each customer's profile at as_of (some versions are later: from customer_history)"
HIGH = "the same, High Value only"
SCAN = "events alone: count() of the rows the aggregate reads (purchase + page_view, all history)"
AGGREGATE = "events alone: the per-customer aggregate (GROUP BY customer_id), counted"
PUSHED = "variant: the profile conditions pushed into the event scan (customer_id IN High Value profiles)"
PUSHED_AGG = "variant: that aggregate alone"
WINDOWED = ("variant: 'no purchase in 90 days' as no purchase since the start of as_of's day - 89 days "
            "(the same calendar-day rule), so the scan reads 90 days, not all history")
WINDOWED_AGG = "variant: that aggregate alone"
BOTH = "variant: windowed and the profile conditions pushed into the scan"
STEPS = (FULL, PROFILES, HIGH, SCAN, AGGREGATE, PUSHED, PUSHED_AGG, WINDOWED, WINDOWED_AGG, BOTH)

_SCAN_WHERE = "    WHERE timestamp <= {as_of:DateTime('UTC')} AND event_type IN {event_types_read:Array(String)}"


def compiled_count(client, segment, as_of: pd.Timestamp) -> tuple[str, dict]:
    return _query(client, segment, as_of, DEFAULT_RULES, "SELECT count() AS customers\n{base}WHERE {where}")


def step_sql(client, segment, as_of: pd.Timestamp, step: str) -> tuple[str, dict]:
    """(sql, chDB parameters) of one step; every step answers with one number in its first column."""
    sql, p = compiled_count(client, segment, as_of)
    if _SCAN_WHERE not in sql:
        raise AssertionError("the compiled SQL changed shape; update bench/custom_sql.py")
    variant = "as_of" if queries.needs_history(client, as_of, as_of.to_pydatetime()) else ""  # as custom.count does
    profiles = sqlfiles.expand("SELECT * FROM segwork_profiles AS p", tables=sqlfiles.VARIANTS[variant])
    profiles = profiles.split("FROM ", 1)[1].rsplit(" AS p", 1)[0]
    high = f"(SELECT customer_id FROM {profiles} AS p WHERE p.lifetime_value >= {{high_value:Float64}})"
    inner = sql.split("LEFT JOIN (\n", 1)[1].split("\n) AS b", 1)[0]
    pushed_inner = inner.replace(_SCAN_WHERE, _SCAN_WHERE + f"\n      AND customer_id IN {high}")
    # LastEvent("purchase", ">=", 90): dateDiff('day', last, as_of) >= 90 holds exactly when no purchase
    # falls on or after the day 89 days before as_of's day (or none ever): a count in a 90-day window.
    last = "maxIf(timestamp, event_type = {p1:String}) AS a0"
    rule = "if(b.a0 = toDateTime(0, 'UTC'), 1, dateDiff('day', b.a0, {as_of:DateTime('UTC')}) >= {p2:Int64})"
    if last not in inner or rule not in sql:
        raise AssertionError("the compiled SQL changed shape; update bench/custom_sql.py")
    p = {**p, "lapse_cutoff": pd.Timestamp(as_of).normalize().to_pydatetime() - pd.Timedelta(days=89).to_pytimedelta()}
    cutoff = "timestamp >= {lapse_cutoff:DateTime('UTC')}"
    windowed_inner = inner.replace(last, f"countIf(event_type = {{p1:String}} AND {cutoff}) AS a0") \
        .replace(_SCAN_WHERE, _SCAN_WHERE + f" AND {cutoff}")
    windowed = sql.replace(inner, windowed_inner).replace(rule, "b.a0 = 0")
    both_inner = windowed_inner.replace(_SCAN_WHERE + f" AND {cutoff}", _SCAN_WHERE + f" AND {cutoff}\n      AND customer_id IN {high}")
    text = {
        FULL: sql,
        PROFILES: f"SELECT count() FROM {profiles} AS p",
        HIGH: f"SELECT count() FROM {high}",
        SCAN: "SELECT count() FROM customer_events\n" + _SCAN_WHERE.strip(),
        AGGREGATE: f"SELECT count() FROM (\n{inner}\n)",
        PUSHED: sql.replace(inner, pushed_inner),
        PUSHED_AGG: f"SELECT count() FROM (\n{pushed_inner}\n)",
        WINDOWED: windowed,
        WINDOWED_AGG: f"SELECT count() FROM (\n{windowed_inner}\n)",
        BOTH: sql.replace(inner, both_inner).replace(rule, "b.a0 = 0"),
    }[step]
    bound_sql, bound = bind_query(text, p)
    return bound_sql, {k.removeprefix("param_"): v for k, v in bound.items()}
