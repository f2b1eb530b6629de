"""CSV in line-aligned blocks read by pyarrow, each record numbered by the physical line it
starts on (header = line 1), broken records kept as BadRecords."""
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
from segwork.ingestion import utf8
from segwork.ingestion.records import BadRecord, RawChunk, Source

CSV_BLOCK_BYTES = 1 << 23  # CSV bytes read at a time (a block is then cut back to its last whole record)
CSV_MAX_OPEN_BYTES = 1 << 26  # a quoted value still open after this many bytes is cut there, not carried on
_NOT_UTF8 = "not valid UTF-8 (its invalid bytes shown as U+FFFD); save the file as UTF-8"


def csv_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
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
    invalid: list[int] = []  # where lines that were not UTF-8 (now with U+FFFD) start in pending
    while True:
        data = stream.read(CSV_BLOCK_BYTES)
        pending += data
        cut = pending.rfind(b"\n") + 1 if data else len(pending)
        if cut:
            if not utf8.valid(pending[:cut]):  # a line ending cuts no character in two
                fixed, starts = utf8.replace_invalid(pending[:cut])
                pending, cut, invalid = fixed + pending[cut:], len(fixed), sorted(set(invalid) | set(starts))
            final = not data or len(pending) > CSV_MAX_OPEN_BYTES
            block = _CsvBlock(pending[:cut], line, header, final, [o for o in invalid if o < cut])
            frame, block_bad, used, breaks = block.read(wanted, convert_options)
            pending, line = pending[used:], line + breaks
            invalid = [o - used for o in invalid if o >= used]
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
    invalid: list[int] = field(default_factory=list)  # where lines that were not UTF-8 start (bytes replaced by U+FFFD)

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
        not_utf8 = self.not_utf8(starts, used)
        bad = [BadRecord(self.first_line + int(starts[row.number - 1]), row.text[:2000],
                         _NOT_UTF8 if row.number - 1 in not_utf8 else
                         f"line has {row.actual_columns} fields, the header has {row.expected_columns}")
               for row in broken if row.text.strip()]  # a whitespace-only line is not a record
        if not_utf8:
            records = np.delete(np.arange(len(starts)), [row.number - 1 for row in broken]) if broken else np.arange(len(starts))
            drop = np.flatnonzero(np.isin(records, list(not_utf8)))
            bad += [BadRecord(self.first_line + int(starts[records[k]]), not_utf8[records[k]], _NOT_UTF8) for k in drop]
            frame = frame.drop(index=drop).reset_index(drop=True)
        return frame, bad, used, breaks

    def not_utf8(self, starts: np.ndarray, used: int) -> dict[int, str]:
        """{record: its text} of the records (numbered as pyarrow's) that span a line that was
        not UTF-8, among those in the first `used` bytes."""
        if not self.invalid:
            return {}
        breaks = np.flatnonzero(np.frombuffer(self.data, np.uint8) == 0x0A)
        line_starts = np.concatenate(([0], breaks + 1))
        lines = np.searchsorted(breaks, [o for o in self.invalid if o < used])
        owners = np.searchsorted(starts, lines, side="right") - 1  # the record each such line belongs to
        found = {}
        for record in sorted({int(r) for r in owners if r >= 0}):
            begin = int(line_starts[starts[record]])
            end = int(line_starts[starts[record + 1]]) if record + 1 < len(starts) else used
            found[record] = self.data[begin:min(end, begin + 8000)].decode("utf-8", "replace")[:2000].rstrip("\r\n")
        return found

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
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputFileError("line 1 (the header) is not UTF-8 text; save the file as UTF-8") from None
    return [h.strip() for h in next(csv.reader([text]))]
