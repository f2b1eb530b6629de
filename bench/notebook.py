"""pandas, written the way a notebook user would: both tables read into frames once, then
each answer computed from them with ordinary filters, groupby, sort and merge."""
from __future__ import annotations

import numpy as np
import pandas as pd

from bench.workload import Workload


class Pandas:
    """Frames held in memory (reading them is not timed); each call computes one answer."""

    name = "pandas"

    def __init__(self, customers: pd.DataFrame, events: pd.DataFrame, w: Workload):
        self.customers, self.events, self.w = customers, events, w

    def _segments(self, p: pd.DataFrame) -> pd.DataFrame:
        r = self.w.rules
        days = (self.w.as_of.normalize() - p["signup_date"].dt.normalize()).dt.days
        value = np.select([p["lifetime_value"] >= r.high_value, p["lifetime_value"] >= r.medium_value],
                          ["High Value", "Medium Value"], "Low Value")
        loyalty = np.select([days > r.loyal_days, days > r.regular_days], ["Loyal", "Regular"], "New")
        return p.assign(days_since_signup=days, value_segment=value, loyalty_segment=loyalty)

    def _latest(self, customers: pd.DataFrame) -> pd.DataFrame:
        return customers.sort_values("timestamp").drop_duplicates("customer_id", keep="last")

    def lookup(self, i: int):
        c = self.customers
        rows = c[c["customer_id"] == self.w.lookup_id(i)]
        return self._segments(rows.sort_values("timestamp").tail(1))

    def engagement(self):
        w, e = self.w, self.events
        e = e[(e["timestamp"] >= w.start) & (e["timestamp"] <= w.end) & e["event_type"].isin(w.event_types)]
        g = e.groupby("customer_id", as_index=False).agg(
            event_count=("event_id", "size"), total_value=("event_value", "sum"),
            first_event=("timestamp", "min"), last_event=("timestamp", "max"))
        top = g.sort_values(["event_count", "total_value", "customer_id"], ascending=[False, False, True]).head(w.limit)
        profiles = self._latest(self.customers)
        out = top.merge(profiles[["customer_id", "name", "email", "location", "lifetime_value", "signup_date"]],
                        on="customer_id", how="left")
        return self._segments(out)

    def summary(self):
        w = self.w
        p = self._latest(self.customers)
        p = p[(p["location"] == w.location) & (p["age"] >= w.min_age) & (p["age"] <= w.max_age)]
        p = self._segments(p)
        out = p.groupby(["value_segment", "loyalty_segment"], as_index=False).agg(
            customer_count=("customer_id", "size"), avg_lifetime_value=("lifetime_value", "mean"),
            total_lifetime_value=("lifetime_value", "sum"), avg_age=("age", "mean"))
        return out.sort_values(["avg_lifetime_value", "value_segment", "loyalty_segment"],
                               ascending=[False, True, True]).reset_index(drop=True)
