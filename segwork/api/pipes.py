"""The three pipes: their typed parameters (the seed's names) and the library call behind each.

A pipe only turns query-string text into the library function's arguments; the query itself
and its parameter checks are `segwork.queries`, the same code the workbench and the notebooks
use. Parameters are typed as in the seed's pipes (`String`, `Int32`, `DateTime`,
`Array(String)`, `Boolean`); unknown ones are ignored, as there.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Callable

from clickhouse_connect.driver.client import Client
from starlette.datastructures import QueryParams

from segwork import custom, db, exports, queries, through_time
from segwork.api.responses import ApiError
from segwork.errors import ParameterError
from segwork.segments import SegmentRules

# ClickHouse's own output formats, as the seed's system answers: `.json` is the JSON envelope
# (meta, data, rows, rows_before_limit_at_least, statistics).
ENGINE_FORMATS = {"json": "JSON", "csv": "CSVWithNames", "ndjson": "JSONEachRow", "parquet": "Parquet"}
ENGINE_SETTINGS = {"output_format_json_quote_64bit_integers": 0}  # counts stay JSON numbers
_INT = re.compile(r"^[+-]?\d{1,10}$")
_ROWS = re.compile(rb'\n\t"rows": (\d+),\n')  # the JSON envelope's own line (see with_rows_before_limit)
_ROWS_BEFORE_LIMIT = b'\n\t"rows_before_limit_at_least": '
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


@dataclass(frozen=True)
class Param:
    """One typed pipe parameter."""

    name: str
    type: str
    description: str
    required: bool = False
    default: object = None


@dataclass(frozen=True)
class Pipe:
    """A published query: its parameters and the library call that answers it."""

    name: str
    description: str
    params: tuple[Param, ...]
    call: Callable[[Client, dict], object]

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def pinned(self, name: str, value: str):
        """The typed value a token's pin gives parameter `name`; ParameterError unless it narrows
        the pipe: an empty value means 'any', so an empty pin would read every row."""
        param = next(p for p in self.params if p.name == name)
        typed = _typed(param, [value]) if value.strip() else None
        if typed is None or typed == []:
            raise ParameterError(name, f"a pinned value cannot be empty or blank: an empty {name} means any {name}, "
                                       f"so the token would read every row; pin the value it may read "
                                       f"(CLI: --fixed-param {name}=<value>, API: fixed_param={name}=<value>)")
        return typed

    def as_dict(self) -> dict:
        """JSON-ready description (for GET /v0/pipes)."""
        return {"name": self.name, "description": self.description, "formats": ["json", "csv", "ndjson", "parquet"],
                "parameters": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                                "description": p.description} for p in self.params]}


AS_OF = Param("as_of", "DateTime", "reference time for segments and default dates (default now, UTC)")
BY = Param("by", "String", "the places: segment (value x loyalty), value or loyalty", default="segment")
_D = SegmentRules()
RULES = (  # the segment rules, as the workbench's Segment rules page and the CLI's options change them
    Param("high_value", "Float64", "High Value from this lifetime value", default=_D.high_value),
    Param("medium_value", "Float64", "Medium Value from this lifetime value", default=_D.medium_value),
    Param("loyal_days", "Int32", "Loyal after more days since signup than this", default=_D.loyal_days),
    Param("regular_days", "Int32", "Regular after more days since signup than this", default=_D.regular_days),
)
PIPES = {p.name: p for p in (
    Pipe("customer_segment_lookup", "A customer's latest profile with its value and loyalty segment",
         (Param("customer_id", "String", "the customer to look up", required=True), AS_OF, *RULES),
         lambda c, v: queries.customer_segment_lookup(c, v["customer_id"], as_of=v["as_of"], rules=_rules(v))),
    Pipe("customer_engagement_analysis", "Events and event value per customer in a period, most engaged first",
         (Param("start_date", "DateTime", "first moment counted, YYYY-MM-DD[ HH:MM:SS] UTC (default end_date - 30 days)"),
          Param("end_date", "DateTime", "last moment counted; a bare date includes the whole day (default now)"),
          Param("event_type", "Array(String)", "event types to count (repeat or comma-separate; default all)"),
          Param("limit", "Int32", "customers returned", default=100),
          Param("location", "String", "only customers of this location"),
          Param("order_by", "String", "event_count or total_value", default="event_count"),
          Param("include_inactive", "Boolean", "also list profiled customers without events", default=False),
          AS_OF, *RULES),
         lambda c, v: queries.customer_engagement_analysis(
             c, v["start_date"], v["end_date"], v["event_type"], v["limit"], location=v["location"],
             include_inactive=v["include_inactive"], order_by=v["order_by"], as_of=v["as_of"], rules=_rules(v))),
    Pipe("customer_segments_summary", "Customers and average lifetime value per segment, highest first",
         (Param("location", "String", "only customers of this location"),
          Param("min_age", "Int32", "youngest age included (customers of unknown age are left out)"),
          Param("max_age", "Int32", "oldest age included (customers of unknown age are left out)"),
          AS_OF, *RULES),
         lambda c, v: queries.customer_segments_summary(c, v["location"], v["min_age"], v["max_age"], as_of=v["as_of"],
                                                        rules=_rules(v))),
    # Segments through time (segwork.through_time): a bare date means the end of that day (UTC).
    Pipe("segment_sizes_over_time", "Customers per segment at the end of each day, week or month of a period",
         (Param("start_date", "DateTime", "first day (default end_date - 365 days)"),
          Param("end_date", "DateTime", "last day (default today)"),
          Param("every", "String", "day, week (each Sunday) or month (each month's last day); the last day is always kept",
                default="month"),
          Param("location", "String", "only customers of this location (in the profile in effect)"),
          Param("min_age", "Int32", "youngest age included"), Param("max_age", "Int32", "oldest age included"), *RULES),
         lambda c, v: through_time.segment_sizes(c, v["start_date"], v["end_date"], every=v["every"], location=v["location"],
                                                 min_age=v["min_age"], max_age=v["max_age"], rules=_rules(v))),
    Pipe("segment_transitions", "Customers per move from a place at date_a to a place at date_b, with what changed",
         (Param("date_a", "DateTime", "the date to compare from", required=True),
          Param("date_b", "DateTime", "the date to compare to (default now)"), BY, *RULES),
         lambda c, v: through_time.transitions(c, v["date_a"], v["date_b"], by=v["by"], rules=_rules(v))),
    Pipe("transition_members", "The customers of one move between date_a and date_b, by customer_id",
         (Param("date_a", "DateTime", "the date to compare from", required=True),
          Param("date_b", "DateTime", "the date to compare to (default now)"),
          Param("from_state", "String", "the place at date_a (a segment, or 'Not a customer')", required=True),
          Param("to_state", "String", "the place at date_b", required=True), BY,
          Param("limit", "Int32", "customers returned", default=100), Param("offset", "Int32", "customers skipped", default=0),
          *RULES),
         lambda c, v: through_time.transition_members(c, v["date_a"], v["date_b"], v["from_state"], v["to_state"], by=v["by"],
                                                      limit=v["limit"], offset=v["offset"], rules=_rules(v))),
    Pipe("segment_changes", "Who entered and who left a segment between two dates: feed a marketing tool the changes only",
         (Param("segment", "String", "a segment ('High Value · Loyal' or 'High Value/Loyal'), a value or a loyalty segment",
                required=True),
          Param("since", "DateTime", "the date to compare from, or 'last': where the last recorded export ended",
                required=True),
          Param("until", "DateTime", "the date to compare to (default now)"), *RULES),
         lambda c, v: through_time.segment_changes(c, v["segment"], v["since"], v["until"], rules=_rules(v))),
    # Saved segments (segwork.custom): a segment's name is looked up among the saved ones.
    Pipe("segment_members", "A saved segment's customers, highest lifetime value first, a page at a time",
         (Param("segment", "String", "the saved segment's name", required=True),
          Param("limit", "Int32", "customers returned", default=100), Param("offset", "Int32", "customers skipped", default=0),
          AS_OF, *RULES),
         lambda c, v: custom.members(c, v["segment"], as_of=v["as_of"], limit=v["limit"], offset=v["offset"], rules=_rules(v))),
    Pipe("segment_sizes", "Every saved segment's number of customers (one pass over the data)",
         (AS_OF, *RULES), lambda c, v: custom.sizes(c, as_of=v["as_of"], rules=_rules(v))),
)}


def pins(pipe: Pipe, token_name: str, fixed: dict[str, str]) -> dict:
    """Typed values of a token's pinned parameters for `pipe`; 403 unless every pin narrows it:
    a pin on a parameter the pipe lacks would let the token read everyone, and an empty one
    (stored before they were refused at creation) would mean 'any'."""
    foreign = [k for k in fixed if k not in pipe.parameter_names]
    if foreign:
        raise ApiError(403, f"token '{token_name}' pins {', '.join(foreign)}, which pipe '{pipe.name}' does not take, "
                            "so it cannot read this pipe")
    try:
        return {k: pipe.pinned(k, v) for k, v in fixed.items()}
    except ParameterError as exc:
        raise ApiError(403, f"token '{token_name}' cannot read pipe '{pipe.name}': {exc}. Revoke it "
                            f"(python -m segwork token revoke {token_name}) and create one with a pinned value") from None


def arguments(pipe: Pipe, query: QueryParams, pinned: dict) -> dict:
    """Typed values of the pipe's parameters from the query string; pinned ones (typed by `pins`) win."""
    if query.get("q"):
        raise ParameterError("q", "SQL over a pipe's result is not supported here; filter with the pipe's parameters")
    values = {}
    for param in pipe.params:
        if param.name in pinned:
            values[param.name] = pinned[param.name]
            continue
        raw = [r for r in query.getlist(param.name) if r != ""]
        if not raw:
            if param.required:
                raise ParameterError(param.name, f"Required parameter is not defined. Check the parameters {param.name} "
                                                 f"({param.type}: {param.description}).")
            values[param.name] = param.default
            continue
        values[param.name] = _typed(param, raw)
    return values


