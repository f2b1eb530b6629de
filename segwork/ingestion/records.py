"""What readers hand on: raw chunks of records, the records that could not be split, the source."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segwork.config import Settings
from segwork.ingestion.dialect import Dialect

KEPT_CHARS = 2000  # of a quarantined record's raw text, and of each of its values


@dataclass
class BadRecord:
    """A record that could not be split into fields (broken CSV line, invalid JSON, too deep)."""

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
    """An opened input: a binary stream plus what we know about it, and the limits it is read with.

    `dialect` is the resolved one: the delimiter and encoding found (named in `detected`) or
    given; for a workbook, the sheet read by name, `sheets` all its sheets' names."""

    stream: BinaryIO
    name: str
    format: str
    size: int | None
    settings: Settings = field(default_factory=Settings)
    dialect: Dialect = field(default_factory=Dialect)
    detected: frozenset[str] = frozenset()
    sheets: tuple[str, ...] = ()
    workbook: object = None  # an opened .xlsx (segwork.ingestion.xlsxfile)
    position: Callable[[], int] | None = None  # bytes read so far, where the stream's position does not tell
    headerless_table: str | None = None  # a CSV without a header is read in this table's column order (csvfile)
    notes: list[str] = field(default_factory=list)  # what the reader decided that the report should say

    def close(self) -> None:
        """Close the stream (and the workbook) once read."""
        if self.workbook is not None:
            try:
                self.workbook.close()
            except Exception:  # noqa: BLE001 - closed already (by its reader)
                pass
        self.stream.close()


def nan_as_text(table, columns: list[str]):
    """The table (or batch) with each float column that holds a NaN as text ("nan"): a NaN is
    present, not null, and pandas would take it for missing; typing then quarantines it like
    the text NaN. Columns read as text (ids) keep pandas' reading, where a whole number keeps
    all its digits (Arrow's text of 123456789012.0 is "1.23456789012e+11")."""
    text = string_targets(columns)
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if name not in text and pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
            table = table.set_column(i, name, column.cast(pa.string()))
    return table


def string_targets(columns: list[str]) -> list[str]:
    """The columns of `columns` that are typed as text."""
    from segwork.schemas import string_columns

    return [c for c in columns if c in string_columns()]
