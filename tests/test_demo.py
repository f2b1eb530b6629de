"""The generated demo: a shop whose lifetime values follow its purchases, events that reach the
moment it is loaded, and the live trickle (only into the demo, exact counts), each checked
against a pandas computation on the generated rows."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import demo, origins, overview, synth, through_time
from segwork.ingestion import IngestReport, ingestlog
from segwork.segments import DEFAULT_RULES

END = "2026-11-01 12:00:00"
T0 = pd.Timestamp("2026-12-01 10:00:00", tz="UTC")


@pytest.fixture(scope="module")
def shop():
    return synth.shop(4000, 80_000, seed=7, end=END)


def spend(events: pd.DataFrame) -> pd.Series:
    """Purchases less returns per customer (pandas, independently of synth)."""
    return events[events["event_type"].isin(["purchase", "return"])].groupby("customer_id")["event_value"].sum()


def test_shop_events_fall_between_signup_and_end(shop):
    people, events = shop
    joined = events.merge(people[["customer_id", "signup_date"]], on="customer_id", how="left")
    assert joined["signup_date"].notna().all()
    assert (joined["timestamp"] >= joined["signup_date"]).all()
    assert (events["timestamp"] <= pd.Timestamp(END, tz="UTC")).all()
    assert events["event_id"].is_unique and len(events) == 80_000


def test_profile_history_leads_up_to_each_profile_from_signup_following_the_purchases(shop):
    people, events = shop
    earlier = synth.profile_history(people, events, end=END)
    final = people.set_index("customer_id")
    first = earlier.groupby("customer_id").head(1).set_index("customer_id")
    assert len(first) == len(people) and (first["timestamp"] == final.loc[first.index, "signup_date"]).all()
    assert (first["lifetime_value"] == 0).all()  # nothing spent at signup
    assert (earlier["timestamp"] < pd.Timestamp(END, tz="UTC")).all() and not earlier.duplicated(["customer_id", "timestamp"]).any()
    assert (earlier.drop(columns=["lifetime_value", "timestamp"]).set_index("customer_id")
            == final.drop(columns=["lifetime_value", "timestamp"]).loc[earlier["customer_id"]]).all().all()
    last = earlier.groupby("customer_id").tail(1).set_index("customer_id")["lifetime_value"]
    assert np.allclose(last, final.loc[last.index, "lifetime_value"], atol=0.011)  # no jump to the latest version
    # after each day's last purchase or return: what was spent before the window (accrued) plus net spend so far
    window = pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=730)
    young = final.index[final["signup_date"] >= window]
    buys = events[events["event_type"].isin(["purchase", "return"]) & events["customer_id"].isin(young)]
    buys = buys.sort_values("timestamp", kind="stable")
    so_far = buys.groupby("customer_id")["event_value"].cumsum().clip(lower=0).round(2)
    at = buys.assign(so_far=so_far).groupby(["customer_id", buys["timestamp"].dt.floor("D")]).tail(1)
    versions = earlier.set_index(["customer_id", "timestamp"])["lifetime_value"]
    got = versions.reindex(pd.MultiIndex.from_frame(at[["customer_id", "timestamp"]])).to_numpy()
    assert len(at) > 500 and np.allclose(got, at["so_far"], atol=0.011)
    old = earlier[earlier["customer_id"].isin(final.index[final["signup_date"] < window])]
    assert (old.groupby("customer_id")["timestamp"].apply(lambda t: (t == window).any())).all()  # the window's start
    assert (old["timestamp"].dt.strftime("%m-%d %H:%M:%S") == "12-31 23:59:59").sum() > 500  # year ends


def test_shop_lifetime_value_is_the_customers_spend_plus_history_before_the_window(shop):
    people, events = shop
    spent = spend(events).reindex(people["customer_id"], fill_value=0.0).to_numpy()
    ltv = people["lifetime_value"].to_numpy()
    window = pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=730)
    inside = (people["signup_date"] >= window).to_numpy()  # no history before the window
    assert inside.sum() > 1000 and (~inside).sum() > 1000
    assert np.allclose(ltv[inside], np.maximum(spent[inside], 0).round(2), atol=0.011)
    assert (ltv >= np.maximum(spent, 0) - 0.011).all()  # history only adds
    assert (ltv[~inside] > np.maximum(spent[~inside], 0) + 0.011).mean() > 0.5  # and mostly does


def test_top_engagers_are_high_value_and_value_follows_activity(shop):
    people, events = shop
    activity = events.groupby("customer_id").size().reindex(people["customer_id"], fill_value=0)
    ltv = people.set_index("customer_id")["lifetime_value"]
    rank_corr = activity.rank().corr(ltv.rank())
    assert rank_corr > 0.6, rank_corr
    top = activity.nlargest(40).index
    segments = ltv[top].map(DEFAULT_RULES.value_segment)
    assert (segments == "High Value").mean() >= 0.9, segments.value_counts()


def test_top_engagers_in_the_engine_are_not_low_value(client):
    people, events = synth.shop(2000, 40_000, seed=7, end=END)
    segwork.ingest(client, "customers", people)
    segwork.ingest(client, "customer_events", events)
    top = segwork.customer_engagement_analysis(client, "2024-11-01", "2026-11-01", limit=20, as_of=END)
    expected = events.groupby("customer_id").size().nlargest(20)
    assert sorted(top["event_count"], reverse=True) == list(expected)
    shown = top[["customer_id", "event_count", "value_segment"]]
    assert "Low Value" not in set(top["value_segment"]) and (top["value_segment"] == "High Value").sum() >= 15, shown


def test_demo_events_reach_the_moment_of_loading(client):
    before = pd.Timestamp.now(tz="UTC").floor("s")
    reports = demo.load(client, customers=500, events=5000, history=True)
    assert [r.inserted for r in reports[:2]] == [500, 5000]
    assert reports[2].table == "customers" and reports[2].inserted > 500  # the earlier versions
    assert overview.table_counts(client)["customers"] == 500
    sizes = through_time.segment_sizes(client, before.date() - pd.Timedelta(days=365), before.date())
    assert sizes.groupby("day")["customers"].sum().iloc[0] > 250  # customers existed a year before loading
    fresh = overview.freshness(client)
    assert before - pd.Timedelta(days=1) <= fresh["latest_event"] <= pd.Timestamp.now(tz="UTC")
    week = segwork.customer_engagement_analysis(client, (before - pd.Timedelta(days=7)).date(), before.date(), limit=1000)
    assert week["event_count"].sum() > 0
    assert all("up to " in r.source and f"{before:%Y-%m-%d}" in r.source for r in reports)


def test_an_interrupted_demo_load_is_completed_up_to_the_same_moment(client, settings):
    settings = replace(settings, demo_customers=300, demo_events=3000)
    end = "2026-11-20 08:00:00"
    people, acts = synth.shop(settings.demo_customers, settings.demo_events, end=end)
    segwork.ingest(client, "customers", people, source_name=f"{demo.DEMO_SOURCE} (customers, up to {end} UTC)")
    killed = IngestReport("k" * 32, "customer_events", f"{demo.DEMO_SOURCE} (customer_events, up to {end} UTC)", "dataframe")
    ingestlog.log(client, killed, "started")
    customers, events, earlier = demo.ensure_demo(client, settings)
    assert (customers.inserted, customers.duplicates) == (0, settings.demo_customers)  # the same profiles
    assert events.inserted == settings.demo_events
    assert earlier.inserted == len(synth.profile_history(people, acts, end=end)) > 0
    assert overview.freshness(client)["latest_event"] <= pd.Timestamp(end, tz="UTC")


def test_trickle_adds_the_seconds_events_once_and_buyers_profiles_follow(client):
    demo.load(client, customers=300, events=3000, end=T0 - pd.Timedelta(minutes=1))
    now = T0 + pd.Timedelta(seconds=30)
    reports = demo.trickle(client, now=now, seconds=30)
    expected = synth.live_events(int(now.timestamp()) - 29, int(now.timestamp()) + 1, 300, seed=7 + synth.EVENT_SEED_OFFSET,
                                 per_second=demo.LIVE_PER_SECOND)
    assert len(expected) > 5
    assert reports[0].inserted == len(expected) and reports[0].source == demo.LIVE_SOURCE
    assert overview.table_counts(client)["customer_events"] == 3000 + len(expected)
    # the same moment again, or an earlier one: nothing new
    assert demo.trickle(client, now=now) == [] and demo.trickle(client, now=now - pd.Timedelta(seconds=5)) == []
    # buyers' lifetime values grew by what they spent (pandas on the generated rows)
    spent = spend(expected)
    if len(spent):
        assert reports[1].table == "customers" and reports[1].inserted == len(spent)
        ids = list(spent.index)
        ltv = {i: segwork.customer_segment_lookup(client, i)["lifetime_value"].iloc[0] for i in ids}
        history = client.query("SELECT customer_id, lifetime_value FROM customers WHERE customer_id IN {ids:Array(String)} "
                               "ORDER BY timestamp", parameters={"ids": ids}).result_rows
        first = {}
        for cid, value in history:
            first.setdefault(cid, value)
        for i in ids:
            assert ltv[i] == pytest.approx(max(round(first[i] + spent[i], 2), 0), abs=0.011)
    # later: only the new seconds
    later = now + pd.Timedelta(seconds=8)
    latest = overview.freshness(client, as_of=later)["latest_event"]
    more = synth.live_events(int(latest.timestamp()) + 1, int(later.timestamp()) + 1, 300, seed=7 + synth.EVENT_SEED_OFFSET,
                             per_second=demo.LIVE_PER_SECOND)
    reports = demo.trickle(client, now=later, seconds=30)
    assert sum(r.inserted for r in reports if r.table == "customer_events") == len(more)
    assert overview.table_counts(client)["customer_events"] == 3000 + len(expected) + len(more)


@pytest.mark.parametrize("other", ["own", "sample", "none"])
def test_trickle_never_writes_into_other_data(client, other):
    now = T0 + pd.Timedelta(seconds=30)
    if other != "none":
        demo.load(client, customers=50, events=500, end=T0)
        name = "mine.csv" if other == "own" else "online_retail_2010-12-01_2011-12-09.csv.gz"
        segwork.ingest(client, "customers", pd.DataFrame({"customer_id": ["x1"], "signup_date": [T0], "timestamp": [T0]}),
                       source_name=name)
        assert origins.contents(client).kinds == {"demo", other}
    before = overview.table_counts(client)
    assert demo.trickle(client, now=now, seconds=30) == []
    assert overview.table_counts(client) == before


def test_live_events_are_the_same_for_the_same_seconds():
    a = synth.live_events(1_800_000_000, 1_800_000_060, 1000)
    b = synth.live_events(1_800_000_030, 1_800_000_090, 1000)
    assert a["event_id"].is_unique and len(a) > 20
    overlap = a[a["timestamp"] >= pd.Timestamp(1_800_000_030, unit="s", tz="UTC")].reset_index(drop=True)
    pd.testing.assert_frame_equal(overlap, b.iloc[:len(overlap)].reset_index(drop=True))
    assert synth.live_events(5, 5, 10).empty and list(synth.live_events(5, 5, 10).columns) == list(a.columns)
