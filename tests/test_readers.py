"""Reading files into raw chunks: CSV records and their physical line numbers, blank lines,
broken lines, quoted values over several lines, CRLF, BOM, gzip, several read blocks."""
from __future__ import annotations

import gzip
import io
import random

import pyarrow.csv as pacsv
import pytest

import segwork
from segwork import overview
from segwork.ingestion import csvfile, read as readers
from segwork.schemas import columns

EVENTS = columns("customer_events")
HEADER = ",".join(EVENTS)
TIME = "2024-05-01 12:00:00"


def good(rid: str, category: str = "cat") -> str:
    """A valid event line (category as given: quote it yourself when it needs quotes)."""
    return f"{rid},c1,purchase,1.5,p1,{category},{TIME}"


def read_csv(path, monkeypatch=None, block_bytes: int | None = None, delimiter: str = ",") -> tuple[dict, dict]:
    """({event_id: (line, category)} of the good rows, {event_id: (line, text, reason)} of the broken ones);
    the delimiter is sniffed, and checked to be `delimiter`."""
    if block_bytes is not None:
        monkeypatch.setattr(csvfile, "CSV_BLOCK_BYTES", block_bytes)
    src = readers.open_source(path)
    assert src.dialect.delimiter == delimiter
    rows, bad = {}, {}
    try:
        for chunk in readers.read_chunks(src, EVENTS, 7):
            frame = chunk.frame
            for line, rid, category in zip(frame["__row"], frame["event_id"], frame["category"]):
                assert rid not in rows and rid not in bad, f"{rid} read twice"
                rows[rid] = (int(line), category)
            for rec in chunk.bad:
                rid = rec.text.split(delimiter, 1)[0].strip('"')
                assert rid not in rows and rid not in bad, f"{rid} read twice"
                bad[rid] = (rec.row, rec.text, rec.reason)
    finally:
        src.stream.close()
    return rows, bad


def write(tmp_path, text: str, *, name="e.csv", bom=False, gz=False, newline="\n"):
    """Write CSV text (lines joined by \\n) with the given line ending, BOM and compression."""
    data = (("\ufeff" if bom else "") + text.replace("\n", newline)).encode()
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_pyarrow_numbers_records_not_lines():
    """What the reader relies on: the invalid-row handler's row.number counts records from 1 (a
    value over two lines is one record), skips blank lines and counts whitespace-only ones."""
    seen = []
    data = b'a,b\n\n  \n"x\ny",z\r\n\r\nbroken\n1,2\n'
    table = pacsv.read_csv(io.BytesIO(data), read_options=pacsv.ReadOptions(column_names=["a", "b"], use_threads=False),
                           parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                                            invalid_row_handler=lambda row: seen.append(row) or "skip"))
    assert table.to_pydict() == {"a": ["a", "x\ny", "1"], "b": ["b", "z", "2"]}
    assert [(row.number, row.text) for row in seen] == [(2, "  "), (4, "broken")]


def test_blank_and_whitespace_lines_are_not_records_and_do_not_shift_line_numbers(tmp_path):
    text = "\n".join([HEADER, good("r1"), "", "   ", good("r2"), "\t", "", good("r3"), ""]) + "\n"
    rows, bad = read_csv(write(tmp_path, text))
    assert rows == {"r1": (2, "cat"), "r2": (5, "cat"), "r3": (8, "cat")}
    assert bad == {}


def test_a_broken_line_after_a_whitespace_line_is_quarantined_on_its_own_line(tmp_path):
    text = "\n".join([HEADER, good("r1"), "  ", "r2,c1,few", good("r3"), "r4,c1,purchase,1,p,c,t,extra", good("r5")]) + "\n"
    rows, bad = read_csv(write(tmp_path, text))
    assert rows == {"r1": (2, "cat"), "r3": (5, "cat"), "r5": (7, "cat")}
    assert bad == {"r2": (4, "r2,c1,few", "line has 3 fields, the header has 7"),
                   "r4": (6, "r4,c1,purchase,1,p,c,t,extra", "line has 8 fields, the header has 7")}


