"""CSV written for people: a text cell a spreadsheet would run as a formula is neutralised
(OWASP's rule), in the pipes' .csv, the workbench's downloads and `query --format csv`;
numbers and the other formats keep the stored values."""
from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
import streamlit as st

import segwork
from segwork import cli
from segwork.segments import SegmentRules
from segwork.workbench import data

from tests.apikit import running_api

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
AS_OF = "2025-06-01 00:00:00"


def _profile(customer_id: str, name: str, location: str, value: float) -> dict:
    return {"customer_id": customer_id, "name": name, "email": "a@example.com", "age": 30, "gender": "female",
            "location": location, "signup_date": "2021-01-01 00:00:00", "lifetime_value": value, "timestamp": "2025-01-01 00:00:00"}


@pytest.fixture
def hostile(client):
    """Profiles and events holding formula-like text, and a negative amount, stored through segwork.ingest."""
    profiles = [_profile("@cmd", FORMULAS[0], "-London", -5.5)]
    profiles += [_profile(f"f{i}", text, text, 10.0 + i) for i, text in enumerate(FORMULAS)]
    profiles.append(_profile("plain", "Ann", "Paris", 7.25))
    events = [{"event_id": "e1", "customer_id": "@cmd", "event_type": "purchase", "event_value": -5.5,
               "product_id": '=HYPERLINK("http://x","y")', "category": "+1+1", "timestamp": "2025-03-02 10:00:00"},
              {"event_id": "e2", "customer_id": "plain", "event_type": "purchase", "event_value": 3.0,
               "product_id": "p1", "category": "toys", "timestamp": "2025-03-03 10:00:00"}]
    for table, rows in (("customers", profiles), ("customer_events", events)):
        report = segwork.ingest(client, table, pd.DataFrame(rows))
        assert report.quarantined == 0 and report.inserted == len(rows)
    return client


def _cells(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _no_formula_cells(rows: list[dict]) -> None:
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
            if cell.startswith("-"):  # only numbers may start with a minus
                float(cell)


# --- the rule --------------------------------------------------------------------------

@pytest.mark.parametrize("text,shown", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tTab", "'\tTab"), ("\rCR", "'\rCR"),
    ("", ""), ("Ann", "Ann"), ("a=b", "a=b"), (" =x", " =x"), ("'=x", "'=x"), ("12", "12"),
])
def test_the_rule(text, shown):
    from segwork import exports

    assert exports.neutralised(text) == shown


def test_engine_csv_and_frame_csv_agree_on_every_leading_character(client):
    """The engine's CSV is neutralised on bytes, frames cell by cell: the same cells either way."""
    from segwork import exports

    texts = [chr(c) + "x" for c in range(1, 128) if chr(c) not in "\n\""] + ['a,"=b', 'a\n"=b', '"=b', "end,", "", "-"]
    frame = pd.DataFrame({"n": range(len(texts)), "text": texts, "amount": [-1.5] * len(texts), "lc": texts, "nullable": texts})
    body = client.raw_query("SELECT number AS n, arrayElement({texts:Array(String)}, number + 1) AS text, -1.5 AS amount, "
                            "toLowCardinality(text) AS lc, CAST(text AS Nullable(String)) AS nullable "
                            "FROM numbers({count:UInt64})", parameters={"texts": texts, "count": len(texts)},
                            fmt="CSVWithNames", settings=exports.ENGINE_CSV_SETTINGS)
    from_engine = list(csv.reader(io.StringIO(exports.engine_csv(body).decode(), newline="")))
    from_frame = list(csv.reader(io.StringIO(exports.frame_csv(frame), newline="")))
    assert from_engine == from_frame
    assert [row[1] for row in from_engine[1:]] == [exports.neutralised(t) for t in texts]
    assert {row[2] for row in from_engine[1:]} == {"-1.5"}


# --- the pipes' .csv ---------------------------------------------------------------------

def test_pipe_csv_neutralises_text_and_keeps_numbers(hostile, database):
    with running_api(hostile, database) as api:
        r = api.http.get("/v0/pipes/customer_segment_lookup.csv", params={"customer_id": "@cmd", "as_of": AS_OF}, headers=api.bearer())
        assert r.status_code == 200, r.text
        [row] = _cells(r.text)
        assert row["customer_id"] == "'@cmd" and row["name"] == '\'=HYPERLINK("http://x","y")' and row["location"] == "'-London"
        assert row["lifetime_value"] == "-5.5" and row["age"] == "30" and row["signup_date"] == "2021-01-01 00:00:00"
        assert '"\'=HYPERLINK(""http://x"",""y"")"' in r.text  # quoted as CSV requires

        r = api.http.get("/v0/pipes/customer_engagement_analysis.csv", headers=api.bearer(),
                         params={"start_date": "2025-03-01", "end_date": "2025-03-31", "as_of": AS_OF, "include_inactive": "true", "limit": "50"})
        rows = {row["customer_id"]: row for row in _cells(r.text)}
        assert rows["'@cmd"]["total_value"] == "-5.5" and rows["'@cmd"]["event_count"] == "1"
        assert rows["'@cmd"]["name"] == '\'=HYPERLINK("http://x","y")' and rows["'@cmd"]["location"] == "'-London"
        assert {rows[f"f{i}"]["name"] for i in range(len(FORMULAS))} == {"'" + t for t in FORMULAS}
        assert rows["plain"]["name"] == "Ann" and rows["plain"]["total_value"] == "3"
        _no_formula_cells(rows.values())


