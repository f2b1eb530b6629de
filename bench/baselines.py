"""The history questions answered without segwork: pandas (a notebook's way, and a vectorised
sweep) and DuckDB (the sweep in SQL), from the same profile versions (customers.parquet is the
whole history: every version, no deletions).

A customer's profile at time t is their latest version with timestamp <= t (segwork.history);
segments as sql/rules: value by lifetime value, loyalty by calendar days from signup to t.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from segwork.segments import LOYALTY_SEGMENTS, SEPARATOR, VALUE_SEGMENTS, SegmentRules
from segwork.through_time import OUTSIDE

DAY_S = 86_400


def day_number(day) -> int:
    """Days since 1970-01-01 of a date."""
    return int(pd.Timestamp(day).normalize().tz_localize(None).value // (DAY_S * 10**9))


def end_of(day) -> pd.Timestamp:
    """A bare date as segwork reads it for these questions: the end of that day (UTC)."""
    return pd.Timestamp(day, tz="UTC").normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def kept_days(first: int, last: int, every: str) -> np.ndarray:
    """The day numbers segment_sizes reports: every day, or each month's last day, and the last."""
    days = np.arange(first, last + 1)
    if every == "month":
        month_end = (pd.to_datetime(days, unit="D") + pd.Timedelta(days=1)).day == 1
        days = days[month_end | (days == last)]
    return days


def segments(p: pd.DataFrame, at: pd.Timestamp, rules: SegmentRules) -> pd.DataFrame:
    """value_segment and loyalty_segment of profiles at time `at`."""
    days = (at.normalize() - p["signup_date"].dt.normalize()).dt.days
    value = np.select([p["lifetime_value"] >= rules.high_value, p["lifetime_value"] >= rules.medium_value],
                      ["High Value", "Medium Value"], "Low Value")
    loyalty = np.select([days > rules.loyal_days, days > rules.regular_days], ["Loyal", "Regular"], "New")
    return p.assign(value_segment=value, loyalty_segment=loyalty, days_since_signup=days)


