"""Column mappings: an analyst's own file onto the tables, checked against independent pandas."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import mapping as mappings, retail
from segwork.mapping import suggest
from segwork.mapping import FieldSource, Mapping, MappingError
from segwork.mapping.expressions import ExpressionError, compile_expression

SLICE = 20_000


@pytest.fixture(scope="module")
def retail_slice(tmp_path_factory):
    """The first lines of the real Online Retail file, as the file's own CSV text, and as pandas reads them."""
    lines = retail.read_lines().head(SLICE)
    path = tmp_path_factory.mktemp("retail") / "slice.csv"
    lines.drop(columns="line").to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path, lines


def test_online_retail_builtin_mapping_matches_the_pandas_mapping(client, retail_slice):
    path, lines = retail_slice
    report = segwork.ingest(client, "customer_events", path, mapping="online-retail")
    expected = retail.to_events(lines)
    assert report.rows_read == SLICE
    assert report.inserted == len(expected) and report.quarantined == SLICE - len(expected)
    stored = client.query_df("SELECT * FROM customer_events ORDER BY event_id")
    expected = expected.sort_values("event_id").reset_index(drop=True)
    assert stored["event_id"].tolist() == expected["event_id"].tolist()
    for column in ("customer_id", "event_type", "product_id", "category"):
        assert stored[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    assert np.allclose(stored["event_value"], expected["event_value"], atol=1e-4)
    assert (pd.to_datetime(stored["timestamp"], utc=True) == expected["timestamp"]).all()

    profiles = client.query_df("SELECT * FROM customers FINAL ORDER BY customer_id")  # the latest version each
    oracle = retail.to_customers(retail.to_events(lines), lines.loc[lines["CustomerID"].notna(), "Country"])
    oracle = oracle.sort_values("customer_id").reset_index(drop=True)
    days = lines.loc[lines["CustomerID"].notna()].groupby(["CustomerID", lines["InvoiceDate"].dt.date]).ngroups
    assert report.profiles.inserted == days == client.query("SELECT count() FROM customer_history").result_rows[0][0]
    assert len(profiles) == len(oracle)
    assert profiles["customer_id"].tolist() == oracle["customer_id"].tolist()
    assert profiles["location"].tolist() == oracle["location"].tolist()
    assert np.allclose(profiles["lifetime_value"], oracle["lifetime_value"], atol=0.011)
    assert (pd.to_datetime(profiles["signup_date"], utc=True) == oracle["signup_date"]).all()
    assert (pd.to_datetime(profiles["timestamp"], utc=True) == oracle["timestamp"]).all()


def test_quarantined_mapped_rows_keep_their_source_record_and_line(client, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("Order,Client,Qty,Price,When\nA1,c1,2,1.5,2024-03-01 10:00\nA2,c2,two,1.5,2024-03-02 10:00\n"
                    "A3,,1,1,2024-03-03 10:00\nA4,c4,1,2,yesterday\n", encoding="utf-8")
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "Order"}, "customer_id": {"column": "Client"}, "event_type": {"constant": "purchase"},
        "event_value": {"expression": "Qty * Price"}, "timestamp": {"column": "When", "format": "%Y-%m-%d %H:%M"}}})
    report = segwork.ingest(client, "customer_events", path, mapping=mapping)
    assert (report.rows_read, report.inserted, report.quarantined) == (4, 1, 3)
    rows = client.query("SELECT c__row, c__error, c__raw FROM customer_events_quarantine ORDER BY c__row").result_rows
    assert [r[0] for r in rows] == [3, 4, 5]
    assert rows[0][1] == ["event_value: Qty is not a number (got 'two')"]
    assert json.loads(rows[0][2]) == {"Order": "A2", "Client": "c2", "Qty": "two", "Price": "1.5", "When": "2024-03-02 10:00"}
    assert rows[1][1] == ["customer_id: is required but missing"]
    assert rows[2][1] == ["timestamp: does not match the time format %Y-%m-%d %H:%M (got 'yesterday')"]
    assert client.query("SELECT event_value FROM customer_events").result_rows == [(3.0,)]


def test_times_in_a_format_and_zone_become_utc(client, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,who,at\n1,a,01/07/2024 12:30\n2,b,15/01/2024 12:30\n", encoding="utf-8")
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "id"}, "customer_id": {"column": "who"}, "event_type": {"constant": "visit"},
        "timestamp": {"column": "at", "format": "%d/%m/%Y %H:%M", "timezone": "Europe/London"}}})
    segwork.ingest(client, "customer_events", path, mapping=mapping)
    got = client.query_df("SELECT event_id, timestamp FROM customer_events ORDER BY event_id")
    expected = (pd.to_datetime(pd.Series(["01/07/2024 12:30", "15/01/2024 12:30"]), format="%d/%m/%Y %H:%M")
                .dt.tz_localize("Europe/London").dt.tz_convert("UTC"))
    assert (pd.to_datetime(got["timestamp"], utc=True) == expected).all()  # 11:30 in summer, 12:30 in winter


