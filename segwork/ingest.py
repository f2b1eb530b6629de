"""read -> validate -> insert good rows, quarantine bad ones -> report.

Nothing is dropped silently: every record read is inserted, recognised as a duplicate of
one stored before (segwork.dedup's rules: an event_id is stored once), or quarantined with
its reasons; rows_read == inserted + duplicates + quarantined. Every ingest is logged
(segwork.ingestlog) before its first insert, so an interrupted one leaves a trace.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
from clickhouse_connect.driver.client import Client

from segwork import db, dedup, ingestlog, readers
from segwork.insert import Inserter, content_token, insert
from segwork.config import Settings
from segwork.errors import InputFileError, SegworkError
from segwork.parse import Parsed, parse_chunk
from segwork.schemas import TABLES, columns, describe_failure

Progress = Callable[[int, float | None], None]  # (records read so far, fraction done or None)

_ARROW_TYPES = {"id": pa_arrow.string(), "text": pa_arrow.string(), "type": pa_arrow.string(),
                "float": pa_arrow.float64(), "int": pa_arrow.int32(), "time": pa_arrow.timestamp("s", tz="UTC")}


@dataclass
class IngestReport:
    """What happened to every record of one ingest; rows_read == inserted + duplicates + quarantined."""

    ingest_id: str
    table: str
    source: str
    format: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0  # rows already stored, and bad records already in quarantine (known_bad of them)
    quarantined: int = 0
    known_bad: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def accepted(self) -> int:
        """Rows now in the table because of this ingest or an identical earlier one."""
        return self.inserted + self.duplicates

    def as_dict(self) -> dict:
        """JSON-ready form (for the API and `--format json`)."""
        d = asdict(self)
        d["started_at"] = self.started_at.isoformat()
        d["reasons"] = [{"reason": r, "rows": n} for r, n in self.reasons]
        return d

    def _known_bad_words(self) -> str:
        return f"; {self.known_bad:,} of them bad rows already quarantined" if self.known_bad else ""

    def summary(self) -> str:
        """A few human lines."""
        lines = [
            f"{self.source} -> {self.table}: {self.rows_read:,} rows read, {self.inserted:,} inserted, "
            f"{self.duplicates:,} already present (skipped{self._known_bad_words()}), {self.quarantined:,} quarantined "
            f"in {self.elapsed_s:.2f} s (ingest id {self.ingest_id})"
        ]
        for reason, n in self.reasons:
            lines.append(f"  {n:>8,}  {reason}")
        if self.ignored_columns:
            lines.append(f"  ignored columns not in {self.table}: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


def ingest(client: Client, table: str, source, *, format: str | None = None, settings: Settings | None = None,
           progress: Progress | None = None, source_name: str | None = None) -> IngestReport:
    """Validate and load a path, file-like object, bytes or DataFrame into `table`."""
    if table not in TABLES:
        raise SegworkError(f"unknown table {table!r}; use one of: {', '.join(TABLES)}")
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    wanted = columns(table)
    if isinstance(source, pd.DataFrame):
        src, chunks = None, readers.frame_chunks(source, settings.chunk_rows)
        report = IngestReport(uuid.uuid4().hex, table, source_name or "<DataFrame>", "dataframe")
        header = list(source.columns)
    else:
        src = readers.open_source(source, format, source_name)
        chunks = readers.rechunk(readers.read_chunks(src, wanted, settings.chunk_rows), settings.chunk_rows)
        report = IngestReport(uuid.uuid4().hex, table, src.name, src.format)
        header = None
    reasons: Counter = Counter()
    inserter = Inserter()
    gathered = _Gathered(client, table, report, inserter, settings.insert_rows)
    try:
        for i, chunk in enumerate(chunks):
            if i == 0:
                report.ignored_columns = _check_columns(table, report.source, header, chunk, src)
            _load_chunk(table, chunk, report, reasons, gathered)
            if progress:
                done = readers.bytes_done(src) if src else None
                fraction = min(done / src.size, 1.0) if src and src.size and done is not None else (
                    None if src else report.rows_read / max(len(source), 1))
                progress(report.rows_read, fraction)
        gathered.flush()
        inserter.wait()
    except BaseException as exc:
        _stop(client, gathered, inserter, report, exc)
        raise _explained(exc, report) from exc
    finally:
        inserter.close()
        if src is not None:
            src.stream.close()
    gathered.settle()
    if report.rows_read == 0:
        raise InputFileError(f"{report.source}: has no data rows; nothing was inserted")
    report.reasons = reasons.most_common(10)
    report.elapsed_s = time.perf_counter() - started
    ingestlog.log(client, report, "finished")
    return report


def _stop(client: Client, gathered: "_Gathered", inserter: Inserter, report: IngestReport, exc: BaseException) -> None:
    """After a failure: the rows gathered for the next insert do not go in; the insert in
    flight is finished; the ingest is logged 'failed' with what is in (when it had begun)."""
    gathered.discard()
    try:
        inserter.wait()
    except Exception:  # noqa: BLE001 - the first failure is the one reported
        pass
    gathered.settle()
    if gathered.logged and not isinstance(exc, KeyboardInterrupt):
        try:
            ingestlog.log(client, report, "failed", str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
        except SegworkError:
            pass  # the engine is gone: the 'started'/'running' row already tells the story


def _explained(exc: BaseException, report: IngestReport) -> BaseException:
    """The error to raise: for a segwork error after rows were read, what is in and how to finish."""
    if not isinstance(exc, SegworkError) or not report.rows_read:
        return exc
    cls = type(exc) if isinstance(exc, InputFileError) else SegworkError
    return cls(
        f"{exc} — after {report.rows_read:,} rows had been read, {report.inserted:,} inserted, "
        f"{report.duplicates:,} already present and {report.quarantined:,} quarantined (ingest id {report.ingest_id}). "
        "Fix the cause and ingest the same input again: the rows already in are recognised and skipped, the rest go in once."
    )


def _check_columns(table: str, name: str, header, chunk: readers.RawChunk, src) -> list[str]:
    present = header if header is not None else (chunk.seen if chunk.seen is not None else list(chunk.frame.columns))
    present = [c for c in present if c != "__row"]
    if src is not None and src.format in ("ndjson", "json") and not present and chunk.bad:
        return []  # every record broken: each is quarantined with its reason
    missing = [c for c in TABLES[table]["required"] if c not in present]
    if missing and (header is not None or len(chunk.frame)):
        raise InputFileError(
            f"{name}: missing required column(s) {', '.join(missing)} for table {table}; "
            f"found: {', '.join(present) or 'none'}. A {table} file needs at least "
            f"{', '.join(TABLES[table]['required'])} (all columns: {', '.join(columns(table))})."
        )
    return [c for c in present if c not in columns(table)]


def next_insert_target(rows: int, insert_rows: int) -> int:
    """Good rows that make the insert after one of `rows` rows: twice as many, at most
    insert_rows (the first insert is the first chunk alone)."""
    return min(2 * rows, insert_rows)


class _Gathered:
    """Validated blocks waiting to go in together. The engine writes one part per month an
    insert touches, so four 250k-row inserts cost it about twice one 1M-row insert
    (bench/RESULTS.md); yet the engine should start early, while Python validates on. So
    the first insert takes the first chunk alone, and each next one up to twice the rows of
    the one before, at most `insert_rows` (chunks of 250k: 250k, 500k, 1M, 1M, ...). The
    sizes depend only on the file and the settings, never on timing. A re-ingest is
    recognised chunk by chunk (_insert_blocks). Quarantined rows go with the insert of their
    chunk's good rows."""

    def __init__(self, client: Client, table: str, report: IngestReport, inserter: Inserter, insert_rows: int):
        self.client, self.table, self.report, self.inserter = client, table, report, inserter
        self.insert_rows = max(int(insert_rows), 1)
        self.target = 1  # good rows that make the next insert
        self.blocks: list[pa_arrow.Table] = []
        self.quarantine: list[pa_arrow.Table] = []
        self.rows = 0
        self.logged = False  # the ingest's 'started' row is written (by the first insert job)
        self.known_bad = 0  # bad records found already in quarantine (worker thread; see settle)
        self.occurrences: dict[str, int] = {}  # identical bad records so far (for their tokens)

    def add(self, block: pa_arrow.Table | None, quarantine: pa_arrow.Table | None) -> None:
        if block is not None:
            self.blocks.append(block)
            self.rows += block.num_rows
        if quarantine is not None:
            self.quarantine.append(quarantine)
        if self.rows >= self.target:
            self.target = next_insert_target(self.rows, self.insert_rows)
            self.flush()

    def discard(self) -> None:
        """Drop what is gathered (a read error ends the file early): the error then reports
        the rows of whole inserts only; re-ingesting the fixed file adds the rest."""
        self.blocks, self.quarantine, self.rows = [], [], 0

    def flush(self) -> None:
        """Hand what is gathered to the inserter (which first finishes the insert before)."""
        if not self.blocks and not self.quarantine:
            return
        blocks = self.blocks
        quarantine = pa_arrow.concat_tables(self.quarantine) if self.quarantine else None
        self.blocks, self.quarantine, self.rows = [], [], 0
        self.inserter.submit(lambda: self._write(blocks, quarantine))

    def _write(self, blocks: list[pa_arrow.Table], quarantine: pa_arrow.Table | None) -> None:
        """One insert job (worker thread): log the state before it, then write."""
        ingestlog.log(self.client, self.report, "running" if self.logged else "started")
        self.logged = True
        self.known_bad += write_blocks(self.client, self.table, blocks, quarantine, self.report)

    def settle(self) -> None:
        """Count bad records that were in quarantine already as duplicates (main thread, after
        the worker is done)."""
        self.report.quarantined -= self.known_bad
        self.report.duplicates += self.known_bad
        self.report.known_bad += self.known_bad
        self.known_bad = 0