class PandasHistory:
    """The versions in a frame (read once, not timed)."""

    name = "pandas"

    def __init__(self, versions: pd.DataFrame, rules: SegmentRules):
        self.v, self.rules = versions, rules
        self.by_time = versions.sort_values("timestamp", kind="stable")

    # -- a notebook's way: the profiles at a time, then the same as today's summary --
    def profiles_at(self, at: pd.Timestamp) -> pd.DataFrame:
        v = self.by_time[self.by_time["timestamp"] <= at]
        return v.drop_duplicates("customer_id", keep="last")

    def sizes_at(self, day) -> pd.Series:
        """Customers per segment at the end of `day`: (value, loyalty) -> count."""
        at = end_of(day)
        s = segments(self.profiles_at(at), at, self.rules)
        return s.groupby(["value_segment", "loyalty_segment"]).size()

    def snapshot_sizes(self, first_day, last_day, every: str) -> pd.DataFrame:
        """segment_sizes as a notebook would: the profiles at every point, one after another."""
        days = kept_days(day_number(first_day), day_number(last_day), every)
        rows = []
        for d in days:
            day = pd.Timestamp(int(d), unit="D")
            for (value, loyalty), n in self.sizes_at(day).items():
                rows.append((day.date(), value, loyalty, int(n)))
        return grid(pd.DataFrame(rows, columns=["day", "value_segment", "loyalty_segment", "customers"]))

    def summary_at(self, at: pd.Timestamp, location: str, min_age: int, max_age: int) -> pd.DataFrame:
        p = self.profiles_at(at)
        p = p[(p["location"] == location) & (p["age"] >= min_age) & (p["age"] <= max_age)]
        p = segments(p, at, self.rules)
        out = p.groupby(["value_segment", "loyalty_segment"], as_index=False).agg(
            customer_count=("customer_id", "size"), avg_lifetime_value=("lifetime_value", "mean"),
            total_lifetime_value=("lifetime_value", "sum"), avg_age=("age", "mean"))
        return out.sort_values(["avg_lifetime_value", "value_segment", "loyalty_segment"],
                               ascending=[False, True, True]).reset_index(drop=True)

    def lookup_at(self, customer_id: str, at: pd.Timestamp) -> pd.DataFrame:
        rows = self.v[(self.v["customer_id"] == customer_id) & (self.v["timestamp"] <= at)]
        return segments(rows.sort_values("timestamp").tail(1), at, self.rules)

    def transitions(self, date_a, date_b) -> pd.DataFrame:
        """Customers per (from_state, to_state) between the ends of two days."""
        a, b = end_of(date_a), end_of(date_b)
        sa = segments(self.profiles_at(a), a, self.rules)
        sb = segments(self.profiles_at(b), b, self.rules)
        both = pd.merge(sa[["customer_id", "value_segment", "loyalty_segment"]],
                        sb[["customer_id", "value_segment", "loyalty_segment"]], on="customer_id", how="outer",
                        suffixes=("_a", "_b"))
        place = {}
        for side in ("a", "b"):
            v, lo = both[f"value_segment_{side}"], both[f"loyalty_segment_{side}"]
            place[side] = (v + SEPARATOR + lo).fillna(OUTSIDE)
        flows = pd.DataFrame({"from_state": place["a"], "to_state": place["b"]})
        return flows.groupby(["from_state", "to_state"], as_index=False).size().rename(columns={"size": "customers"})

    # -- vectorised: each version's span, cut where the loyalty segment changes, a running sum --
    def sweep_sizes(self, first_day, last_day, every: str) -> pd.DataFrame:
        r, first, last = self.rules, day_number(first_day), day_number(last_day)
        v = self.v.sort_values(["customer_id", "timestamp"], kind="stable")
        ts = _seconds(v["timestamp"])
        keep = ts < (last + 1) * DAY_S
        ts, ids = ts[keep], v["customer_id"].to_numpy()[keep]
        day = ts // DAY_S
        same_next = np.append(ids[1:] == ids[:-1], False)
        nxt = np.where(same_next, np.roll(day, -1), last + 1)
        span_from, span_to = np.maximum(day, first), np.minimum(nxt, last + 1)
        ltv = v["lifetime_value"].to_numpy()[keep]
        value = np.select([ltv >= r.high_value, ltv >= r.medium_value], [0, 1], 2)
        signup = _seconds(v["signup_date"])[keep] // DAY_S
        regular, loyal = signup + r.regular_days + 1, signup + r.loyal_days + 1
        n_days = last - first + 2
        delta = np.zeros((n_days, len(VALUE_SEGMENTS), len(LOYALTY_SEGMENTS)), np.int64)
        loyalty_index = {name: i for i, name in enumerate(LOYALTY_SEGMENTS)}
        for name, lo, hi in (("New", span_from, np.minimum(span_to, regular)),
                             ("Regular", np.maximum(span_from, regular), np.minimum(span_to, loyal)),
                             ("Loyal", np.maximum(span_from, loyal), span_to)):
            piece = lo < hi
            k = loyalty_index[name]
            np.add.at(delta, (lo[piece] - first, value[piece], k), 1)
            np.add.at(delta, (hi[piece] - first, value[piece], k), -1)
        counts = np.cumsum(delta, axis=0)[:-1]
        days = kept_days(first, last, every)
        picked = counts[days - first]
        index = pd.MultiIndex.from_product([pd.to_datetime(days, unit="D").date, VALUE_SEGMENTS, LOYALTY_SEGMENTS],
                                           names=["day", "value_segment", "loyalty_segment"])
        return grid(pd.DataFrame({"customers": picked.reshape(-1)}, index=index).reset_index())


SWEEP_SQL = """
WITH v AS (
    SELECT lifetime_value, CAST(floor(epoch(signup_date) / 86400) AS BIGINT) AS signup_day,
           CAST(floor(epoch(timestamp) / 86400) AS BIGINT) AS day,
           lead(CAST(floor(epoch(timestamp) / 86400) AS BIGINT)) OVER (PARTITION BY customer_id ORDER BY timestamp) AS next_day
    FROM customers WHERE timestamp < $end_excl
), spans AS (
    SELECT CASE WHEN lifetime_value >= $high_value THEN 'High Value'
                WHEN lifetime_value >= $medium_value THEN 'Medium Value' ELSE 'Low Value' END AS value_segment,
           signup_day, greatest(day, $first_day) AS f, least(coalesce(next_day, $last_day + 1), $last_day + 1) AS t
    FROM v
), pieces AS (
    SELECT value_segment, 'New' AS loyalty_segment, f AS pf, least(t, signup_day + $regular_days + 1) AS pt FROM spans
    UNION ALL
    SELECT value_segment, 'Regular', greatest(f, signup_day + $regular_days + 1), least(t, signup_day + $loyal_days + 1) FROM spans
    UNION ALL
    SELECT value_segment, 'Loyal', greatest(f, signup_day + $loyal_days + 1), t FROM spans
), changes AS (
    SELECT day, value_segment, loyalty_segment, sum(delta) AS delta FROM (
        SELECT pf AS day, value_segment, loyalty_segment, 1 AS delta FROM pieces WHERE pf < pt
        UNION ALL
        SELECT pt, value_segment, loyalty_segment, -1 FROM pieces WHERE pf < pt AND pt <= $last_day
    ) GROUP BY ALL
), segs AS (SELECT DISTINCT value_segment, loyalty_segment FROM changes),
days AS (SELECT range AS day FROM range($first_day, $last_day + 1))
SELECT DATE '1970-01-01' + CAST(d.day AS INTEGER) AS day, s.value_segment, s.loyalty_segment,
       sum(coalesce(c.delta, 0)) OVER (PARTITION BY s.value_segment, s.loyalty_segment ORDER BY d.day) AS customers
FROM days d CROSS JOIN segs s
LEFT JOIN changes c ON c.day = d.day AND c.value_segment = s.value_segment AND c.loyalty_segment = s.loyalty_segment
QUALIFY $every = 'day' OR d.day = $last_day OR ($every = 'month' AND day(DATE '1970-01-01' + CAST(d.day + 1 AS INTEGER)) = 1)
ORDER BY d.day, s.value_segment, s.loyalty_segment
"""

