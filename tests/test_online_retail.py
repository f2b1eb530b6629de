"""The real Online Retail file (UCI, CC BY 4.0) through segwork's ingestion: the facts hold."""
from __future__ import annotations

import pytest

import segwork
from segwork import overview, retail


@pytest.fixture(scope="module")
def frames():
    return retail.load_frames()


def test_file_facts_from_the_readme(frames):
    lines, events, customers = frames
    assert len(lines) == 541_909
    assert len(events) == 406_829
    assert customers["customer_id"].nunique() == len(customers) == 4_372
    assert (events["event_type"] == "return").sum() == 8_905
    assert round(events["event_value"].sum(), 2) == 8_300_065.81


def test_every_line_is_inserted_or_quarantined(client, frames):
    lines, _, customers = frames
    report = segwork.ingest(client, "customer_events", retail.to_events(lines, keep_unknown=True), source_name="online_retail")
    assert report.rows_read == 541_909
    assert report.inserted == 406_829
    assert report.quarantined == 135_080
    assert dict(report.reasons) == {"customer_id: is required but missing": 135_080}
    facts = client.query(
        "SELECT count(), uniqExact(customer_id), countIf(event_type = 'return'), round(sum(event_value), 2) FROM customer_events"
    ).result_rows[0]
    assert facts == (406_829, 4_372, 8_905, 8_300_065.81)
    assert overview.table_counts(client)["customer_events_quarantine"] == 135_080


def test_derived_profiles_segment_like_pandas(client, frames):
    _, events, customers = frames
    assert segwork.ingest(client, "customers", customers).inserted == 4_372
    summary = segwork.customer_segments_summary(client, as_of="2011-12-10")
    assert summary["customer_count"].sum() == 4_372
    high = (customers["lifetime_value"] >= 1000).sum()
    assert summary.loc[summary.value_segment == "High Value", "customer_count"].sum() == high
    uk = segwork.customer_segments_summary(client, "United Kingdom", as_of="2011-12-10")["customer_count"].sum()
    assert uk == (customers["location"] == "United Kingdom").sum()


def test_load_a_slice_into_both_tables(client, tmp_path):
    part = tmp_path / "slice.csv.gz"
    lines = retail.read_lines().head(3000)
    lines.drop(columns="line").to_csv(part, index=False, date_format="%Y-%m-%d %H:%M:%S")
    events_report, customers_report = retail.load(client, part)
    assert events_report.inserted == lines["CustomerID"].notna().sum()
    assert events_report.quarantined == lines["CustomerID"].isna().sum()  # the mapping quarantines lines without a customer
    assert customers_report.inserted == lines["CustomerID"].dropna().nunique()
    assert overview.table_counts(client)["customers"] == customers_report.inserted
