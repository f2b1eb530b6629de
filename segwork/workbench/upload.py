"""Upload helpers: a preview of a file before it is ingested, and readable report tables."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from segwork.config import Settings
from segwork.ingestion import read as readers
from segwork.ingestion import IngestReport
from segwork.ingestion.dialect import Dialect
from segwork.ingestion.parse import parse_chunk
from segwork.schemas import TABLES, columns
from segwork.workbench import engine

FILE_TYPES = ["csv", "tsv", "ndjson", "jsonl", "json", "parquet", "xlsx", "xlsm", "gz"]
STORED_AS = {"id": "String", "text": "String", "type": "LowCardinality(String)", "float": "Float64",
             "int": "Int32", "time": "DateTime('UTC')"}


@dataclass
class Preview:
    """The first rows of a file and, per column, what the table will make of it."""

    format: str
    compressed: bool
    rows: pd.DataFrame  # the first records as read (text), with their line/record number
    columns: pd.DataFrame  # column, in file, stored as, required, preview values that parse
    missing_required: list[str]
    ignored: list[str]
    dialect: Dialect = field(default_factory=Dialect)  # as resolved: the delimiter and encoding found, the sheet read
    detected: frozenset[str] = frozenset()  # which of the dialect's parts were found rather than given
    sheets: tuple[str, ...] = ()  # every sheet of a workbook, in order

    @property
    def read_as(self) -> str:
        """How the file is read, for people: "CSV: delimiter semicolon (detected), decimal comma, encoding
        Windows-1252 (detected)", "XLSX: decimal point, sheet 'Events' (of 'Notes', 'Events')"."""
        words = f"{self.format.upper()}: {self.dialect.describe(self.detected)}"
        return words + (f" (of {', '.join(map(repr, self.sheets))})" if len(self.sheets) > 1 else "")


def preview(data: bytes, name: str, table: str, rows: int = 10, settings: Settings | None = None,
            dialect: Dialect | None = None) -> Preview:
    """Read only the first `rows` records of an uploaded file (InputFileError if unreadable),
    with the limits of `settings` for uploads (default: the process's) and what `dialect` says
    of its writing (the rest is found out, and the Preview says what was found)."""
    chunk, src = readers.first_chunk(data, name, (settings or engine.settings()).for_uploads(), dialect, columns(table), rows)
    compressed = data[:2] == b"\x1f\x8b"
    found = {"dialect": src.dialect, "detected": src.detected, "sheets": src.sheets}
    if chunk is None:
        return Preview(src.format, compressed, pd.DataFrame(), _columns(table, [], None, 0), list(TABLES[table]["required"]), [],
                       **found)
    frame = chunk.frame.head(rows).reset_index(drop=True)
    line = frame.pop("__row") if "__row" in frame.columns else pd.Series(range(chunk.first_row, chunk.first_row + len(frame)))
    seen = [c for c in (chunk.seen or list(frame.columns)) if c != "__row"]
    parsed = parse_chunk(table, frame, src.dialect.decimal)
    shown = frame.assign(**{"record": line.to_numpy()})[["record"] + [c for c in columns(table) if c in frame.columns]]
    missing = [c for c in TABLES[table]["required"] if c not in seen]
    ignored = [c for c in seen if c not in columns(table)]
    return Preview(src.format, compressed, shown, _columns(table, seen, parsed, len(frame)), missing, ignored, **found)


def _columns(table: str, seen: list[str], parsed, n: int) -> pd.DataFrame:
    bad_per_column: dict[str, int] = {}
    if parsed is not None:
        for errs in parsed.errors.values():
            for column, _, _ in errs:
                bad_per_column[column] = bad_per_column.get(column, 0) + 1
    out = []
    for column, kind in TABLES[table]["kinds"].items():
        present = column in seen
        out.append({
            "column": column,
            "in file": "yes" if present else "no",
            "stored as": STORED_AS[kind],
            "required": "yes" if column in TABLES[table]["required"] else "no",
            "preview values that parse": f"{n - bad_per_column.get(column, 0)} of {n}" if present else "-",
        })
    return pd.DataFrame(out)


def reasons_table(report: IngestReport) -> pd.DataFrame:
    """The report's top reasons for quarantine, one row each."""
    return pd.DataFrame(report.reasons, columns=["reason", "rows"])


def quarantine_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows made readable: line, reasons and failed columns as text, then the original values."""
    if frame.empty:
        return pd.DataFrame(columns=["row", "reasons", "columns", "source"])
    meta = {"c__row", "c__error", "c__error_column", "c__source", "c__import_id", "c__raw", "insertion_date"}
    values = [c for c in frame.columns if c not in meta]
    out = pd.DataFrame({
        "row": frame["c__row"].astype("int64"),
        "reasons": frame["c__error"].map(lambda xs: "; ".join(xs)),
        "columns": frame["c__error_column"].map(lambda xs: ", ".join(xs)),
    })
    for c in values:
        out[c] = frame[c]
    out["raw record"] = frame["c__raw"]
    out["source"] = frame["c__source"]
    return out.sort_values("row", kind="stable").reset_index(drop=True)
