"""Reading files into raw chunks: CSV records and their physical line numbers, blank lines,
broken lines, quoted values over several lines, CRLF, BOM, gzip, several read blocks."""
from __future__ import annotations

import gzip
import io
import random

import pyarrow.csv as pacsv
import pytest

import segwork
from segwork import overview, readers
from segwork.schemas import columns

EVENTS = columns("customer_events")
HEADER = ",".join(EVENTS)
TIME = "2024-05-01 12:00:00"


def good(rid: str, category: str = "cat") -> str:
    """A valid event line (category as given: quote it yourself when it needs quotes)."""
    return f"{rid},c1,purchase,1.5,p1,{category},{TIME}"


def read_csv(path, monkeypatch=None, block_bytes: int | None = None) -> tuple[dict, dict]:
    """({event_id: (line, category)} of the good rows, {event_id: (line, text, reason)} of the broken ones)."""
    if block_bytes is not None:
        monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", block_bytes)
    src = readers.open_source(path)
    rows, bad = {}, {}
    try:
        for chunk in readers.read_chunks(src, EVENTS, 7):
            frame = chunk.frame
            for line, rid, category in zip(frame["__row"], frame["event_id"], frame["category"]):
                assert rid not in rows and rid not in bad, f"{rid} read twice"
                rows[rid] = (int(line), category)
            for rec in chunk.bad:
                rid = rec.text.split(",", 1)[0].strip('"')
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


@pytest.mark.parametrize("block_bytes", [16, 50, 97, 200])
def test_line_numbers_run_on_across_read_blocks(tmp_path, monkeypatch, block_bytes):
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
    rows, bad = read_csv(write(tmp_path, text), monkeypatch, block_bytes)
    assert lines_of(rows, bad) == (want_rows, want_bad)
    assert rows["r1"][1] == "1\nwraps\nover"


def test_an_unterminated_quote_makes_one_broken_record_to_the_end_of_the_file(tmp_path, monkeypatch):
    text, want_rows, want_bad = build([("r1", good("r1"), True), ("r2", good("r2"), True),
                                       ("r3", 'r3,c1,"never closed', False), (None, good("r4"), False),
                                       (None, good("r5"), False)])
    rows, bad = read_csv(write(tmp_path, text), monkeypatch, 40)
    assert lines_of(rows, bad) == (want_rows, want_bad)
    assert bad["r3"][1].startswith('r3,c1,"never closed\nr4,')


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


@pytest.mark.parametrize("seed", range(40))
def test_random_files_every_record_once_on_its_own_line(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    text, want_rows, want_bad = build(random_parts(rng))
    path = write(tmp_path, text, bom=rng.random() < 0.3, gz=rng.random() < 0.3, newline=rng.choice(["\n", "\r\n"]))
    rows, bad = read_csv(path, monkeypatch, rng.choice([8, 33, 64, 150, 1 << 20]))
    assert lines_of(rows, bad) == (want_rows, want_bad)


def test_ingest_counts_every_record_and_quarantines_broken_lines_where_they_start(client, tmp_path, monkeypatch):
    text, want_rows, want_bad = build([
        ("r1", good("r1"), True), (None, "   ", False), ("r2", "r2,c1,few", False), ("r3", good("r3", '"a\nb"'), True),
        (None, "", False), ("r4", good("r4") + ",extra", False), ("r5", good("r5"), True),
    ])
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 64)
    report = segwork.ingest(client, "customer_events", write(tmp_path, text, newline="\r\n"))
    assert (report.rows_read, report.inserted, report.quarantined) == (5, 3, 2)
    assert report.rows_read == report.inserted + report.duplicates + report.quarantined
    q = overview.quarantine(client, "customer_events").sort_values("c__row")
    assert list(q.c__row) == [want_bad["r2"], want_bad["r4"]] == [4, 8]
    assert list(q.c__raw) == ["r2,c1,few", good("r4") + ",extra"]
    stored = client.query("SELECT event_id, category FROM customer_events ORDER BY event_id").result_rows
    assert stored == [("r1", "cat"), ("r3", "a\r\nb"), ("r5", "cat")]