def test_a_quoted_value_over_several_lines_is_one_record_numbered_by_its_first_line(tmp_path):
    text = "\n".join([HEADER, good("r1", '"two\nlines"'), good("r2"), "r3,\"a\n\nb\",few", good("r4", '"x\n  \ny"'),
                      "r5,few", good("r6", 'say ""hi""'), good("r7", '27" screen')]) + "\n"
    rows, bad = read_csv(write(tmp_path, text))
    assert rows == {"r1": (2, "two\nlines"), "r2": (4, "cat"), "r4": (8, "x\n  \ny"), "r6": (12, 'say ""hi""'),
                    "r7": (13, '27" screen')}
    assert {rid: line for rid, (line, _, _) in bad.items()} == {"r3": 5, "r5": 11}
    assert bad["r3"][1] == 'r3,"a\n\nb",few'


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_crlf_bom_and_gzip_give_the_same_records_and_lines(tmp_path, newline, bom, gz):
    text = "\n".join([HEADER, good("r1"), "", "r2,few", good("r3", '"multi\nline"'), "  ", good("r4"), good("r5")])
    rows, bad = read_csv(write(tmp_path, text, bom=bom, gz=gz, newline=newline))  # no line break at the end
    assert rows == {"r1": (2, "cat"), "r3": (5, f"multi{newline}line"), "r4": (8, "cat"), "r5": (9, "cat")}
    assert {rid: (line, raw) for rid, (line, raw, _) in bad.items()} == {"r2": (4, "r2,few")}


def build(parts: list[tuple[str | None, str, bool]]) -> tuple[str, dict, dict]:
    """CSV text of (event_id or None for a blank line, record text, is good) parts, after the
    header, and the line each good and each broken record starts on."""
    rows, bad, line = {}, {}, 2
    for rid, text, ok in parts:
        if rid is not None:
            (rows if ok else bad)[rid] = line
        line += text.count("\n") + 1
    return "\n".join([HEADER] + [text for _, text, _ in parts]) + "\n", rows, bad


def lines_of(rows: dict, bad: dict) -> tuple[dict, dict]:
    """The line numbers alone of read_csv's result."""
    return {rid: v[0] for rid, v in rows.items()}, {rid: v[0] for rid, v in bad.items()}


def delimited(text: str, delimiter: str) -> str:
    """CSV text of records written with commas, with another delimiter (a quoted comma too: it
    stays inside its quotes)."""
    return text.replace(",", delimiter)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("block_bytes", [16, 50, 97, 200])
def test_line_numbers_run_on_across_read_blocks(tmp_path, monkeypatch, block_bytes, delimiter):
    parts = []
    for i in range(40):
        rid = f"r{i}"
        if i % 7 == 3:
            parts.append((rid, f"{rid},few", False))
        elif i % 5 == 1:
            parts.append((rid, good(rid, f'"{i}\nwraps\nover"'), True))
        else:
            parts.append((rid, good(rid), True))
        if i % 6 == 2:
            parts.append((None, "   " if i % 4 else "", False))
    text, want_rows, want_bad = build(parts)
    rows, bad = read_csv(write(tmp_path, delimited(text, delimiter)), monkeypatch, block_bytes, delimiter)
    assert lines_of(rows, bad) == (want_rows, want_bad)
    assert rows["r1"][1] == "1\nwraps\nover"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_an_unterminated_quote_makes_one_broken_record_to_the_end_of_the_file(tmp_path, monkeypatch, delimiter):
    text, want_rows, want_bad = build([("r1", good("r1"), True), ("r2", good("r2"), True),
                                       ("r3", 'r3,c1,"never closed', False), (None, good("r4"), False),
                                       (None, good("r5"), False)])
    rows, bad = read_csv(write(tmp_path, delimited(text, delimiter)), monkeypatch, 40, delimiter)
    assert lines_of(rows, bad) == (want_rows, want_bad)
    assert bad["r3"][1].startswith(delimited('r3,c1,"never closed\nr4,', delimiter))


INGREDIENTS = {  # name -> (record text for an event_id, is it a good row)
    "good": (lambda rid: good(rid), True),
    "quoted comma": (lambda rid: good(rid, '"a, b"'), True),
    "inch mark": (lambda rid: good(rid, '27" screen'), True),
    "two lines": (lambda rid: good(rid, '"first\nsecond"'), True),
    "blank line inside": (lambda rid: good(rid, '"a\n\n  \nb"'), True),
    "too few": (lambda rid: f"{rid},c1,purchase", False),
    "too many": (lambda rid: good(rid) + ",extra", False),
    "broken over lines": (lambda rid: f'{rid},"x\ny",z', False),
    "one field": (lambda rid: rid, False),
}


