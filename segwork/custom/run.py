"""Running segment definitions: size, members, how many match each condition alone, the sizes of
several segments in one pass, and the SQL a definition runs (for the curious and for notebooks).

A definition is given as a Segment or by the name of a saved one. `as_of` is true, as in
segwork.queries: the profiles then and the events up to then; windows of `days` end at as_of.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, params, queries, sqlfiles
from segwork.custom import store
from segwork.custom.compile import Compiler, base_sql
from segwork.custom.model import Segment
from segwork.segments import DEFAULT_RULES, SegmentRules

MAX_LIMIT = 1_000_000
MEMBER_COLUMNS = ("p.customer_id AS customer_id, p.name AS name, p.email AS email, nullIf(p.age, 0) AS age, p.gender AS gender, "
                  "p.location AS location, p.signup_date AS signup_date, p.lifetime_value AS lifetime_value, "
                  "segwork_value_segment(p.lifetime_value, {high_value:Float64}, {medium_value:Float64}) AS value_segment, "
                  "segwork_loyalty_segment(p.signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) "
                  "AS loyalty_segment")


def count(client: Client, segment, *, as_of=None, rules: SegmentRules | None = None) -> int:
    """How many customers are in the segment at as_of."""
    found = _read(client, "custom segment count", segment, as_of, rules, "SELECT count() AS customers\n{base}WHERE {where}")
    return int(found["customers"].iloc[0])


def members(client: Client, segment, *, as_of=None, limit: int = 100, offset: int = 0,
            rules: SegmentRules | None = None) -> pd.DataFrame:
    """The segment's customers, highest lifetime value first, a page at a time; total_rows counts
    them all. Columns: customer_id, name, email, age, gender, location, signup_date,
    lifetime_value, value_segment, loyalty_segment, total_rows."""
    limit = params.integer("limit", limit, default=100, minimum=1, maximum=MAX_LIMIT)
    offset = params.integer("offset", offset, default=0, minimum=0)
    template = (f"SELECT {MEMBER_COLUMNS}, count() OVER () AS total_rows\n{{base}}WHERE {{where}}\n"
                "ORDER BY lifetime_value DESC, customer_id ASC\nLIMIT {limit:UInt32} OFFSET {offset:UInt64}")
    return _read(client, "custom segment members", segment, as_of, rules, template, {"limit": limit, "offset": offset})


def condition_counts(client: Client, segment, *, as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """For the builder: how many customers match each top-level condition alone, and all of
    them together. Rows: condition (its path in the definition), customers; the last two rows
    are 'the segment' and 'every customer'."""
    segment = _segment(client, segment)
    as_of_dt = _as_of(as_of)
    compiled = Compiler(as_of_dt, rules or DEFAULT_RULES, store.resolver(client)).segment(segment)
    columns = ", ".join(f"countIf({expr}) AS c{i}" for i, (_, expr) in enumerate(compiled.leaves))
    sql = f"SELECT {columns}, countIf({compiled.where}) AS segment, count() AS everyone\n{base_sql(compiled)}"
    found = run_compiled(client, "custom segment condition counts", sql, as_of, as_of_dt, compiled.parameters)
    labels = [label for label, _ in compiled.leaves] + ["the segment", "every customer"]
    return pd.DataFrame({"condition": labels, "customers": [int(v) for v in found.iloc[0].tolist()]})


def sizes(client: Client, segments=None, *, as_of=None, rules: SegmentRules | None = None) -> pd.DataFrame:
    """The sizes of several segments (default: every saved one) from one pass over the data.
    Columns: segment, customers; in the order given (saved ones by name)."""
    chosen = [_segment(client, s) for s in (segments if segments is not None else store.listing(client)["name"])]
    if not chosen:
        return pd.DataFrame({"segment": pd.Series(dtype=str), "customers": pd.Series(dtype="int64")})
    as_of_dt = _as_of(as_of)
    compiler = Compiler(as_of_dt, rules or DEFAULT_RULES, store.resolver(client))
    each = [compiler.segment(s) for s in chosen]  # one compiler: shared aggregates and parameters
    wheres, compiled = [c.where for c in each], each[-1]
    for i, s in enumerate(chosen):
        compiled.parameters[f"segment_name_{i}"] = s.name
    pairs = ", ".join(f"({{segment_name_{i}:String}}, countIf({w}))" for i, w in enumerate(wheres))
    sql = f"SELECT pair.1 AS segment, pair.2 AS customers\nFROM (SELECT [{pairs}] AS pairs\n{base_sql(compiled)})\nARRAY JOIN pairs AS pair"
    return run_compiled(client, "custom segment sizes", sql, as_of, as_of_dt, compiled.parameters)


def sql_of(client: Client, segment, *, as_of=None, rules: SegmentRules | None = None) -> tuple[str, dict]:
    """The SQL `members` runs for the segment and its parameters (values are never in the text)."""
    template = f"SELECT {MEMBER_COLUMNS}\n{{base}}WHERE {{where}}\nORDER BY lifetime_value DESC, customer_id ASC"
    return _query(client, segment, as_of, rules, template)


def _query(client: Client, segment, as_of, rules, template: str) -> tuple[str, dict]:
    """The text shown for a definition at as_of: it reads the history when a stored profile
    version is newer than as_of (checked now; running it later is a snapshot's business)."""
    sql, parameters, as_of_dt = _compiled(client, segment, as_of, rules, template)
    return _expanded(sql, queries.needs_history(client, as_of, as_of_dt)), parameters


def _read(client: Client, what: str, segment, as_of, rules, template: str, extra: dict | None = None) -> pd.DataFrame:
    sql, parameters, as_of_dt = _compiled(client, segment, as_of, rules, template)
    return run_compiled(client, what, sql, as_of, as_of_dt, {**parameters, **(extra or {})})


def run_compiled(client: Client, what: str, sql: str, as_of, as_of_dt: datetime, parameters: dict) -> pd.DataFrame:
    """The compiled SQL read exactly as of as_of, as the segmentation queries are (queries.exactly_at)."""
    return queries.exactly_at(client, as_of, as_of_dt,
                              lambda history: db.query_text_df(client, what, _expanded(sql, history), parameters, utc=True))


def _compiled(client: Client, segment, as_of, rules, template: str) -> tuple[str, dict, datetime]:
    segment = _segment(client, segment)
    as_of_dt = _as_of(as_of)
    compiled = Compiler(as_of_dt, rules or DEFAULT_RULES, store.resolver(client)).segment(segment)
    sql = template.replace("{base}", base_sql(compiled)).replace("{where}", compiled.where)
    return sql, compiled.parameters, as_of_dt


def _expanded(sql: str, history: bool) -> str:
    # No name or description in the text, not even in a comment: no user text in SQL at all.
    return "-- a custom segment (segwork.custom): its values are the parameters\n" + \
        sqlfiles.expand(sql, tables=sqlfiles.VARIANTS["as_of" if history else ""])


def _segment(client: Client, segment) -> Segment:
    return segment if isinstance(segment, Segment) else store.get(client, segment)


def _as_of(as_of) -> datetime:
    return params.timestamp("as_of", as_of) or params.now()
