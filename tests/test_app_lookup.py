"""The Customer lookup page on a customer with more events than one page shows (5,000): it says
which of them it shows, pages through the older ones, filters by event type and dates from the
form or the link, and downloads say what they hold."""
from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
import streamlit as st

import segwork
from segwork.workbench import data, filters

from tests.test_app import app_db, charts, fresh_caches, frame, open_page, texts  # noqa: F401 (fixtures)

TYPES = ("page_view", "purchase", "login", "teleport")  # teleport: a type segwork has no colour for


@pytest.fixture
def busy(app_db):
    """busy1 with 12,002 events, one every 50 minutes up to 2026-10-31, and quiet1 with 3."""
    n = 12_002
    times = pd.Timestamp("2026-10-31 12:00", tz="UTC") - pd.to_timedelta(range(n), unit="min") * 50
    events = pd.DataFrame({"event_id": [f"b{i:05d}" for i in range(n)], "customer_id": "busy1",
                           "event_type": [TYPES[i % 4] for i in range(n)], "event_value": [i % 7 * 1.25 for i in range(n)],
                           "timestamp": times})
    quiet = pd.DataFrame({"event_id": ["q1", "q2", "q3"], "customer_id": "quiet1", "event_type": "login",
                          "timestamp": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"], utc=True)})
    profiles = pd.DataFrame({"customer_id": ["busy1", "quiet1"], "name": ["Bea Busy", "Quinn Quiet"],
                             "signup_date": pd.Timestamp("2024-01-01", tz="UTC"), "lifetime_value": 100.0,
                             "timestamp": pd.Timestamp("2024-01-01", tz="UTC")})
    segwork.ingest(app_db, "customers", profiles)
    assert segwork.ingest(app_db, "customer_events", pd.concat([events, quiet])).inserted == n + 3
    return events.sort_values(["timestamp", "event_id"], ascending=[False, True])


def title(at) -> str:
    return json.loads(charts(at)[0])["layout"]["title"]["text"]


def buttons(at) -> dict[str, str]:
    return {b.key: b.label for b in at.get("download_button")}


def test_a_long_timeline_says_what_it_shows_and_pages_through_the_rest(busy):
    at = open_page("lookup", q="busy1")
    assert "Latest 5,000 of 12,002 events, newest first" in title(at)
    assert list(frame(at, "lk_events")["event_id"]) == list(busy["event_id"][:5000])
    assert buttons(at) == {"lk_csv_page": "Download events 1–5,000 of 12,002 (CSV)",
                           "lk_csv": "Download all 12,002 events (CSV)"}
    at.number_input(key="lk_page").set_value(3).run()
    assert "Events 10,001–12,002 of 12,002 (older ones), newest first" in title(at)
    assert list(frame(at, "lk_events")["event_id"]) == list(busy["event_id"][10_000:])
    assert at.query_params["page"] == "3" and at.query_params["q"] == "busy1"
    assert buttons(at)["lk_csv_page"] == "Download events 10,001–12,002 of 12,002 (CSV)"


def test_the_timeline_filters_by_event_type_and_dates_from_the_link_and_the_form(busy):
    at = open_page("lookup", q="busy1", event_type="purchase", **{"from": "2026-06-01", "to": "2026-09-30"})
    chosen = busy[(busy["event_type"] == "purchase") & (busy["timestamp"] >= pd.Timestamp("2026-06-01", tz="UTC"))
                  & (busy["timestamp"] < pd.Timestamp("2026-10-01", tz="UTC"))]
    assert 0 < len(chosen) < 5000
    assert f"All {len(chosen):,} events of type purchase from 2026-06-01 to 2026-09-30, newest first" in title(at)
    assert list(frame(at, "lk_events")["event_id"]) == list(chosen["event_id"])
    assert buttons(at) == {"lk_csv": f"Download all {len(chosen):,} events of type purchase from 2026-06-01 to 2026-09-30 (CSV)"}

    at.multiselect(key="lk_types").set_value(["login", "teleport"])
    at.date_input(key="lk_from").set_value(None)
    at.button(key="FormSubmitter:lk_events_form-Show events").click().run()
    logins = busy[busy["event_type"].isin(["login", "teleport"]) & (busy["timestamp"] < pd.Timestamp("2026-10-01", tz="UTC"))]
    assert f"Latest 5,000 of {len(logins):,} events of type login, teleport to 2026-09-30" in title(at)
    assert list(frame(at, "lk_events")["event_id"]) == list(logins["event_id"][:5000])
    assert at.query_params["event_type"] == ["login", "teleport"] and "from" not in at.query_params


def test_no_match_for_the_filters_says_so(busy):
    at = open_page("lookup", q="busy1", **{"from": "2027-01-01"})
    assert "No events from 2027-01-01." in texts(at) and not at.get("plotly_chart")
    assert "No events of type purchase." in texts(open_page("lookup", q="quiet1", event_type="purchase"))


def test_a_page_past_the_end_shows_the_last_and_the_link_says_so(busy):
    at = open_page("lookup", q="busy1", page="99")
    assert "Events 10,001–12,002 of 12,002" in title(at)
    assert at.number_input(key="lk_page").value == 3 and at.query_params["page"] == "3"
    assert "ignored the link's page='0': 0 is below the minimum 1" in texts(open_page("lookup", q="busy1", page="0"))


def test_the_whole_timeline_downloads_when_the_row_cap_allows(busy, monkeypatch):
    where = {"event_types": [], "start_date": None, "end_date": None}
    exported = pd.read_csv(io.BytesIO(data.timeline_export("busy1", where)()))
    assert list(exported["event_id"]) == list(busy["event_id"]) and set(exported["customer_id"]) == {"busy1"}
    purchases = pd.read_csv(io.BytesIO(data.timeline_export("busy1", {**where, "event_types": ["purchase"]})()))
    assert list(purchases["event_id"]) == list(busy[busy["event_type"] == "purchase"]["event_id"])

    monkeypatch.setenv("SEGWORK_QUERY_MAX_ROWS", "10000")  # fewer than the 12,002 events
    st.cache_resource.clear()  # the pool keeps the settings it was made with
    at = open_page("lookup", q="busy1")
    assert list(buttons(at)) == ["lk_csv_page"]
    assert "All 12,002 events are more than one download may hold (10,000 rows, SEGWORK_QUERY_MAX_ROWS)" in texts(at)


def test_download_file_names_say_what_they_hold():
    assert filters.timeline_file_name("c42", 12002, 1, 5000) == "c42_events_1-5000_of_12002.csv"
    where = {"event_types": ["purchase", "return"], "start_date": date(2026, 1, 1), "end_date": date(2026, 6, 30)}
    assert (filters.timeline_file_name("Ann/../x y", 80, **where)
            == "Ann-..-x-y_events_purchase-return_from_2026-01-01_to_2026-06-30_all_80.csv")
