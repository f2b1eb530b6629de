"""The three queries against hand-written rows and against pandas on generated data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import synth
from segwork.errors import ParameterError
from segwork.segments import SegmentRules

from tests import oracle

pytestmark = pytest.mark.engine_paths  # every test on the embedded fast path and on the client API (conftest)

AS_OF = pd.Timestamp("2025-01-01 12:00:00", tz="UTC")
UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


@pytest.fixture
def small(client):
    """Four customers (one with two profile versions) and a handful of events."""
    customers = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "b"],
        "name": ["Ann", "Bob", "Cy", "Di", "Bob B."],
        "email": ["ann@x.io", "bob@x.io", "", "di@x.io", "bob@y.io"],
        "age": pd.array([30, 40, None, 25, 41], dtype="Int32"),
        "gender": ["f", "m", "", "f", "m"],
        "location": ["Paris", "Paris", "Rome", "Rome", "Paris"],
        "signup_date": [ts("2023-01-01"), ts("2024-06-01"), ts("2024-12-01"), ts("2024-03-01"), ts("2024-06-01")],
        "lifetime_value": [1500.0, 200.0, 700.0, 999.99, 600.0],
        "timestamp": [ts("2024-01-01"), ts("2024-06-01"), ts("2024-12-01"), ts("2024-03-01"), ts("2024-09-01")],
    })
    events = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(1, 9)],
        "customer_id": ["a", "a", "b", "b", "b", "c", "zz", "a"],
        "event_type": ["purchase", "page_view", "purchase", "purchase", "login", "purchase", "purchase", "purchase"],
        "event_value": [10.0, 0.0, 5.0, 7.0, 0.0, 100.0, 1.0, 20.0],
        "product_id": ["p1", "", "p2", "p3", "", "p1", "p9", "p2"],
        "category": ["toys", "", "home", "home", "", "toys", "toys", "home"],
        "timestamp": [ts("2024-11-01 00:00:00"), ts("2024-11-02"), ts("2024-11-30 23:59:59"), ts("2024-11-15"),
                      ts("2024-11-16"), ts("2024-12-01 00:00:00"), ts("2024-11-20"), ts("2024-10-31 23:59:59")],
    })
    assert segwork.ingest(client, "customers", customers).inserted == 5
    assert segwork.ingest(client, "customer_events", events).inserted == 8
    return client, customers, events


def test_lookup_returns_latest_profile_and_segments(small):
    client, _, _ = small
    df = segwork.customer_segment_lookup(client, "b", as_of=AS_OF)
    assert len(df) == 1
    row = df.iloc[0]
    assert (row["name"], row["email"], row["lifetime_value"], row["age"]) == ("Bob B.", "bob@y.io", 600.0, 41)
    assert row["value_segment"] == "Medium Value"
    assert row["days_since_signup"] == 214  # 2024-06-01 -> 2025-01-01
    assert row["loyalty_segment"] == "Regular"
    assert row["profile_updated_at"] == ts("2024-09-01")


def test_lookup_thresholds_and_unknown_age(small):
    client, _, _ = small
    a = segwork.customer_segment_lookup(client, "a", as_of=AS_OF).iloc[0]
    assert (a["value_segment"], a["loyalty_segment"]) == ("High Value", "Loyal")
    c = segwork.customer_segment_lookup(client, "c", as_of=AS_OF).iloc[0]
    assert (c["value_segment"], c["loyalty_segment"]) == ("Medium Value", "New")
    assert pd.isna(c["age"])
    d = segwork.customer_segment_lookup(client, "d", as_of=AS_OF).iloc[0]
    assert d["value_segment"] == "Medium Value"  # 999.99 < 1000


def test_lookup_unknown_customer_is_empty(small):
    client, _, _ = small
    assert segwork.customer_segment_lookup(client, "nobody").empty
    assert segwork.customer_segment_lookup(client, "x' OR '1'='1").empty


def test_lookup_follows_rules(small):
    client, _, _ = small
    rules = SegmentRules(high_value=500, medium_value=100, loyal_days=200, regular_days=100)
    b = segwork.customer_segment_lookup(client, "b", as_of=AS_OF, rules=rules).iloc[0]
    assert (b["value_segment"], b["loyalty_segment"]) == ("High Value", "Loyal")


def test_engagement_inclusive_range_types_and_order(small):
    client, _, _ = small
    df = segwork.customer_engagement_analysis(client, "2024-11-01", "2024-11-30", ["purchase"], 10, as_of=AS_OF)
    # a: e1 (00:00:00 on the start day); b: e3 (last second of the end day) + e4; zz: no profile
    assert list(df["customer_id"]) == ["b", "a", "zz"]
    assert list(df["event_count"]) == [2, 1, 1]
    assert list(df["total_value"]) == [12.0, 10.0, 1.0]
    assert df.iloc[0]["value_segment"] == "Medium Value" and df.iloc[2]["name"] == ""


def test_engagement_limit_location_order_by(small):
    client, _, _ = small
    df = segwork.customer_engagement_analysis(client, "2024-10-01", "2024-12-31", None, 1, as_of=AS_OF)
    assert list(df["customer_id"]) == ["a"] and df.iloc[0]["event_count"] == 3  # a:3, b:3 -> value 30 vs 12
    rome = segwork.customer_engagement_analysis(client, "2024-10-01", "2024-12-31", location="Rome", as_of=AS_OF)
    assert list(rome["customer_id"]) == ["c"]
    by_value = segwork.customer_engagement_analysis(client, "2024-10-01", "2024-12-31", order_by="total_value", as_of=AS_OF)
    assert list(by_value["customer_id"]) == ["c", "a", "b", "zz"]


def test_engagement_include_inactive(small):
    client, _, _ = small
    df = segwork.customer_engagement_analysis(client, "2024-11-01", "2024-11-30", "purchase", 10, include_inactive=True, as_of=AS_OF)
    assert list(df["customer_id"]) == ["b", "a", "c", "d"]
    assert list(df["event_count"]) == [2, 1, 0, 0]
    assert pd.isna(df.iloc[3]["first_event"])


def test_engagement_defaults_to_30_days_before_as_of(small):
    client, _, _ = small
    df = segwork.customer_engagement_analysis(client, as_of="2024-12-01 00:00:00")
    # window 2024-11-01 00:00:00 .. 2024-12-01 00:00:00
    assert set(df["customer_id"]) == {"a", "b", "c", "zz"}
    assert int(df.loc[df.customer_id == "a", "event_count"].iloc[0]) == 2


def test_summary_hand_rows(small):
    client, _, _ = small
    df = segwork.customer_segments_summary(client, as_of=AS_OF)
    got = {(r.value_segment, r.loyalty_segment): (r.customer_count, round(r.avg_lifetime_value, 3)) for r in df.itertuples()}
    assert got == {("High Value", "Loyal"): (1, 1500.0), ("Medium Value", "New"): (1, 700.0),
                   ("Medium Value", "Regular"): (2, 799.995)}
    assert list(df["avg_lifetime_value"]) == sorted(df["avg_lifetime_value"], reverse=True)
    assert df["customer_count"].sum() == 4  # b counted once


def test_summary_filters_location_and_age(small):
    client, _, _ = small
    paris = segwork.customer_segments_summary(client, "Paris", as_of=AS_OF)
    assert paris["customer_count"].sum() == 2
    aged = segwork.customer_segments_summary(client, None, 26, 45, as_of=AS_OF)
    assert aged["customer_count"].sum() == 2  # a (30), b (41); c unknown age excluded, d 25
    only_max = segwork.customer_segments_summary(client, None, None, 30, as_of=AS_OF)
    assert only_max["customer_count"].sum() == 2  # d (25), a (30); unknown age is not "young"
    assert segwork.customer_segments_summary(client, "Atlantis", as_of=AS_OF).empty


@pytest.mark.parametrize("call, parameter", [
    (lambda c: segwork.customer_engagement_analysis(c, limit=-1), "limit"),
    (lambda c: segwork.customer_engagement_analysis(c, "2024-02-01", "2024-01-01"), "start_date"),
    (lambda c: segwork.customer_engagement_analysis(c, "yesterday-ish"), "start_date"),
    (lambda c: segwork.customer_engagement_analysis(c, event_types=["Bad Type!"]), "event_type"),
    (lambda c: segwork.customer_segments_summary(c, min_age=50, max_age=20), "min_age"),
    (lambda c: segwork.customer_segments_summary(c, min_age="old"), "min_age"),
    (lambda c: segwork.customer_segments_summary(c, location="x" * 10_000), "location"),
    (lambda c: segwork.customer_segment_lookup(c, "x" * 10_000), "customer_id"),
    (lambda c: segwork.customer_segment_lookup(c, ""), "customer_id"),
    (lambda c: segwork.customer_engagement_analysis(c, order_by="DROP TABLE"), "order_by"),
])
def test_bad_parameters_give_clear_errors(client, call, parameter):
    with pytest.raises(ParameterError, match=f"parameter '{parameter}'") as info:
        call(client)
    assert info.value.parameter == parameter


def test_unknown_event_type_is_empty(small):
    client, _, _ = small
    assert segwork.customer_engagement_analysis(client, "2024-01-01", "2024-12-31", ["never_seen"]).empty


@pytest.fixture(scope="module")
def generated():
    customers = synth.customers(3000, seed=3, end="2025-01-01")
    # extra profile versions for 300 customers, later and with other values
    newer = customers.sample(300, random_state=1).copy()
    newer["lifetime_value"] = newer["lifetime_value"] * 3 + 1
    newer["location"] = "Paris"
    newer["timestamp"] = newer["timestamp"] + pd.Timedelta(days=30)
    events = synth.events(60_000, 3000, seed=5, end="2025-01-01", days=365)
    return pd.concat([customers, newer], ignore_index=True), events


def test_generated_data_matches_pandas(client, generated):
    customers, events = generated
    segwork.ingest(client, "customers", customers)
    segwork.ingest(client, "customer_events", events)
    rules = SegmentRules()
    for location, lo, hi in [(None, None, None), ("Paris", 25, 45), ("Tokyo", None, 40), (None, 60, None)]:
        got = segwork.customer_segments_summary(client, location, lo, hi, as_of=AS_OF)
        want = oracle.summary(customers, AS_OF, rules, location, lo, hi)
        assert list(zip(got.value_segment, got.loyalty_segment)) == list(zip(want.value_segment, want.loyalty_segment))
        assert list(got.customer_count) == list(want.customer_count)
        np.testing.assert_allclose(got.avg_lifetime_value, want.avg_lifetime_value, rtol=1e-9)
    start, end = ts("2024-07-01"), ts("2024-12-31 23:59:59")
    for types, location in [(["purchase", "add_to_cart"], None), (None, "Paris"), (["login"], "London")]:
        got = segwork.customer_engagement_analysis(client, start, end, types, 50, location=location, as_of=AS_OF)
        want = oracle.engagement(events, customers, start, end, types, 50, location, as_of=AS_OF)
        assert list(got.customer_id) == list(want.customer_id)
        assert list(got.event_count) == list(want.event_count)
        np.testing.assert_allclose(got.total_value, want.total_value, rtol=1e-9, atol=1e-9)
    profiles = oracle.segmented(customers, AS_OF, rules).set_index("customer_id")
    for cid in ["c0000001", customers.iloc[3100]["customer_id"], "c0002999"]:
        got = segwork.customer_segment_lookup(client, cid, as_of=AS_OF).iloc[0]
        want = profiles.loc[cid]
        assert got["lifetime_value"] == pytest.approx(want["lifetime_value"])
        assert (got["value_segment"], got["loyalty_segment"], got["days_since_signup"]) == (
            want["value_segment"], want["loyalty_segment"], want["days_since_signup"])
