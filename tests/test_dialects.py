"""Everyday formats: CSV delimiters (sniffed or given), the decimal comma, Latin-1 / Windows-1252
text, Excel sheets. Each file is written here, ingested through segwork.ingest into the embedded
engine and checked against an independent pandas read of the same file."""
from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import overview
from segwork.config import PROJECT_DIR, Settings
from segwork.ingestion import csvfile, read as readers
from segwork.ingestion.dialect import Dialect, sniff_delimiter
from segwork.ingestion.parse import numbers_from_text
from segwork.ingestion.transcode import Transcoded
from segwork.schemas import columns
from segwork.workbench import upload

CUSTOMERS = columns("customers")
EVENTS = columns("customer_events")


def stored_customers(client) -> pd.DataFrame:
    return client.query_df("SELECT * FROM customers FINAL ORDER BY customer_id").set_index("customer_id")


def quarantined(client, table: str) -> dict[int, list[str]]:
    """{row: [reasons without the value]} of the quarantine."""
    q = overview.quarantine(client, table)
    return {int(r): [e.split(" (got ")[0] for e in errs] for r, errs in zip(q.c__row, q.c__error)}


def check_customers(client, expected: pd.DataFrame) -> None:
    """The stored profiles are the pandas frame's (indexed by customer_id), column by column."""
    got = stored_customers(client)
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    for c in ("name", "email", "gender", "location"):
        assert list(got[c]) == list(expected[c].fillna("")), c
    assert list(got["age"]) == list(expected["age"].fillna(0).astype(int))
    np.testing.assert_allclose(got["lifetime_value"].to_numpy(), expected["lifetime_value"].fillna(0).to_numpy())
    for c in ("signup_date", "timestamp"):
        assert list(naive(got[c])) == list(pd.to_datetime(expected[c])), c


def naive(times: pd.Series) -> pd.Series:
    """UTC times without their zone (the engine's answers come with it or without, by path)."""
    return times.dt.tz_convert("UTC").dt.tz_localize(None) if times.dt.tz is not None else times


# --- CSV: semicolon, decimal comma, Latin-1 / Windows-1252 -------------------------------------------

SEMI_ROWS = [  # (line text, good?) after the header; "€" only where the file is Windows-1252
    ("c1;Jürgen Müller;jm@example.de;34;male;Köln;2021-03-15;1.234,56;2024-01-01 10:00:00", True),
    ("c2;Zoë Ærø;zoe@example.fr;41;female;Besançon;2021-04-01;12,5;2024-01-01 11:00:00", True),
    ("", None),
    ('c3;"Straße; Nr. 5";s@example.de;29;;München;2020-01-01;1.000.000;2024-01-02 09:00:00', True),
    ("c4;Bad Decimal;b@example.de;50;male;Wien;2021-01-01;12.5;2024-01-02 09:00:00", False),  # "12.5" with decimal ","
    ("c5;too;few", False),
    ("c6;Ø Eins;o@example.dk;;;Århus;2022-02-02;-0,75;2024-01-03 08:00:00", True),
]
SEMI_HEADER = ";".join(CUSTOMERS)


def semicolon_file(tmp_path, encoding: str, euro: bool):
    rows = [(t.replace("Zoë Ærø", "Zoë € Ærø") if euro else t, ok) for t, ok in SEMI_ROWS]
    path = tmp_path / f"customers-{encoding}.csv"
    path.write_bytes(("\r\n".join([SEMI_HEADER] + [t for t, _ in rows]) + "\r\n").encode(encoding))
    return path, rows


