"""Every workbench page under Streamlit's AppTest: forms submitted, a file uploaded, results
checked against the library, errors shown as st.error. Each test has its own database."""
from __future__ import annotations

import io
import json
import tomllib
import uuid

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import segwork
from segwork import mapping as mappings, overview, retail, segments, synth
from segwork.config import PROJECT_DIR
from segwork.segments import SegmentRules

APP = str(PROJECT_DIR / "tests" / "apptest_entry.py")  # runs app.py; see there why
EVENTS_CSV = (
    "event_id,customer_id,event_type,event_value,product_id,category,timestamp\n"
    "u1,c0000001,purchase,10.5,p1,books,2026-10-01 10:00:00\n"
    "u2,c0000002,page_view,,,,2026-10-01 11:00:00\n"
    "u3,c0000003,PURCHASE,5,p2,toys,2026-10-02 09:30:00\n"
    "u4,c0000004,purchase,abc,p3,toys,2026-10-02 09:31:00\n"
    "u5,c0000005,login,,,,not a time\n"
)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Streamlit's caches outlive an AppTest: every test starts without them."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def app_db(client, database, monkeypatch):
    """The app's database for this test (SEGWORK_DATABASE), empty."""
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    return client


@pytest.fixture(scope="module")
def shop_template():
    """300 generated customers and 4,000 events, ingested once per module."""
    name = f"t_shop_{uuid.uuid4().hex[:8]}"
    c = segwork.connect("chdb://memory", database=name)
    segwork.ingest(c, "customers", synth.customers(300, seed=3))
    segwork.ingest(c, "customer_events", synth.events(4000, 300, seed=5))
    yield name
    c.command(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def shop(app_db, shop_template):
    """The app's database for this test with a copy of the template shop (a copy is much faster than an ingest)."""
    for table in ("customers", "customer_events", "ingest_log", "ingest_blocks"):
        app_db.command(f"INSERT INTO `{table}` SELECT * FROM `{shop_template}`.`{table}`")
    return app_db


def page_file(name: str) -> str:
    return f"../pages/{name}.py"  # relative to the entry script in tests/


def open_page(name: str | None = None, /, **params) -> AppTest:
    """Run the app on pages/<name>.py (None = the default page) with a link's query parameters."""
    at = AppTest.from_file(APP, default_timeout=60)
    if name:
        at.switch_page(page_file(name))
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "success") for e in at.get(kind))


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


TABLES = {  # AppTest does not expose a dataframe's key: tell them by a column only they have
    "ov_history": "ingest_id", "up_columns": "preview values that parse", "up_rows": "record", "up_types": "looks like",
    "up_mapped": "problems", "up_saved": "reads columns",
    "up_quarantine": "reasons", "lk_events": "event_id", "en_table": "event_count",
    "sg_summary": "avg_lifetime_value", "sg_customers": "email",
}


def frame(at: AppTest, key: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if TABLES[key] in d.value.columns)


def charts(at: AppTest) -> list[str]:
    return [c.proto.spec for c in at.get("plotly_chart")]


# Overview

def test_overview_says_which_ingest_was_interrupted_and_what_to_do(shop):
    from segwork.ingestion import ingestlog
    from segwork.ingestion import IngestReport

    killed = IngestReport("k" * 32, "customer_events", "events_2026.csv", "csv", rows_read=250_000, inserted=250_000)
    ingestlog.log(shop, killed, "started")
    ingestlog.log(shop, killed, "running")
    at = open_page()
    warning = [w.value for w in at.warning]
    assert any("incomplete: customer_events from events_2026.csv" in w and "at least 250,000 inserted" in w
               and "Ingest the same input again" in w for w in warning), warning
    assert "running" in list(frame(at, "ov_history")["status"])