def random_parts(rng: random.Random) -> list[tuple[str | None, str, bool]]:
    """Records from INGREDIENTS with blank and whitespace-only lines between them."""
    parts = []
    for i in range(rng.randint(0, 40)):
        if rng.random() < 0.25:
            parts.append((None, rng.choice(["", " ", "\t", "   "]), False))
        make, ok = INGREDIENTS[rng.choice(list(INGREDIENTS))]
        parts.append((f"r{i}", make(f"r{i}"), ok))
    return parts


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("seed", range(40))
def test_random_files_every_record_once_on_its_own_line(tmp_path, monkeypatch, seed, delimiter):
    rng = random.Random(seed)
    parts = random_parts(rng)
    if delimiter == "\t":  # a line of tabs alone is a record of empty fields in a tab-delimited file, not blank
        parts = [(rid, text.replace("\t", "  ") if rid is None else text, ok) for rid, text, ok in parts]
    text, want_rows, want_bad = build(parts)
    path = write(tmp_path, delimited(text, delimiter), bom=rng.random() < 0.3, gz=rng.random() < 0.3,
                 newline=rng.choice(["\n", "\r\n"]))
    rows, bad = read_csv(path, monkeypatch, rng.choice([8, 33, 64, 150, 1 << 20]), delimiter)
    assert lines_of(rows, bad) == (want_rows, want_bad)


def test_ingest_counts_every_record_and_quarantines_broken_lines_where_they_start(client, tmp_path, monkeypatch):
    text, want_rows, want_bad = build([
        ("r1", good("r1"), True), (None, "   ", False), ("r2", "r2,c1,few", False), ("r3", good("r3", '"a\nb"'), True),
        (None, "", False), ("r4", good("r4") + ",extra", False), ("r5", good("r5"), True),
    ])
    monkeypatch.setattr(csvfile, "CSV_BLOCK_BYTES", 64)
    report = segwork.ingest(client, "customer_events", write(tmp_path, text, newline="\r\n"))
    assert (report.rows_read, report.inserted, report.quarantined) == (5, 3, 2)
    assert report.rows_read == report.inserted + report.duplicates + report.quarantined
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.c__row) == [want_bad["r2"], want_bad["r4"]] == [4, 8]
    assert list(q.c__raw) == ["r2,c1,few", good("r4") + ",extra"]
    stored = client.query("SELECT event_id, category FROM customer_events ORDER BY event_id").result_rows
    assert stored == [("r1", "cat"), ("r3", "a\r\nb"), ("r5", "cat")]


# Present but not a finite number (NaN, inf) is quarantined in every format; only an empty
# field, a JSON null or absent key, or a Parquet null is missing (stored as 0.0).
NOT_FINITE = "event_value: is not a finite number"
NOT_A_NUMBER = "event_value: is not a number (Float64)"


def outcome(client, report) -> tuple[dict, dict]:
    """({event_id: stored event_value} of inserted rows, {event_id: [reasons]} of quarantined ones)."""
    assert report.rows_read == report.inserted + report.duplicates + report.quarantined
    stored = dict(client.query("SELECT event_id, event_value FROM customer_events").result_rows)
    q = overview.quarantine(client, "customer_events")
    return stored, {rid: [e.split(" (got ")[0] for e in errors] for rid, errors in zip(q.event_id, q.c__error)}


def event(rid: str, value=..., **extra) -> dict:
    """An event record, with event_value only when one is given."""
    record = {"event_id": rid, "customer_id": "c1", "event_type": "purchase", "timestamp": TIME, **extra}
    if value is not ...:
        record["event_value"] = value
    return record


def test_csv_nan_and_inf_text_is_quarantined_and_only_an_empty_field_is_missing(client, tmp_path):
    values = {"ok": "1.5", "empty": "", "nan": "NaN", "nan2": "nan", "nan3": "-nan", "inf": "inf", "inf2": "Infinity",
              "inf3": "-Infinity", "null": "null", "na": "NA", "na2": "N/A", "quoted": '""'}
    lines = [HEADER] + [f"{rid},c1,purchase,{v},p1,cat,{TIME}" for rid, v in values.items()]
    report = segwork.ingest(client, "customer_events", write(tmp_path, "\n".join(lines) + "\n"))
    stored, quarantined = outcome(client, report)
    assert stored == {"ok": 1.5, "empty": 0.0, "quoted": 0.0}
    assert quarantined == {**{rid: [NOT_FINITE] for rid in ("nan", "nan2", "nan3", "inf", "inf2", "inf3")},
                           **{rid: [NOT_A_NUMBER] for rid in ("null", "na", "na2")}}


