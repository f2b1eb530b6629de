"""Read CSV, NDJSON, JSON arrays and Parquet (optionally gzipped) in bounded chunks.

Readers only turn bytes into raw DataFrame chunks; typing and validation happen in
`segwork.parse` and `segwork.schemas`. Each chunk is a `RawChunk` with the 1-based number
of its first record and the records that could not even be split into fields.

Only an empty CSV field, a JSON null (or absent key) and a Parquet null are missing. A value
that is present keeps its text, whatever it says ("NA", "null", "NaN" in a CSV; NaN or
Infinity in JSON; a NaN in a Parquet float column bound for a number or time column):
typing then quarantines what is not a (finite) number. A DataFrame keeps pandas'
convention: NaN and None are missing.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from segwork.errors import InputFileError

FORMATS = ("csv", "ndjson", "json", "parquet")
_SUFFIXES = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
_FORMAT_ALIASES = {"jsonl": "ndjson", "jsonlines": "ndjson", "json_lines": "ndjson", "json_array": "json"}
CSV_BLOCK_BYTES = 1 << 23  # CSV bytes read at a time (a block is then cut back to its last whole record)
CSV_MAX_OPEN_BYTES = 1 << 26  # a quoted value still open after this many bytes is cut there, not carried on


@dataclass
class BadRecord:
    """A record that could not be split into fields (broken CSV line, invalid JSON)."""

    row: int
    text: str
    reason: str


@dataclass
class RawChunk:
    """A block of records as read, before typing."""

    frame: pd.DataFrame
    first_row: int  # 1-based record number of frame's first row (when no __row column)
    bad: list[BadRecord] = field(default_factory=list)
    seen: list[str] | None = None  # every column name the input had (for header checks)


@dataclass
class Source:
    """An opened input: a binary stream plus what we know about it."""

    stream: BinaryIO
    name: str
    format: str
    size: int | None


def open_source(source, fmt: str | None = None, name: str | None = None) -> Source:
    """Open a path, bytes or binary file-like; detect the format and gzip when not given."""
    given, raw = _binary_stream(source)
    name = name or given
    size = _size(raw)
    head = _peek(raw, 4, name)
    if head[:2] == b"\x1f\x8b":
        raw = gzip.GzipFile(fileobj=raw, mode="rb")  # not from raw.mode: an upload spool is w+b
        size = None if size is None else size  # progress keeps counting compressed bytes
        name_inner = name[:-3] if name.lower().endswith(".gz") else name
    else:
        name_inner = name
    fmt = _normalise_format(fmt) if fmt else _detect(name_inner, raw)
    return Source(stream=raw, name=name, format=fmt, size=size)


def read_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """Yield raw chunks of at most about chunk_rows records of the wanted columns."""
    reader = {"csv": _csv_chunks, "ndjson": _ndjson_chunks, "json": _json_array_chunks, "parquet": _parquet_chunks}
    try:
        yield from reader[src.format](src, columns, chunk_rows)
    except (UnicodeDecodeError, pa.ArrowInvalid, json.JSONDecodeError, OSError, EOFError) as exc:
        text = str(exc).splitlines()[0][:300] if str(exc) else exc.__class__.__name__
        if "utf" in text.lower() or isinstance(exc, UnicodeDecodeError):
            raise InputFileError(f"{src.name}: not UTF-8 text ({text}); save the file as UTF-8 and retry") from exc
        raise InputFileError(
            f"{src.name}: cannot be read as {src.format.upper()} ({text}); check the file or pass the right format"
        ) from exc


def frame_chunks(df: pd.DataFrame, chunk_rows: int) -> Iterator[RawChunk]:
    """Chunks of an in-memory DataFrame, as they are: pandas' convention holds, NaN is missing."""
    for start in range(0, len(df), chunk_rows):
        yield RawChunk(df.iloc[start:start + chunk_rows].reset_index(drop=True), start + 1)


def bytes_done(src: Source) -> int | None:
    """Bytes consumed so far (compressed bytes for gzip), for progress bars."""
    stream = src.stream
    if isinstance(stream, gzip.GzipFile):
        stream = stream.fileobj
    try:
        return stream.tell()
    except (OSError, ValueError, AttributeError):
        return None


