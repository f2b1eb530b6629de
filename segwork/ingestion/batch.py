"""Many small inputs into one table at once, each with its own report (the Events API's
concurrent small requests, coalesced by segwork.api.coalesce).

    prepare       one input read on its own (its format, encoding, columns, line numbers)
    validate_many all inputs typed one by one, then validated by pandera in one call, and
                  their good rows made into one Arrow block (pandera's fixed cost, ~20-50 ms a
                  call whatever the rows, is paid once per batch instead of once per input)
    write_many    one 'started' and one 'finished' ingest_log insert for all, one data insert,
                  one quarantine insert, as the table's one writer (dedup.writer)

Each input gets what it would get alone, written after the inputs before it: an event_id
repeated within one input is quarantined as in any batch; one repeated across inputs is a
duplicate of the first (earlier input wins); a bad record already quarantined, or sent by an
earlier input of the batch, counts as a duplicate. rows_read == inserted + duplicates +
quarantined for each. The content-hash shortcut of whole re-ingested chunks (ingest_blocks) is
for big inputs and is not used: every row goes through the exact per-row checks.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from segwork.config import Settings
from segwork.errors import InputFileError, SegworkError
from segwork.ingestion import dedup, ingestlog, read as readers
from segwork.ingestion.parse import Parsed, parse_chunk
from segwork.ingestion.pipeline import check_columns
from segwork.ingestion.quarantine import quarantine_rows
from segwork.ingestion.records import RawChunk
from segwork.ingestion.report import IngestReport
from segwork.ingestion.validate import to_arrow, validate
from segwork.ingestion.write import OWNER, insert, write_new
from segwork.schemas import RULE_TEXT, columns, describe_failure, later_repeats

_REPEAT = describe_failure("event_id", "unique_in_batch", None)[0]  # the reason of a repeat within one input
assert RULE_TEXT["unique_in_batch"] in _REPEAT


@dataclass
class Prepared:
    """One input, read; then (validate_many) its good rows' count and its quarantine rows."""

    report: IngestReport
    chunks: list[RawChunk]
    started: float = field(default_factory=time.perf_counter)
    good: int = 0
    quarantine: pa.Table | None = None
    reasons: Counter = field(default_factory=Counter)
    occurrences: dict[str, int] = field(default_factory=dict)  # identical bad records so far (their tokens)

    @property
    def rows(self) -> int:
        return sum(len(c.frame) + len(c.bad) for c in self.chunks)


def prepare(table: str, source, fmt: str | None, source_name: str, settings: Settings) -> Prepared:
    """Read a small input whole, as segwork.ingest reads it (refused the same way: a missing
    required column, no data rows)."""
    src = readers.open_source(source, fmt, source_name, settings)
    try:
        chunks = list(readers.rechunk(readers.read_chunks(src, columns(table), settings.chunk_rows), settings.chunk_rows))
        report = IngestReport(uuid.uuid4().hex, table, src.name, src.format)
        report.dialect = "" if src.dialect.plain else src.dialect.describe(src.detected)
        if chunks:
            report.ignored_columns = check_columns(table, report.source, None, chunks[0], src)
    finally:
        src.close()
    prepared = Prepared(report, chunks)
    if not prepared.rows:
        raise InputFileError(f"{report.source}: has no data rows; nothing was inserted")
    return prepared


def validate_many(table: str, items: list[Prepared]) -> pa.Table | None:
    """Type and validate every input's chunks at once, and return the good rows of all inputs
    as one block (column OWNER: the input's position in `items`), in input order. Each item
    gets its counts, reasons and quarantine rows (tokens as if it came alone)."""
    parts = []  # (item, chunk, raw frame, line numbers)
    for k, item in enumerate(items):
        for chunk in item.chunks:
            frame = chunk.frame
            rows = frame["__row"].to_numpy() if "__row" in frame.columns else np.arange(chunk.first_row, chunk.first_row + len(frame))
            parts.append((k, chunk, frame.drop(columns="__row", errors="ignore"), rows))
    groups = _alike(parts)
    parsed = [parse_chunk(table, pd.concat([parts[i][2] for i in g], ignore_index=True) if len(g) > 1 else parts[g[0]][2])
              for g in groups]
    owner = np.concatenate([np.full(len(parts[i][2]), parts[i][0], np.int32) for g in groups for i in g] or [np.zeros(0, np.int32)])
    failures = validate_together(table, parsed, owner)
    good_frames, owners, at = [], [], 0
    for g, group_parsed in zip(groups, parsed):
        rows = np.concatenate([parts[i][3] for i in g]) if len(g) > 1 else parts[g[0]][3]
        local = {pos - at: errs for pos, errs in failures.items() if at <= pos < at + len(group_parsed.typed)}
        bad_all = sorted(local)
        good = group_parsed.typed.drop(index=bad_all) if bad_all else group_parsed.typed
        if len(good):
            good_frames.append(good)
            owners.append(owner[at:at + len(group_parsed.typed)][np.isin(np.arange(len(group_parsed.typed)), bad_all, invert=True)])
        first = 0
        for i in g:
            k, chunk, frame, _ = parts[i]
            item = items[k]
            bad_pos = [p for p in bad_all if first <= p < first + len(frame)]
            item.good += len(frame) - len(bad_pos)
            q = quarantine_rows(table, group_parsed, local, bad_pos, rows, chunk.bad, item.report, item.occurrences)
            if q is not None:
                item.quarantine = q if item.quarantine is None else pa.concat_tables([item.quarantine, q])
            for pos in bad_pos:
                for _, reason, _ in local[pos]:
                    item.reasons[reason] += 1
            for rec in chunk.bad:
                item.reasons[rec.reason.split(" (", 1)[0]] += 1
            item.report.rows_read += len(frame) + len(chunk.bad)
            item.report.quarantined += len(bad_pos) + len(chunk.bad)
            first += len(frame)
        at += len(group_parsed.typed)
    if not good_frames:
        return None
    frame = pd.concat(good_frames, ignore_index=True) if len(good_frames) > 1 else good_frames[0]
    block = to_arrow(table, frame)
    return block.append_column(OWNER, pa.array(np.concatenate(owners)))