def test_csv_null_and_na_text_in_a_text_column_is_text(client, tmp_path):
    lines = [HEADER] + [f"e{i},c1,purchase,1,{v},{v},{TIME}" for i, v in enumerate(["NA", "null", "NaN", "N/A", ""])]
    report = segwork.ingest(client, "customer_events", write(tmp_path, "\n".join(lines) + "\n"))
    assert (report.inserted, report.quarantined) == (5, 0)
    got = client.query("SELECT product_id, category FROM customer_events ORDER BY event_id").result_rows
    assert got == [("NA", "NA"), ("null", "null"), ("NaN", "NaN"), ("N/A", "N/A"), ("", "")]


def test_csv_nan_in_a_whole_number_column_is_not_a_finite_number(client, tmp_path):
    head = "customer_id,age,lifetime_value,signup_date,timestamp\n"
    rows = ["a,NaN,1,2024-01-01,2024-01-02", "b,30,nan,2024-01-01,2024-01-02", "c,inf,1,2024-01-01,2024-01-02",
            "d,,,2024-01-01,2024-01-02", "e,NA,1,2024-01-01,2024-01-02"]
    report = segwork.ingest(client, "customers", write(tmp_path, head + "\n".join(rows) + "\n", name="c.csv"))
    assert (report.inserted, report.quarantined) == (1, 4)
    assert dict(report.reasons) == {"age: is not a finite number": 2, "lifetime_value: is not a finite number": 1,
                                    "age: is not a whole number (Int32)": 1}


@pytest.mark.parametrize("broken_line", [False, True], ids=["arrow", "line by line"])
def test_ndjson_nan_and_infinity_are_quarantined_and_null_is_missing(client, tmp_path, broken_line):
    import json

    lines = [json.dumps(event("ok", 2.5)), json.dumps(event("null", None)), json.dumps(event("absent")),
             json.dumps(event("nan", float("nan"))), json.dumps(event("inf", float("inf"))),
             json.dumps(event("minf", float("-inf"))), json.dumps(event("text", "NaN"))]
    assert "NaN" in lines[3] and "Infinity" in lines[4]  # json.dumps writes the bare constants
    lines += ["{not json"] if broken_line else []
    report = segwork.ingest(client, "customer_events", write(tmp_path, "\n".join(lines) + "\n", name="e.ndjson"))
    stored, quarantined = outcome(client, report)
    assert stored == {"ok": 2.5, "null": 0.0, "absent": 0.0}
    named = {rid: r for rid, r in quarantined.items() if isinstance(rid, str)}  # the broken line has no event_id
    assert named == {rid: [NOT_FINITE] for rid in ("nan", "inf", "minf", "text")}
    assert report.quarantined == 4 + broken_line


def test_json_array_nan_and_infinity_are_quarantined_and_null_is_missing(client, tmp_path):
    import json

    records = [event("ok", 2.5), event("null", None), event("absent"), event("nan", float("nan")),
               event("inf", float("inf")), event("text", "-Infinity")]
    report = segwork.ingest(client, "customer_events", write(tmp_path, json.dumps(records), name="e.json"))
    stored, quarantined = outcome(client, report)
    assert stored == {"ok": 2.5, "null": 0.0, "absent": 0.0}
    assert quarantined == {rid: [NOT_FINITE] for rid in ("nan", "inf", "text")}


