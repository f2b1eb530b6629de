"""NDJSON in blocks of whole lines, read by pyarrow when every line is a plain object, line by
line otherwise; JSON arrays read whole. Each record is numbered by its physical line (NDJSON)
or its place in the array (JSON). A line that is not a JSON object, or nested deeper than
SEGWORK_MAX_JSON_DEPTH (found before any parser sees it: segwork.ingestion.nesting), is a
BadRecord; a JSON array nested too deep is refused whole."""
from __future__ import annotations

import io
import json
import re
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

from segwork.errors import InputFileError, InputTooLargeError
from segwork.config import Settings
from segwork.ingestion import lines, nesting, utf8
from segwork.ingestion.inflate import size_words
from segwork.ingestion.lines import LongLine
from segwork.ingestion.records import KEPT_CHARS, BadRecord, RawChunk, Source, nan_as_text, string_targets

NDJSON_BLOCK_BYTES = 1 << 20  # NDJSON bytes read at a time; lines are found in numpy, not in Python
_BLANK_START = np.frombuffer(b" \t\r\x0b\x0c", np.uint8)  # a line starting with one of these may be blank (pyarrow skips it)
_WHITE_SPACE = np.frombuffer(b" \t\r\x0b\x0c\n", np.uint8)  # what bytes.strip() takes off: a line of only these is blank
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # half of a surrogate pair, or a lone one


def ndjson_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """Chunks of chunk_rows lines (blank lines included, and not records)."""
    first = 1
    for body, ends, longs in _line_chunks(src.stream, chunk_rows, src.settings.max_line_bytes):
        chunk = _ndjson_chunk(body, ends, first, columns, src.settings, longs)
        if len(chunk.frame) or chunk.bad:  # not for blank lines alone
            yield chunk
        first += len(ends)


def _line_chunks(stream, chunk_rows: int, max_line: int) -> Iterator[tuple[bytes, np.ndarray, dict[int, LongLine]]]:
    """(bytes of chunk_rows whole lines, each ending in \\n, the offsets of those \\n, and the
    lines longer than max_line by their number in the chunk: they are empty lines in it)."""
    parts: list[bytes] = []
    ends: list[np.ndarray] = []
    longs: dict[int, LongLine] = {}
    count, size = 0, 0
    for whole, found in lines.line_blocks(stream, NDJSON_BLOCK_BYTES, max_line):
        whole = whole if whole.endswith(b"\n") else whole + b"\n"  # the last line, without its line break
        breaks = np.flatnonzero(np.frombuffer(whole, np.uint8) == 0x0A)
        at = {int(np.searchsorted(breaks, long.offset)): long for long in found}  # by line number in `whole`
        while count + len(breaks) >= chunk_rows:
            take = chunk_rows - count
            end = int(breaks[take - 1]) + 1
            parts.append(whole[:end])
            ends.append(breaks[:take] + size)
            longs.update((count + i, long) for i, long in at.items() if i < take)
            yield b"".join(parts), np.concatenate(ends), longs
            whole, breaks = whole[end:], breaks[take:] - end
            at = {i - take: long for i, long in at.items() if i >= take}
            parts, ends, longs, count, size = [], [], {}, 0, 0
        if len(whole):
            parts.append(whole)
            ends.append(breaks + size)
            longs.update((count + i, long) for i, long in at.items())
            count, size = count + len(breaks), size + len(whole)
    if parts:
        yield b"".join(parts), np.concatenate(ends), longs


def _ndjson_chunk(body: bytes, ends: np.ndarray, first: int, columns: list[str], settings: Settings,
                  longs: dict[int, LongLine]) -> RawChunk:
    """One chunk of lines: pyarrow reads them at once when each line is one object, else line by
    line; a line nested too deep or too long (emptied already) reaches neither."""
    starts = np.concatenate(([0], ends[:-1] + 1))
    chars = np.frombuffer(body, np.uint8)
    refused = {i: (long.reason(settings.max_line_bytes), long.head) for i, long in longs.items()}
    for i in nesting.deeper_lines(body, starts, ends, settings.max_json_depth):
        refused[int(i)] = (_too_deep(settings.max_json_depth), body[starts[i]:min(ends[i], starts[i] + KEPT_CHARS)])
    # pyarrow skips blank lines and reads two objects on one line as two records: either would
    # shift the numbering, so such chunks go line by line (blank lines are not records there).
    plain = not refused and (ends > starts).all() and not np.isin(chars[starts], _BLANK_START).any() and utf8.valid(body)
    if plain:
        try:
            table = pajson.read_json(io.BytesIO(body))
        except pa.ArrowInvalid:
            table = None  # a broken line or mixed types: take the per-line path below
        if table is not None and table.num_rows == len(ends) and not any(
            pa.types.is_floating(table.schema.field(c).type) for c in string_targets(columns) if c in table.column_names
        ):
            wanted = nan_as_text(table.select([c for c in table.column_names if c in columns]), columns)
            return RawChunk(wanted.to_pandas(), first, [], table.column_names)
    # Line by line, but blank lines are found in numpy: a body of blank lines costs no Python per line.
    read = ends > starts
    if np.isin(chars[starts[read]], _BLANK_START).any():  # lines that may hold only white space
        content = np.maximum.reduceat(~np.isin(chars, _WHITE_SPACE), starts)  # a byte that is not white space, per line
        read &= content
    read[list(refused)] = True
    split = body.split(b"\n")
    return records_chunk([(int(i), split[i]) for i in np.flatnonzero(read)], first, columns, refused)