def test_value_maps_cases_templates_and_line_numbers(client, tmp_path):
    path = tmp_path / "acts.csv"
    path.write_text("user,action,amount,day\nu1,BUY,10,2024-01-01\nu2,view,,2024-01-02\nu1,refund,-4,2024-01-03\n"
                    "u3,other,0,2024-01-04\n", encoding="utf-8")
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"template": "{user}-{_line}"}, "customer_id": {"column": "user"},
        "event_type": {"column": "action", "values": {"BUY": "purchase", "view": "page_view"}},
        "event_value": {"cases": [{"when": "amount < 0", "value": "-1"}, {"when": "amount > 0", "value": "1"}], "otherwise": "0"},
        "timestamp": {"column": "day"}}})
    segwork.ingest(client, "customer_events", path, mapping=mapping)
    got = client.query("SELECT event_id, event_type, event_value FROM customer_events ORDER BY event_id").result_rows
    assert got == [("u1-2", "purchase", 1.0), ("u1-4", "refund", -1.0), ("u2-3", "page_view", 0.0), ("u3-5", "other", 0.0)]


def test_a_mapping_reading_a_missing_column_is_refused_with_the_file_columns(client, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"reads column\(s\) InvoiceNo, CustomerID, .*its columns: a, b"):
        segwork.ingest(client, "customer_events", path, mapping="online-retail")
    with pytest.raises(segwork.SegworkError, match="maps files onto customer_events, not customers"):
        segwork.ingest(client, "customers", path, mapping="online-retail")


def test_derived_profiles_are_a_version_per_customer_and_day(client, tmp_path):
    """A version per customer and UTC day with events, at that day's last event, with the net value
    up to it; a later file adds versions at new times and leaves the stored ones as they are."""
    mine = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "ref"}, "customer_id": {"column": "cust"}, "event_type": {"constant": "purchase"},
        "event_value": {"column": "total"}, "timestamp": {"column": "at"}}, "profiles": {"location": {"column": "country"}}})
    first, later = tmp_path / "first.csv", tmp_path / "later.csv"
    first.write_text("ref,cust,total,at,country\nr1,c1,5,2024-01-01 17:30:00,FR\nr2,c1,7,2024-01-01 09:00:00,FR\n"
                     "r3,c1,-2,2024-01-03 08:00:00,FR\nr4,c2,1,2024-01-02 23:59:59,DE\n", encoding="utf-8")
    later.write_text("ref,cust,total,at,country\nr5,c1,100,2024-01-01 12:00:00,FR\nr6,c1,3,2024-01-05 10:00:00,FR\n",
                     encoding="utf-8")
    history = "SELECT customer_id, signup_date, lifetime_value, timestamp, location FROM customer_history ORDER BY 1, 4"

    def t(day, hour, minute=0, second=0):
        return pd.Timestamp(2024, 1, day, hour, minute, second, tz="UTC")

    assert segwork.ingest(client, "customer_events", first, mapping=mine).profiles.inserted == 3
    got = [(c, pd.Timestamp(s, tz="UTC"), v, pd.Timestamp(ts, tz="UTC"), loc) for c, s, v, ts, loc in
           client.query_df(history).itertuples(index=False)]
    assert got == [("c1", t(1, 9), 12.0, t(1, 17, 30), "FR"), ("c1", t(1, 9), 10.0, t(3, 8), "FR"),
                   ("c2", t(2, 23, 59, 59), 1.0, t(2, 23, 59, 59), "DE")]
    assert segwork.customer_segment_lookup(client, "c1", as_of="2024-01-02")["lifetime_value"].iloc[0] == 12.0

    again = segwork.ingest(client, "customer_events", later, mapping=mine).profiles
    assert (again.inserted, again.duplicates) == (1, 2)  # 2024-01-05 is new; c1's stored versions are not rewritten
    got = client.query_df(history)
    assert got["lifetime_value"].tolist() == [12.0, 10.0, 113.0, 1.0]  # the known limit: 01-01 and 01-03 miss r5's 100
    assert client.query("SELECT lifetime_value FROM customers FINAL WHERE customer_id = 'c1'").result_rows == [(113.0,)]