def test_parquet_nan_is_quarantined_and_null_is_missing(client, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = ["ok", "null", "nan", "inf", "ok2"]
    values = pa.array([2.5, None, float("nan"), float("inf"), 0.1 + 0.2], pa.float64())  # NaN stays NaN, not null
    assert values.null_count == 1
    table = pa.table({"event_id": ids, "customer_id": ["c1"] * 5, "event_type": ["purchase"] * 5, "event_value": values,
                      "timestamp": [TIME] * 5})
    pq.write_table(table, tmp_path / "e.parquet")
    report = segwork.ingest(client, "customer_events", tmp_path / "e.parquet")
    stored, quarantined = outcome(client, report)
    assert stored == {"ok": 2.5, "null": 0.0, "ok2": 0.1 + 0.2}
    assert quarantined == {"nan": [NOT_FINITE], "inf": [NOT_FINITE]}


def test_a_dataframe_keeps_pandas_convention_nan_is_missing(client):
    import pandas as pd

    frame = pd.DataFrame([event("ok", 2.5), event("nan", float("nan")), event("inf", float("inf"))])
    report = segwork.ingest(client, "customer_events", frame)
    stored, quarantined = outcome(client, report)
    assert stored == {"ok": 2.5, "nan": 0.0}
    assert quarantined == {"inf": [NOT_FINITE]}


def read_ndjson(data: bytes, chunk_rows: int = 1000) -> tuple[dict, dict]:
    """({event_id: line} of the records read, {line: reason} of the bad ones) of NDJSON bytes."""
    src = readers.open_source(data, "ndjson")
    rows, bad = {}, {}
    try:
        for chunk in readers.read_chunks(src, EVENTS, chunk_rows):
            frame = chunk.frame
            lines = frame["__row"] if "__row" in frame.columns else range(chunk.first_row, chunk.first_row + len(frame))
            rows.update(zip(frame["event_id"] if len(frame) else [], (int(line) for line in lines)))
            bad.update((rec.row, rec.reason.split(" (")[0]) for rec in chunk.bad)
    finally:
        src.stream.close()
    return rows, bad


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_two_objects_on_one_ndjson_line_are_not_two_records(chunk_rows):
    """pyarrow would read them as two records and number every later line one too high."""
    import json

    lines = [json.dumps(event("r1")), json.dumps(event("r2")) + " " + json.dumps(event("r3")), json.dumps(event("r4"))]
    rows, bad = read_ndjson("\n".join(lines).encode() + b"\n", chunk_rows)
    assert rows == {"r1": 1, "r4": 3}
    assert bad == {2: "not valid JSON"}


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_ndjson_lines_keep_their_numbers_across_blank_lines_and_read_blocks(monkeypatch, chunk_rows, newline):
    import json

    from segwork.ingestion import jsonfile

    monkeypatch.setattr(jsonfile, "NDJSON_BLOCK_BYTES", 50)  # lines run over several read blocks
    lines = [json.dumps(event(f"r{i}")) if i % 4 else ["", "  ", "\t", "[1]"][i // 4 % 4] for i in range(1, 30)]
    rows, bad = read_ndjson(newline.join(lines).encode(), chunk_rows)  # no line break at the end
    assert rows == {f"r{i}": i for i in range(1, 30) if i % 4}
    assert bad == {12: "not a JSON object", 28: "not a JSON object"}


def deep_event(rid: str, levels: int) -> str:
    """A good event line plus a key the table does not have, an array nested `levels` deep (the line: levels + 1)."""
    head = json_line(event(rid))[:-1]
    return head + ', "payload": ' + "[" * levels + "]" * levels + "}"


def json_line(record: dict) -> str:
    import json

    return json.dumps(record)


@pytest.mark.engine_paths("embedded")
@pytest.mark.parametrize("levels", [64, 100, 3000])
def test_an_ndjson_line_nested_too_deep_is_quarantined_and_the_rest_goes_in(client, monkeypatch, levels):
    import pyarrow.json as pajson

    seen = []
    read_json = pajson.read_json
    monkeypatch.setattr(pajson, "read_json", lambda source, *a, **k: seen.append(source.getvalue()) or read_json(source, *a, **k))
    lines = [json_line(event("ok1")), deep_event("deep", levels), json_line(event("ok2")), deep_event("fine", 63)]
    report = segwork.ingest(client, "customer_events", "\n".join(lines).encode(), format="ndjson")
    assert (report.rows_read, report.inserted, report.quarantined) == (4, 3, 1)
    assert dict(report.reasons) == {"nested deeper than 64 levels": 1}
    q = overview.quarantine(client, "customer_events")
    assert list(q.c__row) == [2] and list(q.c__error) == [["nested deeper than 64 levels"]]
    assert list(q.c__raw) == [lines[1][:2000]]
    assert not any(b"[" * 65 in body for body in seen)  # pyarrow never saw the deep line


def test_a_line_nested_20000_deep_does_not_kill_the_process(tmp_path):
    """It did: pyarrow's JSON reader overflowed its stack (SIGSEGV)."""
    import subprocess
    import sys

    path = tmp_path / "deep.ndjson"
    path.write_text(json_line(event("ok")) + "\n" + deep_event("deep", 20_000) + "\n")
    script = ("import segwork, sys; c = segwork.connect('chdb://memory', database='deep'); "
              "r = segwork.ingest(c, 'customer_events', sys.argv[1]); print(r.inserted, r.quarantined)")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1"]


def test_a_json_array_nested_too_deep_is_refused_whole(client):
    import json

    records = [event("ok1"), {**event("deep"), "payload": json.loads("[" * 64 + "]" * 64)}]
    with pytest.raises(segwork.InputFileError, match="a record in it is nested deeper than 64 levels"):
        segwork.ingest(client, "customer_events", json.dumps(records).encode(), format="json")
    records[1]["payload"] = json.loads("[" * 63 + "]" * 63)  # the record: 64 levels, allowed
    report = segwork.ingest(client, "customer_events", json.dumps(records).encode(), format="json")
    assert (report.inserted, report.quarantined) == (2, 0)
    with pytest.raises(segwork.InputFileError, match="nested deeper than 64 levels"):
        segwork.ingest(client, "customer_events", b"[" * 3000 + b"]" * 3000, format="json")


def test_every_parser_failure_of_a_record_is_quarantined_never_raised(client):
    """A number of 5,000 digits is a ValueError from Python's json (not a JSONDecodeError)."""
    import json

    huge = "1" * 5000
    lines = [json_line(event("ok")), json_line(event("digits"))[:-1] + f', "event_value": {huge}}}', "[" * 2000 + "]" * 2000]
    report = segwork.ingest(client, "customer_events", "\n".join(lines).encode(), format="ndjson")
    assert (report.rows_read, report.inserted, report.quarantined) == (3, 1, 2)
    reasons = dict(report.reasons)
    assert reasons["nested deeper than 64 levels"] == 1 and reasons["not valid JSON"] == 1
    with pytest.raises(segwork.InputFileError, match="cannot be read as JSON"):
        segwork.ingest(client, "customer_events", json.dumps([event("a")])[:-2].encode() + f', "event_value": {huge}}}]'.encode(),
                       format="json")


@pytest.mark.parametrize("mixed", [False, True], ids=["arrow", "line by line"])
def test_objects_arrays_and_booleans_in_text_columns_are_quarantined_not_stored_as_python_text(client, mixed):
    """All lines alike go through pyarrow (list, struct and bool columns); mixed ones line by line."""
    lines = [json_line(event("arr", product_id=[1, [2]], category={"a": {"b": [1]}}, customer_id=True)),
             json_line(event("arr2", product_id=[3], category={"a": {"b": []}}, customer_id=False))]
    if mixed:
        lines.append(json_line(event("text", product_id="p1", category="c", customer_id=17850)))
    report = segwork.ingest(client, "customer_events", "\n".join(lines).encode(), format="ndjson")
    assert (report.inserted, report.quarantined) == (int(mixed), 2)
    assert dict(report.reasons) == {"product_id: is not text (got an array)": 2, "category: is not text (got an object)": 2,
                                    "customer_id: is not text (got a boolean)": 2}
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.product_id) == ["[1, [2]]", "[3]"] and list(q.category) == ['{"a": {"b": [1]}}', '{"a": {"b": []}}']
    assert list(q.customer_id) == ["true", "false"]
    stored = client.query("SELECT event_id, customer_id, product_id, category FROM customer_events").result_rows
    assert stored == ([("text", "17850", "p1", "c")] if mixed else [])


@pytest.mark.parametrize("broken_line", [False, True], ids=["arrow", "line by line"])
def test_an_ndjson_line_that_is_not_utf8_is_quarantined_and_the_rest_goes_in(client, broken_line):
    lines = [json_line(event("ok1")).encode(), json_line(event("bad", product_id="caf\x00")).encode().replace(b"\\u0000", b"\xe9"),
             json_line(event("ok2")).encode(), b'{"event_id": "sur\\udc80", "customer_id": "c1", "event_type": "login", "timestamp": "%s"}'
             % TIME.encode()] + ([b"{broken"] if broken_line else [])
    report = segwork.ingest(client, "customer_events", b"\n".join(lines), format="ndjson")
    assert (report.rows_read, report.inserted, report.quarantined) == (4 + broken_line, 2, 2 + broken_line)
    assert dict(report.reasons)["not valid UTF-8"] == 2
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.c__row)[:2] == [2, 4]
    assert list(q.c__raw)[0] == lines[1].decode("utf-8", "replace") and "\ufffd" in list(q.c__raw)[0]
    at = lines[1].index(b"\xe9") + 1
    assert list(q.c__error)[0] == [f"not valid UTF-8 (byte 0xe9 at byte {at} of the line); save it as UTF-8, or say its "
                                   "encoding (latin-1 or cp1252: `--encoding cp1252` on the command line, "
                                   "`dialect=Dialect(encoding='cp1252')` in Python)"]
    assert sorted(r[0] for r in client.query("SELECT event_id FROM customer_events").result_rows) == ["ok1", "ok2"]


@pytest.mark.parametrize("block_bytes", [40, 1 << 20])
def test_a_csv_record_that_is_not_utf8_is_quarantined_and_the_rest_goes_in(client, tmp_path, monkeypatch, block_bytes):
    """The whole file was refused ("not UTF-8 text"), also for one bad byte in a broken line."""
    monkeypatch.setattr(csvfile, "CSV_BLOCK_BYTES", block_bytes)
    text = "\n".join([HEADER, good("r1"), good("r2", "caf\udce9"), good("r3"), good("r4", '"two\nlin\udce9s"'), good("r5"),
                      "r6,br\udcffoken", good("r7", "\udce9"), good("r8")]) + "\n"
    path = tmp_path / "e.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))  # \udcXX: the byte XX alone, not UTF-8
    report = segwork.ingest(client, "customer_events", path, dialect=segwork.Dialect(encoding="utf-8"))
    assert (report.rows_read, report.inserted, report.quarantined) == (8, 4, 4)
    assert dict(report.reasons) == {"not valid UTF-8": 4}
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.c__row) == [3, 5, 8, 9]
    assert list(q.c__raw) == [good("r2", "caf\ufffd"), good("r4", '"two\nlin\ufffds"'), "r6,br\ufffdoken", good("r7", "\ufffd")]
    stored = sorted(r[0] for r in client.query("SELECT event_id FROM customer_events").result_rows)
    assert stored == ["r1", "r3", "r5", "r8"]


