"""Hostile input through segwork.ingest, generated from seeds: random bytes, nesting, encodings,
gzip layers, formats and truncations. Whatever comes in, ingest either refuses it with a
segwork error or returns a report that adds up (rows_read = inserted + duplicates +
quarantined) and matches what the tables gained; it never raises anything else, never kills
the process and never hangs (a watchdog ends the run with every thread's stack after
WATCHDOG_S). A failure names the seed and case to replay: FUZZ_CASE=seed:case."""
from __future__ import annotations

import csv
import faulthandler
import gzip
import io
import json
import os
import random
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import segwork
from segwork.config import Settings
from segwork.schemas import TABLES, columns

SEEDS = range(4)
CASES = 40  # per seed: about 20-30 s in all on the embedded engine
WATCHDOG_S = 300
TIME = "2024-05-01 12:00:00"
WORDS = ["p1", "", " ", "ünï cødé", "NaN", "null", "=1+1", "a,b", 'say "hi"', "two\nlines", "\t", "x" * 300, "💥", "\\"]


def scalar(rng: random.Random):
    return rng.choice([rng.choice(WORDS), rng.randint(-5, 10**6), rng.random() * 1e3, True, False, None, float("nan"),
                       float("inf"), "1" * rng.choice([5, 400]), TIME, "2024-02-30 00:00:00", "9" * 30])


def nested(rng: random.Random, depth: int):
    value = scalar(rng)
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def value(rng: random.Random, kind: str):
    """A value for a column of this kind: mostly fitting, sometimes anything."""
    roll = rng.random()
    if roll < 0.7:
        return {"id": f"e{rng.randint(0, 400)}", "text": rng.choice(WORDS), "type": rng.choice(["purchase", "login", "Page_View"]),
                "float": round(rng.random() * 100, 2), "int": rng.randint(1, 120), "time": TIME}[kind]
    if roll < 0.9:
        return scalar(rng)
    return nested(rng, rng.choice([1, 3, 10, 70, 300]))


def records(rng: random.Random, table: str) -> list[dict]:
    kinds = TABLES[table]["kinds"]
    out = []
    for _ in range(rng.randint(0, 60)):
        record = {c: value(rng, k) for c, k in kinds.items() if rng.random() < 0.95}
        if rng.random() < 0.1:
            record["extra"] = nested(rng, rng.choice([0, 5, 100]))
        out.append(record)
    return out


def ndjson_lines(rng: random.Random, recs: list[dict]) -> list[str]:
    lines = [json.dumps(r, ensure_ascii=rng.random() < 0.5) for r in recs]
    for _ in range(rng.randint(0, 6)):
        at = rng.randint(0, len(lines))
        lines.insert(at, rng.choice(["", "   ", "{broken", "[1, 2]", "null", '"text"', "\t{}", '{"a": "\\udc80"}',
                                     "[" * rng.choice([65, 1000, 5000]) + "]" * rng.choice([0, 65, 5000]),
                                     json.dumps(recs[0] if recs else {}) * 2, '{"event_id": "' + "y" * 3000 + '"}']))
    return lines


def csv_text(rng: random.Random, table: str, recs: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=rng.choice(["\n", "\r\n"]))
    header = columns(table) if rng.random() < 0.9 else columns(table)[:2] + ["other"]
    writer.writerow(header)
    for r in recs:
        writer.writerow([json.dumps(v) if isinstance(v, (list, dict)) else ("" if v is None else v) for v in (r.get(c) for c in header)])
    text = out.getvalue()
    lines = text.split("\n")
    for _ in range(rng.randint(0, 4)):
        lines.insert(rng.randint(1, len(lines)), rng.choice(["", "  ", "few,fields", '"open quote', "a," * 20, "z" * 2500]))
    return "\n".join(lines)


def parquet_bytes(recs: list[dict], table: str) -> bytes:
    frame = {c: [None if r.get(c) is None else str(r.get(c)) for r in recs] for c in columns(table)}
    sink = io.BytesIO()
    pq.write_table(pa.table(frame, schema=pa.schema([(c, pa.string()) for c in frame])), sink)
    return sink.getvalue()


def encode(rng: random.Random, text: str) -> bytes:
    how = rng.choices(["utf-8", "latin-1", "utf-16", "bad bytes"], [0.6, 0.15, 0.1, 0.15])[0]
    if how == "bad bytes":
        data = bytearray(text.encode("utf-8", "surrogatepass"))
        for _ in range(rng.randint(1, 5)):
            data.insert(rng.randint(0, len(data)), rng.choice([0xFF, 0xC3, 0x80, 0xED, 0xF0]))
        return bytes(data)
    return text.encode(how, "replace") if how != "utf-8" else text.encode("utf-8", "surrogatepass")