def test_other_pipe_formats_return_the_stored_values(hostile, database):
    with running_api(hostile, database) as api:
        query = {"start_date": "2025-03-01", "end_date": "2025-03-31", "as_of": AS_OF, "include_inactive": "true", "limit": "50"}
        url = "/v0/pipes/customer_engagement_analysis.{}"
        as_json = api.http.get(url.format("json"), params=query, headers=api.bearer()).json()["data"]
        as_ndjson = [json.loads(line) for line in api.http.get(url.format("ndjson"), params=query, headers=api.bearer()).text.splitlines()]
        parquet = api.http.get(url.format("parquet"), params=query, headers=api.bearer()).content
        as_parquet = pq.read_table(io.BytesIO(parquet)).to_pandas()
        for found in (as_json, as_ndjson, as_parquet.to_dict("records")):
            names = {_text(r["customer_id"]): _text(r["name"]) for r in found}
            assert names["@cmd"] == FORMULAS[0] and {names[f"f{i}"] for i in range(len(FORMULAS))} == set(FORMULAS)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


# --- the workbench's downloads and the command line ----------------------------------------

@pytest.fixture
def workbench(hostile, database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield hostile
    st.cache_data.clear()
    st.cache_resource.clear()


def test_segment_export_is_neutralised(workbench):
    exported = data.segment_export(rules=SegmentRules(), value_segment="", loyalty_segment="", location=None,
                                   min_age=None, max_age=None)()
    rows = {row["customer_id"]: row for row in _cells(exported.decode())}
    assert rows["'@cmd"]["name"] == '\'=HYPERLINK("http://x","y")' and rows["'@cmd"]["lifetime_value"] == "-5.5"
    assert {rows[f"f{i}"]["location"] for i in range(len(FORMULAS))} == {"'" + t for t in FORMULAS}
    assert rows["plain"]["name"] == "Ann" and rows["plain"]["lifetime_value"] == "7.25"
    _no_formula_cells(rows.values())


def test_timeline_and_engagement_downloads_are_neutralised(workbench):
    timeline = segwork.queries.customer_timeline(workbench, "@cmd")
    [row] = _cells(data.csv_bytes(timeline).decode())
    assert row["product_id"] == '\'=HYPERLINK("http://x","y")' and row["category"] == "'+1+1" and row["event_value"] == "-5.5"
    engagement = segwork.customer_engagement_analysis(workbench, "2025-03-01", "2025-03-31", as_of=AS_OF)
    rows = {row["customer_id"]: row for row in _cells(data.csv_bytes(engagement).decode())}
    assert rows["'@cmd"]["total_value"] == "-5.5" and rows["'@cmd"]["location"] == "'-London"
    assert timeline["product_id"].tolist() == ['=HYPERLINK("http://x","y")']  # the frame itself is untouched


def test_quarantine_export_is_neutralised(workbench):
    bad = pd.DataFrame([{"event_id": "q1", "customer_id": "@cmd", "event_type": "purchase", "event_value": "=1+1",
                         "product_id": "-p", "timestamp": "2025-03-02 10:00:00"}])
    report = data.ingest("customer_events", bad.to_csv(index=False).encode(), "=evil.csv")
    assert report.quarantined == 1
    [row] = _cells(data.quarantine_export("customer_events", report.ingest_id)().decode())
    assert row["event_value"] == "'=1+1" and row["customer_id"] == "'@cmd" and row["source"] == "'=evil.csv"
    assert row["row"] == "2"


def test_query_format_csv_is_neutralised(workbench, capsys):
    assert cli.main(["query", "customer_segment_lookup", "--customer-id", "@cmd", "--as-of", AS_OF, "--format", "csv"]) == 0
    [row] = _cells(capsys.readouterr().out)
    assert row["customer_id"] == "'@cmd" and row["name"] == '\'=HYPERLINK("http://x","y")' and row["lifetime_value"] == "-5.5"


def test_money_is_written_to_the_cent_without_float_noise(client, database, monkeypatch, capsys):
    """0.1 + 0.2 is 0.30000000000000004 in binary floating point: a CSV shows 0.3. (Sums of event
    values are exact already: sql/rules/total.sql; a profile's value keeps what it was given.)"""
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    segwork.ingest(client, "customers", pd.DataFrame([_profile("m1", "Mo", "Oslo", 0.1 + 0.2)]))
    segwork.ingest(client, "customer_events", pd.DataFrame([
        {"event_id": f"m{i}", "customer_id": "m1", "event_type": "purchase", "event_value": value,
         "timestamp": f"2025-03-0{i + 1} 10:00:00"} for i, value in enumerate((175.54, 1148.35, 0.1 + 0.2))]))
    engagement = segwork.customer_engagement_analysis(client, "2025-03-01", "2025-03-31", as_of=AS_OF)
    assert engagement["total_value"].iloc[0] == 1324.19  # exact: 175.54 + 1148.35 + 0.3 (floats: 1324.1899999999998)
    lookup = segwork.customer_segment_lookup(client, "m1", as_of=AS_OF)
    assert lookup["lifetime_value"].iloc[0] != round(lookup["lifetime_value"].iloc[0], 2)  # the noise is there
    text = data.csv_bytes(engagement).decode()
    assert _cells(text)[0]["total_value"] == "1324.19" and "0000000" not in text and "9999999" not in text
    timeline = data.csv_bytes(segwork.customer_timeline(client, "m1")).decode()
    assert [row["event_value"] for row in _cells(timeline)] == ["0.3", "1148.35", "175.54"]
    summary = data.csv_bytes(segwork.customer_segments_summary(client, as_of=AS_OF)).decode()
    assert _cells(summary)[0]["avg_lifetime_value"] == "0.3" and _cells(summary)[0]["total_lifetime_value"] == "0.3"
    assert cli.main(["query", "customer_segment_lookup", "--customer-id", "m1", "--as-of", AS_OF, "--format", "csv"]) == 0
    assert _cells(capsys.readouterr().out)[0]["lifetime_value"] == "0.3"
