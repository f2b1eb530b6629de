"""CSV appends without a header line, in the table's column order (the seed system allows it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import segwork
from segwork.config import PROJECT_DIR
from segwork.errors import InputFileError
from segwork.ingestion.csvfile import HEADERLESS_NOTE
from segwork.mapping import Mapping

pytestmark = pytest.mark.engine_paths  # on the embedded fast path and on the client API (conftest)

EVENT = "e{i},c{i},purchase,{v},p{i},toys,2024-03-0{d} 10:00:00"


def stored_events(client) -> list[tuple]:
    return client.query("SELECT event_id, customer_id, event_type, event_value, product_id, category, "
                        "formatDateTime(timestamp, '%Y-%m-%d %H:%i:%S') FROM customer_events ORDER BY event_id").result_rows


def test_one_headerless_line_inserts_its_row(client):
    report = segwork.ingest(client, "customer_events", b"e1,c1,purchase,9.5,p1,toys,2024-03-01 10:00:00", format="csv")
    assert (report.rows_read, report.inserted, report.quarantined) == (1, 1, 0)
    assert report.notes == [HEADERLESS_NOTE] and HEADERLESS_NOTE in report.summary()
    assert stored_events(client) == [("e1", "c1", "purchase", 9.5, "p1", "toys", "2024-03-01 10:00:00")]


def test_many_headerless_lines_keep_their_line_numbers(client, tmp_path):
    lines = [EVENT.format(i=i, v=i * 1.5, d=1 + i % 9) for i in range(1, 8)]
    lines[0] = "e1,c1,purchase,lots,p1,toys,2024-03-01 10:00:00"  # line 1 is data: quarantined as line 1
    lines[4] = "e5,c5,purchase,1.0,p5,toys"  # line 5: too few fields
    path = tmp_path / "events.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = segwork.ingest(client, "customer_events", path)
    assert (report.rows_read, report.inserted, report.quarantined) == (7, 5, 2)
    assert report.notes == [HEADERLESS_NOTE]
    quarantined = client.query("SELECT c__row, event_id FROM customer_events_quarantine ORDER BY c__row").result_rows
    assert [r[0] for r in quarantined] == [1, 5] and quarantined[0][1] == "e1"
    sent = pd.DataFrame([line.split(",") for k, line in enumerate(lines) if k not in (0, 4)])
    expected = [(r[0], r[1], r[2], float(r[3]), r[4], r[5], r[6]) for r in sent.itertuples(index=False)]
    assert stored_events(client) == sorted(expected)


def test_a_header_line_is_still_a_header(client):
    data = b"event_id,customer_id,event_type,event_value,product_id,category,timestamp\ne1,c1,login,,,,2024-03-01 10:00:00\n"
    report = segwork.ingest(client, "customer_events", data, format="csv")
    assert (report.rows_read, report.inserted, report.notes) == (1, 1, [])


def test_a_first_line_naming_a_column_is_a_header(client):
    """Data whose first line holds a column's name (here 'category') is read as a header, as before."""
    data = b"e1,c1,purchase,9.5,p1,category,2024-03-01 10:00:00\ne2,c2,purchase,1,p2,toys,2024-03-01 10:00:00\n"
    with pytest.raises(InputFileError, match="missing required column"):
        segwork.ingest(client, "customer_events", data, format="csv")
    assert stored_events(client) == []


def test_a_first_line_of_another_width_is_a_header(client):
    six = b"e1,c1,purchase,9.5,p1,2024-03-01 10:00:00\n"
    with pytest.raises(InputFileError, match=r"missing required column\(s\) event_id, customer_id"):
        segwork.ingest(client, "customer_events", six * 2, format="csv")
    with pytest.raises(InputFileError, match="has no data rows"):  # one line: the header of an empty file, as before
        segwork.ingest(client, "customer_events", six, format="csv")
    with pytest.raises(InputFileError, match="missing required column"):
        segwork.ingest(client, "customers", b"e1,c1,purchase,9.5,p1,toys,2024-03-01 10:00:00\n" * 2, format="csv")


def test_a_mapping_still_needs_a_header(client):
    """A mapping names the file's columns: a headerless file has none, so its first line stays the header."""
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "Order"}, "customer_id": {"column": "Client"}, "event_type": {"constant": "purchase"},
        "timestamp": {"column": "When"}}})
    with pytest.raises(segwork.SegworkError, match="Order"):
        segwork.ingest(client, "customer_events", b"A1,c1,2024-03-01 10:00:00\nA2,c2,2024-03-01 10:00:00\n",
                       format="csv", mapping=mapping)
    assert stored_events(client) == []


def test_headerless_customers_read_in_order(client):
    line = "z1,Ann Lee,ann@example.com,41,female,Paris,2021-03-15 10:00:00,1250.5,2023-06-01 12:00:00"
    report = segwork.ingest(client, "customers", (line + "\n").encode(), format="csv")
    assert (report.inserted, report.notes) == (1, [HEADERLESS_NOTE])
    row = client.query("SELECT customer_id, name, email, age, gender, location, lifetime_value FROM customers").result_rows
    assert row == [("z1", "Ann Lee", "ann@example.com", 41, "female", "Paris", 1250.5)]


@pytest.mark.engine_paths("embedded")
def test_the_cli_reports_a_headerless_file(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENT.format(i=1, v=2.5, d=1) + "\n" + EVENT.format(i=2, v=3.5, d=2) + "\n", encoding="utf-8")
    env = {**os.environ, "SEGWORK_DATA_DIR": str(tmp_path / "data")}
    env.pop("SEGWORK_DSN", None)
    run = [sys.executable, "-m", "segwork", "ingest", "customer_events", str(path)]
    proc = subprocess.run(run + ["--json"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (report["rows_read"], report["inserted"], report["notes"]) == (2, 2, [HEADERLESS_NOTE])
    proc = subprocess.run(run, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and HEADERLESS_NOTE in proc.stdout and "2 already present" in proc.stdout


def test_a_header_with_other_names_stays_a_header(client):
    """A header naming no column but of the table's width (renamed columns) holds no times: a header, refused as before."""
    data = b"id,cust,kind,value,product,cat,time\ne1,c1,purchase,9.5,p1,toys,2024-03-01 10:00:00\n"
    with pytest.raises(InputFileError, match="missing required column"):
        segwork.ingest(client, "customer_events", data, format="csv")
    iso = b"e1,c1,purchase,9.5,p1,toys,2024-03-01T10:00:00Z\ne2,c1,login,,,,1709287200\n"  # ISO with T and Z; epoch seconds
    report = segwork.ingest(client, "customer_events", iso, format="csv")
    assert (report.inserted, report.notes) == (2, [HEADERLESS_NOTE])