def test_saved_mappings_round_trip_and_reingest_is_exact(client, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("ref,cust,total,at,country\nr1,c1,5,2024-01-01,FR\nr2,c1,7,2024-01-05,DE\nr3,c2,1,2024-01-02,DE\n"
                    "r4,c1,1,2024-01-06,FR\n", encoding="utf-8")
    mine = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "ref"}, "customer_id": {"column": "cust"}, "event_type": {"constant": "purchase"},
        "event_value": {"column": "total"}, "timestamp": {"column": "at"}}, "profiles": {"location": {"column": "country"}}})
    mappings.save(client, mine, "my-shop")
    assert Mapping.from_json(mine.to_json()) == mine
    assert set(mappings.saved(client)) == {"online-retail", "my-shop"}
    first = segwork.ingest(client, "customer_events", path, mapping="my-shop")
    again = segwork.ingest(client, "customer_events", path, mapping="my-shop")
    assert (first.inserted, again.inserted, again.duplicates) == (4, 0, 4)
    assert (first.profiles.inserted, again.profiles.inserted, again.profiles.duplicates) == (4, 0, 4)  # a version a customer-day
    got = client.query("SELECT customer_id, location, lifetime_value, signup_date FROM customers FINAL ORDER BY 1").result_rows
    assert [(c, loc, v) for c, loc, v, _ in got] == [("c1", "FR", 13.0), ("c2", "DE", 1.0)]
    with pytest.raises(MappingError, match="built-in"):
        mappings.save(client, mine, "online-retail")
    with pytest.raises(MappingError, match="lower-case letters"):
        mappings.save(client, mine, "My Shop!")
    mappings.remove(client, "my-shop")
    assert set(mappings.saved(client)) == {"online-retail"}


@pytest.mark.parametrize("text, message", [
    ("Quantity.to_csv('x')", "this call is not allowed"),
    ("__import__('os')", "this call is not allowed"),
    ("Quantity.__class__", "attribute .__class__"),
    ("Country.str.contains('a')", "regex=False"),
    ("lambda: 1", "lambda is not allowed"),
    ("Quantity if 1 else 2", "ifexp is not allowed"),
    ("Nope + 1", "no column 'Nope'"),
    ("Quantity *", "is not valid"),
    ("(" * 300 + "1" + ")" * 300, "at most 500"),
])
def test_expressions_outside_the_whitelist_are_refused(text, message):
    with pytest.raises(ExpressionError, match=message):
        compile_expression(text, ["Quantity", "Unit Price", "Country"])


def test_expressions_compute_like_pandas():
    frame = pd.DataFrame({"Quantity": [1.0, -2.0, 3.0], "Unit Price": [2.5, 3.0, 0.5], "Country": ["UK", "FR", "UK"]})
    for text, expected in [
        ("Quantity * `Unit Price`", frame["Quantity"] * frame["Unit Price"]),
        ("abs(Quantity) + 1", frame["Quantity"].abs() + 1),
        ("Country == 'UK' and Quantity > 0", (frame["Country"] == "UK") & (frame["Quantity"] > 0)),
        ("Country.str.startswith('F') or Quantity >= 3", frame["Country"].str.startswith("F") | (frame["Quantity"] >= 3)),
    ]:
        expression = compile_expression(text, list(frame.columns))
        values = {c: frame[c] for c in expression.columns}
        assert expression.evaluate(values, len(frame)).tolist() == expected.tolist(), text


def test_field_sources_are_checked():
    with pytest.raises(MappingError, match="no field"):
        Mapping.from_dict({"table": "customer_events", "fields": {"nope": {"column": "a"}}})
    with pytest.raises(MappingError, match="unknown time zone"):
        Mapping.from_dict({"table": "customer_events", "fields": {"timestamp": {"column": "a", "timezone": "Mars/Base"}},
                           }).check(["a"], "f.csv")
    with pytest.raises(MappingError, match="required field"):
        Mapping(table="customer_events", fields={"event_id": FieldSource(column="a")}).check(["a"], "f.csv")


@pytest.mark.parametrize("customer, when", [("CustomerID", "InvoiceDate"), ("Customer ID", "order_date"),
                                            ("cust_id", "Order Date"), ("Kundennr", "Bestelldatum")])