TRANSITIONS_SQL = """
WITH latest AS (
    SELECT customer_id,
           max(timestamp) FILTER (WHERE timestamp <= $a) AS ts_a,
           arg_max(lifetime_value, timestamp) FILTER (WHERE timestamp <= $a) AS ltv_a,
           arg_max(signup_date, timestamp) FILTER (WHERE timestamp <= $a) AS signup_a,
           arg_max(lifetime_value, timestamp) AS ltv_b,
           arg_max(signup_date, timestamp) AS signup_b
    FROM customers WHERE timestamp <= $b GROUP BY customer_id
), placed AS (
    SELECT CASE WHEN ts_a IS NULL THEN $outside ELSE
               CASE WHEN ltv_a >= $high_value THEN 'High Value' WHEN ltv_a >= $medium_value THEN 'Medium Value' ELSE 'Low Value' END
               || $separator ||
               CASE WHEN date_diff('day', signup_a::DATE, $a::DATE) > $loyal_days THEN 'Loyal'
                    WHEN date_diff('day', signup_a::DATE, $a::DATE) > $regular_days THEN 'Regular' ELSE 'New' END END AS from_state,
           CASE WHEN ltv_b >= $high_value THEN 'High Value' WHEN ltv_b >= $medium_value THEN 'Medium Value' ELSE 'Low Value' END
           || $separator ||
           CASE WHEN date_diff('day', signup_b::DATE, $b::DATE) > $loyal_days THEN 'Loyal'
                WHEN date_diff('day', signup_b::DATE, $b::DATE) > $regular_days THEN 'Regular' ELSE 'New' END AS to_state
    FROM latest
)
SELECT from_state, to_state, count(*) AS customers FROM placed GROUP BY ALL ORDER BY ALL
"""


class DuckHistory:
    """An in-memory DuckDB holding the versions (customers.parquet), the machine's threads."""

    name = "duckdb"

    def __init__(self, customers_parquet, rules: SegmentRules, threads: int):
        self.rules = rules.sql_parameters()
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"CREATE TABLE customers AS SELECT * FROM read_parquet('{customers_parquet}')")

    def _df(self, sql: str, params: dict) -> pd.DataFrame:
        return self.con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).df()

    def sweep_sizes(self, first_day, last_day, every: str) -> pd.DataFrame:
        first, last = day_number(first_day), day_number(last_day)
        p = {**self.rules, "first_day": first, "last_day": last, "every": every,
             "end_excl": pd.Timestamp((last + 1) * DAY_S, unit="s", tz="UTC").to_pydatetime()}
        out = self._df(SWEEP_SQL, p)
        out["day"] = pd.to_datetime(out["day"]).dt.date
        return grid(out)

    def transitions(self, date_a, date_b) -> pd.DataFrame:
        p = {**self.rules, "a": end_of(date_a).to_pydatetime(), "b": end_of(date_b).to_pydatetime(),
             "outside": OUTSIDE, "separator": SEPARATOR}
        return self._df(TRANSITIONS_SQL, p)

    def close(self) -> None:
        self.con.close()


def _seconds(times: pd.Series) -> np.ndarray:
    """Epoch seconds of a (UTC) datetime column."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy().astype("datetime64[s]").astype(np.int64)


def grid(found: pd.DataFrame) -> pd.DataFrame:
    """Every segment at every point (0 when empty), in segment_sizes' order and columns."""
    days = sorted(found["day"].unique())
    index = pd.MultiIndex.from_product([days, VALUE_SEGMENTS, LOYALTY_SEGMENTS], names=["day", "value_segment", "loyalty_segment"])
    out = found.set_index(["day", "value_segment", "loyalty_segment"])["customers"].reindex(index, fill_value=0).reset_index()
    out.insert(1, "segment", out["value_segment"] + SEPARATOR + out["loyalty_segment"])
    out["customers"] = out["customers"].astype("int64")
    return out
