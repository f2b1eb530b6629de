"""Independent pandas computations of the three queries, to check the SQL against."""
from __future__ import annotations

import pandas as pd

from segwork.segments import SegmentRules


def exact_total(values) -> float:
    """A sum of money as segwork defines it (sql/rules/total.sql): each value times a million,
    rounded half to even as a float, the whole numbers added exactly (Python's integers), the
    total in millionths divided by a million."""
    return sum(round(float(v) * 1e6) for v in values) / 1e6


def exact_totals(values: pd.Series, by) -> pd.Series:
    """exact_total per group of `by`."""
    return values.groupby(by).agg(exact_total)


def latest_profiles(customers: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The newest version (max timestamp) of each customer; with as_of, the newest version with
    timestamp <= as_of. A customer whose newest version is a deletion (is_deleted = 1) is left out."""
    if as_of is not None:
        customers = customers[customers["timestamp"] <= as_of]
    ordered = customers.sort_values(["customer_id", "timestamp"], kind="stable")
    latest = ordered.groupby("customer_id", as_index=False).tail(1)
    if "is_deleted" in latest:
        latest = latest[latest["is_deleted"] == 0]
    return latest.reset_index(drop=True)


def days_between(start: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Calendar days (UTC) from start to as_of, as ClickHouse dateDiff('day', ...)."""
    return (as_of.tz_convert("UTC").normalize() - start.dt.tz_convert("UTC").dt.normalize()).dt.days


def segmented(customers: pd.DataFrame, as_of: pd.Timestamp, rules: SegmentRules) -> pd.DataFrame:
    """The profiles at as_of with value/loyalty segments, by Python rules applied row by row."""
    p = latest_profiles(customers, as_of).copy()
    p["days_since_signup"] = days_between(p["signup_date"], as_of)
    p["value_segment"] = [rules.value_segment(v) for v in p["lifetime_value"]]
    p["loyalty_segment"] = [rules.loyalty_segment(d) for d in p["days_since_signup"]]
    return p


def summary(customers, as_of, rules, location=None, min_age=None, max_age=None) -> pd.DataFrame:
    """customer_segments_summary computed in pandas."""
    p = segmented(customers, as_of, rules)
    age = p["age"].fillna(0) if "age" in p else pd.Series(0, index=p.index)
    keep = pd.Series(True, index=p.index)
    if location is not None:
        keep &= p["location"] == location
    if min_age:
        keep &= age >= min_age
    if max_age is not None:
        keep &= (age > 0) & (age <= max_age)
    g = p[keep].groupby(["value_segment", "loyalty_segment"], as_index=False)
    out = g.agg(customer_count=("customer_id", "size"), avg_lifetime_value=("lifetime_value", "mean"))
    return out.sort_values(["avg_lifetime_value", "value_segment", "loyalty_segment"], ascending=[False, True, True]).reset_index(drop=True)


def engagement(events, customers, start, end, event_types=None, limit=100, location=None, as_of=None) -> pd.DataFrame:
    """customer_engagement_analysis (active customers only) computed in pandas; with as_of, no
    event after it and the location of each customer's profile at as_of."""
    if as_of is not None:
        end = min(end, as_of)
    e = events[(events["timestamp"] >= start) & (events["timestamp"] <= end)]
    if event_types:
        e = e[e["event_type"].isin(event_types)]
    if location is not None:
        ids = latest_profiles(customers, as_of).query("location == @location")["customer_id"]
        e = e[e["customer_id"].isin(ids)]
    g = e.groupby("customer_id", as_index=False).agg(event_count=("event_id", "size"), total_value=("event_value", exact_total))
    g = g.sort_values(["event_count", "total_value", "customer_id"], ascending=[False, False, True])
    return g.head(limit).reset_index(drop=True)


SEPARATOR = " · "
OUTSIDE = "Not a customer"


def places(customers: pd.DataFrame, as_of: pd.Timestamp, rules: SegmentRules, by: str = "segment") -> pd.Series:
    """Each customer's place at as_of (only those with a profile then), by customer_id."""
    p = segmented(customers, as_of, rules)
    label = {"value": p["value_segment"], "loyalty": p["loyalty_segment"],
             "segment": p["value_segment"] + SEPARATOR + p["loyalty_segment"]}[by]
    return pd.Series(label.to_numpy(), index=p["customer_id"].to_numpy())


def transitions(customers, a, b, rules, by="segment") -> pd.DataFrame:
    """from_state, to_state, customers: places at a and at b, OUTSIDE for no profile."""
    both = pd.concat([places(customers, a, rules, by).rename("from_state"), places(customers, b, rules, by).rename("to_state")],
                     axis=1).fillna(OUTSIDE)
    return both.groupby(["from_state", "to_state"]).size().rename("customers").reset_index()


def segment_sizes(customers, days, rules, location=None, min_age=None, max_age=None) -> pd.DataFrame:
    """day, value_segment, loyalty_segment, customers: the summary at the end of each day."""
    rows = []
    for day in days:
        end = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        s = summary(customers, end, rules, location, min_age, max_age)
        for r in s.itertuples():
            rows.append((pd.Timestamp(day).date(), r.value_segment, r.loyalty_segment, r.customer_count))
    return pd.DataFrame(rows, columns=["day", "value_segment", "loyalty_segment", "customers"])


def segment_changes(customers, segment, by, a, b, rules) -> tuple[set, set]:
    """(entered, exited): customer ids in `segment` at b and not at a, and the other way round."""
    at_a, at_b = places(customers, a, rules, by), places(customers, b, rules, by)
    in_a, in_b = set(at_a[at_a == segment].index), set(at_b[at_b == segment].index)
    return in_b - in_a, in_a - in_b