@pytest.mark.parametrize("encoding, given", [("latin-1", "latin-1"), ("cp1252", None), ("cp1252", "windows-1252")])
def test_semicolon_decimal_comma_latin1_csv_goes_in_as_pandas_reads_it(client, tmp_path, encoding, given):
    path, rows = semicolon_file(tmp_path, encoding, euro=encoding == "cp1252")
    report = segwork.ingest(client, "customers", path, dialect=Dialect(decimal=",", encoding=given))
    assert (report.rows_read, report.inserted, report.quarantined) == (6, 4, 2)
    assert "delimiter semicolon (detected)" in report.dialect and "decimal comma" in report.dialect
    assert ("encoding Windows-1252 (detected)" if given is None else "encoding") in report.dialect
    # pandas, on its own: the same bytes, its own decoding, splitting and decimal handling
    expected = pd.read_csv(path, sep=";", decimal=",", thousands=".", encoding=encoding, dtype={"customer_id": str},
                           on_bad_lines="skip", keep_default_na=False, na_values=[""])
    # pandas reads c4's "12.5" as 125 (a misread) and fills c5's missing fields: both are quarantined here
    expected = expected[~expected.customer_id.isin(["c4", "c5"])].set_index("customer_id")
    check_customers(client, expected)
    assert stored_customers(client).loc["c2", "name"] == ("Zoë € Ærø" if encoding == "cp1252" else "Zoë Ærø")
    assert quarantined(client, "customers") == {
        6: ["lifetime_value: is not a number (Float64, with decimal comma: 1234,5 or 1.234,5)"],
        7: ["line has 3 fields, the header has 9"],
    }


def test_the_resolved_dialect_says_what_was_found(tmp_path):
    path, _ = semicolon_file(tmp_path, "cp1252", euro=True)
    src = readers.open_source(path, dialect=Dialect(decimal=","))
    src.close()
    assert src.dialect == Dialect(delimiter=";", decimal=",", encoding="cp1252")
    assert src.detected == {"delimiter", "encoding"}
    src = readers.open_source(path, dialect=Dialect(delimiter=";", encoding="latin-1"))
    src.close()
    assert src.dialect == Dialect(delimiter=";", encoding="latin-1") and src.detected == frozenset()


@pytest.mark.parametrize("delimiter", ["\t", "|"])
def test_tab_and_pipe_files_are_sniffed_and_read_as_pandas_reads_them(client, tmp_path, delimiter):
    d = delimiter
    lines = [d.join(EVENTS)] + [
        d.join([f"e{i}", f"c{i % 3}", "purchase", f"{i}.25", f"p{i}", cat, "2024-05-01 12:00:00"])
        for i, cat in enumerate(["books, paper", '"quoted' + d + 'inside"', "plain", '"two\nlines"', "x;y"])
    ] + ["", d.join(["e9", "c1", "login"])]  # a blank line, then a line with too few fields
    path = tmp_path / "events.txt"
    path.write_text("\n".join(lines) + "\n")
    report = segwork.ingest(client, "customer_events", path)
    assert (report.rows_read, report.inserted, report.quarantined) == (6, 5, 1)
    expected = pd.read_csv(path, sep=d, dtype=str).set_index("event_id").drop(index="e9")  # pandas fills e9's missing fields
    got = client.query_df("SELECT * FROM customer_events ORDER BY event_id").set_index("event_id")
    assert list(got.index) == list(expected.index)
    assert list(got.category) == list(expected.category) == ["books, paper", f"quoted{d}inside", "plain", "two\nlines", "x;y"]
    assert list(got.event_value) == [float(v) for v in expected.event_value]
    assert quarantined(client, "customer_events") == {9: ["line has 3 fields, the header has 7"]}


@pytest.mark.parametrize("text, want", [
    ("a,b,c\n1,2,3\n", ","), ("a;b;c\n1;2,5;3\n", ";"), ("a\tb\n1\t2,5\n", "\t"), ("a|b\n1|x,y\n", "|"),
    ('a,b,c\n1,"x;y;z",3\n2,"p;q",4\n', ","), ("customer_id\nc1\nc2\n", ","),  # one column: nothing to tell, a comma
    ("id;text\n1;a, b, c, d\n2;e, f, g\n", ";"), ('"a;b",c,d\n1,2,3\n', ","),  # the header's quoted ; parts nothing
    ("a;b;c\n", ";"),
])
def test_sniff_delimiter(text, want):
    assert sniff_delimiter(text) == want