def test_suggestions_find_the_usual_names(customer, when):
    sample = pd.DataFrame({"InvoiceNo": ["536365", "536365"], customer: ["17850.0", "13047.0"],
                           "Quantity": ["6", "2"], "UnitPrice": ["2.55", "3.39"], when: ["2010-12-01 08:26", "2010-12-02 09:00"],
                           "Country": ["United Kingdom", "France"]})
    got = suggest.suggest("customer_events", sample)
    assert got.fields["customer_id"] == FieldSource(expression=f"{suggest._ref(customer)}.str.removesuffix(\".0\")")
    assert got.fields["timestamp"] == FieldSource(column=when)
    assert got.fields["event_value"] == FieldSource(expression="Quantity * UnitPrice")
    assert got.fields["event_id"] == FieldSource(template="{InvoiceNo}-{_line}")  # an invoice has several lines
    assert got.profiles == {"location": FieldSource(column="Country")}
    got.check(list(sample.columns), "sample")  # it compiles against the file


@pytest.mark.parametrize("values, expected", [(["05/01/2024", "06/01/2024"], "%d/%m/%Y"), (["12/31/2024 10:00"], "%m/%d/%Y %H:%M"),
                                              (["31.12.2024 10:00:05"], "%d.%m.%Y %H:%M:%S"), (["2024-01-05"], None)])
def test_day_month_year_formats_are_told_apart(values, expected):
    assert suggest.date_format(pd.Series(values)) == expected
    if expected:
        assert pd.to_datetime(pd.Series(values), format=expected).notna().all()


def test_a_saved_mapping_remembers_how_its_files_are_written(client, tmp_path):
    path = tmp_path / "umsatz.csv"
    path.write_bytes("Nr;Kunde;Betrag;Datum\nA1;k1;1.234,56;05/01/2024\nA2;k2;12,5;31/01/2024\n".encode("cp1252"))
    mine = Mapping.from_dict({"table": "customer_events", "read": {"decimal": ","}, "fields": {
        "event_id": {"column": "Nr"}, "customer_id": {"column": "Kunde"}, "event_type": {"constant": "purchase"},
        "event_value": {"column": "Betrag"}, "timestamp": {"column": "Datum", "format": "%d/%m/%Y"}}})
    mappings.save(client, mine, "umsatz")
    report = segwork.ingest(client, "customer_events", path, mapping="umsatz")  # no dialect given: the mapping's
    assert (report.inserted, report.quarantined) == (2, 0) and "decimal comma" in report.dialect
    expected = pd.read_csv(path, sep=";", decimal=",", thousands=".", encoding="cp1252")
    got = client.query_df("SELECT event_id, event_value, timestamp FROM customer_events ORDER BY event_id")
    assert got["event_value"].tolist() == expected["Betrag"].tolist() == [1234.56, 12.5]
    assert (pd.to_datetime(got["timestamp"]).dt.strftime("%d/%m/%Y") == expected["Datum"]).all()


def test_source_records_keep_line_breaks_and_unicode_in_the_quarantine(client, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text('id,who,note,at\n1,,"two\nlines \u2028 ü",2024-01-01\n2,b,ok,2024-01-02\n', encoding="utf-8")
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "id"}, "customer_id": {"column": "who"}, "event_type": {"constant": "note"},
        "category": {"column": "note"}, "timestamp": {"column": "at"}}})
    report = segwork.ingest(client, "customer_events", path, mapping=mapping)
    assert (report.inserted, report.quarantined) == (1, 1)
    raw, = client.query("SELECT c__raw FROM customer_events_quarantine").result_rows[0]
    assert json.loads(raw) == {"id": "1", "who": None, "note": "two\nlines \u2028 ü", "at": "2024-01-01"}


def test_numbers_of_a_dataframe_read_as_text_for_templates(client):
    frame = pd.DataFrame({"order": [17850.0, 1.5, np.inf], "who": ["a", "b", "c"], "day": ["2024-01-01"] * 3})
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"template": "{order}-{_line}"}, "customer_id": {"column": "who"}, "event_type": {"constant": "x"},
        "timestamp": {"column": "day"}}})
    segwork.ingest(client, "customer_events", frame, mapping=mapping)  # an infinite float crashed int() before
    got = client.query("SELECT event_id FROM customer_events ORDER BY customer_id").result_rows
    assert got == [("17850-1",), ("1.5-2",), ("inf-3",)]


def test_what_a_column_looks_like_follows_the_decimal_mark():
    from segwork.workbench.mapper import looks_like
    money = pd.Series(["1.234,56", "12,5"])
    assert (looks_like(money), looks_like(money, ",")) == ("text", "number")  # not a date/time (it said so before)
    assert looks_like(pd.Series(["05/01/2024", "2010-12-01 08:26:00"])) == "date/time"
    assert looks_like(pd.Series(["6", "17850"])) == "whole number" and looks_like(pd.Series(["", None])) == "empty"
