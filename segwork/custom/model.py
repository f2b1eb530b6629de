"""Segment definitions as data: a name, a description and conditions combined with all / any.

The same definition is a Python object (`segwork.Segment`), a dict, YAML or JSON, and round-trips
between them. Every name a condition uses (field, event measure, comparison, RFM score) is checked
against a whitelist here; values are kept as data and reach SQL only as parameters (compile.py).

    Segment("lapsed high value", "High Value and no purchase in 90 days", all=[
        Field("value_segment", "=", "High Value"),
        LastEvent("purchase", ">=", 90),
    ])

YAML:
    name: lapsed high value
    description: High Value and no purchase in 90 days
    all:
      - {field: value_segment, op: "=", value: High Value}
      - {last_event: purchase, op: ">=", days: 90}
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime

from segwork.errors import SegworkError

# field -> (kind, description). kind: text, number, segment (text with known labels).
FIELDS = {
    "location": ("text", "the profile's location"),
    "gender": ("text", "the profile's gender"),
    "email_domain": ("text", "the part of the email after @, lower case"),
    "age": ("number", "age in years (unknown age matches no comparison; use 'is unknown')"),
    "lifetime_value": ("number", "the profile's lifetime value"),
    "days_since_signup": ("number", "calendar days from signup to as_of"),
    "value_segment": ("segment", "the built-in value segment (High Value, Medium Value, Low Value)"),
    "loyalty_segment": ("segment", "the built-in loyalty segment (Loyal, Regular, New)"),
}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
SET_OPS = ("in", "not in")
UNKNOWN_OPS = ("is unknown", "is known")
MEASURES = ("count", "total_value", "avg_value")
RFM_SCORES = ("r_score", "f_score", "m_score", "rfm_segment")
NAME = re.compile(r"^[\w][\w .,'&()/+-]{0,79}$")
MAX_CONDITIONS = 50


class DefinitionError(SegworkError):
    """A segment definition is invalid; the message names the condition (its path) and what to do."""


@dataclass(frozen=True)
class Field:
    """A profile field compared with a value: Field("lifetime_value", ">=", 1000),
    Field("location", "in", ["Paris", "Rome"]), Field("age", "is unknown")."""

    field: str
    op: str
    value: object = None


@dataclass(frozen=True)
class Events:
    """Behaviour: the count, total or average value of events (of a type, of a category) in a
    window: the last `days` days before as_of, or [start, end]; neither: all history up to as_of.
    Events("login", ">=", 3, days=30); never did X: Events("return", "=", 0)."""

    event_type: str | None
    op: str
    value: float
    measure: str = "count"
    days: int | None = None
    start: str | None = None
    end: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class LastEvent:
    """Days since the last event (of a type) at as_of: LastEvent("purchase", ">=", 90). Someone
    who never had one counts as infinitely long ago (>= / > hold, <= / < / = do not)."""

    event_type: str | None
    op: str
    days: int


@dataclass(frozen=True)
class FirstEvent:
    """The first event ever (of a type) falls in the window: the last `days` days, or [start, end]."""

    event_type: str | None = None
    days: int | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Rfm:
    """An RFM score (1..5) or the RFM segment name (segwork.analysis): Rfm("r_score", ">=", 4),
    Rfm("rfm_segment", "in", ["Champions"]). Customers without purchases have no scores (no match)."""

    score: str
    op: str
    value: object


@dataclass(frozen=True)
class InSegment:
    """Membership of another saved segment (by name), or not (negate=True)."""

    segment: str
    negate: bool = False


@dataclass(frozen=True)
class Group:
    """Conditions combined: match='all' (every one holds) or 'any' (at least one)."""

    match: str
    conditions: tuple = ()


@dataclass(frozen=True)
class Segment:
    """A named segment definition. Segment("name", "what it is", all=[...]) or any=[...]."""

    name: str
    description: str = ""
    all: list = dc_field(default_factory=list)
    any: list = dc_field(default_factory=list)

    def __post_init__(self):
        check_name(self.name)
        if self.all and self.any:
            raise DefinitionError(f"segment {self.name!r}: give either all=[...] or any=[...]; nest the other as Group('any', ...)")
        if not (self.all or self.any):
            raise DefinitionError(f"segment {self.name!r} has no conditions; add at least one to all=[...] or any=[...]")
        object.__setattr__(self, "all", tuple(self.all))
        object.__setattr__(self, "any", tuple(self.any))
        check(self.root, f"segment {self.name!r}")

    @property
    def root(self) -> Group:
        return Group("all", tuple(self.all)) if self.all else Group("any", tuple(self.any))


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME.match(name.strip()) or name != name.strip():
        raise DefinitionError(f"segment name {name!r} is not allowed: 1-80 letters, digits, spaces and . , ' & ( ) / + - _, "
                              "starting with a letter or digit")
    return name


def check(node, where: str) -> int:
    """Check a condition tree; returns how many leaf conditions it has. Errors name the path."""
    if isinstance(node, Group):
        if node.match not in ("all", "any"):
            raise DefinitionError(f"{where}: a group matches 'all' or 'any', not {node.match!r}")
        if not node.conditions:
            raise DefinitionError(f"{where}: an empty '{node.match}' group; add a condition or remove the group")
        n = sum(check(c, f"{where} > {node.match}[{i + 1}]") for i, c in enumerate(node.conditions))
        if n > MAX_CONDITIONS:
            raise DefinitionError(f"{where}: {n} conditions; a segment takes at most {MAX_CONDITIONS}")
        return n
    if isinstance(node, Field):
        _check_field(node, where)
    elif isinstance(node, Events):
        _event_type(node.event_type, where)
        _one_of(node.measure, MEASURES, "measure", where)
        _one_of(node.op, COMPARISONS, "op", where)
        _number(node.value, where, "value")
        if node.measure == "count" and (node.value < 0 or node.value != int(node.value)):
            raise DefinitionError(f"{where}: an event count is a whole number >= 0, not {node.value!r}")
        _window(node.days, node.start, node.end, where)
        if node.category is not None:
            _text(node.category, where, "category")
    elif isinstance(node, LastEvent):
        _event_type(node.event_type, where)
        _one_of(node.op, COMPARISONS, "op", where)
        _days(node.days, where)
    elif isinstance(node, FirstEvent):
        _event_type(node.event_type, where)
        if node.days is None and node.start is None and node.end is None:
            raise DefinitionError(f"{where}: first_event needs a window: days: N, or start / end dates")
        _window(node.days, node.start, node.end, where)
    elif isinstance(node, Rfm):
        _one_of(node.score, RFM_SCORES, "score", where)
        if node.score == "rfm_segment":
            _one_of(node.op, ("=", "!=", *SET_OPS), "op", where)
            for v in _values(node.value, node.op, where):
                _text(v, where, "value")
        else:
            _one_of(node.op, (*COMPARISONS, *SET_OPS), "op", where)
            for v in _values(node.value, node.op, where):
                if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5:
                    raise DefinitionError(f"{where}: an RFM score is a whole number 1..5, not {v!r}")
    elif isinstance(node, InSegment):
        check_name(node.segment)
    else:
        raise DefinitionError(f"{where}: {type(node).__name__} is not a condition")
    return 1


def _check_field(node: Field, where: str) -> None:
    if node.field not in FIELDS:
        raise DefinitionError(f"{where}: unknown field {node.field!r}; the fields are {', '.join(FIELDS)}")
    kind = FIELDS[node.field][0]
    if node.op in UNKNOWN_OPS:
        if node.field != "age":
            raise DefinitionError(f"{where}: '{node.op}' is for age only (the other fields are always known)")
        return
    ops = (*COMPARISONS, *SET_OPS) if kind == "number" else ("=", "!=", *SET_OPS)
    _one_of(node.op, ops, "op", where)
    for v in _values(node.value, node.op, where):
        if kind == "number":
            _number(v, where, "value")
        else:
            _text(v, where, "value")


def _values(value, op: str, where: str) -> list:
    if op in SET_OPS:
        if not isinstance(value, (list, tuple)) or not value:
            raise DefinitionError(f"{where}: '{op}' takes a list of values, e.g. [Paris, Rome]")
        return list(value)
    if isinstance(value, (list, tuple)):
        raise DefinitionError(f"{where}: '{op}' takes one value; use 'in' for a list")
    return [value]


def _one_of(value, allowed, what: str, where: str) -> None:
    if value not in allowed:
        raise DefinitionError(f"{where}: {what} {value!r} is not one of {', '.join(map(str, allowed))}")


def _number(value, where: str, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DefinitionError(f"{where}: {what} {value!r} is not a finite number")


def _text(value, where: str, what: str) -> None:
    if not isinstance(value, str) or len(value) > 200:
        raise DefinitionError(f"{where}: {what} {value!r} is not text of at most 200 characters")


def _event_type(value, where: str) -> None:
    if value is not None:
        _text(value, where, "event type")


def _days(value, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36_500:
        raise DefinitionError(f"{where}: days {value!r} is not a whole number of days 0..36500")


def _window(days, start, end, where: str) -> None:
    if days is not None and (start is not None or end is not None):
        raise DefinitionError(f"{where}: give either days (relative to as_of) or start/end dates, not both")
    if days is not None:
        _days(days, where)
    for name, value in (("start", start), ("end", end)):
        if value is not None and not isinstance(value, (str, date, datetime)):
            raise DefinitionError(f"{where}: {name} {value!r} is not a date (YYYY-MM-DD)")
