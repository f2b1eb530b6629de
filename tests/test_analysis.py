"""RFM scores, cohort retention and monthly activity: hand-written rows, and pandas on generated data."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import analysis, db, sqlfiles, synth
from segwork.errors import ParameterError

from tests import oracle


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def events_frame(rows) -> pd.DataFrame:
    """(customer_id, event_type, value, time) tuples as customer_events rows."""
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(len(rows))],
        "customer_id": [r[0] for r in rows],
        "event_type": [r[1] for r in rows],
        "event_value": [float(r[2]) for r in rows],
        "product_id": "",
        "category": "",
        "timestamp": [ts(r[3]) for r in rows],
    })


def customers_frame(signups: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": list(signups),
        "signup_date": [ts(s) for s in signups.values()],
        "lifetime_value": 0.0,
        "timestamp": [ts(s) for s in signups.values()],
    })


# ---------------------------------------------------------------- RFM, by hand

RFM_AS_OF = "2025-01-01 12:00:00"


@pytest.fixture
def rfm_rows(client):
    rows = [
        ("a", "purchase", 10, "2024-12-31 08:00:00"), ("a", "purchase", 20, "2024-12-20"), ("a", "purchase", 30, "2024-11-01"),
        ("a", "return", -15, "2024-12-25"), ("a", "purchase", 999, "2025-01-02"),   # after as_of: ignored
        ("b", "purchase", 100, "2024-12-31 23:59:59"),
        ("c", "purchase", 5, "2024-06-01 00:00:00"), ("c", "purchase", 5, "2024-06-02"),
        ("d", "purchase", 1000, "2023-12-31"),
        ("e", "return", -5, "2024-12-01"),                                            # returns only: not a buyer
        ("f", "page_view", 0, "2024-12-31"),
        ("g", "purchase", 50, "2025-01-02"),                                          # only after as_of
        ("h", "purchase", 0, "2024-12-31"), ("h", "add_to_cart", 50, "2024-12-31"),   # carts are not money
    ]
    assert segwork.ingest(client, "customer_events", events_frame(rows)).inserted == len(rows)
    return client


def test_rfm_hand_rows(rfm_rows):
    df = analysis.rfm_scores(rfm_rows, as_of=RFM_AS_OF)
    got = {r.customer_id: (r.recency_days, r.frequency, r.monetary, r.r_score, r.f_score, r.m_score, r.rfm_cell, r.rfm_segment)
           for r in df.itertuples()}
    assert got == {
        # recency ranks d < c < a=b=h (tie shares rank 3); frequency b=d=h < c < a; monetary h < c < a < b < d
        "a": (1, 3, 45.0, 3, 5, 3, "353", "Loyal Customers"),
        "b": (1, 1, 100.0, 3, 1, 4, "314", "About to Sleep"),
        "c": (213, 2, 10.0, 2, 4, 2, "242", "At Risk"),
        "d": (367, 1, 1000.0, 1, 1, 5, "115", "Hibernating"),
        "h": (1, 1, 0.0, 3, 1, 1, "311", "About to Sleep"),
    }
    assert list(df["customer_id"]) == ["a", "b", "c", "d", "h"]  # score sum, then monetary, best first
    assert df.loc[df.customer_id == "b", "last_purchase"].iloc[0] == ts("2024-12-31 23:59:59")


def test_rfm_segment_summary(rfm_rows):
    summary = analysis.rfm_segment_summary(analysis.rfm_scores(rfm_rows, as_of=RFM_AS_OF))
    assert list(summary.index) == ["Loyal Customers", "About to Sleep", "At Risk", "Hibernating"]  # RFM_SEGMENTS order
    sleepy = summary.loc["About to Sleep"]
    assert (sleepy.customers, sleepy.avg_recency_days, sleepy.avg_frequency, sleepy.avg_monetary) == (2, 1, 1, 50.0)
    assert sleepy.value_share == pytest.approx(100 / 1155)
    assert summary["value_share"].sum() == pytest.approx(1.0)


def test_rfm_window_and_types(rfm_rows):
    df = analysis.rfm_scores(rfm_rows, as_of=RFM_AS_OF, start_date="2024-06-01")
    assert set(df["customer_id"]) == {"a", "b", "c", "h"}  # d bought before the window; c at its first second
    no_returns = analysis.rfm_scores(rfm_rows, as_of=RFM_AS_OF, return_types=[])
    assert no_returns.set_index("customer_id").loc["a", "monetary"] == 60.0
    carts = analysis.rfm_scores(rfm_rows, as_of=RFM_AS_OF, purchase_types="purchase,add_to_cart")
    assert carts.set_index("customer_id").loc["h", ["frequency", "monetary"]].tolist() == [2, 50.0]


@pytest.mark.parametrize("call, parameter", [
    (lambda c: analysis.rfm_scores(c, as_of="2024-01-01", start_date="2024-02-01"), "start_date"),
    (lambda c: analysis.rfm_scores(c, purchase_types=[]), "purchase_types"),
    (lambda c: analysis.rfm_scores(c, return_types=["Bad Type"]), "return_types"),
    (lambda c: analysis.rfm_scores(c, as_of="soon"), "as_of"),
    (lambda c: analysis.cohort_retention(c, as_of="2024-01-01", start_date="2024-02-01"), "start_date"),
    (lambda c: analysis.cohort_retention(c, event_types=["x'; DROP TABLE customers"]), "event_types"),
    (lambda c: analysis.monthly_activity(c, "2024-02-01", "2024-01-01"), "start_date"),
])
def test_bad_parameters_give_clear_errors(client, call, parameter):
    with pytest.raises(ParameterError, match=f"parameter '{parameter}'"):
        call(client)


# ---------------------------------------------------------------- cohorts and months, by hand

COHORT_AS_OF = "2024-03-20 12:00:00"


@pytest.fixture
def cohort_rows(client):
    customers = customers_frame({"p1": "2024-01-15", "p2": "2024-01-31 23:59:59", "p3": "2024-02-01",
                                 "p4": "2024-03-10", "p5": "2024-04-02"})
    rows = [
        ("p1", "login", 0, "2024-01-16"), ("p1", "purchase", 10, "2024-02-05"), ("p1", "purchase", 20, "2024-02-20"),
        ("p1", "purchase", 40, "2024-03-21"),                                     # after as_of
        ("p2", "page_view", 0, "2023-12-31"),                                     # before the signup month
        ("p2", "purchase", 5, "2024-03-01 00:00:00"),
        ("p3", "page_view", 0, "2024-02-01"), ("p3", "login", 0, "2024-03-19"),
        ("zz", "purchase", 7, "2024-02-01"),                                      # no profile: in no cohort
    ]
    segwork.ingest(client, "customers", customers)
    segwork.ingest(client, "customer_events", events_frame(rows))
    return client


def test_cohort_retention_hand_rows(cohort_rows):
    df = analysis.cohort_retention(cohort_rows, as_of=COHORT_AS_OF)
    got = [(f"{r.cohort_month:%Y-%m}", r.months_since_signup, r.cohort_size, r.active_customers) for r in df.itertuples()]
    assert got == [("2024-01", 0, 2, 1), ("2024-01", 1, 2, 1), ("2024-01", 2, 2, 1),
                   ("2024-02", 0, 1, 1), ("2024-02", 1, 1, 1),
                   ("2024-03", 0, 1, 0)]
    assert list(df["retention"]) == [0.5, 0.5, 0.5, 1.0, 1.0, 0.0]
    purchases = analysis.cohort_retention(cohort_rows, as_of=COHORT_AS_OF, event_types=["purchase"])
    assert list(purchases["active_customers"]) == [0, 1, 1, 0, 0, 0]
    later = analysis.cohort_retention(cohort_rows, as_of=COHORT_AS_OF, start_date="2024-02-01")
    assert sorted(set(f"{m:%Y-%m}" for m in later["cohort_month"])) == ["2024-02", "2024-03"]


def test_retention_matrix_leaves_the_future_empty(cohort_rows):
    matrix = analysis.retention_matrix(analysis.cohort_retention(cohort_rows, as_of=COHORT_AS_OF))
    assert list(matrix.index) == ["2024-01", "2024-02", "2024-03"]
    assert list(matrix.columns) == [0, 1, 2]
    assert matrix.loc["2024-03", 0] == 0.0 and np.isnan(matrix.loc["2024-03", 1]) and np.isnan(matrix.loc["2024-02", 2])


def test_monthly_activity_hand_rows(cohort_rows):
    df = analysis.monthly_activity(cohort_rows, end_date="2024-03-20")
    got = [(f"{r.month:%Y-%m}", r.active_customers, r.events, r.total_value) for r in df.itertuples()]
    assert got == [("2023-12", 1, 1, 0.0), ("2024-01", 1, 1, 0.0), ("2024-02", 3, 4, 37.0), ("2024-03", 2, 2, 5.0)]
    purchases = analysis.monthly_activity(cohort_rows, "2024-02-01", "2024-03-31", ["purchase"])
    got = [(f"{r.month:%Y-%m}", r.active_customers, r.events, r.total_value) for r in purchases.itertuples()]
    assert got == [("2024-02", 2, 3, 37.0), ("2024-03", 2, 2, 45.0)]


# ---------------------------------------------------------------- generated data against pandas

AS_OF = ts("2025-01-01 12:00:00")
SEGMENT_GRID = {  # the widely used R-F grid, written as patterns on "<r><f>", independent of the SQL's multiIf
    r"[1-2][1-2]": "Hibernating", r"[1-2][3-4]": "At Risk", r"[1-2]5": "Cannot Lose Them", r"3[1-2]": "About to Sleep",
    r"33": "Need Attention", r"[3-4][4-5]": "Loyal Customers", r"41": "Promising", r"51": "New Customers",
    r"[4-5][2-3]": "Potential Loyalists", r"5[4-5]": "Champions",
}


def quintile(values: pd.Series, ascending: bool) -> pd.Series:
    """1..5 by position among all values, ties sharing the lowest position."""
    rank = values.rank(method="min", ascending=ascending)
    return (1 + (5 * (rank - 1)) // len(values)).astype(int)


def rfm_oracle(events: pd.DataFrame, as_of: pd.Timestamp, start: pd.Timestamp) -> pd.DataFrame:
    e = events[(events.timestamp >= start) & (events.timestamp <= as_of)]
    buys = e[e.event_type == "purchase"]
    money = oracle.exact_totals(e[e.event_type.isin(["purchase", "return"])]["event_value"], e["customer_id"])
    g = buys.groupby("customer_id").agg(frequency=("event_id", "size"), last_purchase=("timestamp", "max"))
    g["monetary"] = money.reindex(g.index)
    g["recency_days"] = oracle.days_between(g["last_purchase"], as_of)
    g["r_score"] = quintile(g["recency_days"], ascending=False)
    g["f_score"] = quintile(g["frequency"], ascending=True)
    g["m_score"] = quintile(g["monetary"], ascending=True)
    rf = g["r_score"].astype(str) + g["f_score"].astype(str)
    g["rfm_segment"] = [next(name for pattern, name in SEGMENT_GRID.items() if re.fullmatch(pattern, x)) for x in rf]
    return g


def cohort_oracle(customers: pd.DataFrame, events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    p = oracle.latest_profiles(customers, as_of)
    p = p[p.signup_date <= as_of].assign(cohort=lambda d: d.signup_date.dt.tz_localize(None).dt.to_period("M"))
    e = events[events.timestamp <= as_of].merge(p[["customer_id", "cohort"]], on="customer_id")
    e = e.assign(month=e.timestamp.dt.tz_localize(None).dt.to_period("M"))
    e = e[e.month >= e.cohort]
    e["since"] = (e.month - e.cohort).apply(lambda off: off.n)
    active = e.groupby(["cohort", "since"])["customer_id"].nunique()
    last = pd.Timestamp(as_of).tz_localize(None).to_period("M")
    rows = [(c, m, size, int(active.get((c, m), 0))) for c, size in p.groupby("cohort").size().items()
            for m in range((last - c).n + 1)]
    return pd.DataFrame(rows, columns=["cohort", "since", "cohort_size", "active_customers"])


@pytest.fixture(scope="module")
def generated():
    customers = synth.customers(2000, seed=21, end="2025-01-01", years=2)
    newer = customers.sample(200, random_state=2).copy()  # later profile versions with a later signup
    newer["signup_date"] = newer["signup_date"] + pd.Timedelta(days=40)
    newer["timestamp"] = newer["timestamp"] + pd.Timedelta(days=400)
    newer = newer[newer["timestamp"] < AS_OF]
    events = synth.events(100_000, 2100, seed=22, end="2025-01-10", days=500)  # some customers without a profile
    return pd.concat([customers, newer], ignore_index=True), events


@pytest.fixture
def loaded(client, generated):
    customers, events = generated
    segwork.ingest(client, "customers", customers)
    segwork.ingest(client, "customer_events", events)
    return client


def test_rfm_matches_pandas_on_generated_data(loaded, generated):
    _, events = generated
    for start in (pd.Timestamp("1970-01-01", tz="UTC"), ts("2024-07-01")):
        got = analysis.rfm_scores(loaded, as_of=AS_OF, start_date=start).set_index("customer_id").sort_index()
        want = rfm_oracle(events, AS_OF, start).sort_index()
        assert list(got.index) == list(want.index) and len(got) > 300
        for column in ("recency_days", "frequency", "r_score", "f_score", "m_score", "rfm_segment"):
            assert list(got[column]) == list(want[column]), column
        np.testing.assert_allclose(got["monetary"], want["monetary"], rtol=1e-9, atol=1e-9)
        assert (got["last_purchase"] == want["last_purchase"]).all()
        assert set(got["rfm_segment"]) <= set(analysis.RFM_SEGMENTS)


def test_cohort_retention_matches_pandas_on_generated_data(loaded, generated):
    customers, events = generated
    got = analysis.cohort_retention(loaded, as_of=AS_OF)
    want = cohort_oracle(customers, events, AS_OF)
    assert len(got) == len(want) > 100
    assert [f"{m:%Y-%m}" for m in got.cohort_month] == [str(c) for c in want.cohort]
    assert list(got.months_since_signup) == list(want.since)
    assert list(got.cohort_size) == list(want.cohort_size)
    assert list(got.active_customers) == list(want.active_customers)
    np.testing.assert_allclose(got.retention, want.active_customers / want.cohort_size)


def test_monthly_activity_matches_pandas_on_generated_data(loaded, generated):
    _, events = generated
    start, end = ts("2024-03-15"), ts("2024-10-31 23:59:59")
    got = analysis.monthly_activity(loaded, start, "2024-10-31", ["purchase", "return"])
    e = events[(events.timestamp >= start) & (events.timestamp <= end) & events.event_type.isin(["purchase", "return"])]
    want = e.groupby(e.timestamp.dt.tz_localize(None).dt.to_period("M")).agg(
        active_customers=("customer_id", "nunique"), events=("event_id", "size"), total_value=("event_value", "sum"))
    assert [f"{m:%Y-%m}" for m in got.month] == [str(p) for p in want.index]
    assert list(got.active_customers) == list(want.active_customers)
    assert list(got.events) == list(want.events)
    np.testing.assert_allclose(got.total_value, want.total_value, rtol=1e-9)


# ---------------------------------------------------------------- SQL files

CALLS = {
    "rfm_scores": lambda c: analysis.rfm_scores(c),
    "cohort_retention": lambda c: analysis.cohort_retention(c),
    "monthly_activity": lambda c: analysis.monthly_activity(c),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrapper_parameters_match_placeholders(client, monkeypatch, name):
    seen = {}
    real = db.query_df

    def spy(client_, sql_name, parameters, **options):
        seen[sql_name] = parameters
        return real(client_, sql_name, parameters, **options)

    monkeypatch.setattr(db, "query_df", spy)
    assert isinstance(CALLS[name](client), pd.DataFrame)
    assert set(seen[name]) == set(sqlfiles.placeholders(name))
