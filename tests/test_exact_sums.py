"""Sums of event values do not depend on the order the engine adds rows in (sql/rules/total.sql).

0.1 + 0.2 + 0.3 is 0.6000000000000001 in floats, 0.3 + 0.2 + 0.1 is 0.6. Customer "b" has the
first order (its events are stored by time), "a" the second: as float sums "b" spent more, and
the documented tie-break (then customer_id) never got its turn.
"""
from __future__ import annotations

import pandas as pd
import pytest

import segwork
from segwork import analysis, custom
from segwork.custom.model import Events, Segment

from tests import oracle

pytestmark = pytest.mark.engine_paths

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")


def _events(rows) -> pd.DataFrame:
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(len(rows))], "customer_id": [r[0] for r in rows],
        "event_type": [r[1] for r in rows], "event_value": [r[2] for r in rows],
        "product_id": "", "category": "", "timestamp": [pd.Timestamp(r[3], tz="UTC") for r in rows]})


@pytest.fixture
def tied(client):
    """a and b: three purchases of 0.1, 0.2, 0.3, b in that order in time, a the other way round."""
    customers = pd.DataFrame({
        "customer_id": ["a", "b"], "name": ["Ann", "Bob"], "email": "", "age": pd.array([30, 40], dtype="Int32"),
        "gender": "", "location": "Paris", "signup_date": pd.Timestamp("2024-01-01", tz="UTC"),
        "lifetime_value": [100.0, 100.0], "timestamp": pd.Timestamp("2024-01-01", tz="UTC")})
    events = _events([("b", "purchase", 0.1, "2024-11-01"), ("b", "purchase", 0.2, "2024-11-02"), ("b", "purchase", 0.3, "2024-11-03"),
                      ("a", "purchase", 0.3, "2024-11-01"), ("a", "purchase", 0.2, "2024-11-02"), ("a", "purchase", 0.1, "2024-11-03")])
    assert 0.1 + 0.2 + 0.3 != 0.3 + 0.2 + 0.1  # what the test stands on
    segwork.ingest(client, "customers", customers)
    assert segwork.ingest(client, "customer_events", events).inserted == 6
    return client, events


def test_equal_totals_tie_and_break_by_customer_id(tied):
    client, events = tied
    for order_by in ("event_count", "total_value"):
        df = segwork.customer_engagement_analysis(client, "2024-11-01", "2024-11-30", order_by=order_by, as_of=AS_OF)
        assert list(df.customer_id) == ["a", "b"], order_by
        assert list(df.total_value) == [0.6, 0.6]
    want = oracle.engagement(events, None, pd.Timestamp("2024-11-01", tz="UTC"), pd.Timestamp("2024-11-30 23:59:59", tz="UTC"))
    assert list(want.customer_id) == ["a", "b"] and list(want.total_value) == [0.6, 0.6]


def test_with_inactive_customers_too(tied):
    client, _ = tied
    df = segwork.customer_engagement_analysis(client, "2024-11-01", "2024-11-30", include_inactive=True, as_of=AS_OF)
    assert list(df.customer_id) == ["a", "b"] and list(df.total_value) == [0.6, 0.6]


def test_custom_segment_total_at_its_boundary(tied):
    client, _ = tied
    for op, want in (("<=", 2), (">=", 2), ("=", 2), ("<", 0), (">", 0)):
        segment = Segment("spent", all=[Events("purchase", op, 0.6, measure="total_value")])
        assert custom.count(client, segment, as_of=AS_OF) == want, op
    for op, want in (("<", 2), (">=", 0)):  # 0.6 / 3 is 0.19999999999999998 for both (b's float sum: 0.20000000000000004)
        average = Segment("average", all=[Events("purchase", op, 0.2, measure="avg_value")])
        assert custom.count(client, average, as_of=AS_OF) == want, op


def test_rfm_monetary_ties_share_a_score(tied):
    client, _ = tied
    df = analysis.rfm_scores(client, as_of=AS_OF).set_index("customer_id")
    assert df.loc["a", "monetary"] == df.loc["b", "monetary"] == 0.6
    assert df.loc["a", "m_score"] == df.loc["b", "m_score"]


def test_daily_and_monthly_totals_are_exact(client):
    """One customer's 0.1, 0.2, 0.3 in one day, added in time order: 0.6000000000000001 in floats."""
    events = _events([("c", "purchase", v, f"2024-11-05 0{h}:00:00") for h, v in ((1, 0.1), (2, 0.2), (3, 0.3))])
    segwork.ingest(client, "customer_events", events)
    assert segwork.events_over_time(client, "2024-11-01", "2024-11-30").total_value.tolist() == [0.6]
    assert analysis.monthly_activity(client, "2024-11-01", "2024-11-30").total_value.tolist() == [0.6]


def test_the_oracle_rounds_to_millionths_as_the_engine_does(client):
    """A 7th decimal of 5 is where rounding rules part (2.0000005 * 1e6 is 2000000.5: half to even)."""
    values = [2.0000005, 123.4567895, 7.0000015, -556.6166675, 0.1234567, 19.99, 1e-7]
    events = _events([(f"c{i}", "purchase", v, "2024-11-05") for i, v in enumerate(values)])
    segwork.ingest(client, "customer_events", events)
    got = segwork.customer_engagement_analysis(client, "2024-11-01", "2024-11-30", as_of=AS_OF).set_index("customer_id")
    assert {c: got.total_value[c] for c in got.index} == {f"c{i}": oracle.exact_total([v]) for i, v in enumerate(values)}
    assert oracle.exact_total([2.0000005]) == 2.0


def test_totals_beyond_nine_billion_are_float_sums(client):
    """Past 2^53 millionths a total is as exact as a float sum: 0.01 on top of 10^10 and 3 * 10^10
    is lost in the 17th digit either way, and nothing wraps or overflows."""
    events = _events([("big", "purchase", 1e10, "2024-11-01"), ("big", "purchase", 3e10, "2024-11-02"),
                      ("big", "purchase", 0.01, "2024-11-03"), ("neg", "return", -1e15, "2024-11-01"),
                      ("huge", "purchase", 1e300, "2024-11-01")])
    segwork.ingest(client, "customer_events", events)
    df = segwork.customer_engagement_analysis(client, "2024-11-01", "2024-11-30", as_of=AS_OF).set_index("customer_id")
    assert df.total_value["big"] == pytest.approx(4e10 + 0.01, rel=1e-15)
    assert df.total_value["neg"] == -1e15
    assert df.total_value["huge"] == pytest.approx(1e300, rel=1e-15)