def _csv_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """CSV in blocks that end between records; each record is numbered by the physical line it
    starts on (header = line 1). Quoted values may hold line breaks; blank and whitespace-only
    lines are not records."""
    stream = src.stream
    header = _csv_header(stream)
    stream.readline()
    wanted = [c for c in header if c in columns]
    convert_options = pacsv.ConvertOptions(
        include_columns=wanted or header[:1], column_types={c: pa.string() for c in header},
        strings_can_be_null=True, quoted_strings_can_be_null=False,
        null_values=[""],  # not pyarrow's default list: "NA", "null", "NaN" are text, not missing
    )
    line = 2
    frames, bad, rows = [], [], 0
    pending = b""
    while True:
        data = stream.read(CSV_BLOCK_BYTES)
        pending += data
        cut = pending.rfind(b"\n") + 1 if data else len(pending)
        if cut:
            final = not data or len(pending) > CSV_MAX_OPEN_BYTES
            block = _CsvBlock(pending[:cut], line, header, final)
            frame, block_bad, used, breaks = block.read(wanted, convert_options)
            pending, line = pending[used:], line + breaks
            frames.append(frame)
            bad.extend(block_bad)
            rows += len(frame)
        if rows >= chunk_rows or (not data and (frames or bad)):
            yield RawChunk(pd.concat(frames, ignore_index=True), 0, bad, header)
            frames, bad, rows = [], [], 0
        if not data:
            break


