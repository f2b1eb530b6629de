"""segwork's public functions and the same SQL on the bare engine, as contenders.

Each contender answers lookup(i), engagement() and summary() for one Workload.
"""
from __future__ import annotations

import segwork
from segwork import queries

from bench.engine import RawEngine
from bench.workload import Workload


class Segwork:
    """The public API, exactly as the workbench, the HTTP API and notebooks call it."""

    name = "segwork"

    def __init__(self, client, w: Workload):
        self.client, self.w = client, w

    def lookup(self, i: int):
        return segwork.customer_segment_lookup(self.client, self.w.lookup_id(i), as_of=self.w.as_of, rules=self.w.rules)

    def engagement(self):
        w = self.w
        return segwork.customer_engagement_analysis(self.client, w.start, w.end, list(w.event_types), w.limit,
                                                    as_of=w.as_of, rules=w.rules)

    def summary(self):
        w = self.w
        return segwork.customer_segments_summary(self.client, w.location, w.min_age, w.max_age, as_of=w.as_of, rules=w.rules)


class Engine:
    """segwork's SQL files with the same parameters on a bare chDB connection (bound once)."""

    name = "engine"

    def __init__(self, database: str, w: Workload):
        self.raw, self.w = RawEngine(database), w
        rules = w.rules.sql_parameters()
        as_of = w.as_of.to_pydatetime()
        self.lookups = {cid: self.raw.bind("customer_segment_lookup", {"customer_id": cid, "as_of": as_of, **rules})
                        for cid in w.lookup_ids}
        p = queries.engagement_parameters(w.start, w.end, list(w.event_types), location=None, as_of=w.as_of, rules=w.rules)
        p.update(limit=w.limit, order_by="event_count")
        self.engagement_sql = self.raw.bind("customer_engagement_analysis", p)
        self.summary_sql = self.raw.bind("customer_segments_summary", {
            "location": w.location, "min_age": w.min_age, "max_age": w.max_age, "as_of": as_of, **rules})

    def lookup(self, i: int):
        return self.raw.run(self.lookups[self.w.lookup_id(i)])

    def engagement(self):
        return self.raw.run(self.engagement_sql)

    def summary(self):
        return self.raw.run(self.summary_sql)

    def close(self) -> None:
        self.raw.close()