def _alike(parts) -> list[list[int]]:
    """The parts in runs typed in one go: a run's raw frames have the same columns and dtypes
    (bodies of one shape, the usual case), so typing their concatenation is typing each."""
    groups: list[list[int]] = []
    shape = None
    for i, (_, _, frame, _) in enumerate(parts):
        mine = list(frame.dtypes.items())
        if groups and mine == shape:
            groups[-1].append(i)
        else:
            groups.append([i])
            shape = mine
    return groups


def validate_together(table: str, parsed: list[Parsed], owner: np.ndarray) -> dict[int, list]:
    """Failures by position in all the rows of `parsed` (one after another), found by one
    pandera call over all (when typed alike; otherwise one call each). An event_id repeated
    across inputs (`owner`) is not a failure: the later copy is a duplicate, found when written."""
    full = [p for p in parsed if len(p.typed)]
    if not full:
        return {}
    starts = np.cumsum([0] + [len(p.typed) for p in parsed])
    if len(full) == 1 or any(list(p.typed.dtypes) != list(full[0].typed.dtypes) for p in full):
        together = {int(starts[j]) + pos: errs for j, p in enumerate(parsed) if len(p.typed) for pos, errs in validate(table, p).items()}
        typed = None
    else:
        errors = {int(starts[j]) + pos: errs for j, p in enumerate(parsed) for pos, errs in p.errors.items()}
        typed = pd.concat([p.typed for p in parsed], ignore_index=True) if len(parsed) > 1 else parsed[0].typed
        together = validate(table, Parsed(typed, None, errors))
    flagged = [pos for pos, errs in together.items() if any(reason == _REPEAT for _, reason, _ in errs)]
    if flagged and len(np.unique(owner)) > 1:
        ids = (typed if typed is not None else pd.concat([p.typed for p in parsed], ignore_index=True))["event_id"]
        own = np.zeros(len(owner), bool)  # a repeat within its own input
        for k in np.unique(owner[flagged]):
            mine = np.flatnonzero(owner == k)
            own[mine] = later_repeats(ids.iloc[mine].reset_index(drop=True))
        for pos in flagged:
            if not own[pos]:
                together[pos] = [e for e in together[pos] if e[1] != _REPEAT]
                if not together[pos]:
                    del together[pos]
    return together


def write_many(client, table: str, items: list[Prepared], block: pa.Table | None) -> None:
    """Write the validated inputs as the table's one writer: their 'started' log rows, the new
    rows of `block` in one insert, the bad records not quarantined before, their 'finished' log
    rows. On an error every input is logged 'failed' and the error raised (none is answered)."""
    reports = [item.report for item in items]
    with dedup.writer(client, table):
        ingestlog.log_many(client, reports, "started")
        try:
            if block is not None:
                new = write_new(client, table, block)
                stored = np.bincount(new.column(OWNER).to_numpy(), minlength=len(items)) if new.num_rows else np.zeros(len(items), int)
                for item, n in zip(items, stored):
                    item.report.inserted += int(n)
                    item.report.duplicates += item.good - int(n)
            _write_quarantine(client, table, items)
        except BaseException as exc:
            try:
                ingestlog.log_many(client, reports, "failed", str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)
            except SegworkError:
                pass  # the engine is gone: the 'started' rows tell the story
            raise
        now = time.perf_counter()
        for item in items:
            item.report.reasons = item.reasons.most_common(10)
            item.report.elapsed_s = now - item.started
        ingestlog.log_many(client, reports, "finished")


def _write_quarantine(client, table: str, items: list[Prepared]) -> None:
    """The bad records not in quarantine yet, nor sent by an earlier input of the batch; the
    others count as duplicates of their input."""
    tables = [item.quarantine for item in items if item.quarantine is not None]
    if not tables:
        return
    tokens = [t for q in tables for t in q.column("c__token").to_pylist()]
    seen = dedup.quarantined_before(client, table, tokens)
    keep = []
    for item in items:
        if item.quarantine is None:
            continue
        mine = np.array([t not in seen for t in item.quarantine.column("c__token").to_pylist()])
        seen.update(item.quarantine.column("c__token").to_pylist())
        known = int((~mine).sum())
        item.report.quarantined -= known
        item.report.duplicates += known
        item.report.known_bad += known
        keep.append(item.quarantine.filter(pa.array(mine)) if known else item.quarantine)
    rows = pa.concat_tables(keep)
    if rows.num_rows:
        insert(client, f"{table}_quarantine", rows)
