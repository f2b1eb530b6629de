"""DuckDB over the same Parquet files, with the same semantics (latest profile version wins)
and the same query shapes as segwork's SQL: aggregate first, top-N, then fetch profiles."""
from __future__ import annotations

import duckdb

from bench.data import Dataset
from bench.workload import Workload

SEGMENTS = """
    CASE WHEN lifetime_value >= $high_value THEN 'High Value'
         WHEN lifetime_value >= $medium_value THEN 'Medium Value' ELSE 'Low Value' END AS value_segment,
    CASE WHEN date_diff('day', signup_date::DATE, $as_of::DATE) > $loyal_days THEN 'Loyal'
         WHEN date_diff('day', signup_date::DATE, $as_of::DATE) > $regular_days THEN 'Regular' ELSE 'New' END AS loyalty_segment
"""

LOOKUP = f"""
SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value,
       date_diff('day', signup_date::DATE, $as_of::DATE) AS days_since_signup, {SEGMENTS},
       timestamp AS profile_updated_at
FROM customers WHERE customer_id = $customer_id
ORDER BY timestamp DESC LIMIT 1
"""

ENGAGEMENT = f"""
WITH active AS (
    SELECT customer_id, count(*) AS event_count, sum(event_value) AS total_value,
           min(timestamp) AS first_event, max(timestamp) AS last_event
    FROM customer_events
    WHERE timestamp >= $start AND timestamp <= $end AND list_contains($event_types, event_type)
    GROUP BY customer_id
    ORDER BY event_count DESC, total_value DESC, customer_id
    LIMIT $limit
), profiles AS (
    SELECT customer_id, arg_max(name, timestamp) AS name, arg_max(email, timestamp) AS email,
           arg_max(location, timestamp) AS location, arg_max(lifetime_value, timestamp) AS lifetime_value,
           arg_max(signup_date, timestamp) AS signup_date
    FROM customers WHERE customer_id IN (SELECT customer_id FROM active)
    GROUP BY customer_id
)
SELECT a.customer_id, p.name, p.email, p.location, a.event_count, a.total_value, a.first_event, a.last_event,
       {SEGMENTS}
FROM active a LEFT JOIN profiles p USING (customer_id)
ORDER BY event_count DESC, total_value DESC, customer_id
"""

SUMMARY = f"""
WITH latest AS (
    SELECT * FROM customers QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY timestamp DESC) = 1
), picked AS (
    SELECT lifetime_value, age, {SEGMENTS}
    FROM latest WHERE location = $location AND age >= $min_age AND age <= $max_age
)
SELECT value_segment, loyalty_segment, count(*) AS customer_count, avg(lifetime_value) AS avg_lifetime_value,
       sum(lifetime_value) AS total_lifetime_value, avg(age) AS avg_age
FROM picked GROUP BY value_segment, loyalty_segment
ORDER BY avg_lifetime_value DESC, value_segment, loyalty_segment
"""


class DuckDB:
    """An in-memory DuckDB with both tables loaded from the cached Parquet files."""

    name = "duckdb"

    def __init__(self, ds: Dataset, w: Workload, threads: int):
        self.w = w
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"CREATE TABLE customers AS SELECT * FROM read_parquet('{ds.customers_parquet}')")
        self.con.execute(f"CREATE TABLE customer_events AS SELECT * FROM read_parquet('{ds.events_parquet}')")
        rules = w.rules.sql_parameters()
        self.rules = {**rules, "as_of": w.as_of.to_pydatetime()}

    def _df(self, sql: str, params: dict):
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        return self.con.execute(sql, used).df()

    def lookup(self, i: int):
        return self._df(LOOKUP, {**self.rules, "customer_id": self.w.lookup_id(i)})

    def engagement(self):
        w = self.w
        return self._df(ENGAGEMENT, {**self.rules, "start": w.start.to_pydatetime(), "end": w.end.to_pydatetime(),
                                     "event_types": list(w.event_types), "limit": w.limit})

    def summary(self):
        w = self.w
        return self._df(SUMMARY, {**self.rules, "location": w.location, "min_age": w.min_age, "max_age": w.max_age})

    def close(self) -> None:
        self.con.close()