def test_windows_1252_is_detected_and_round_trips_exactly(client, tmp_path):
    names = ["Müller", "€ 5 – “quoted” ‘x’ …", "Œuvre", "Dvořák"]  # Dvořák has an ř: not in Windows-1252
    lines = ["customer_id,name,signup_date,timestamp"] + [f"c{i},{n},2024-01-01,2024-01-02" for i, n in enumerate(names[:3])]
    path = tmp_path / "c.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1252"))
    report = segwork.ingest(client, "customers", path)
    assert report.inserted == 3 and report.dialect == "delimiter comma (detected), decimal point, encoding Windows-1252 (detected)"
    assert list(stored_customers(client).name) == names[:3]
    assert list(pd.read_csv(path, encoding="cp1252").name) == names[:3]


def test_an_encoding_that_cannot_be_told_is_refused_saying_how_to_choose(client, tmp_path):
    path = tmp_path / "ru.csv"
    rows = [f"c{i};Иван Петров;Москва;2024-01-01;2024-01-02" for i in range(30)]
    path.write_bytes(("customer_id;name;location;signup_date;timestamp\n" + "\n".join(rows)).encode("cp1251"))
    with pytest.raises(segwork.InputFileError) as err:
        segwork.ingest(client, "customers", path)
    message = str(err.value)
    assert message.startswith("ru.csv: is not UTF-8 text, nor Latin-1 or Windows-1252 text as far as can be told (it looks like cp1251")
    assert "save it as UTF-8, or say its encoding (latin-1 or cp1252: `--encoding cp1252`" in message
    short = "customer_id,signup_date,timestamp,имя\nJose,2024-01-01,2024-01-01,x\n".encode("cp1251")  # "èìÿ" in Windows-1252
    with pytest.raises(segwork.InputFileError, match=r"too few characters beyond ASCII to tell"):
        segwork.ingest(client, "customers", short, format="csv")
    with pytest.raises(segwork.InputFileError, match="is UTF-16 text"):
        segwork.ingest(client, "customers", "customer_id\nc1\n".encode("utf-16"), format="csv")
    assert int(client.command("SELECT count() FROM customers")) == 0


def test_utf8_with_a_few_broken_bytes_stays_utf8_and_quarantines_those_lines(client):
    text = "customer_id,name,signup_date,timestamp\nc1,Müller,2024-01-01,2024-01-02\nc2,caf\xe9,2024-01-01,2024-01-02\n"
    data = text.replace("\xe9", "\x00").encode().replace(b"\x00", b"\xe9")
    report = segwork.ingest(client, "customers", data, format="csv")
    assert (report.inserted, report.quarantined, report.dialect) == (1, 1, "")
    assert list(stored_customers(client).name) == ["Müller"]
    assert quarantined(client, "customers")[3][0].startswith("not valid UTF-8")


def test_ndjson_and_json_are_utf8_unless_an_encoding_is_chosen(client):
    record = {"event_id": "e1", "customer_id": "Müller", "event_type": "login", "timestamp": "2024-05-01 12:00:00"}
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("latin-1")
    report = segwork.ingest(client, "customer_events", data, format="ndjson")  # JSON is UTF-8 (RFC 8259): nothing told
    assert (report.inserted, report.quarantined) == (0, 1) and dict(report.reasons) == {"not valid UTF-8": 1}
    report = segwork.ingest(client, "customer_events", data, format="ndjson", dialect=Dialect(encoding="latin-1"))
    assert report.inserted == 1 and report.dialect == "decimal point, encoding Latin-1 (ISO-8859-1)"
    array = json.dumps([{**record, "event_id": "e2", "customer_id": "Jörg €"}], ensure_ascii=False).encode("cp1252")
    assert segwork.ingest(client, "customer_events", array, format="json", dialect=Dialect(encoding="cp1252")).inserted == 1
    got = client.query("SELECT event_id, customer_id FROM customer_events ORDER BY event_id").result_rows
    assert got == [("e1", "Müller"), ("e2", "Jörg €")]