@dataclass
class _CsvBlock:
    """Whole lines of a CSV, parsed by pyarrow, its records mapped to the lines they start on."""

    data: bytes
    first_line: int
    header: list[str]
    final: bool  # the end of the input: a record still open at the end is not left for later

    def read(self, wanted: list[str], convert_options) -> tuple[pd.DataFrame, list[BadRecord], int, int]:
        """Good rows (with __row), broken records, and the bytes and line breaks used: a record
        whose quoted value is still open at the block's end is left for the next block."""
        broken: list = []

        def on_invalid(row) -> str:
            broken.append(row)
            return "skip"

        table = pacsv.read_csv(
            io.BytesIO(self.data), convert_options=convert_options,
            read_options=pacsv.ReadOptions(column_names=self.header, use_threads=False, block_size=len(self.data) + 1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
        )
        breaks = self.data.count(b"\n")
        starts, open_at = self.record_lines(table.num_rows + len(broken), breaks)
        used = len(self.data)
        if open_at is not None:  # the last record goes to the next block
            last = len(starts)
            starts, used, breaks = starts[:-1], open_at, int(starts[-1])
            if broken and broken[-1].number == last:
                broken.pop()
            else:
                table = table.slice(0, table.num_rows - 1)
        frame = table.to_pandas() if wanted else pd.DataFrame(index=range(table.num_rows))
        good = np.delete(starts, [row.number - 1 for row in broken]) if broken else starts
        frame["__row"] = self.first_line + good
        bad = [BadRecord(self.first_line + int(starts[row.number - 1]), row.text[:2000],
                         f"line has {row.actual_columns} fields, the header has {row.expected_columns}")
               for row in broken if row.text.strip()]  # a whitespace-only line is not a record
        return frame, bad, used, breaks

    def record_lines(self, records: int, breaks: int) -> tuple[np.ndarray, int | None]:
        """The line (0-based in the block) each of pyarrow's records starts on, in pyarrow's record
        order (its row.number - 1), and the byte offset of a last record left open, if any.

        pyarrow numbers records, not lines: a value over several lines is one record and blank
        lines are skipped (a whitespace-only line is a record of one field)."""
        data = self.data
        lines = breaks + (not data.endswith(b"\n"))
        bare_cr = b"\r" in data and _lone_cr(data)
        if records == lines and not bare_cr:  # one record per line: the usual case, no scan
            last = data.rfind(b"\n", 0, len(data) - 1) + 1
            return np.arange(records), self._open_from(last) if b'"' in data else None
        if b'"' not in data and not bare_cr:  # blank lines, no quoted values
            starts = _nonblank_lines(data)
            last = None
        else:
            starts, last = _scan_records(data, self.first_line)
        if len(starts) != records:
            raise InputFileError(
                f"lines {self.first_line}..{self.first_line + lines - 1}: pyarrow read {records} records where a "
                f"line-by-line CSV reading finds {len(starts)}; check the quoting there"
            )
        return starts, None if last is None else self._open_from(last)

    def _open_from(self, offset: int) -> int | None:
        """offset, when the record starting there is still inside quotes at the block's end."""
        return offset if not self.final and _ends_in_quotes(self.data[offset:]) else None


def _lone_cr(data: bytes) -> bool:
    """Whether data holds a \\r that does not start a \\r\\n: pyarrow ends a record there too.
    Counted as byte pairs at even and odd offsets (2.5 ms per 8 MB of CRLF text, against 13 ms
    for data.count(b"\\r\\n"))."""
    pairs = sum(np.count_nonzero(np.frombuffer(data, "<u2", (len(data) - at) // 2, at) == 0x0A0D) for at in (0, 1))
    return np.count_nonzero(np.frombuffer(data, np.uint8) == ord("\r")) != pairs


def _nonblank_lines(data: bytes) -> np.ndarray:
    """0-based numbers of the lines that are not empty (nor a lone \\r before the \\n)."""
    chars = np.frombuffer(data, np.uint8)
    breaks = np.flatnonzero(chars == ord("\n"))
    starts = np.concatenate(([0], breaks + 1))
    lengths = np.concatenate((breaks, [len(data)])) - starts
    empty = (lengths == 0) | ((lengths == 1) & (chars[np.minimum(starts, len(data) - 1)] == ord("\r")))
    return np.flatnonzero(~empty)


def _scan_records(data: bytes, first_line: int) -> tuple[np.ndarray, int | None]:
    """Line (0-based) each non-empty record starts on, and the byte offset of the last record,
    read with Python's csv module: the quoting rules of pyarrow's parser, and its line ends
    (\\n, \\r\\n or a lone \\r); only \\n counts as a new physical line."""
    parts = data.splitlines(keepends=True)
    physical = np.cumsum([0] + [part.endswith(b"\n") for part in parts])
    offsets = np.cumsum([0] + [len(part) for part in parts])
    reader = csv.reader(part.decode("utf-8", "replace") for part in parts)
    starts, done = [], 0
    try:
        for fields in reader:
            if fields:
                starts.append(done)
            done = reader.line_num
    except csv.Error as exc:
        raise InputFileError(f"line {first_line + int(physical[done])}: cannot be split into CSV fields ({exc})") from exc
    return physical[starts], int(offsets[starts[-1]]) if starts else None


_QUOTED = re.compile(rb'"[^"]*(?:""[^"]*)*')  # a quoted value up to (not with) its closing quote


def _ends_in_quotes(record: bytes) -> bool:
    """Whether a record (read from its start) ends inside a quoted value: a quote opens one only
    at the start of a field, "" inside is a quote, and after the closing quote the field runs
    on to the next comma (pyarrow's rules and the csv module's)."""
    pos = 0
    while True:
        if record.startswith(b'"', pos):
            pos = _QUOTED.match(record, pos).end()
            if pos == len(record):
                return True
        pos = record.find(b",", pos)
        if pos < 0:
            return False
        pos += 1


def _csv_header(stream) -> list[str]:
    """The header's column names (the stream is left at the header's first byte, after a BOM)."""
    start = stream.tell()
    line = stream.readline(1 << 20)
    stream.seek(start)
    if line.startswith(b"\xef\xbb\xbf"):
        stream.read(3)
        line = line[3:]
    if not line.strip():
        raise InputFileError("the file is empty (no header line); a CSV needs a header naming the columns")
    text = line.decode("utf-8-sig", errors="strict").rstrip("\r\n")
    return [h.strip() for h in next(csv.reader([text]))]


def _ndjson_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    first = 1
    lines: list[bytes] = []
    for line in src.stream:
        lines.append(line)
        if len(lines) >= chunk_rows:
            yield _ndjson_chunk(lines, first, columns)
            first += len(lines)
            lines = []
    if lines:
        yield _ndjson_chunk(lines, first, columns)


def _ndjson_chunk(lines: list[bytes], first: int, columns: list[str]) -> RawChunk:
    if all(ln.strip() for ln in lines):
        body = b"".join(ln if ln.endswith(b"\n") else ln + b"\n" for ln in lines)
        try:
            table = pajson.read_json(io.BytesIO(body))
        except pa.ArrowInvalid:
            table = None  # a broken line or mixed types: take the per-line path below
        if table is not None and not any(
            pa.types.is_floating(table.schema.field(c).type) for c in _string_targets(columns) if c in table.column_names
        ):
            wanted = _nan_as_text(table.select([c for c in table.column_names if c in columns]), columns)
            return RawChunk(wanted.to_pandas(), first, [], table.column_names)
    # Blank lines are not records; numbering stays by physical line.
    return _records_chunk([(i, ln) for i, ln in enumerate(lines) if ln.strip()], first, columns)


def _records_chunk(numbered, first: int, columns: list[str]) -> RawChunk:
    """The slow, per-line path: one bad line is one quarantined record, not a failed file."""
    records, rows, bad, seen = [], [], [], {}
    for i, line in numbered:
        try:
            obj = json.loads(line, parse_constant=str)  # NaN, Infinity: kept as their text
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            bad.append(BadRecord(first + i, line[:2000].decode("utf-8", "replace").rstrip("\n"), f"not valid JSON ({exc.__class__.__name__}: {exc})"))
            continue
        if not isinstance(obj, dict):
            bad.append(BadRecord(first + i, line[:2000].decode("utf-8", "replace").rstrip("\n"), "not a JSON object"))
            continue
        seen.update(dict.fromkeys(obj))
        records.append({k: obj.get(k) for k in columns if k in obj})
        rows.append(first + i)
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame = frame.astype(object) if len(frame.columns) else frame
    frame["__row"] = rows
    return RawChunk(frame, first, bad, list(seen))


def _json_array_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    # A JSON array is read whole (it cannot be streamed without a streaming parser);
    # use NDJSON for files larger than memory.
    data = json.load(io.TextIOWrapper(src.stream, encoding="utf-8"), parse_constant=str)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputFileError(f"{src.name}: a JSON file must hold an array of objects (or one object)")
    for start in range(0, len(data), chunk_rows):
        part = data[start:start + chunk_rows]
        numbered = [(i, json.dumps(obj).encode()) for i, obj in enumerate(part)]
        yield _records_chunk(numbered, start + 1, columns)


def _parquet_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    # Read through a 1 MiB buffer, without pre-buffering: pyarrow's default keeps every column
    # chunk it has read until the file is closed, so memory grew with the file (a 630 MB file
    # of 30M events: 1.4 GB peak RSS, against 0.8 GB for a tenth of it; bench/RESULTS.md).
    pf = pq.ParquetFile(src.stream, pre_buffer=False, buffer_size=1 << 20)
    present = [c for c in pf.schema_arrow.names if c in columns]
    first = 1
    for batch in pf.iter_batches(batch_size=chunk_rows, columns=present or None):
        frame = _nan_as_text(batch, columns).to_pandas() if present else pd.DataFrame(index=range(batch.num_rows))
        yield RawChunk(frame, first, [], pf.schema_arrow.names)
        first += batch.num_rows


def _nan_as_text(table, columns: list[str]):
    """The table (or batch) with each float column that holds a NaN as text ("nan"): a NaN is
    present, not null, and pandas would take it for missing; typing then quarantines it like
    the text NaN. Columns read as text (ids) keep pandas' reading, where a whole number keeps
    all its digits (Arrow's text of 123456789012.0 is "1.23456789012e+11")."""
    text = _string_targets(columns)
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if name not in text and pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
            table = table.set_column(i, name, column.cast(pa.string()))
    return table


def _string_targets(columns: list[str]) -> list[str]:
    from segwork.schemas import string_columns

    return [c for c in columns if c in string_columns()]


def _binary_stream(source) -> tuple[str, BinaryIO]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise InputFileError(f"{path}: no such file; check the path")
        if path.is_dir():
            raise InputFileError(f"{path}: is a folder, not a file")
        return path.name, open(path, "rb")
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
        raise InputFileError(f"unknown format {fmt!r}; use one of: csv, ndjson, json, parquet")
    return f


def _detect(name: str, stream) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    pos = stream.tell()
    head = stream.read(4096)
    stream.seek(pos)
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"[":
        return "json"
    if text[:1] == b"{":
        return "ndjson"
    return "csv"


def rechunk(chunks: Iterator[RawChunk], rows: int) -> Iterator[RawChunk]:
    """Exactly `rows` records per chunk (the last may be shorter), whatever the format read.

    Equal content then makes equal blocks, so a re-ingest of the same rows is recognised even
    from another format or a different read-block size.
    """
    buffer: list[pd.DataFrame] = []
    size, bad, seen = 0, [], None
    for chunk in chunks:
        frame = chunk.frame
        if "__row" not in frame.columns:
            frame = frame.assign(__row=np.arange(chunk.first_row, chunk.first_row + len(frame)))
        buffer.append(frame)
        size += len(frame)
        bad.extend(chunk.bad)
        seen = chunk.seen if seen is None else seen
        while size >= rows:
            whole = pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else buffer[0]
            yield RawChunk(whole.iloc[:rows].reset_index(drop=True), 0, bad, seen)
            rest = whole.iloc[rows:].reset_index(drop=True)
            buffer, size, bad = [rest], len(rest), []
    if size or bad:
        whole = pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else (buffer[0] if buffer else pd.DataFrame())
        yield RawChunk(whole, 0, bad, seen)