def test_a_csv_header_that_is_not_utf8_is_refused_naming_the_line(client, tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(HEADER.replace("category", "cat\xe9gory").encode("latin-1") + b"\n" + good("r1").encode() + b"\n")
    with pytest.raises(segwork.InputFileError, match=r"line 1 \(the header\) is not UTF-8 text; save it as UTF-8, or say its encoding"):
        segwork.ingest(client, "customer_events", path, dialect=segwork.Dialect(encoding="utf-8"))


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_an_ndjson_line_longer_than_the_limit_is_quarantined_with_its_head(client, monkeypatch, block_bytes):
    from segwork.config import Settings
    from segwork.ingestion import jsonfile

    monkeypatch.setattr(jsonfile, "NDJSON_BLOCK_BYTES", block_bytes)
    long = json_line(event("long", category="x" * 5000))
    lines = [json_line(event("ok1")), long, "", json_line(event("ok2")), long[:-1]]  # the last: long, no line break
    settings = Settings(max_line_bytes=3000, chunk_rows=2)
    report = segwork.ingest(client, "customer_events", "\n".join(lines).encode(), format="ndjson", settings=settings)
    assert (report.rows_read, report.inserted, report.quarantined) == (4, 2, 2)
    assert dict(report.reasons) == {"line longer than 3,000 bytes": 2}
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.c__row) == [2, 5]
    assert list(q.c__raw) == [long[:2000]] * 2
    assert list(q.c__error)[0] == [f"line longer than 3,000 bytes ({len(long):,} bytes, its first 2,000 kept); "
                                   "split it, or raise SEGWORK_MAX_LINE_BYTES"]


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_a_csv_line_longer_than_the_limit_is_quarantined_and_so_is_the_record_it_is_inside(client, tmp_path, monkeypatch, block_bytes):
    from segwork.config import Settings

    monkeypatch.setattr(csvfile, "CSV_BLOCK_BYTES", block_bytes)
    x = "x" * 500
    text = "\n".join([HEADER, good("r1"), good("r2", x), good("r3"), good("r4", f'"a\n{x}\nb"'), good("r5"), good("r6", x)])
    path = tmp_path / "e.csv"
    path.write_text(text)  # the last line without a line break
    report = segwork.ingest(client, "customer_events", path, settings=Settings(max_line_bytes=300))
    assert (report.rows_read, report.inserted, report.quarantined) == (6, 3, 3)
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.c__row) == [3, 5, 9]
    assert list(q.c__raw) == [good("r2", x), 'r4,c1,purchase,1.5,p1,"a\n\nb",' + TIME, good("r6", x)]
    assert all(e[0].startswith("line longer than 300 bytes (") for e in q.c__error)
    with pytest.raises(segwork.InputFileError, match=r"line 1 \(the header\) is longer than 30 bytes"):
        segwork.ingest(client, "customer_events", path, settings=Settings(max_line_bytes=30))