def test_overview_counts_heatmap_and_engine(shop):
    at = open_page()
    assert [t.value for t in at.title] == ["Overview"]
    assert metric(at, "Customers") == "300" and metric(at, "Events") == "4,000"
    assert metric(at, "Quarantined event rows") == "0"
    assert len(charts(at)) == 1 and "Customers by value and loyalty segment" in charts(at)[0]
    assert "embedded ClickHouse (chDB) in memory" in texts(at)
    assert "generated demo data" not in texts(at)
    history = frame(at, "ov_history")
    assert sorted(history["rows_read"]) == [300, 4000]


def test_overview_on_an_empty_database_offers_the_demo_and_says_it_is_demo(app_db):
    at = open_page()
    assert "No customers yet" in texts(at)
    at.button(key="ov_demo").click().run()
    assert not at.exception
    assert metric(at, "Customers") == f"{segwork.Settings.from_env().demo_customers:,}"
    assert "generated demo data" in texts(at) and "first start" not in texts(at)


def test_overview_live_mode_follows_the_link_and_lands_in_it(shop):
    at = open_page(live="1")
    assert at.toggle(key="ov_live").value is True
    at.toggle(key="ov_live").set_value(False).run()
    assert "live" not in at.query_params
    at.toggle(key="ov_live").set_value(True).run()
    assert at.query_params["live"] == "1"
    # an event arriving by another way shows up at once in live mode (no cache)
    segwork.ingest(shop, "customer_events", pd.DataFrame({
        "event_id": ["late1"], "customer_id": ["c0000001"], "event_type": ["login"],
        "timestamp": [pd.Timestamp.now(tz="UTC").floor("s")]}))
    at.run()
    assert metric(at, "Events") == "4,001" and metric(at, "Events in the last hour") == "1"


# Upload

def upload(at: AppTest, table: str, name: str, payload: bytes) -> AppTest:
    at.radio(key="up_table").set_value(table)
    at.file_uploader(key="up_file").set_value((name, payload, "text/csv"))
    return at.run()


