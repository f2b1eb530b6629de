"""What readers hand on: raw chunks of records, the records that could not be split, the source."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

import pandas as pd


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