def _load_chunk(table: str, chunk: readers.RawChunk, report: IngestReport, reasons: Counter,
                gathered: _Gathered) -> None:
    frame = chunk.frame
    rows = frame.pop("__row").to_numpy() if "__row" in frame.columns else None
    n = len(frame)
    report.rows_read += n + len(chunk.bad)
    row_numbers = rows if rows is not None else range(chunk.first_row, chunk.first_row + n)
    parsed = parse_chunk(table, frame)
    failures = _validate(table, parsed)
    bad_pos = sorted(failures)
    good = parsed.typed.drop(index=bad_pos) if bad_pos else parsed.typed
    block = _to_arrow(table, good) if len(good) else None
    quarantine = _quarantine_rows(table, parsed, failures, bad_pos, row_numbers, chunk.bad, report, gathered.occurrences)
    gathered.add(block, quarantine)
    for pos in bad_pos:
        for _, reason, _ in failures[pos]:
            reasons[reason] += 1
    for rec in chunk.bad:
        reasons[rec.reason.split(" (", 1)[0]] += 1
    report.quarantined += len(bad_pos) + len(chunk.bad)


def _validate(table: str, parsed: Parsed) -> dict[int, list[tuple[str, str, str]]]:
    failures = {pos: list(errs) for pos, errs in parsed.errors.items()}
    failed_cols = {(pos, col) for pos, errs in failures.items() for col, _, _ in errs}
    try:
        TABLES[table]["model"].validate(parsed.typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for col, check, value, pos in zip(cases["column"], cases["check"], cases["failure_case"], cases["index"]):
            if pos is None or pd.isna(pos):
                raise SegworkError(f"validation of {table} failed as a whole: {check} on {col}") from exc
            pos = int(pos)
            if (pos, col) in failed_cols:
                continue  # already reported as unparseable
            failed_cols.add((pos, col))
            reason, detail = describe_failure(str(col), str(check), value)
            failures.setdefault(pos, []).append((str(col), reason, detail))
    return failures


def write_blocks(client: Client, table: str, blocks: list[pa_arrow.Table], quarantine: pa_arrow.Table | None,
                 report: IngestReport) -> int:
    """Insert the gathered chunks' new rows in one insert and the bad records not quarantined
    before; returns how many bad records were (the caller counts them as duplicates).

    As the table's one writer in this process: a chunk whose content went in before is
    skipped whole (ingest_blocks; a re-ingest costs no lookups), then every row already
    stored (dedup's rules: event_id, or customer_id + timestamp) is left out and counted as
    a duplicate. Runs on the Inserter's thread."""
    with dedup.writer(client, table):
        if blocks:
            tokens = [content_token(table, b) for b in blocks]
            seen = {t for (t,) in db.query_rows(client, "ingest_blocks_seen", {"table_name": table, "tokens": tokens})}
            fresh: dict[str, pa_arrow.Table] = {}
            for block, token in zip(blocks, tokens):
                if token in seen or token in fresh:  # before, or twice in this insert
                    report.duplicates += block.num_rows
                else:
                    fresh[token] = block
            if fresh:
                data = pa_arrow.concat_tables(list(fresh.values())) if len(fresh) > 1 else next(iter(fresh.values()))
                new = _write_new(client, table, data)
                report.duplicates += data.num_rows - new
                report.inserted += new
                now = datetime.now(timezone.utc)
                insert(client, "ingest_blocks", pa_arrow.table({
                    "table_name": [table] * len(fresh), "token": list(fresh), "ingest_id": [report.ingest_id] * len(fresh),
                    "rows": pa_arrow.array([b.num_rows for b in fresh.values()], pa_arrow.uint64()),
                    "inserted_at": pa_arrow.array([now] * len(fresh), pa_arrow.timestamp("s", tz="UTC")),
                }), None)
        if quarantine is None:
            return 0
        known = dedup.quarantined_before(client, table, quarantine.column("c__token").to_pylist())
        if known:
            quarantine = quarantine.filter(pc.invert(pc.is_in(quarantine.column("c__token"), pa_arrow.array(sorted(known)))))
        if quarantine.num_rows:
            insert(client, f"{table}_quarantine", quarantine, None)
        return len(known)


def _write_new(client: Client, table: str, data: pa_arrow.Table) -> int:
    """Insert the rows of `data` not stored yet; returns how many went in."""
    try:
        if table == "customer_events":
            new, hashes = dedup.new_events(client, data)
        else:
            new, hashes = dedup.new_profiles(client, data), None
        if new.num_rows:
            insert(client, table, new, None)
        dedup.remember(client, hashes)
    except BaseException:
        dedup.forget(client)  # what went in is unknown: the index is reloaded next time
        raise
    return new.num_rows


def _to_arrow(table: str, frame: pd.DataFrame) -> pa_arrow.Table:
    """The good rows as the table's Arrow block, missing optional values filled (in Arrow)."""
    fill = TABLES[table]["fill"]
    arrays, names = [], []
    for column, kind in TABLES[table]["kinds"].items():
        series = frame[column]
        if kind == "time":
            arr = pa_arrow.array(series.dt.floor("s")).cast(_ARROW_TYPES[kind])
        elif kind == "int":
            arr = pa_arrow.array(series.fillna(fill.get(column, 0)).astype("int32").to_numpy(), pa_arrow.int32())
        else:
            arr = pa_arrow.array(series, _ARROW_TYPES[kind], from_pandas=True)
        if column in fill and arr.null_count:
            arr = pc.fill_null(arr, pa_arrow.scalar(fill[column], arr.type))
        arrays.append(arr)
        names.append(column)
    return pa_arrow.table(arrays, names=names)


def _quarantine_rows(table, parsed: Parsed, failures, bad_pos, row_numbers, bad_records, report,
                     occurrences: dict[str, int]) -> pa_arrow.Table | None:
    if not bad_pos and not bad_records:
        return None
    cols = columns(table)
    now = datetime.now(timezone.utc)
    text = parsed.raw_text(bad_pos)
    data = {c: list(text[c]) + [None] * len(bad_records) for c in cols}
    data["c__error_column"] = [[c for c, _, _ in failures[p]] for p in bad_pos] + [["*"]] * len(bad_records)
    data["c__error"] = [[d for _, _, d in failures[p]] for p in bad_pos] + [[r.reason] for r in bad_records]
    total = len(bad_pos) + len(bad_records)
    data["c__import_id"] = [report.ingest_id] * total
    data["c__source"] = [report.source] * total
    data["c__row"] = [int(row_numbers[p]) for p in bad_pos] + [r.row for r in bad_records]
    data["c__raw"] = [None] * len(bad_pos) + [r.text for r in bad_records]
    data["c__token"] = dedup.record_tokens(table, list(zip(*(data[c] for c in cols), data["c__raw"])), occurrences)
    data["insertion_date"] = [now] * total
    schema = pa_arrow.schema(
        [(c, pa_arrow.string()) for c in cols]
        + [("c__error_column", pa_arrow.list_(pa_arrow.string())), ("c__error", pa_arrow.list_(pa_arrow.string())),
           ("c__import_id", pa_arrow.string()), ("c__source", pa_arrow.string()), ("c__row", pa_arrow.uint64()),
           ("c__raw", pa_arrow.string()), ("c__token", pa_arrow.string()),
           ("insertion_date", pa_arrow.timestamp("s", tz="UTC"))]
    )
    return pa_arrow.table(data, schema=schema)
