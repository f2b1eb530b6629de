"""The real Online Retail file (UCI, CC BY 4.0) through segwork's ingestion: the facts hold, and
its derived profile history gives the segments through time pandas computes from the raw file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import overview, retail, through_time

OUTSIDE = "Not a customer"


@pytest.fixture(scope="module")
def frames():
    return retail.load_frames()


@pytest.fixture(scope="module")
def loaded():
    """The whole file loaded once, as the workbench loads it (the built-in mapping, derived profiles)."""
    name = "t_online_retail_history"
    client = segwork.connect("chdb://memory", database=name)
    reports = retail.load(client)
    yield client, reports
    client.command(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="module")
def invoices() -> pd.DataFrame:
    """The raw file's lines with a CustomerID, read by pandas alone: customer, time (UTC), net value."""
    raw = pd.read_csv(retail.RETAIL_CSV, usecols=["Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
                      dtype={"CustomerID": str}, parse_dates=["InvoiceDate"]).dropna(subset=["CustomerID"])
    return pd.DataFrame({"customer": raw["CustomerID"].str.removesuffix(".0"), "time": raw["InvoiceDate"].dt.tz_localize("UTC"),
                         "value": raw["Quantity"] * raw["UnitPrice"]})


def places_at(invoices: pd.DataFrame, day: str) -> pd.DataFrame:
    """Each customer's segment at the end of `day` (UTC) from their invoices up to then: signup =
    first invoice, lifetime value = net value so far; High >= 1000, Medium >= 500; Loyal > 365
    calendar days since signup, Regular > 180."""
    end = pd.Timestamp(day, tz="UTC")
    seen = invoices[invoices["time"] < end + pd.Timedelta(days=1)].groupby("customer").agg(
        signup=("time", "min"), value=("value", "sum"))
    value = seen["value"].round(2)
    days = (end - seen["signup"].dt.normalize()).dt.days
    out = pd.DataFrame({"value": value,
                        "value_segment": np.select([value >= 1000, value >= 500], ["High Value", "Medium Value"], "Low Value"),
                        "loyalty_segment": np.select([days > 365, days > 180], ["Loyal", "Regular"], "New")}, index=seen.index)
    out["place"] = out["value_segment"] + " · " + out["loyalty_segment"]
    return out


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
    known = lines.dropna(subset=["CustomerID"])
    assert customers_report.inserted == known.groupby(["CustomerID", known["InvoiceDate"].dt.date]).ngroups
    assert overview.table_counts(client)["customers"] == known["CustomerID"].nunique()
    events_again, customers_again = retail.load(client, part)  # the same file again: everything already present
    assert (events_again.inserted, events_again.duplicates) == (0, len(lines))
    assert (customers_again.inserted, customers_again.duplicates) == (0, customers_report.inserted)


def test_the_load_derives_a_profile_version_per_customer_and_day(loaded, invoices):
    client, (events, profiles) = loaded
    assert (events.rows_read, events.inserted, events.quarantined) == (541_909, 406_829, 135_080)
    assert profiles.inserted == invoices.groupby(["customer", invoices["time"].dt.date]).ngroups
    assert overview.table_counts(client)["customers"] == 4_372  # a customer counts once, at their latest version
    latest = client.query_df("SELECT customer_id, lifetime_value FROM customers FINAL ORDER BY customer_id")
    spent = invoices.groupby("customer")["value"].sum().round(2)
    assert np.allclose(latest["lifetime_value"], spent.loc[latest["customer_id"]], atol=0.011)


def test_monthly_segment_sizes_match_pandas_on_the_raw_file(loaded, invoices):
    client, _ = loaded
    sizes = through_time.segment_sizes(client, "2010-12-01", "2011-12-09", every="month")
    got = sizes.pivot(index="day", columns="segment", values="customers")
    days = [*pd.date_range("2010-12-31", "2011-11-30", freq="ME").strftime("%Y-%m-%d"), "2011-12-09"]
    assert [d.isoformat() for d in got.index] == days
    for day in days:
        expected = places_at(invoices, day)["place"].value_counts()
        counted = got.loc[pd.Timestamp(day).date()]
        assert counted[counted > 0].sort_index().to_dict() == expected.sort_index().to_dict(), day
    assert got.iloc[-1].sum() == 4_372 and got.loc[pd.Timestamp("2011-11-30").date(), "High Value · Loyal"] == 0


@pytest.mark.parametrize("date_a, date_b", [("2010-12-31", "2011-01-31"), ("2011-11-30", "2011-12-09")])
def test_transitions_and_why_match_pandas_on_the_raw_file(loaded, invoices, date_a, date_b):
    client, _ = loaded
    a, b = places_at(invoices, date_a), places_at(invoices, date_b)
    both = b.add_suffix("_b").join(a.add_suffix("_a"), how="left")
    both["place_a"] = both["place_a"].fillna(OUTSIDE)

    def why(r) -> str:
        if r.place_a == OUTSIDE:
            return "new customer"
        reasons = []
        if r.value_segment_a != r.value_segment_b:
            if r.value_b > r.value_a:
                reasons.append(f"lifetime value rose past {'1,000' if r.value_segment_b == 'High Value' else '500'}")
            else:
                reasons.append(f"lifetime value fell below {'1,000' if r.value_segment_b == 'Medium Value' else '500'}")
        if r.loyalty_segment_a != r.loyalty_segment_b:
            reasons.append(f"signup aged past {365 if r.loyalty_segment_b == 'Loyal' else 180} days")
        return "; ".join(reasons) or "no change"

    both["why"] = [why(r) for r in both.itertuples()]
    expected = both.groupby(["place_a", "place_b", "why"]).size()
    flows = through_time.transitions(client, date_a, date_b)
    assert flows.set_index(["from_state", "to_state", "why"])["customers"].sort_index().to_dict() == expected.sort_index().to_dict()
    matrix = through_time.transition_matrix(flows)
    crossed = pd.crosstab(both["place_a"], both["place_b"])
    assert matrix.sum().sum() == len(b) and matrix.loc[:, OUTSIDE].sum() == 0  # nobody leaves: no deletions
    for (frm, to), n in crossed.stack().items():
        assert matrix.loc[frm, to] == n, (frm, to)


def test_who_entered_and_left_high_value_matches_pandas(loaded, invoices):
    client, _ = loaded
    a, b = places_at(invoices, "2010-12-31"), places_at(invoices, "2011-01-31")
    high_a = set(a.index[a["value_segment"] == "High Value"])
    high_b = set(b.index[b["value_segment"] == "High Value"])
    changes = through_time.segment_changes(client, "High Value", "2010-12-31", "2011-01-31")
    assert set(changes.loc[changes["change_kind"] == "entered", "customer_id"]) == high_b - high_a
    assert set(changes.loc[changes["change_kind"] == "exited", "customer_id"]) == high_a - high_b
    assert len(high_b - high_a) > 50 and high_a - high_b  # a month of real spending moves people both ways