def test_transcoding_streams_block_by_block_and_progress_counts_source_bytes(client, tmp_path, monkeypatch):
    big = io.BytesIO(("Müller;" * 1000 + "\n").encode("latin-1") * 3000)  # ~21 MB of Latin-1
    tracemalloc.start()
    try:
        stream, total = Transcoded(big, "latin-1"), 0
        while block := stream.read(1 << 20):
            total += len(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == len(("Müller;" * 1000 + "\n").encode()) * 3000 and peak < 12 << 20, f"{peak:,} bytes"
    from segwork.ingestion import transcode

    monkeypatch.setattr(csvfile, "CSV_BLOCK_BYTES", 4096)  # several read blocks in a small file
    monkeypatch.setattr(transcode, "_BLOCK", 4096)
    lines = ["customer_id;name;signup_date;timestamp"] + [f"c{i};Jörg {i};2024-01-01;2024-01-02" for i in range(3000)]
    path = tmp_path / "c.csv"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    seen = []
    report = segwork.ingest(client, "customers", path, settings=Settings(chunk_rows=500, insert_rows=1000),
                            progress=lambda rows, fraction: seen.append(fraction), dialect=Dialect(encoding="latin-1"))
    assert report.inserted == 3000 and stored_customers(client).loc["c2999", "name"] == "Jörg 2999"
    assert seen == sorted(seen) and 0 < seen[0] < 1 and seen[-1] == 1.0


# --- decimal comma: the rule ---------------------------------------------------------------------------

def test_numbers_from_text_with_a_decimal_comma():
    text = ["1.234,56", "12,5", "1.234", "1.000.000", "-0,75", ",5", "1e3", "", None,
            "12.5", "1,234.5", "1.23", "12,", "abc", "nan"]
    values, bad = numbers_from_text(pd.Series(text, dtype=object), ",")
    got = dict(zip(text, values.tolist()))
    assert {t: got[t] for t in text[:7]} == {"1.234,56": 1234.56, "12,5": 12.5, "1.234": 1234.0, "1.000.000": 1e6,
                                               "-0,75": -0.75, ",5": 0.5, "1e3": 1000.0}
    assert list(bad) == [False] * 9 + [True] * 6  # never misread: 12.5, 1,234.5, 1.23 are no numbers with a decimal comma
    assert values[7:].isna().all()
    values, bad = numbers_from_text(pd.Series(["1.5", "1,5", 2.0], dtype=object))
    assert values.tolist()[::2] == [1.5, 2.0] and list(bad) == [False, True, False]


# --- Excel -----------------------------------------------------------------------------------------

def workbook(path) -> None:
    """Two sheets: events (first), customers (second) with dates, whole numbers, floats, empty
    cells, an empty row, a bad value, a value right of the header."""
    from openpyxl import Workbook

    wb = Workbook()
    ev = wb.active
    ev.title = "Events"
    ev.append(EVENTS)
    ev.append(["e1", 17850, "purchase", 12.5, 101, "Books", dt.datetime(2024, 5, 1, 13, 45, 7)])
    ev.append(["e2", 17851, "login", None, None, None, dt.datetime(2024, 5, 2)])
    cu = wb.create_sheet("Kunden")
    cu.append(CUSTOMERS)
    cu.append([17850, "Jürgen Müller", "jm@example.de", 34, "male", "Köln", dt.date(2021, 3, 15), 1234.56,
               dt.datetime(2024, 1, 1, 10, 0)])
    cu.append([17851, "Zoë", None, None, "female", "Paris", dt.date(2020, 2, 29), 0.1 + 0.2, dt.datetime(2024, 1, 2)])
    cu.append([])
    cu.append([12345678901234, "Big Id", "b@example.com", 41.0, None, "Rome", dt.datetime(2019, 7, 1), 3, dt.datetime(2024, 1, 3)])
    cu.append(["c4", "Bad age", None, 30.5, None, None, dt.date(2021, 1, 1), "n/a", dt.datetime(2024, 1, 4)])
    cu.append(["c5", "Stray", None, 20, None, None, dt.date(2021, 1, 1), 1, dt.datetime(2024, 1, 5), None, "note"])
    cu.append(["c6", "Text numbers", None, "33", None, None, "2021-06-01", "1.234,5", "2024-01-06 00:00:00"])
    wb.save(path)


def test_xlsx_a_chosen_sheet_goes_in_as_pandas_reads_it(client, tmp_path):
    path = tmp_path / "shop.xlsx"
    workbook(path)
    report = segwork.ingest(client, "customers", path, dialect=Dialect(sheet="Kunden", decimal=","))
    assert (report.format, report.rows_read, report.inserted, report.quarantined) == ("xlsx", 6, 4, 2)
    expected = pd.read_excel(path, sheet_name="Kunden", engine="openpyxl", dtype={"customer_id": str}).dropna(how="all")
    expected = expected[~expected.customer_id.isin(["c4", "c5"])].set_index("customer_id")  # quarantined, below
    expected["age"] = pd.to_numeric(expected["age"])
    expected.loc["c6", "lifetime_value"] = 1234.5  # text in the sheet, read with the decimal comma chosen
    expected["lifetime_value"] = expected["lifetime_value"].astype(float)
    check_customers(client, expected)
    assert sorted(stored_customers(client).index) == ["12345678901234", "17850", "17851", "c6"]
    assert quarantined(client, "customers") == {
        6: ["age: is not a whole number (Int32)",
            "lifetime_value: is not a number (Float64, with decimal comma: 1234,5 or 1.234,5)"],
        7: ["row has a value in column K, right of the header's last column (I)"],
    }
    assert overview.quarantine(client, "customers").set_index("c__row").loc[6, "signup_date"] == "2021-01-01"


def test_xlsx_first_sheet_by_default_and_sheets_by_position(client, tmp_path):
    path = tmp_path / "shop.xlsx"
    workbook(path)
    report = segwork.ingest(client, "customer_events", path)
    assert (report.inserted, report.quarantined) == (2, 0)
    got = client.query_df("SELECT * FROM customer_events ORDER BY event_id")
    expected = pd.read_excel(path, engine="openpyxl")  # the first sheet
    assert list(got.customer_id) == [str(v) for v in expected.customer_id] == ["17850", "17851"]
    assert list(got.product_id) == ["101", ""] and list(got.event_value) == [12.5, 0.0]
    assert list(naive(got.timestamp)) == list(expected.timestamp)
    with pytest.raises(segwork.InputFileError, match=r"^shop.xlsx \(sheet 'Kunden'; its other sheets: 'Events'\): missing required column\(s\) event_id"):
        segwork.ingest(client, "customer_events", path, dialect=Dialect(sheet=1))
    src = readers.open_source(path.read_bytes(), dialect=Dialect(sheet="1"))  # bytes: found by their content
    src.close()
    assert (src.format, src.dialect.sheet, src.sheets) == ("xlsx", "Kunden", ("Events", "Kunden"))


@pytest.mark.parametrize("sheet, match", [
    ("Nope", r"has no sheet named 'Nope'; its sheets: 'Events', 'Kunden' \(or give a position: 0 is the first\)"),
    (5, r"has no sheet at position 5 \(0 is the first\); its sheets: 'Events', 'Kunden'"),
])
def test_an_unknown_sheet_is_refused_listing_the_sheets(client, tmp_path, sheet, match):
    path = tmp_path / "shop.xlsx"
    workbook(path)
    with pytest.raises(segwork.InputFileError, match=match):
        segwork.ingest(client, "customers", path, dialect=Dialect(sheet=sheet))


def test_a_damaged_workbook_is_refused_with_a_segwork_error_or_read_whole(client, tmp_path):
    """Calamine's own errors (XmlError, WorksheetNotFound inside a workbook that opened) escaped."""
    import random

    path = tmp_path / "shop.xlsx"
    workbook(path)
    data, rng, outcomes = path.read_bytes(), random.Random(3), []
    for case in range(40):
        damaged = bytearray(data[:rng.randint(4, len(data))] if case % 2 else data)
        for _ in range(0 if case % 2 else rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            report = segwork.ingest(client, "customers", bytes(damaged), source_name="shop.xlsx", dialect=Dialect(sheet=1))
        except segwork.SegworkError:
            outcomes.append("refused")
            continue
        assert report.rows_read == report.inserted + report.duplicates + report.quarantined
        outcomes.append("read")
    assert outcomes.count("refused") > 30


def test_a_zip_that_is_no_workbook_and_an_old_xls_are_refused_clearly(client):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("events.csv", "a,b\n")
    with pytest.raises(segwork.InputFileError, match="is a ZIP archive, not a table file; unzip it"):
        segwork.ingest(client, "customers", buf.getvalue())
    with pytest.raises(segwork.InputFileError, match=r"Excel 97-2003 workbook \(.xls\)"):
        segwork.ingest(client, "customers", b"\xd0\xcf\x11\xe0" + b"\0" * 600, source_name="old.xls")


# --- choices checked ------------------------------------------------------------------------------

def test_dialect_values_are_checked_and_aliases_named():
    assert Dialect(delimiter="tab").delimiter == Dialect(delimiter="\\t").delimiter == "\t"
    assert [Dialect(encoding=e).encoding for e in ("UTF8", "ISO-8859-1", "latin1", "Windows-1252", "cp1252", "utf-8-sig")] == [
        "utf-8", "latin-1", "latin-1", "cp1252", "cp1252", "utf-8"]
    for kwargs, match in [({"delimiter": ":"}, "delimiter ':' is not one segwork reads"),
                          ({"decimal": ";"}, r"decimal ';': use '\.'"),
                          ({"decimal": ",", "delimiter": ","}, "decimal ',' needs another delimiter than ','"),
                          ({"encoding": "cp1251"}, "encoding 'cp1251' is not one segwork reads"),
                          ({"encoding": "klingon"}, "encoding 'klingon' is not one segwork reads"),
                          ({"sheet": -1}, "give a sheet's name or its 0-based position")]:
        with pytest.raises(segwork.InputFileError, match=match):
            Dialect(**kwargs)


def test_a_choice_that_does_not_apply_to_the_format_is_refused(client, tmp_path):
    with pytest.raises(segwork.InputFileError, match="a delimiter applies to CSV files only, and this one is read as NDJSON"):
        segwork.ingest(client, "customers", b'{"customer_id": "c1"}\n', dialect=Dialect(delimiter=";"))
    with pytest.raises(segwork.InputFileError, match="a sheet applies to Excel"):
        segwork.ingest(client, "customers", b"customer_id\nc1\n", dialect=Dialect(sheet=0))
    with pytest.raises(segwork.InputFileError, match="its delimiter looks like ',' but the decimal mark is ','"):
        segwork.ingest(client, "customers", b"customer_id,lifetime_value\nc1,2\n", dialect=Dialect(decimal=","))


# --- the CLI and the upload preview ---------------------------------------------------------------

def test_cli_takes_the_dialect_options(tmp_path):
    import os

    path, _ = semicolon_file(tmp_path, "latin-1", euro=False)
    tsv = tmp_path / "e.tsv"
    tsv.write_text("\t".join(EVENTS) + "\n" + "\t".join(["e1", "c1", "login", "1.001,5", "", "", "2024-01-01"]) + "\n")
    env = {**os.environ, "SEGWORK_DATA_DIR": str(tmp_path / "data")}
    env.pop("SEGWORK_DSN", None)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "segwork", "ingest", *args], cwd=PROJECT_DIR, env=env,
                              capture_output=True, text=True, timeout=300)

    done = run("customers", str(path), "--delimiter", ";", "--decimal", ",", "--encoding", "latin-1")
    assert done.returncode == 0, done.stderr
    assert "6 rows read, 4 inserted" in done.stdout
    assert "read as CSV: delimiter semicolon, decimal comma, encoding Latin-1 (ISO-8859-1)" in done.stdout
    done = run("customer_events", str(tsv), "--delimiter", "tab", "--decimal", ",", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["inserted"], report["dialect"]) == (1, "delimiter tab, decimal comma, encoding UTF-8")
    done = run("customers", str(path), "--delimiter", ",", "--decimal", ",")
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith(
        "segwork: error: decimal ',' needs another delimiter than ','")


