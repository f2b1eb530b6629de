"""Read CSV, NDJSON, JSON arrays, Parquet (optionally gzipped) and Excel sheets in bounded chunks.

Readers only turn bytes into raw DataFrame chunks; typing and validation happen in
`segwork.ingestion.parse` and `segwork.schemas`. Each chunk is a `RawChunk` with the 1-based number
of its first record and the records that could not even be split into fields.

Only an empty CSV field, a JSON null (or absent key) and a Parquet null are missing. A value
that is present keeps its text, whatever it says ("NA", "null", "NaN" in a CSV; NaN or
Infinity in JSON; a NaN in a Parquet float column bound for a number or time column):
typing then quarantines what is not a (finite) number. A DataFrame keeps pandas'
convention: NaN and None are missing.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segwork.config import Settings
from segwork.errors import InputFileError
from segwork.ingestion import csvfile, inflate, jsonfile, xlsxfile
from segwork.ingestion.dialect import CHOOSE_ENCODING, SAMPLE_BYTES, Dialect, check_applies, resolve_text
from segwork.ingestion.records import RawChunk, Source, nan_as_text
from segwork.ingestion.transcode import Transcoded

FORMATS = ("csv", "ndjson", "json", "parquet", "xlsx")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json", ".parquet": "parquet",
             ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_FORMAT_ALIASES = {"jsonl": "ndjson", "jsonlines": "ndjson", "json_lines": "ndjson", "json_array": "json"}


def open_source(source, fmt: str | None = None, name: str | None = None, settings: Settings | None = None,
                dialect: Dialect | None = None) -> Source:
    """Open a path, bytes or binary file-like; detect the format and gzip when not given, and
    what `dialect` leaves open (a CSV's delimiter, a text file's encoding: the Source's dialect
    is the resolved one). `settings` gives the limits it is read with (default: Settings' defaults)."""
    given, raw = _binary_stream(source)
    name = name or given
    dialect = dialect or Dialect()
    try:
        return _open(raw, fmt, name, settings or Settings(), dialect)
    except BaseException:
        raw.close()
        raise


def _open(raw, fmt: str | None, name: str, settings: Settings, dialect: Dialect) -> Source:
    size = _size(raw)
    head = _peek(raw, 4, name)
    if head[:2] == inflate.MAGIC:  # progress keeps counting compressed bytes (size, bytes_done)
        raw = inflate.open_gzip(raw, settings.max_inflated_bytes, name)
        name_inner = name[:-3] if name.lower().endswith(".gz") else name
    else:
        name_inner = name
    fmt = _normalise_format(fmt) if fmt else _detect(name_inner, raw, name)
    check_applies(dialect, fmt, name)
    src = Source(stream=raw, name=name, format=fmt, size=size, settings=settings, dialect=dialect)
    if fmt in ("csv", "ndjson", "json"):
        pos = raw.tell()
        sample = raw.read(SAMPLE_BYTES)
        raw.seek(pos)
        src.dialect, src.detected = resolve_text(sample, fmt, dialect, name)
        if src.dialect.encoding != "utf-8":
            src.stream = Transcoded(raw, src.dialect.encoding)
    elif fmt == "xlsx":
        src.workbook, sheet, names = xlsxfile.open_workbook(raw, name, dialect.sheet)
        src.dialect, src.sheets = Dialect(decimal=dialect.decimal, sheet=sheet), tuple(names)
    return src


def read_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """Yield raw chunks of at most about chunk_rows records of the wanted columns."""
    reader = {"csv": csvfile.csv_chunks, "ndjson": jsonfile.ndjson_chunks, "json": jsonfile.json_array_chunks, "parquet": _parquet_chunks,
              "xlsx": xlsxfile.xlsx_chunks}
    try:
        yield from reader[src.format](src, columns, chunk_rows)
    except (UnicodeDecodeError, pa.ArrowInvalid, json.JSONDecodeError, OSError, EOFError) as exc:
        text = str(exc).splitlines()[0][:300] if str(exc) else exc.__class__.__name__
        if "utf" in text.lower() or isinstance(exc, UnicodeDecodeError):
            raise InputFileError(f"{src.name}: not UTF-8 text ({text}); {CHOOSE_ENCODING}") from exc
        raise InputFileError(
            f"{src.name}: cannot be read as {src.format.upper()} ({text}); check the file or pass the right format"
        ) from exc


def first_chunk(source, name: str, settings: Settings, dialect: Dialect | None, columns: list[str], rows: int):
    """(the first chunk of at most `rows` records of `columns`, or None; the opened Source) — for previews."""
    src = open_source(source, None, name, settings, dialect)
    chunks = read_chunks(src, columns, rows)
    try:
        return next(chunks, None), src
    finally:
        chunks.close()
        src.close()


def frame_chunks(df: pd.DataFrame, chunk_rows: int) -> Iterator[RawChunk]:
    """Chunks of an in-memory DataFrame, as they are: pandas' convention holds, NaN is missing."""
    for start in range(0, len(df), chunk_rows):
        yield RawChunk(df.iloc[start:start + chunk_rows].reset_index(drop=True), start + 1)


def bytes_done(src: Source) -> int | None:
    """Bytes consumed so far (compressed bytes for gzip, source bytes for a transcoded file,
    about as many as the sheet's rows read of a workbook), for progress bars."""
    if src.position is not None:
        return src.position()
    stream = src.stream
    while isinstance(stream, (inflate.Inflated, Transcoded)):
        stream = stream.raw
    try:
        return stream.tell()
    except (OSError, ValueError, AttributeError):
        return None


def _parquet_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    # Read through a 1 MiB buffer, without pre-buffering: pyarrow's default keeps every column
    # chunk it has read until the file is closed, so memory grew with the file (a 630 MB file
    # of 30M events: 1.4 GB peak RSS, against 0.8 GB for a tenth of it; bench/RESULTS.md).
    pf = pq.ParquetFile(src.stream, pre_buffer=False, buffer_size=1 << 20)
    present = [c for c in pf.schema_arrow.names if c in columns]
    first = 1
    for batch in pf.iter_batches(batch_size=chunk_rows, columns=present or None):
        frame = nan_as_text(batch, columns).to_pandas() if present else pd.DataFrame(index=range(batch.num_rows))
        yield RawChunk(frame, first, [], pf.schema_arrow.names)
        first += batch.num_rows


def open_file(source: str | Path) -> tuple[str, BinaryIO]:
    """(the name a report gives the file, the file opened for reading bytes); InputFileError
    when there is no such file or it is a folder."""
    path = Path(source)
    if not path.exists():
        raise InputFileError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not a file")
    return path.name, open(path, "rb")


def _binary_stream(source) -> tuple[str, BinaryIO]:
    if isinstance(source, (str, Path)):
        return open_file(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>", io.BytesIO(bytes(source))
    if hasattr(source, "read"):
        name = Path(str(getattr(source, "name", "<stream>"))).name
        if not (hasattr(source, "seekable") and source.seekable()):
            source = io.BytesIO(source.read())
        return name, source
    raise InputFileError(f"cannot read a {type(source).__name__}; give a path, bytes, a binary file object or a DataFrame")


def _size(stream) -> int | None:
    try:
        pos = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(pos)
        return end - pos
    except (OSError, ValueError, AttributeError):
        return None


def _peek(stream, n: int, name: str) -> bytes:
    pos = stream.tell()
    data = stream.read(n)
    stream.seek(pos)
    if not data:
        raise InputFileError(f"{name}: the file is empty; nothing was inserted")
    return data


def _normalise_format(fmt: str) -> str:
    f = fmt.lower().lstrip(".")
    f = _FORMAT_ALIASES.get(f, f)
    if f not in FORMATS:
        raise InputFileError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return f


def _detect(name: str, stream, shown: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    pos = stream.tell()
    head = stream.read(4096)
    stream.seek(pos)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:4] == xlsxfile.MAGIC:
        if xlsxfile.is_workbook(stream):
            return "xlsx"
        raise InputFileError(f"{shown}: is a ZIP archive, not a table file; unzip it and ingest the files inside "
                             "(CSV, NDJSON, JSON, Parquet or .xlsx)")
    if head[:4] == xlsxfile.OLD_EXCEL or suffix == ".xls":
        raise InputFileError(f"{shown}: is an Excel 97-2003 workbook (.xls), which segwork does not read; "
                             "save it as .xlsx (or CSV) and retry")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        return "ndjson"
    return "csv"


def rechunk(chunks: Iterator[RawChunk], rows: int) -> Iterator[RawChunk]:
    """Exactly `rows` records per chunk (the last may be shorter), whatever the format read.

    Equal content then makes equal blocks, so a re-ingest of the same rows is recognised even
    from another format or a different read-block size. Records that could not be split
    (BadRecords) go on with the rows, or alone once `rows` of them are waiting: an input of
    only broken lines is not gathered whole.
    """
    buffer: list[pd.DataFrame] = []
    size, bad, seen = 0, [], None
    for chunk in chunks:
        frame = chunk.frame
        if "__row" not in frame.columns:
            frame = frame.assign(__row=np.arange(chunk.first_row, chunk.first_row + len(frame)))
        if len(frame):
            buffer.append(frame)
            size += len(frame)
        bad.extend(chunk.bad)
        seen = chunk.seen if seen is None else seen
        while size >= rows:
            whole = pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else buffer[0]
            yield RawChunk(whole.iloc[:rows].reset_index(drop=True), 0, bad, seen)
            rest = whole.iloc[rows:].reset_index(drop=True)
            buffer, size, bad = [rest] if len(rest) else [], len(rest), []
        if len(bad) >= rows:
            yield RawChunk(pd.DataFrame(), 0, bad, seen)
            bad = []
    if size or bad:
        whole = pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else (buffer[0] if buffer else pd.DataFrame())
        yield RawChunk(whole, 0, bad, seen)