def test_a_long_line_is_never_held_in_memory(client):
    """One 1 GiB line in a 1 MB gzip body took the API from 0.45 to 6.55 GB; here 200 MiB."""
    import gzip
    import tracemalloc
    import zlib

    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    head = json_line(event("long"))[:-1].encode() + b', "category": "'
    body = packer.compress(head) + b"".join(packer.compress(b"x" * (1 << 20)) for _ in range(200))
    body += packer.compress(b'"}\n' + json_line(event("ok")).encode() + b"\n") + packer.flush()
    assert len(body) < 1 << 20 and gzip.decompress(body)[-10:]
    tracemalloc.start()
    try:
        report = segwork.ingest(client, "customer_events", body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (report.inserted, report.quarantined) == (1, 1)
    assert peak < 64 << 20, f"{peak:,} bytes"


def test_quarantined_values_are_cut_to_2000_characters(client, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("\n".join([HEADER, good("r1", "y" * 50_000)]) + "\n")
    report = segwork.ingest(client, "customer_events", path)
    assert report.quarantined == 1 and dict(report.reasons) == {"category: has the wrong length (empty or too long)": 1}
    assert list(overview.quarantine(client, "customer_events").category) == ["y" * 2000]


def test_broken_records_are_not_gathered_without_bound():
    """A file of only broken lines was held whole: chunks closed on good rows alone."""
    text = "\n".join([HEADER] + [f"b{i},few" for i in range(2500)] + [good("r1")]) + "\n"
    src = readers.open_source(text.encode(), "csv")
    read = list(readers.read_chunks(src, EVENTS, 1000))
    assert max(len(c.frame) + len(c.bad) for c in read) <= 1000 + 1
    assert sum(len(c.bad) for c in read) == 2500 and sum(len(c.frame) for c in read) == 1
    again = list(readers.rechunk(iter(read), 1000))
    assert [len(c.bad) for c in again] == [1000, 1000, 500] and [len(c.frame) for c in again] == [0, 0, 1]


def test_blank_ndjson_lines_make_no_chunks():
    import json

    data = ("\n" * 5000 + " \t\n" * 5000 + "\x0b\n").encode()
    assert list(readers.read_chunks(readers.open_source(data, "ndjson"), EVENTS, 1000)) == []
    rows, bad = read_ndjson(data + json.dumps(event("r1")).encode(), 1000)
    assert rows == {"r1": 10_002} and bad == {}


def test_a_json_array_bigger_than_the_limit_is_refused_before_it_is_parsed(client):
    """A JSON array is parsed whole, into objects several times its size: a 4 GB upload would be."""
    import json

    from segwork.config import Settings

    data = json.dumps([event(f"r{i}") for i in range(100)]).encode()
    with pytest.raises(segwork.InputTooLargeError, match="a JSON array .* is read whole, and this one is larger than 1,000 bytes"):
        segwork.ingest(client, "customer_events", data, format="json", settings=Settings(max_json_document_bytes=1000))
    assert segwork.ingest(client, "customer_events", data, format="json", settings=Settings(max_json_document_bytes=len(data))).inserted == 100