def records_chunk(numbered, first: int, columns: list[str], refused: dict[int, tuple[str, bytes]] | None = None) -> RawChunk:
    """The slow, per-line path: one bad line is one quarantined record, not a failed file.
    Lines in `refused` (number -> (reason, the bytes to keep)) are not parsed."""
    records, rows, bad, seen = [], [], [], {}
    for i, line in numbered:
        reason, kept = refused[i] if refused and i in refused else (None, line)
        if reason is None:
            reason, obj = _parse_line(line, columns)
        if reason is not None:
            bad.append(BadRecord(first + i, kept[:KEPT_CHARS].decode("utf-8", "replace").rstrip("\r\n"), reason))
            continue
        seen.update(dict.fromkeys(obj))
        records.append({k: obj.get(k) for k in columns if k in obj})
        rows.append(first + i)
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame = frame.astype(object) if len(frame.columns) else frame
    frame["__row"] = rows
    return RawChunk(frame, first, bad, list(seen))


def _parse_line(line: bytes, columns: list[str]) -> tuple[str | None, object]:
    """(why the line is no record or None, the object it holds)."""
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError:
        return utf8.reason(line), None
    try:
        obj = json.loads(text, parse_constant=str)  # NaN, Infinity: kept as their text
    except (ValueError, RecursionError, OverflowError) as exc:  # JSONDecodeError, too many digits, ...
        return f"not valid JSON ({exc.__class__.__name__}: {str(exc)[:200]})", None
    if not isinstance(obj, dict):
        return "not a JSON object", None
    if _SURROGATE_ESCAPE.search(text):  # a \ud800-\udfff escape that is not half of a pair is no UTF-8 text
        try:
            json.dumps([obj[k] for k in columns if k in obj], ensure_ascii=False, default=str).encode()
        except UnicodeEncodeError:
            return "not valid UTF-8 (a \\u escape of a lone surrogate)", None
    return None, obj


def _too_deep(max_depth: int) -> str:
    return f"nested deeper than {max_depth} levels"


def json_array_chunks(src: Source, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """A JSON array (or one object) in chunks of chunk_rows records."""
    # A JSON array is read whole (it cannot be streamed without a streaming parser), and its
    # parsed objects take several times its size: a bigger one is refused, use NDJSON.
    limit = src.settings.max_json_document_bytes
    raw = src.stream.read(limit + 1)
    if len(raw) > limit:
        raise InputTooLargeError(f"{src.name}: a JSON array (or object) file is read whole, and this one is larger than "
                                 f"{size_words(limit)}; send it as NDJSON, one object per line (jq -c '.[]'), or raise "
                                 "SEGWORK_MAX_JSON_DOCUMENT_BYTES", limit=limit)
    deepest = src.settings.max_json_depth + (raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[")  # the array itself is a level
    if nesting.depth(raw) > deepest:
        raise InputFileError(f"{src.name}: a record in it is {_too_deep(src.settings.max_json_depth)}; nothing was "
                             "inserted. Flatten the records (or raise SEGWORK_MAX_JSON_DEPTH)")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=str)
    except (ValueError, RecursionError, OverflowError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise
        raise InputFileError(f"{src.name}: cannot be read as JSON ({exc.__class__.__name__}: {str(exc)[:200]}); "
                             "check the file or pass the right format") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputFileError(f"{src.name}: a JSON file must hold an array of objects (or one object)")
    for start in range(0, len(data), chunk_rows):
        part = data[start:start + chunk_rows]
        numbered = [(i, json.dumps(obj).encode()) for i, obj in enumerate(part)]
        yield records_chunk(numbered, start + 1, columns)