def run(pipe: Pipe, client: Client, values: dict, fmt: str) -> bytes:
    """The pipe's library call, answered by the engine in the output format for `fmt`; a CSV
    has its formula-like text cells neutralised (segwork.exports), the other formats are raw."""
    settings = {**ENGINE_SETTINGS, **exports.ENGINE_CSV_SETTINGS} if fmt == "csv" else ENGINE_SETTINGS
    with db.query_output(ENGINE_FORMATS[fmt], settings) as out:
        pipe.call(client, values)
    if fmt == "csv":
        return exports.engine_csv(out.body)
    if fmt == "json":
        return with_rows_before_limit(out.body)
    return out.body


def with_rows_before_limit(body: bytes) -> bytes:
    """The engine's JSON envelope with `rows_before_limit_at_least`: the engine reports it only when
    the outermost SELECT has the LIMIT; clients of the seed's API read it on every pipe, so give
    the rows returned (a true lower bound). Written into the engine's bytes after its top-level
    `"rows"` line (a newline and one tab: a raw newline never occurs inside a JSON string), not by
    decoding and re-encoding the envelope, which also rewrote the engine's numbers in Python's
    notation: the engagement pipe with limit=10000 at size M (3.3 MB of JSON) 1134 -> 856 ms
    median (10 interleaved rounds, load average ~15 on 2 cores)."""
    if _ROWS_BEFORE_LIMIT in body:
        return body
    rows = _ROWS.search(body)
    if rows is None:  # not the layout expected: decode and re-encode
        envelope = json.loads(body)
        envelope.setdefault("rows_before_limit_at_least", envelope["rows"])
        return json.dumps(envelope, ensure_ascii=False).encode()
    return body[:rows.end()] + _ROWS_BEFORE_LIMIT + rows.group(1) + b",\n" + body[rows.end():]


def _rules(values: dict) -> SegmentRules:
    return SegmentRules(*(values[p.name] for p in RULES))


def _typed(param: Param, raw: list[str]):
    if param.type == "Array(String)":
        return [item.strip() for value in raw for item in value.split(",") if item.strip()]
    value = raw[-1]
    if param.type == "Int32":
        if not _INT.match(value.strip()) or not -2**31 <= int(value) < 2**31:
            raise ParameterError(param.name, f"Error validating '{value[:40]}' to type Int32 ({param.description})")
        return int(value)
    if param.type == "Float64":
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not math.isfinite(number):
            raise ParameterError(param.name, f"Error validating '{value[:40]}' to type Float64 ({param.description})")
        return number
    if param.type == "Boolean":
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ParameterError(param.name, f"Error validating '{value[:40]}' to type Boolean (use true or false)")
    return value  # String, DateTime: checked by segwork.params with a message naming the form
