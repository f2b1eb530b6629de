"""A segment definition compiled to one parameterized ClickHouse query.

Every column and function in the SQL comes from the fixed fragments below, chosen by the
whitelisted names of model.py; every value (a threshold, a location, an event type, a date) is
a server-side parameter {p<N>:Type}. No text of a definition is ever written into the SQL.

The query reads the profiles at as_of (`segwork_profiles`, sqlfiles), joined to one aggregate
per behaviour condition over the events up to as_of (only the event types and the time span the
conditions need are read: customer_events is ordered by event type first), and to the RFM
scores when a condition uses them. A customer is in the segment when the WHERE holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from segwork import params
from segwork.custom.model import DefinitionError, Events, Field, FirstEvent, Group, InSegment, LastEvent, Rfm, Segment
from segwork.segments import SegmentRules

MAX_DEPTH = 5  # segments within segments
_FIELD_SQL = {
    "location": "p.location",
    "gender": "p.gender",
    "email_domain": "if(position(p.email, '@') > 0, lowerUTF8(substring(p.email, position(p.email, '@') + 1)), '')",
    "age": "p.age",
    "lifetime_value": "p.lifetime_value",
    "days_since_signup": "dateDiff('day', p.signup_date, {as_of:DateTime('UTC')})",
    "value_segment": "segwork_value_segment(p.lifetime_value, {high_value:Float64}, {medium_value:Float64})",
    "loyalty_segment": "segwork_loyalty_segment(p.signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64})",
}
_SQL_OP = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
TIME = "DateTime('UTC')"


@dataclass
class Compiled:
    """The parts of a compiled definition: the WHERE, one expression per leaf condition (for
    per-condition counts), the behaviour aggregates, and the parameters."""

    where: str
    leaves: list[tuple[str, str]]  # (label, expression)
    aggregates: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    uses_rfm: bool = False
    event_types: set | None = field(default_factory=set)  # None: any type is read
    since: datetime | None = None  # earliest event time read; None: all history


class Compiler:
    """Compiles one or more definitions into the pieces of one query (shared parameters and
    aggregates), so sizes of several segments come from one pass."""

    def __init__(self, as_of: datetime, rules: SegmentRules, resolve: Callable[[str], Segment] | None = None):
        self.as_of, self.rules, self.resolve = as_of, rules, resolve
        self.parameters: dict = {"as_of": as_of, **rules.sql_parameters()}
        self.aggregates: list[str] = []
        self.uses_rfm = False
        self.event_types: set | None = set()
        self.since: datetime | None = as_of
        self._stack: list[str] = []

    def segment(self, segment: Segment) -> Compiled:
        self._stack.append(segment.name)
        leaves: list[tuple[str, str]] = []
        where = self._node(segment.root, f"segment {segment.name!r}", leaves, top=True)
        self._stack.pop()
        return Compiled(where, leaves, self.aggregates, self.parameters, self.uses_rfm, self.event_types, self.since)

    # --- the tree -----------------------------------------------------------------------

    def _node(self, node, where: str, leaves: list, top: bool = False) -> str:
        if isinstance(node, Group):
            parts = [self._node(c, f"{where} > {node.match}[{i + 1}]", leaves if top else []) for i, c in enumerate(node.conditions)]
            joined = f" {'AND' if node.match == 'all' else 'OR'} ".join(f"({p})" for p in parts)
            if top:
                return joined
            leaves.append((where, joined))
            return joined
        expression = self._leaf(node, where)
        leaves.append((where, expression))
        return expression

    def _leaf(self, node, where: str) -> str:
        if isinstance(node, Field):
            return self._field(node)
        if isinstance(node, Events):
            return self._events(node, where)
        if isinstance(node, LastEvent):
            return self._last_event(node)
        if isinstance(node, FirstEvent):
            return self._first_event(node, where)
        if isinstance(node, Rfm):
            return self._rfm(node)
        if isinstance(node, InSegment):
            return self._in_segment(node, where)
        raise DefinitionError(f"{where}: {type(node).__name__} is not a condition")

    # --- leaves ---------------------------------------------------------------------------

    def _field(self, node: Field) -> str:
        column = _FIELD_SQL[node.field]
        if node.op == "is unknown":
            return "p.age = 0"
        if node.op == "is known":
            return "p.age > 0"
        number = node.field in ("age", "lifetime_value", "days_since_signup")
        value = node.value
        if node.field == "email_domain":
            value = [v.lower() for v in value] if isinstance(value, (list, tuple)) else str(value).lower()
        test = self._compare(column, node.op, value, "Float64" if number else "String")
        return f"p.age > 0 AND {test}" if node.field == "age" else test

    def _compare(self, column: str, op: str, value, kind: str) -> str:
        if op in ("in", "not in"):
            p = self._param(list(value), f"Array({kind})")
            return f"{'NOT ' if op == 'not in' else ''}has({p}, {column})"
        return f"{column} {_SQL_OP[op]} {self._param(value, kind)}"

    def _events(self, node: Events, where: str) -> str:
        condition = self._event_filter(node.event_type, node.category, self._window(node.days, node.start, node.end, where))
        count = self._aggregate(f"countIf({condition})")
        if node.measure == "count":
            return f"{count} {_SQL_OP[node.op]} {self._param(float(node.value), 'Float64')}"
        total = self._aggregate(f"segwork_total_if(event_value, {condition})")  # exact, in any order (sql/rules/total.sql)
        measure = total if node.measure == "total_value" else f"({total} / {count})"
        test = f"{measure} {_SQL_OP[node.op]} {self._param(float(node.value), 'Float64')}"
        # an average over no events is no number: it holds for nobody; a total over none is 0
        return f"{count} > 0 AND {test}" if node.measure == "avg_value" else test

    def _last_event(self, node: LastEvent) -> str:
        """Days since the last event, dateDiff('day', last, as_of) (calendar days, UTC), written as
        counts in windows so only the last days are read: days >= N <=> no event since the start
        of as_of's day minus N-1 days; days <= N <=> one since its start minus N days; = N: one
        on that day and none after. Never had one: infinitely long ago (>=, >, != hold). Reading
        every purchase ever to find the last took 6 s at 30M events; the window 1-2 s (bench)."""
        day = self.as_of.replace(hour=0, minute=0, second=0, microsecond=0)
        n = int(node.days) + (1 if node.op == ">" else -1 if node.op == "<" else 0)

        def since(k: int) -> str:  # events of the type from the start of as_of's day minus k days
            return self._aggregate(f"countIf({self._event_filter(node.event_type, None, (day - timedelta(days=k), self.as_of))})")

        if node.op in (">=", ">"):
            return f"{since(n - 1)} = 0"
        if node.op in ("<=", "<"):
            return f"{since(n)} > 0" if n >= 0 else "0"
        exactly = f"({since(n)} > 0 AND {since(n - 1)} = 0)"
        return exactly if node.op == "=" else f"NOT {exactly}"

    def _first_event(self, node: FirstEvent, where: str) -> str:
        start, end = self._window(node.days, node.start, node.end, where)
        start = start or datetime(1970, 1, 1, tzinfo=end.tzinfo)
        condition = self._event_filter(node.event_type, None, (None, self.as_of))  # the first may be anywhere
        first, count = self._aggregate(f"minIf(timestamp, {condition})"), self._aggregate(f"countIf({condition})")
        return f"{count} > 0 AND {first} >= {self._param(start, TIME)} AND {first} <= {self._param(end, TIME)}"

    def _rfm(self, node: Rfm) -> str:
        self.uses_rfm = True
        column = f"r.{node.score}"
        kind = "String" if node.score == "rfm_segment" else "Float64"
        value = node.value if node.score == "rfm_segment" else (
            [float(v) for v in node.value] if isinstance(node.value, (list, tuple)) else float(node.value))
        return f"r.r_score > 0 AND {self._compare(column, node.op, value, kind)}"  # scored customers only

    def _in_segment(self, node: InSegment, where: str) -> str:
        if self.resolve is None:
            raise DefinitionError(f"{where}: segment membership needs the saved segments (compile through segwork.custom)")
        if node.segment in self._stack:
            raise DefinitionError(f"{where}: segment {node.segment!r} contains itself (through {' > '.join(self._stack)})")
        if len(self._stack) >= MAX_DEPTH:
            raise DefinitionError(f"{where}: segments nested deeper than {MAX_DEPTH} levels")
        inner = self.resolve(node.segment)
        self._stack.append(inner.name)
        expression = self._node(inner.root, f"{where} ({node.segment})", [], top=True)
        self._stack.pop()
        return f"NOT ({expression})" if node.negate else f"({expression})"

    # --- pieces -----------------------------------------------------------------------------

    def _window(self, days, start, end, where: str) -> tuple[datetime | None, datetime]:
        if days is not None:
            lo, hi = self.as_of - timedelta(days=days), self.as_of
        else:
            lo = params.timestamp(f"{where} start", start) if start is not None else None
            hi = min(params.timestamp(f"{where} end", end, end_of_day=True), self.as_of) if end is not None else self.as_of
        return lo, hi

    def _event_filter(self, event_type, category, window: tuple[datetime | None, datetime]) -> str:
        parts = []
        if event_type is None:
            self.event_types = None
        else:
            if self.event_types is not None:
                self.event_types.add(event_type)
            parts.append(f"event_type = {self._param(event_type, 'String')}")
        if category is not None:
            parts.append(f"category = {self._param(category, 'String')}")
        lo, hi = window
        if lo is None:
            self.since = None
        else:
            if self.since is not None:
                self.since = min(self.since, lo)
            parts.append(f"timestamp >= {self._param(lo, TIME)}")
        if hi < self.as_of:
            parts.append(f"timestamp <= {self._param(hi, TIME)}")
        return " AND ".join(parts) or "1"

    def _aggregate(self, expression: str) -> str:
        if expression not in self.aggregates:
            self.aggregates.append(expression)
        return f"b.a{self.aggregates.index(expression)}"

    def _param(self, value, kind: str) -> str:
        name = f"p{sum(1 for k in self.parameters if k.startswith('p') and k[1:].isdigit())}"
        self.parameters[name] = value
        return f"{{{name}:{kind}}}"


def base_sql(compiled: Compiled) -> str:
    """`FROM ... ` of the query: profiles, the behaviour aggregates and the RFM scores joined."""
    sql = "FROM segwork_profiles AS p\n"
    if compiled.aggregates:
        filters = ["timestamp <= {as_of:DateTime('UTC')}"]
        if compiled.event_types is not None:
            compiled.parameters["event_types_read"] = sorted(compiled.event_types)
            filters.append("event_type IN {event_types_read:Array(String)}")
        if compiled.since is not None:
            compiled.parameters["events_since"] = compiled.since
            filters.append("timestamp >= {events_since:DateTime('UTC')}")
        columns = ",\n        ".join(f"{a} AS a{i}" for i, a in enumerate(compiled.aggregates))
        sql += (f"LEFT JOIN (\n    SELECT customer_id,\n        {columns}\n    FROM customer_events\n"
                f"    WHERE {' AND '.join(filters)}\n    GROUP BY customer_id\n) AS b ON b.customer_id = p.customer_id\n")
    if compiled.uses_rfm:
        compiled.parameters.setdefault("start_date", datetime(1970, 1, 1))
        compiled.parameters.setdefault("purchase_types", ["purchase"])
        compiled.parameters.setdefault("return_types", ["return"])
        sql += "LEFT JOIN segwork_rfm AS r ON r.customer_id = p.customer_id\n"
    return sql