def test_preview_says_what_was_detected(tmp_path):
    path, _ = semicolon_file(tmp_path, "cp1252", euro=True)
    pv = upload.preview(path.read_bytes(), path.name, "customers", dialect=Dialect(decimal=","))
    assert pv.dialect == Dialect(";", ",", "cp1252") and pv.detected == {"delimiter", "encoding"}
    assert pv.read_as == "CSV: delimiter semicolon (detected), decimal comma, encoding Windows-1252 (detected)"
    assert "Zoë € Ærø" in list(pv.rows.name)
    assert pv.columns.set_index("column").loc["lifetime_value", "preview values that parse"] == "4 of 5"
    book = tmp_path / "shop.xlsx"
    workbook(book)
    pv = upload.preview(book.read_bytes(), book.name, "customers", dialect=Dialect(sheet="Kunden"))
    assert pv.format == "xlsx" and pv.sheets == ("Events", "Kunden")
    assert pv.read_as == "XLSX: decimal point, sheet 'Kunden' (of 'Events', 'Kunden')"
    assert list(pv.rows.record) == [2, 3, 5, 6, 8] and list(pv.rows.customer_id)[:3] == ["17850", "17851", "12345678901234"]
    assert "xlsx" in upload.FILE_TYPES


def test_a_mapping_reads_source_numbers_with_the_decimal_comma(client, tmp_path):
    """The mapping layer turned "12.5" into 125 with decimal ',' (it dropped every '.'): now its
    source numbers follow numbers_from_text's rule, so 12.5 is quarantined."""
    from segwork.mapping import Mapping

    path = tmp_path / "orders.csv"
    path.write_bytes("Order;Client;Qty;Price;When\nA1;Müller;2;1.234,5;2024-03-01 10:00\nA2;c2;1;12.5;2024-03-02 10:00\n"
                     "A3;c3;3;0,25;2024-03-03 10:00\n".encode("cp1252"))
    mapping = Mapping.from_dict({"table": "customer_events", "fields": {
        "event_id": {"column": "Order"}, "customer_id": {"column": "Client"}, "event_type": {"constant": "purchase"},
        "event_value": {"expression": "Qty * Price"}, "timestamp": {"column": "When", "format": "%Y-%m-%d %H:%M"}}})
    report = segwork.ingest(client, "customer_events", path, mapping=mapping, dialect=Dialect(decimal=","))
    assert (report.rows_read, report.inserted, report.quarantined) == (3, 2, 1)
    got = client.query("SELECT event_id, customer_id, event_value FROM customer_events ORDER BY event_id").result_rows
    assert got == [("A1", "Müller", 2469.0), ("A3", "c3", 0.75)]
    assert list(quarantined(client, "customer_events")) == [3]
