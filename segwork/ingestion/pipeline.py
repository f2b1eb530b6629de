"""read -> validate -> insert good rows, quarantine bad ones -> report.

Nothing is dropped silently: every record read is inserted, recognised as a duplicate of
one stored before (segwork.ingestion.dedup's rules: an event_id is stored once), or quarantined with
its reasons; rows_read == inserted + duplicates + quarantined. Every ingest is logged
(segwork.ingestion.ingestlog) before its first insert, so an interrupted one leaves a trace.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa_arrow
from clickhouse_connect.driver.client import Client

from segwork.config import Settings
from segwork.errors import InputFileError, SegworkError
from segwork.ingestion import ingestlog, mapped, read as readers
from segwork.ingestion.dialect import Dialect, check_applies
from segwork.ingestion.parse import parse_chunk
from segwork.ingestion.quarantine import quarantine_rows
from segwork.ingestion.report import IngestReport, Progress
from segwork.ingestion.validate import to_arrow, validate
from segwork.ingestion.write import Inserter, write_blocks
from segwork.schemas import TABLES, columns


def ingest(client: Client, table: str, source, *, format: str | None = None, settings: Settings | None = None,
           progress: Progress | None = None, source_name: str | None = None, mapping=None,
           dialect: Dialect | None = None) -> IngestReport:
    """Validate and load a path, file-like object, bytes or DataFrame into `table`; with a
    `mapping` (a segwork.mapping.Mapping or the name of a saved one) the file's own columns
    are mapped onto the table first, and its profiles derived when the mapping says so.
    `dialect` gives what is known of the file's writing (delimiter, decimal mark, encoding,
    sheet; default: what the mapping's `read` says); the rest is found out (segwork.ingestion.dialect)."""
    if table not in TABLES:
        raise SegworkError(f"unknown table {table!r}; use one of: {', '.join(TABLES)}")
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    mapping = mapped.resolve(client, mapping, table)
    wanted = mapping.source_columns() if mapping else columns(table)
    if dialect is None and mapping is not None and mapping.read:  # a saved mapping remembers how its files are written
        dialect = mapped.dialect_of(mapping)
    decimal = (dialect or Dialect()).decimal
    if isinstance(source, pd.DataFrame):
        check_applies(replace(dialect or Dialect(), decimal="."), "dataframe", source_name or "<DataFrame>")
        src, chunks = None, readers.frame_chunks(source, settings.chunk_rows)
        report = IngestReport(uuid.uuid4().hex, table, source_name or "<DataFrame>", "dataframe")
        header = list(source.columns)
    else:
        src = readers.open_source(source, format, source_name, settings, dialect)
        src.headerless_table = None if mapping else table  # a mapping maps named columns: its files need a header
        chunks = readers.rechunk(readers.read_chunks(src, wanted, settings.chunk_rows), settings.chunk_rows)
        report = IngestReport(uuid.uuid4().hex, table, src.name, src.format)
        report.dialect = "" if src.dialect.plain else src.dialect.describe(src.detected)
        header = None
    report.mapping = mapping.name if mapping else None
    reasons: Counter = Counter()
    inserter = Inserter()
    gathered = _Gathered(client, table, report, inserter, settings.insert_rows)
    step = None
    try:
        for i, chunk in enumerate(chunks):
            if i == 0 and mapping:
                step = mapped.Step(mapping, report.source + _sheet_words(src), header if header is not None else _present(chunk),
                                   decimal=decimal)
            elif i == 0:
                report.notes = list(src.notes) if src else []
                report.ignored_columns = check_columns(table, report.source + _sheet_words(src), header, chunk, src)
            _load_chunk(table, chunk, report, reasons, gathered, step, decimal)
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
            src.close()
    gathered.settle()
    if report.rows_read == 0:
        raise InputFileError(f"{report.source}{_sheet_words(src)}: has no data rows; nothing was inserted")
    report.reasons = reasons.most_common(10)
    report.elapsed_s = time.perf_counter() - started
    ingestlog.log(client, report, "finished")
    if step is not None and step.profiles is not None:
        report.profiles = ingest(client, "customers", step.profiles.frame(client, settings), settings=settings,
                                 source_name=f"{report.source} (profile versions derived from its events)")
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


def _sheet_words(src) -> str:
    """Which sheet of a workbook was read, and its other sheets, for messages."""
    if src is None or src.format != "xlsx":
        return ""
    others = [s for s in src.sheets if s != src.dialect.sheet]
    return f" (sheet {src.dialect.sheet!r}" + (f"; its other sheets: {', '.join(map(repr, others))}" if others else "") + ")"


def _present(chunk: readers.RawChunk) -> list[str]:
    return [c for c in (chunk.seen if chunk.seen is not None else list(chunk.frame.columns)) if c != "__row"]


def check_columns(table: str, name: str, header, chunk: readers.RawChunk, src) -> list[str]:
    """The input's columns not in `table` (ignored); refuses an input without a required column."""
    present = [c for c in header if c != "__row"] if header is not None else _present(chunk)
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
    recognised chunk by chunk (write.write_blocks). Quarantined rows go with the insert of their
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
                gathered: _Gathered, step: "mapped.Step | None" = None, decimal: str = ".") -> None:
    frame = chunk.frame
    rows = frame.pop("__row").to_numpy() if "__row" in frame.columns else None
    n = len(frame)
    report.rows_read += n + len(chunk.bad)
    row_numbers = rows if rows is not None else np.arange(chunk.first_row, chunk.first_row + n)
    if step is not None:
        frame, mapping_errors, originals = step.apply(frame, row_numbers)
    parsed = parse_chunk(table, frame, decimal)
    if step is not None:
        mapped.merge_errors(parsed, mapping_errors)
    failures = validate(table, parsed)
    bad_pos = sorted(failures)
    good = parsed.typed.drop(index=bad_pos) if bad_pos else parsed.typed
    block = to_arrow(table, good) if len(good) else None
    if step is not None:
        step.keep_good(good.index.to_numpy(), good)
    quarantine = quarantine_rows(table, parsed, failures, bad_pos, row_numbers, chunk.bad, report, gathered.occurrences,
                                 originals=originals if step is not None else None)
    gathered.add(block, quarantine)
    for pos in bad_pos:
        for _, reason, _ in failures[pos]:
            reasons[reason] += 1
    for rec in chunk.bad:
        reasons[rec.reason.split(" (", 1)[0]] += 1
    report.quarantined += len(bad_pos) + len(chunk.bad)