def test_upload_page_states_the_configured_size_limit(app_db):
    limit = tomllib.loads((PROJECT_DIR / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    at = open_page("upload")
    assert f"up to {limit} MB" in texts(at)
    assert "does not duplicate data" in texts(at)


def test_upload_previews_ingests_reports_quarantine_and_does_not_duplicate(shop):
    at = upload(open_page("upload"), "customer_events", "events.csv", EVENTS_CSV.encode())
    columns = frame(at, "up_columns").set_index("column")
    assert columns.loc["event_value", "preview values that parse"] == "4 of 5"
    assert columns.loc["event_id", "stored as"] == "String" and len(frame(at, "up_rows")) == 5
    assert at.selectbox(key="up_start").value.startswith("as is")
    at.button(key="up_ingest").click().run()
    assert not at.exception and not at.error
    assert (metric(at, "Rows read"), metric(at, "Inserted"), metric(at, "Quarantined")) == ("5", "3", "2")
    quarantine = frame(at, "up_quarantine")
    assert list(quarantine["row"]) == [5, 6]
    assert "event_value: is not a number" in quarantine.loc[0, "reasons"] and quarantine.loc[0, "event_value"] == "abc"
    assert "timestamp" in quarantine.loc[1, "columns"]
    assert [b.key for b in at.get("download_button")] == ["up_quarantine_csv"]
    assert overview.table_counts(shop)["customer_events"] == 4003

    at.button(key="up_ingest").click().run()  # the same file again
    assert (metric(at, "Inserted"), metric(at, "Already present (skipped)"), metric(at, "Quarantined")) == ("0", "5", "0")
    info = " ".join(i.value for i in at.info)
    assert "3 rows were already in customer_events from an earlier load" in info and "does not duplicate data" in info
    assert any("2 bad rows of this file are in the quarantine from an earlier load" in w.value for w in at.warning)
    assert not at.success  # not "No row was quarantined": the file still has bad rows
    assert overview.table_counts(shop)["customer_events_quarantine"] == 2
    assert overview.table_counts(shop)["customer_events"] == 4003


def test_upload_of_a_file_without_the_required_fields_says_why_once_and_cannot_be_ingested(app_db):
    at = upload(open_page("upload"), "customers", "people.csv", b"id,who\n1,Ann\n")
    assert not at.exception
    assert len(at.error) == 1
    assert "gives no source for required field(s) customer_id, signup_date, timestamp of customers" in at.error[0].value
    assert at.button(key="up_ingest").disabled
    assert "Ingest is not possible yet" in texts(at)
    assert overview.table_counts(app_db)["customers"] == 0


def test_upload_maps_an_online_retail_export_with_the_builtin_mapping(app_db):
    lines = retail.read_lines().head(400)
    payload = lines.drop(columns="line").to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S").encode()
    at = upload(open_page("upload"), "customer_events", "retail.csv", payload)
    assert at.selectbox(key="up_start").value == "online-retail"
    types = frame(at, "up_types").set_index("column")["looks like"]
    assert (types["Quantity"], types["InvoiceDate"], types["Country"]) == ("whole number", "date/time", "text")
    mapped = frame(at, "up_mapped")
    assert list(mapped["event_type"][:3]) == ["purchase"] * 3 and mapped["customer_id"].iloc[0] == "17850"
    at.button(key="up_ingest").click().run()
    assert not at.exception and not at.error
    expected = retail.to_events(lines)
    assert metric(at, "Inserted") == f"{len(expected):,}"
    assert metric(at, "Quarantined") == f"{lines['CustomerID'].isna().sum():,}"
    assert overview.table_counts(app_db)["customers"] == expected["customer_id"].nunique()


def test_upload_suggests_a_mapping_edited_as_json_and_saved(app_db):
    payload = b"Order Ref;Client;Total;Order Date\nA1;c1;12.5;2024-03-01\nA2;c2;7;2024-03-02\n".replace(b";", b",")
    at = upload(open_page("upload"), "customer_events", "orders.csv", payload)
    assert at.selectbox(key="up_start").value == "suggested from the file's columns"
    rows = frame(at, "up_mapped")
    assert list(rows["customer_id"]) == ["c1", "c2"] and list(rows["event_value"]) == [12.5, 7.0]
    spec = json.loads(at.text_area[0].value)
    spec["fields"]["event_id"] = {"column": "Order Ref"}
    spec["fields"]["event_type"] = {"cases": [{"when": "Total > 10", "value": "big_order"}], "otherwise": "order"}
    at.text_area[0].set_value(json.dumps(spec))
    at.button(key="up_json_apply").click().run()
    assert list(frame(at, "up_mapped")["event_type"]) == ["big_order", "order"]
    at.text_input(key="up_save_name").set_value("my-orders").run()
    at.button(key="up_save").click().run()
    assert not at.error and "my-orders" in mappings.saved(app_db)
    assert set(frame(at, "up_saved")["name"]) == {"online-retail", "my-orders"}
    at.button(key="up_ingest").click().run()
    assert client_rows(app_db, "SELECT event_id, event_type FROM customer_events ORDER BY 1") == [("A1", "big_order"), ("A2", "order")]
    at.selectbox(key="up_remove_name").set_value("my-orders")
    at.button(key="up_remove").click().run()
    assert set(mappings.saved(app_db)) == {"online-retail"}


def client_rows(client, sql):
    return client.query(sql).result_rows


def test_upload_of_an_unreadable_file_is_an_error_not_a_traceback(app_db):
    at = upload(open_page("upload"), "customer_events", "events.parquet", b"PAR1 this is not parquet")
    assert not at.exception
    assert len(at.error) == 1 and "events.parquet" in at.error[0].value


# Customer lookup

def test_lookup_by_id_shows_profile_segments_and_timeline(shop):
    busiest = segwork.customer_engagement_analysis(shop, "2020-01-01", "2026-11-30", limit=1)["customer_id"].iloc[0]
    at = open_page("lookup", q=busiest)
    expected = segwork.customer_segment_lookup(shop, busiest).iloc[0]
    assert metric(at, "Value segment") == expected["value_segment"]
    assert metric(at, "Loyalty segment") == expected["loyalty_segment"]
    assert metric(at, "Days since signup") == f"{expected['days_since_signup']:,}"
    profile = next(d.value for d in at.dataframe if "field" in d.value.columns).set_index("field")["value"]
    assert profile["email"] == expected["email"] and profile["signup_date"].endswith(" UTC")
    events = frame(at, "lk_events")
    assert list(events["event_id"]) == list(segwork.customer_timeline(shop, busiest)["event_id"])
    assert len(charts(at)) == 1 and [b.key for b in at.get("download_button")] == ["lk_csv"]


def test_lookup_of_a_customer_without_events(shop):
    segwork.ingest(shop, "customers", pd.DataFrame({
        "customer_id": ["quiet1"], "name": ["Quinn Quiet"], "signup_date": [pd.Timestamp("2026-11-20", tz="UTC")],
        "lifetime_value": [1200.0], "timestamp": [pd.Timestamp("2026-11-20", tz="UTC")]}))
    at = open_page("lookup", q="quiet1")
    assert (metric(at, "Value segment"), metric(at, "Loyalty segment")) == ("High Value", "New")
    assert "No events for this customer yet." in texts(at) and not at.get("plotly_chart")


def test_lookup_by_name_prefix_lets_you_choose(shop):
    at = open_page("lookup")
    at.text_input(key="lk_q").input("ana")
    at.button[0].click().run()  # the form's submit button
    choices = at.selectbox(key="lk_pick").options
    expected = segwork.find_customers(shop, "ana", limit=50)
    assert len(choices) == len(expected) > 1
    second = expected["customer_id"].iloc[1]
    at.selectbox(key="lk_pick").set_value(second).run()
    assert at.query_params["id"] == second and at.query_params["q"] == "ana"
    assert second in at.subheader[0].value


def test_lookup_without_a_match_says_so(shop):
    at = open_page("lookup", q="nobody-like-this")
    assert "No customer id, email or name starts with 'nobody-like-this'" in texts(at)
    assert not at.get("plotly_chart")


# Engagement

def test_engagement_defaults_to_the_last_30_days_with_data(shop):
    at = open_page("engagement")
    start, end = at.query_params["start"], at.query_params["end"]
    expected = segwork.customer_engagement_analysis(shop, start, end, limit=100)
    assert list(frame(at, "en_table")["customer_id"]) == ["lookup?q=" + c for c in expected["customer_id"]]
    assert len(charts(at)) == 2 and [b.key for b in at.get("download_button")] == ["en_csv"]


def test_engagement_form_filters_and_mirrors_them_in_the_link(shop):
    at = open_page("engagement")
    at.date_input(key="en_start").set_value(pd.Timestamp("2025-11-01").date())
    at.date_input(key="en_end").set_value(pd.Timestamp("2026-10-31").date())
    at.multiselect(key="en_types").set_value(["purchase"])
    at.number_input(key="en_limit").set_value(5)
    at.selectbox(key="en_location").set_value("London")
    at.button[0].click().run()
    assert not at.error
    expected = segwork.customer_engagement_analysis(shop, "2025-11-01", "2026-10-31", ["purchase"], 5, location="London")
    result = frame(at, "en_table")
    assert list(result["customer_id"]) == ["lookup?q=" + c for c in expected["customer_id"]] and 0 < len(result) <= 5
    assert at.query_params["event_type"] == "purchase"
    assert (at.query_params["start"], at.query_params["location"], at.query_params["limit"]) == ("2025-11-01", "London", "5")

    link = open_page("engagement", **at.query_params)
    assert list(frame(link, "en_table")["customer_id"]) == ["lookup?q=" + c for c in expected["customer_id"]]


def test_engagement_with_start_after_end_shows_the_parameter_error(shop):
    at = open_page("engagement", start="2026-06-30", end="2026-01-01")
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("parameter 'start_date'")


def test_engagement_link_with_an_unknown_event_type_is_ignored_with_a_warning(shop):
    at = open_page("engagement", event_type="teleport")
    assert "ignored the link's event_type" in texts(at)
    assert at.multiselect(key="en_types").value == []


# Segments

def test_segments_summary_charts_and_link(shop):
    at = open_page("segments", location="Paris", age="30-50")
    expected = segwork.customer_segments_summary(shop, location="Paris", min_age=30, max_age=50)
    summary = frame(at, "sg_summary")
    assert list(summary["customer_count"]) == list(segments.in_segment_order(expected)["customer_count"])
    labels = list(segments.segment_labels(summary))
    assert labels == [s for s in segments.SEGMENTS if s in labels]  # the fixed order, not by a measure
    assert len(charts(at)) == 2 and "Customers per segment" in charts(at)[0]
    assert "location Paris; age 30–50 (known ages only)" in texts(at)


def test_segments_choosing_a_segment_pages_its_customers(shop):
    at = open_page("segments")
    at.selectbox(key="sg_segment").set_value("Low Value · Loyal").run()
    everyone = segwork.segment_customers(shop, "Low Value", "Loyal", limit=1000)
    total = len(everyone)
    assert total > 50
    assert f"**Low Value · Loyal**: {total:,} customers" in texts(at)
    assert list(frame(at, "sg_customers")["customer_id"]) == ["lookup?q=" + c for c in everyone["customer_id"][:50]]
    at.number_input(key="sg_page").set_value(2).run()
    assert list(frame(at, "sg_customers")["customer_id"]) == ["lookup?q=" + c for c in everyone["customer_id"][50:100]]
    assert at.query_params["page"] == "2" and at.query_params["segment"] == "Low Value · Loyal"
    assert at.get("download_button")[0].label == f"Download all {total:,} customers of this segment (CSV)"


def test_segments_stale_page_in_a_link_shows_the_last_page(shop):
    at = open_page("segments", segment="High Value · Loyal", page="999")
    total = len(segwork.segment_customers(shop, "High Value", "Loyal", limit=1000))
    assert at.number_input(key="sg_page").value == -(-total // 50)
    assert len(frame(at, "sg_customers")) == total - 50 * (-(-total // 50) - 1)


# Segment rules

def test_invalid_rules_are_refused_with_the_reason(shop):
    at = open_page("rules")
    at.number_input(key="rl_high_value").set_value(100.0)
    at.button[0].click().run()
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Rules not changed: segment rules overlap: high_value (100)")
    assert "rules" not in at.query_params
    assert "High Value: lifetime value >= 1,000.00" in texts(at)


def test_rules_in_force_on_every_page_and_in_the_link(shop):
    at = open_page("rules")
    at.number_input(key="rl_high_value").set_value(300.0)
    at.number_input(key="rl_medium_value").set_value(100.0)
    at.button[0].click().run()  # preview: nothing applied yet
    assert "rules" not in at.query_params
    at.button(key="rl_apply").click().run()
    assert not at.error and at.query_params["rules"] == "300,100,365,180"
    assert "Segment rules in force (changed for this session)" in texts(at)
    at.switch_page(page_file("segments")).run()
    expected = segwork.customer_segments_summary(shop, rules=SegmentRules(300, 100, 365, 180))
    summary = frame(at, "sg_summary")
    assert list(summary["customer_count"]) == list(segments.in_segment_order(expected)["customer_count"])
    assert at.query_params["rules"] == "300,100,365,180"
    at.switch_page(page_file("rules")).run()
    at.button(key="rl_reset").click().run()
    assert "rules" not in at.query_params


def test_a_link_with_broken_rules_warns_and_keeps_the_defaults(shop):
    at = open_page("segments", rules="1,2,3")
    assert "ignored the link's rules='1,2,3'" in " ".join(w.value for w in at.warning)
    expected = segments.in_segment_order(segwork.customer_segments_summary(shop))
    assert list(frame(at, "sg_summary")["customer_count"]) == list(expected["customer_count"])


@pytest.mark.parametrize("name", ["overview", "upload", "lookup", "engagement", "segments", "rules"])
def test_every_page_works_on_an_empty_database(app_db, name):
    at = open_page(name, q="c1") if name == "lookup" else open_page(name)
    assert not at.error, [e.value for e in at.error]
    assert "Segment rules in force:" in texts(at)  # app.py's sidebar ran around the page


def test_upload_of_a_semicolon_windows_1252_file_with_decimal_commas(app_db):
    text = ("customer_id;name;location;signup_date;lifetime_value;timestamp\n"
            "k1;Zoë Müller;Köln;2024-01-05;1.234,56;2024-06-01 10:00:00\n"
            "k2;Jörg Ærø;Århus;2024-02-05;12,5;2024-06-01 10:00:00\n"
            "k3;Café € Ltd;Nîmes;2024-03-05;0,99;2024-06-01 10:00:00\n")
    payload = text.encode("cp1252")
    at = upload(open_page("upload"), "customers", "kunden.csv", payload)
    assert "delimiter semicolon (detected)" in texts(at) and "Windows-1252 (detected)" in texts(at)
    at.selectbox(key="up_decimal").set_value(", (1234,5)").run()
    assert "decimal comma" in texts(at) and not at.error
    at.button(key="up_ingest").click().run()
    assert not at.exception and not at.error and metric(at, "Inserted") == "3"
    expected = pd.read_csv(io.BytesIO(payload), sep=";", decimal=",", thousands=".", encoding="cp1252")
    got = app_db.query_df("SELECT customer_id, name, location, lifetime_value FROM customers FINAL ORDER BY customer_id")
    assert got["name"].tolist() == expected["name"].tolist() and got["location"].tolist() == expected["location"].tolist()
    assert got["lifetime_value"].tolist() == expected["lifetime_value"].tolist() == [1234.56, 12.5, 0.99]


def test_upload_of_an_excel_workbook_from_a_chosen_sheet(app_db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing to load here"])
    sheet = book.create_sheet("Orders")
    sheet.append(["Order", "Client", "Amount", "Date"])
    sheet.append(["o1", 17850, 10.5, pd.Timestamp("2024-05-01 09:30").to_pydatetime()])
    sheet.append(["o2", 13047, 3, pd.Timestamp("2024-05-02 11:00").to_pydatetime()])
    path = tmp_path / "shop.xlsx"
    book.save(path)
    at = open_page("upload")
    at.file_uploader(key="up_file").set_value(("shop.xlsx", path.read_bytes(), "application/octet-stream"))
    at.run()
    assert at.selectbox(key="up_sheet").options == ["find out", "Notes", "Orders"]
    at.selectbox(key="up_sheet").set_value("Orders").run()
    assert "sheet 'Orders'" in texts(at)
    assert list(frame(at, "up_mapped")["customer_id"]) == ["17850", "13047"]
    at.button(key="up_ingest").click().run()
    assert not at.exception and not at.error
    expected = pd.read_excel(path, sheet_name="Orders", engine="openpyxl")
    got = app_db.query_df("SELECT event_id, customer_id, event_value, timestamp FROM customer_events ORDER BY event_id")
    assert got["event_id"].tolist() == expected["Order"].tolist()
    assert got["customer_id"].tolist() == expected["Client"].astype(str).tolist()
    assert got["event_value"].tolist() == expected["Amount"].astype(float).tolist()
    assert (pd.to_datetime(got["timestamp"]).dt.tz_localize(None) == expected["Date"]).all()
