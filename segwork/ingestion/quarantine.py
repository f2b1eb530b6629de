"""Bad records as rows of `<table>_quarantine`: original text, reasons, line, token."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa_arrow

from segwork.ingestion import dedup
from segwork.ingestion.parse import Parsed
from segwork.schemas import columns


def quarantine_rows(table, parsed: Parsed, failures, bad_pos, row_numbers, bad_records, report,
                     occurrences: dict[str, int], originals=None) -> pa_arrow.Table | None:
    """The quarantine rows of one chunk (None when it has none), each with its recognition token.
    `originals(positions)` gives mapped rows' source records as text (kept as the raw record)."""
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
    data["c__raw"] = (originals(bad_pos) if originals and bad_pos else [None] * len(bad_pos)) + [r.text for r in bad_records]
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
