"""CSV in line-aligned blocks read by pyarrow, each record numbered by the physical line it
starts on (header = line 1), broken records kept as BadRecords. The delimiter is the Source's
(, ; tab or |); the text is UTF-8 here (segwork.ingestion.transcode made it so).

A file without a header line is read in the table's column order when the Source allows it
(`Source.headerless_table`, set for plain ingests, never through a mapping) and its first line
names none of the table's columns, has exactly as many fields, and holds times where the table
has times (is_headerless): the seed's system accepts
such appends (its docs: the header may be left out when the columns are in order). Line 1 is
then a data line and keeps its number."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from segwork.errors import InputFileError
from segwork.ingestion import lines, utf8
from segwork.ingestion.dialect import CHOOSE_ENCODING
from segwork.ingestion.records import KEPT_CHARS, BadRecord, RawChunk, Source

CSV_BLOCK_BYTES = 1 << 23  # CSV bytes read at a time (a block is then cut back to its last whole record)
CSV_MAX_OPEN_BYTES = 1 << 26  # a quoted value still open after this many bytes is cut there, not carried on
HEADERLESS_NOTE = "no header line: columns read in the table's order"
_NOT_UTF8 = f"not valid UTF-8 (its invalid bytes shown as U+FFFD); {CHOOSE_ENCODING}"


def csv_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """CSV in blocks that end between records; each record is numbered by the physical line it
    starts on (header = line 1). Quoted values may hold line breaks; blank and whitespace-only
    lines are not records."""
    stream = src.stream
    max_line = src.settings.max_line_bytes
    delimiter = src.dialect.delimiter or ","
    header, first = _csv_header(stream, max_line, delimiter)
    line, pending = 2, b""
    if is_headerless(header, src.headerless_table):
        from segwork.schemas import columns as table_columns

        header, line, pending = table_columns(src.headerless_table), 1, first
        src.notes.append(HEADERLESS_NOTE)
    wanted = [c for c in header if c in columns]
    convert_options = pacsv.ConvertOptions(
        include_columns=wanted or header[:1], column_types={c: pa.string() for c in header},
        strings_can_be_null=True, quoted_strings_can_be_null=False,
        null_values=[""],  # not pyarrow's default list: "NA", "null", "NaN" are text, not missing
    )
    frames, bad, rows = [], [], 0
    marked: dict[int, tuple[str, bytes | None]] = {}  # lines of pending (0-based) that were not UTF-8 or too long
    blocks = lines.line_blocks(stream, CSV_BLOCK_BYTES, max_line)
    while True:
        data, longs = next(blocks, (b"", []))
        valid = utf8.valid(data)  # data is whole lines: a line ending cuts no character in two
        if longs or not valid:
            base = pending.count(b"\n")
            marked.update((base + data.count(b"\n", 0, long.offset), (long.reason(max_line), long.head)) for long in longs)
            if not valid:
                data, invalid = utf8.replace_invalid(data)
                marked.update((base + i, (_NOT_UTF8, None)) for i in invalid)
        pending += data
        end = pending.rfind(b"\n") + 1 if data else len(pending)  # the whole lines waiting
        while end:
            cut, breaks = end, pending.count(b"\n", 0, end)
            if breaks > chunk_rows:  # many short lines: at most chunk_rows at a time (a broken one is held as a BadRecord)
                cut, breaks = int(np.flatnonzero(np.frombuffer(pending, np.uint8, end) == 0x0A)[chunk_rows - 1]) + 1, chunk_rows
            final = cut == end and (not data or len(pending) > CSV_MAX_OPEN_BYTES)
            frame, block_bad, used, breaks = _CsvBlock(pending[:cut], line, header, final, marked, breaks,
                                                       delimiter).read(wanted, convert_options)
            if not used and cut < end:  # one record open past the cut: all waiting lines at once
                frame, block_bad, used, breaks = _CsvBlock(pending[:end], line, header, not data or len(pending) > CSV_MAX_OPEN_BYTES,
                                                           marked, delimiter=delimiter).read(wanted, convert_options)
                cut = end
            pending, line, end = pending[used:], line + breaks, end - used
            marked = {at - breaks: why for at, why in marked.items() if at >= breaks}
            frames.append(frame)
            bad.extend(block_bad)
            rows += len(frame)
            if rows + len(bad) >= chunk_rows:  # broken lines count: they are held too
                yield RawChunk(pd.concat(frames, ignore_index=True), 0, bad, header)
                frames, bad, rows = [], [], 0
            if cut == end + used:  # every whole line was read (a record left open waits for more)
                break
        if not data:
            if frames or bad:
                yield RawChunk(pd.concat(frames, ignore_index=True), 0, bad, header)
            break


@dataclass
class _CsvBlock:
    """Whole lines of a CSV, parsed by pyarrow, its records mapped to the lines they start on."""

    data: bytes
    first_line: int
    header: list[str]
    final: bool  # the end of the input: a record still open at the end is not left for later
    # lines (0-based) that were not UTF-8 (their bad bytes now U+FFFD) or too long (now empty, their head kept): why, head
    marked: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)
    line_breaks: int = -1  # data.count(b"\n") when the caller knows it already
    delimiter: str = ","

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
            parse_options=pacsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid),
        )
        breaks = self.line_breaks if self.line_breaks >= 0 else self.data.count(b"\n")
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
        odd, loose = self.odd_records(starts, breaks)
        bad = [BadRecord(self.first_line + int(starts[row.number - 1]), row.text[:KEPT_CHARS],
                         odd[row.number - 1][0] if row.number - 1 in odd else
                         f"line has {row.actual_columns} fields, the header has {row.expected_columns}")
               for row in broken if row.text.replace(self.delimiter, ",").strip()]  # a whitespace-only line is not a record
        if odd:
            records = np.delete(np.arange(len(starts)), [row.number - 1 for row in broken]) if broken else np.arange(len(starts))
            drop = np.flatnonzero(np.isin(records, list(odd)))
            bad += [BadRecord(self.first_line + int(starts[records[k]]), odd[records[k]][1], odd[records[k]][0]) for k in drop]
            frame = frame.drop(index=drop).reset_index(drop=True)
        return frame, bad + loose, used, breaks

    def odd_records(self, starts: np.ndarray, breaks: int) -> tuple[dict[int, tuple[str, str]], list[BadRecord]]:
        """({record (numbered as pyarrow's): (why, its text)} of the records over a marked line of
        the first `breaks` lines, and each too-long line that is part of no record as a BadRecord).

        A line that was not UTF-8 is part of the record it starts or continues; a too-long line,
        now empty, is part of a record only inside a quoted value (else it is a record of its own).
        When it held a quote itself, the lines after it may be read otherwise than they were meant:
        such records are quarantined as broken, or as what they read as."""
        if not self.marked:
            return {}, []
        ends = np.flatnonzero(np.frombuffer(self.data, np.uint8) == 0x0A)
        line_starts = np.concatenate(([0], ends + 1))
        odd, loose = {}, []
        for at, (why, head) in sorted(self.marked.items()):
            if at >= breaks:
                continue  # left for the next block
            record = int(np.searchsorted(starts, at, side="right")) - 1
            begin = int(line_starts[starts[record]]) if record >= 0 else 0
            if record >= 0 and (head is None or _ends_in_quotes(self.data[begin:int(line_starts[at])], self.delimiter)):
                end = int(line_starts[starts[record + 1]]) if record + 1 < len(starts) else int(line_starts[breaks])
                text = self.data[begin:min(end, begin + 4 * KEPT_CHARS)].decode("utf-8", "replace")[:KEPT_CHARS]
                odd.setdefault(record, (why, text.rstrip("\r\n")))
            elif head is not None:
                loose.append(BadRecord(self.first_line + at, head.decode("utf-8", "replace").rstrip("\r"), why))
        return odd, loose

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
            starts, last = _scan_records(data, self.first_line, self.delimiter)
        if len(starts) != records:
            raise InputFileError(
                f"lines {self.first_line}..{self.first_line + lines - 1}: pyarrow read {records} records where a "
                f"line-by-line CSV reading finds {len(starts)}; check the quoting there"
            )
        return starts, None if last is None else self._open_from(last)

    def _open_from(self, offset: int) -> int | None:
        """offset, when the record starting there is still inside quotes at the block's end."""
        return offset if not self.final and _ends_in_quotes(self.data[offset:], self.delimiter) else None


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


def _scan_records(data: bytes, first_line: int, delimiter: str = ",") -> tuple[np.ndarray, int | None]:
    """Line (0-based) each non-empty record starts on, and the byte offset of the last record,
    read with Python's csv module: the quoting rules of pyarrow's parser, and its line ends
    (\\n, \\r\\n or a lone \\r); only \\n counts as a new physical line."""
    parts = data.splitlines(keepends=True)
    physical = np.cumsum([0] + [part.endswith(b"\n") for part in parts])
    offsets = np.cumsum([0] + [len(part) for part in parts])
    reader = csv.reader((part.decode("utf-8", "replace") for part in parts), delimiter=delimiter)
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


def _ends_in_quotes(record: bytes, delimiter: str = ",") -> bool:
    """Whether a record (read from its start) ends inside a quoted value: a quote opens one only
    at the start of a field, "" inside is a quote, and after the closing quote the field runs
    on to the next delimiter (pyarrow's rules and the csv module's)."""
    mark = delimiter.encode()
    pos = 0
    while True:
        if record.startswith(b'"', pos):
            pos = _QUOTED.match(record, pos).end()
            if pos == len(record):
                return True
        pos = record.find(mark, pos)
        if pos < 0:
            return False
        pos += 1


def is_headerless(first: list[str], table: str | None) -> bool:
    """Whether a first line of these fields is data of `table`, not a header: it names none of the
    table's columns (in any case), has exactly as many fields as the table has columns, and its
    fields at the table's time columns are times (ISO 8601 or epoch seconds) or empty: a header
    whose names differ from the columns (`id,cust,type,...,time`) stays a header."""
    from segwork.schemas import TABLES

    if table is None:
        return False
    kinds = TABLES[table]["kinds"]
    if len(first) != len(kinds) or any(f.strip().lower() in {c.lower() for c in kinds} for f in first):
        return False
    times = pd.Series([f.strip() for f, kind in zip(first, kinds.values()) if kind == "time" and f.strip()], dtype=object)
    parsed = pd.to_datetime(times, utc=True, errors="coerce", format="ISO8601")
    return bool((parsed.notna() | pd.to_numeric(times, errors="coerce").notna()).all())


def _csv_header(stream, max_line: int, delimiter: str = ",") -> tuple[list[str], bytes]:
    """The first line's fields, and the line itself without a BOM (the stream is left after it)."""
    line = stream.readline(max_line + 4)  # a BOM and a line break more
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    if len(line.rstrip(b"\r\n")) > max_line:
        raise InputFileError(f"line 1 (the header) is longer than {max_line:,} bytes; check the file "
                             "(or raise SEGWORK_MAX_LINE_BYTES)")
    if not line.strip():
        raise InputFileError("the file is empty (no header line); a CSV needs a header naming the columns")
    try:
        text = line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputFileError(f"line 1 (the header) is not UTF-8 text; {CHOOSE_ENCODING}") from None
    return [h.strip() for h in next(csv.reader([text], delimiter=delimiter))], line
