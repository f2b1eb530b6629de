"""Analyses beyond the three queries, computed in ClickHouse: RFM scores, signup-cohort
retention, monthly activity. Thin wrappers over sql/*.sql, like segwork.queries."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, params, queries
from segwork.queries import _as_of

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# The R-F grid behind rfm_segment (rows: recency score 5..1, columns: frequency score 1..5),
# best first; the SQL in sql/rfm_scores.sql assigns the same names.
RFM_SEGMENTS = ("Champions", "Loyal Customers", "Potential Loyalists", "New Customers", "Promising",
                "Need Attention", "About to Sleep", "Cannot Lose Them", "At Risk", "Hibernating")


def rfm_scores(client: Client, *, as_of=None, start_date=None, purchase_types=("purchase",),
               return_types=("return",)) -> pd.DataFrame:
    """Recency, frequency, monetary and their 1..5 quintile scores per purchasing customer.

    Events in [start_date (default: all history), as_of (default: now)]. Frequency and
    recency come from purchase_types; monetary is the net value of purchase_types and
    return_types. Ties share a score. Columns: customer_id, recency_days, frequency,
    monetary, last_purchase, r_score, f_score, m_score, rfm_cell ('545'), rfm_segment
    (one of RFM_SEGMENTS); best customers first.
    """
    as_of_dt = _as_of(as_of)
    start = params.timestamp("start_date", start_date) or EPOCH
    _check_order(start, as_of_dt)
    purchases = params.event_types("purchase_types", purchase_types)
    if not purchases:
        raise params.ParameterError("purchase_types", "give at least one event type that counts as a purchase")
    p = {"as_of": as_of_dt, "start_date": start, "purchase_types": purchases,
         "return_types": params.event_types("return_types", return_types)}
    return db.query_df(client, "rfm_scores", p, utc=True)


def rfm_segment_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Per RFM segment of rfm_scores' result, best first: customers, average recency,
    frequency and monetary value, net value and its share of the total."""
    g = scores.groupby("rfm_segment").agg(
        customers=("customer_id", "size"), avg_recency_days=("recency_days", "mean"),
        avg_frequency=("frequency", "mean"), avg_monetary=("monetary", "mean"), monetary=("monetary", "sum"))
    g["value_share"] = g["monetary"] / scores["monetary"].sum()
    return g.reindex([s for s in RFM_SEGMENTS if s in g.index])


def cohort_retention(client: Client, *, as_of=None, start_date=None, event_types=None) -> pd.DataFrame:
    """Monthly signup cohorts and the share of each that was active N months after signup.

    Cohort = calendar month (UTC) of signup_date, for signups in [start_date, as_of]; active
    = at least one event of event_types (empty = any) in that month. One row per cohort and
    month up to as_of's month: cohort_month, months_since_signup, cohort_size,
    active_customers, retention (0..1). See retention_matrix for the cohort x month table.
    """
    as_of_dt = _as_of(as_of)
    start = params.timestamp("start_date", start_date) or EPOCH
    _check_order(start, as_of_dt)
    p = {"as_of": as_of_dt, "start_date": start, "event_types": params.event_types("event_types", event_types)}
    return queries.read_at(client, "cohort_retention", as_of, p)


def retention_matrix(cohorts: pd.DataFrame, value: str = "retention") -> pd.DataFrame:
    """cohort_retention's rows as a table: one row per cohort month ('2011-01'), one column
    per month since signup; cells past as_of are NaN."""
    table = cohorts.pivot(index="cohort_month", columns="months_since_signup", values=value)
    table.index = pd.to_datetime(table.index).strftime("%Y-%m")
    table.index.name, table.columns.name = "cohort", "months since signup"
    return table


def monthly_activity(client: Client, start_date=None, end_date=None, event_types=None) -> pd.DataFrame:
    """Active customers, events and net event value per calendar month (UTC).

    Events in [start_date (default: all history), end_date (default: now; a bare date
    includes that day)] of event_types (empty = all). Columns: month, active_customers,
    events, total_value.
    """
    end = params.timestamp("end_date", end_date, end_of_day=True) or params.now()
    start = params.timestamp("start_date", start_date) or EPOCH
    _check_order(start, end, "end_date")
    p = {"start_date": start, "end_date": end, "event_types": params.event_types("event_types", event_types)}
    return db.query_df(client, "monthly_activity", p)


def _check_order(start: datetime, end: datetime, end_name: str = "as_of") -> None:
    if start > end:
        raise params.ParameterError("start_date", f"{start:%Y-%m-%d %H:%M:%S} is after {end_name} {end:%Y-%m-%d %H:%M:%S}")
