"""Custom segment definitions evaluated in pandas, independently of the SQL compiler: the
documented meaning of each condition kind, on profile versions and events frames."""
from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from segwork.custom.model import Events, Field, FirstEvent, Group, InSegment, LastEvent, Rfm, Segment
from segwork.segments import SegmentRules
from tests import oracle

OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def members(segment: Segment, customers: pd.DataFrame, events: pd.DataFrame, as_of: pd.Timestamp, rules: SegmentRules,
            saved: dict | None = None, rfm: pd.DataFrame | None = None) -> set:
    p = oracle.segmented(customers, as_of, rules).set_index("customer_id")
    e = events[events["timestamp"] <= as_of]
    return set(p.index[_holds(segment.root, p, e, as_of, rules, saved or {}, rfm)])


def _holds(node, p, e, as_of, rules, saved, rfm) -> pd.Series:
    if isinstance(node, Group):
        parts = [_holds(c, p, e, as_of, rules, saved, rfm) for c in node.conditions]
        out = parts[0]
        for part in parts[1:]:
            out = (out & part) if node.match == "all" else (out | part)
        return out
    if isinstance(node, Field):
        return _field(node, p)
    if isinstance(node, Events):
        lo, hi = _window(node.days, node.start, node.end, as_of)
        chosen = _of_type(e, node.event_type)
        if node.category is not None:
            chosen = chosen[chosen["category"] == node.category]
        if lo is not None:
            chosen = chosen[chosen["timestamp"] >= lo]
        chosen = chosen[chosen["timestamp"] <= hi]
        grouped = chosen.groupby("customer_id")["event_value"]
        n = grouped.size().reindex(p.index, fill_value=0)
        if node.measure == "count":
            return OPS[node.op](n, node.value)
        if node.measure == "total_value":
            return OPS[node.op](grouped.agg(oracle.exact_total).reindex(p.index, fill_value=0.0), node.value)
        avg = (grouped.agg(oracle.exact_total) / grouped.size()).reindex(p.index)
        return (n > 0) & OPS[node.op](avg.fillna(0), node.value)
    if isinstance(node, LastEvent):
        last = _of_type(e, node.event_type).groupby("customer_id")["timestamp"].max().reindex(p.index)
        days = (as_of.normalize() - last.dt.normalize()).dt.days
        never = last.isna()
        return pd.Series(np.where(never, node.op in (">=", ">"), OPS[node.op](days.fillna(0), node.days)), index=p.index)
    if isinstance(node, FirstEvent):
        lo, hi = _window(node.days, node.start, node.end, as_of)
        first = _of_type(e, node.event_type).groupby("customer_id")["timestamp"].min().reindex(p.index)
        lo = lo if lo is not None else pd.Timestamp("1970-01-01", tz="UTC")
        return first.notna() & (first >= lo) & (first <= hi)
    if isinstance(node, Rfm):
        scores = rfm.set_index("customer_id")[node.score].reindex(p.index)
        known = scores.notna()
        values = node.value if isinstance(node.value, (list, tuple)) else [node.value]
        if node.op in ("in", "not in"):
            inside = scores.isin(values)
            return known & (inside if node.op == "in" else ~inside)
        return known & OPS[node.op](scores.fillna(0), node.value)
    if isinstance(node, InSegment):
        inner = _holds(saved[node.segment].root, p, e, as_of, rules, saved, rfm)
        return ~inner if node.negate else inner
    raise TypeError(node)


def _field(node: Field, p: pd.DataFrame) -> pd.Series:
    age = p["age"].fillna(0).astype(int)
    if node.op == "is unknown":
        return age == 0
    if node.op == "is known":
        return age > 0
    column = {
        "location": p["location"], "gender": p["gender"], "age": age, "lifetime_value": p["lifetime_value"],
        "days_since_signup": p["days_since_signup"], "value_segment": p["value_segment"],
        "loyalty_segment": p["loyalty_segment"],
        "email_domain": p["email"].fillna("").str.split("@").str[1].fillna("").str.lower(),
    }[node.field]
    value = node.value
    if node.field == "email_domain":
        value = [v.lower() for v in value] if isinstance(value, (list, tuple)) else value.lower()
    if node.op in ("in", "not in"):
        out = column.isin(value)
        out = out if node.op == "in" else ~out
    else:
        out = OPS[node.op](column, value)
    return out & (age > 0) if node.field == "age" else out


def _of_type(e: pd.DataFrame, event_type) -> pd.DataFrame:
    return e if event_type is None else e[e["event_type"] == event_type]


def _window(days, start, end, as_of):
    if days is not None:
        return as_of - pd.Timedelta(days=days), as_of
    lo = pd.Timestamp(start, tz="UTC") if start is not None else None
    hi = as_of
    if end is not None:
        hi = min(as_of, pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
    return lo, hi