def case(rng: random.Random) -> tuple[str, bytes, bytes, str | None, str, Settings]:
    """(table, input bytes, the same before gzip, format given or None, source name, settings) of one hostile input."""
    table = rng.choice(list(TABLES))
    recs = records(rng, table)
    fmt = rng.choice(["ndjson", "ndjson", "csv", "csv", "json", "parquet", "bytes"])
    if fmt == "ndjson":
        data = encode(rng, "\n".join(ndjson_lines(rng, recs)) + rng.choice(["", "\n"]))
    elif fmt == "csv":
        data = encode(rng, csv_text(rng, table, recs))
    elif fmt == "json":
        data = encode(rng, json.dumps(nested(rng, rng.choice([0, 70])) if rng.random() < 0.1 else recs))
    elif fmt == "parquet":
        data = parquet_bytes(recs, table)
    else:
        data = rng.choice([b"", b"PAR1", b"\x1f\x8b", b"{", b"["]) + rng.randbytes(rng.randint(0, 3000))
    if rng.random() < 0.2:
        data = data[:rng.randint(0, len(data))]
    plain = data
    for _ in range(rng.choices([0, 1, 2, 3], [0.55, 0.25, 0.1, 0.1])[0]):
        data = gzip.compress(data)
    if rng.random() < 0.05:
        data = data[:rng.randint(0, len(data))]  # a truncated gzip stream
    given = rng.choice([None, None, fmt if fmt != "bytes" else None, rng.choice(["csv", "ndjson", "json", "parquet"])])
    name = rng.choice(["upload", f"in.{fmt}", f"in.{fmt}.gz", "in.txt"])
    settings = Settings(
        dsn="chdb://memory", chunk_rows=rng.choice([3, 17, 1000]), insert_rows=rng.choice([5, 2000]),
        max_json_depth=rng.choice([4, 64]), max_line_bytes=rng.choice([300, 4000, 1 << 20]),
        max_inflated_bytes=rng.choice([2_000, 50_000, 1 << 20]), max_json_document_bytes=rng.choice([3_000, 1 << 20]),
    )
    return table, data, plain, given, name, settings


def records_in(plain: bytes, fmt: str, max_line: int) -> int | None:
    """How many records an input holds, counted without segwork's readers (None: not counted)."""
    if fmt == "ndjson":  # every line with more than white space, whatever it holds
        return sum(1 for line in plain.split(b"\n") if line.strip())
    if fmt == "csv" and max(map(len, plain.split(b"\n"))) <= max_line:
        # Python's csv module; empty and white-space-only lines are no records. Not with a line over
        # the limit: it is left out, and when it held a quote, what follows reads otherwise.
        text = plain.decode("utf-8", "replace").removeprefix("\ufeff")
        try:
            rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r and not (len(r) == 1 and not r[0].strip())]
        except csv.Error:
            return None
        return max(len(rows) - 1, 0)
    return None


def counts(client, import_id: str | None = None) -> dict[str, int]:
    got = {"customer_events": int(client.command("SELECT count() FROM customer_events"))}
    for table in TABLES:
        got[f"{table}_quarantine"] = int(client.command(f"SELECT count() FROM {table}_quarantine WHERE c__import_id = %(id)s",
                                                        parameters={"id": import_id or ""}))
    return got


@pytest.fixture
def watchdog():
    """End the run, printing every thread's stack, if a case hangs."""
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.engine_paths("embedded")
@pytest.mark.parametrize("seed", SEEDS)
def test_hostile_input_is_refused_or_accounted_for(client, watchdog, seed):
    only = os.environ.get("FUZZ_CASE")
    outcomes = {"refused": 0, "read": 0}
    for number in range(CASES):
        rng = random.Random(seed * 100_003 + number)
        if only and only != f"{seed}:{number}":
            continue
        table, data, plain, given, name, settings = case(rng)
        where = f"seed {seed}, case {number} (FUZZ_CASE={seed}:{number}): {table}, {len(data)} bytes, format {given}, {name}"
        events_before = counts(client)["customer_events"]
        started = time.perf_counter()
        try:
            report = segwork.ingest(client, table, data, format=given, settings=settings, source_name=name)
        except segwork.SegworkError:
            outcomes["refused"] += 1
            continue
        except BaseException as exc:
            raise AssertionError(f"{where}: {exc.__class__.__name__} escaped ingest") from exc
        outcomes["read"] += 1
        assert report.rows_read == report.inserted + report.duplicates + report.quarantined, where
        expected = records_in(plain, report.format, settings.max_line_bytes)
        assert expected is None or report.rows_read == expected, f"{where}: {report.rows_read} read, {expected} in it"
        after = counts(client, report.ingest_id)
        assert after[f"{table}_quarantine"] == report.quarantined, where  # every quarantined record is stored
        if table == "customer_events":  # customers merge their versions away: no exact count to compare
            assert after["customer_events"] - events_before == report.inserted, where
        assert time.perf_counter() - started < WATCHDOG_S, where
    assert only or (outcomes["refused"] and outcomes["read"]), outcomes  # the generator makes both kinds
