"""CSV for people: a text cell that a spreadsheet would run as a formula is neutralised.

OWASP's rule (CSV injection): a cell whose text starts with `=`, `+`, `-`, `@`, tab or carriage
return gets a leading `'`, so Excel, LibreOffice and Google Sheets show it as text. Only text
cells: numbers (-5.5 in a numeric column) are written as they are. Stored data is never
changed; JSON, NDJSON and Parquet carry the raw values (programs read those, not spreadsheets).
Money columns (MONEY_COLUMNS) are written to the cent: a sum of Float64 amounts carries binary
noise (175.54 + 1148.35 = 1323.8899999999999) that a person should not see.

`neutralised` is the rule. `frame_csv` applies it to each text cell of a DataFrame (workbench
downloads, `query --format csv`); `engine_csv` applies it to ClickHouse's own CSVWithNames (the
pipes' `.csv`), whose text cells are exactly its quoted ones.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MONEY_COLUMNS = ("lifetime_value", "avg_lifetime_value", "total_lifetime_value", "total_value", "event_value",
                 "monetary", "avg_monetary", "lifetime_value_a", "lifetime_value_b")
PREFIX = "'"

# What engine_csv relies on, sent with every query it neutralises (a server profile may change them).
ENGINE_CSV_SETTINGS = {"format_csv_delimiter": ",", "output_format_csv_crlf_end_of_line": 0,
                       "format_csv_null_representation": "\\N"}
# ClickHouse's CSV quotes every String, LowCardinality(String), FixedString and Enum value (and
# dates, UUIDs, arrays, maps, which never start with FORMULA_START), never a number, bool or NULL;
# a quote inside a value is doubled. So a '"' right after ',' or a line end followed by one of
# FORMULA_START opens a text cell that needs the prefix, and no other '"' is followed by one there
# (tests/test_exports.py checks every leading character against `neutralised`). The literal '"'
# leads the pattern, so the scan is quick: ~4 ms per MB, 55 ms for the engagement pipe's 97k rows
# (13 MB) against ~790 ms for its query and CSV in the engine (bench/csv_exports.py); a pattern
# led by the character class took 8x longer.
_ENGINE_CELL = re.compile(b'"(?=[' + re.escape("".join(FORMULA_START)).encode() + b'])(?<=[,\n]")')


def neutralised(text: str) -> str:
    """`text` as a CSV cell for people: with a leading ' when a spreadsheet would read a formula."""
    return PREFIX + text if text.startswith(FORMULA_START) else text


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are `neutralised`; numbers, times and missing values untouched."""
    out = frame.copy(deep=False)
    for i, (_, column) in enumerate(frame.items()):
        if isinstance(column.dtype, pd.StringDtype):
            hits = column.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
        elif column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
            hits = np.fromiter((isinstance(v, str) and v.startswith(FORMULA_START) for v in column), bool, len(column))
        else:
            continue  # numbers, times, booleans
        if hits.any():
            column = column.copy()
            column[hits] = [neutralised(v) for v in column[hits]]
            out.isetitem(i, column)
    return out


def money_to_the_cent(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose numeric MONEY_COLUMNS are rounded to 2 decimals (-0.0 written as 0.0)."""
    out = frame.copy(deep=False)
    for i, (name, column) in enumerate(frame.items()):
        if name in MONEY_COLUMNS and pd.api.types.is_float_dtype(column.dtype):
            out.isetitem(i, column.round(2) + 0.0)
    return out


def frame_csv(frame: pd.DataFrame, **to_csv) -> str:
    """`frame.to_csv(index=False, **to_csv)` with its text cells neutralised and money to the cent,
    lines ending in CRLF.

    CRLF (RFC 4180's line end) also makes the writer quote a cell holding a carriage return:
    with '\n' alone it writes one bare, and a spreadsheet starts a new row there.
    """
    return neutralise_frame(money_to_the_cent(frame)).to_csv(index=False, lineterminator="\r\n", **to_csv)


def engine_csv(body: bytes) -> bytes:
    """ClickHouse's CSVWithNames (made with ENGINE_CSV_SETTINGS) with its text cells neutralised."""
    return _ENGINE_CELL.sub(b'"' + PREFIX.encode(), body)
