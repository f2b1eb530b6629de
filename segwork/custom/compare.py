"""Comparing segments: overlap of two (or one against everyone) and composition (who is in a
segment by location, gender, age band, built-in segment; what they did) for side-by-side charts."""
from __future__ import annotations

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import params
from segwork.custom import store
from segwork.custom.compile import Compiler, base_sql
from segwork.custom.run import _as_of, _segment, run_compiled
from segwork.segments import DEFAULT_RULES, SegmentRules

BY = {  # composition dimension -> SQL expression over the profile (whitelist)
    "location": "p.location",
    "gender": "p.gender",
    "age_band": "multiIf(p.age = 0, 'unknown', p.age < 25, '18-24', p.age < 35, '25-34', p.age < 45, '35-44', "
                "p.age < 55, '45-54', p.age < 65, '55-64', '65+')",
    "value_segment": "segwork_value_segment(p.lifetime_value, {high_value:Float64}, {medium_value:Float64})",
    "loyalty_segment": "segwork_loyalty_segment(p.signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64})",
    "segment": "concat(segwork_value_segment(p.lifetime_value, {high_value:Float64}, {medium_value:Float64}), ' · ', "
               "segwork_loyalty_segment(p.signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}))",
}


def overlap(client: Client, a, b=None, *, as_of=None, rules: SegmentRules | None = None) -> dict[str, int]:
    """Sizes of a and b (None: every customer) and their overlap, from one pass:
    {'a', 'b', 'both', 'only_a', 'only_b', 'everyone'}."""
    first, second = _segment(client, a), (None if b is None else _segment(client, b))
    as_of_dt = _as_of(as_of)
    compiler = Compiler(as_of_dt, rules or DEFAULT_RULES, store.resolver(client))
    wa = compiler.segment(first)
    wb = compiler.segment(second) if second is not None else None
    cond_b = wb.where if wb is not None else "1"
    last = wb or wa
    sql = (f"SELECT countIf({wa.where}) AS a, countIf({cond_b}) AS b, countIf(({wa.where}) AND ({cond_b})) AS both, "
           f"countIf(({wa.where}) AND NOT ({cond_b})) AS only_a, countIf(NOT ({wa.where}) AND ({cond_b})) AS only_b, "
           f"count() AS everyone\n{base_sql(last)}")
    row = run_compiled(client, "custom segment overlap", sql, as_of, as_of_dt, last.parameters).iloc[0]
    return {k: int(row[k]) for k in ("a", "b", "both", "only_a", "only_b", "everyone")}


def composition(client: Client, segment=None, by: str = "location", *, as_of=None,
                rules: SegmentRules | None = None) -> pd.DataFrame:
    """Members of a segment (None: every customer) per value of `by` (location, gender, age_band,
    value_segment, loyalty_segment, segment). Columns: <by>, customers, share (0..1), biggest first."""
    by = params.choice("by", by, tuple(BY), "location")
    as_of_dt = _as_of(as_of)
    compiler = Compiler(as_of_dt, rules or DEFAULT_RULES, store.resolver(client))
    if segment is None:
        compiled = compiler.segment(_everyone())
    else:
        compiled = compiler.segment(_segment(client, segment))
    sql = (f"SELECT {BY[by]} AS {by}, count() AS customers, customers / sum(customers) OVER () AS share\n"
           f"{base_sql(compiled)}WHERE {compiled.where}\nGROUP BY {by}\nORDER BY customers DESC, {by} ASC")
    return run_compiled(client, "custom segment composition", sql, as_of, as_of_dt, compiled.parameters)


def event_mix(client: Client, segment=None, *, days: int = 30, as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """What the segment's members (None: everyone) did in the last `days` days before as_of:
    events per type. Columns: event_type, events, customers (members with one), per_member."""
    days = params.integer("days", days, minimum=1, maximum=36_500)
    as_of_dt = _as_of(as_of)
    compiler = Compiler(as_of_dt, rules or DEFAULT_RULES, store.resolver(client))
    compiled = compiler.segment(_everyone() if segment is None else _segment(client, segment))
    compiled.parameters["mix_days"] = days
    sql = (f"WITH members AS (SELECT p.customer_id AS customer_id\n{base_sql(compiled)}WHERE {compiled.where})\n"
           "SELECT event_type, count() AS events, uniqExact(customer_id) AS customers,\n"
           "       events / (SELECT count() FROM members) AS per_member\n"
           "FROM customer_events\n"
           "WHERE timestamp <= {as_of:DateTime('UTC')} AND timestamp > {as_of:DateTime('UTC')} - toIntervalDay({mix_days:UInt32})\n"
           "  AND customer_id IN (SELECT customer_id FROM members)\n"
           "GROUP BY event_type ORDER BY events DESC, event_type ASC")
    return run_compiled(client, "custom segment event mix", sql, as_of, as_of_dt, compiled.parameters)


def _everyone():
    from segwork.custom.model import Field, Segment

    return Segment("every customer", all=[Field("lifetime_value", ">=", -1e300)])
