"""Apply a compiled mapping to one raw chunk: the table's fields, per-row errors, and the
source record of any row (as JSON text) for the quarantine.

Values a mapping makes go on to segwork.ingestion.parse and the pandera models like values
read from a file, so a mapped value that fails is quarantined with the same reasons. What only
the mapping can tell (a source value that is not a number where an expression computes with
it, a time that does not match the format) is reported here, on the field it was for.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segwork.ingestion.parse import numbers_from_text
from segwork.ingestion.records import KEPT_CHARS
from segwork.mapping.expressions import LINE
from segwork.mapping.spec import Compiled, CompiledSource
from segwork.schemas import TABLES

Errors = dict[int, list[tuple[str, str, str]]]  # position -> [(field, reason, reason with value)]


@dataclass
class Mapped:
    """One chunk through a mapping."""

    frame: pd.DataFrame  # the table's mapped fields
    errors: Errors
    source: pd.DataFrame  # the source columns read (for the quarantine)
    values: "SourceValues"  # the same as text and numbers, computed once (derived profiles read them again)

    def originals(self, positions: list[int]) -> list[str]:
        """The source records at `positions` as JSON objects of their text (the quarantine's raw record)."""
        picked = self.source.iloc[positions]
        if picked.columns.is_unique:  # pandas' JSON writer (in C): 2 s -> 0.3 s for 135,080 records
            text = picked.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
            return [line[:KEPT_CHARS] for line in text.split("\n")[:len(positions)]]  # JSON escapes line breaks in values
        names = list(picked.columns)
        values = [[None if _missing_value(v) else str(v) for v in picked[c].tolist()] for c in names]
        return [json.dumps(dict(zip(names, row)), ensure_ascii=False)[:KEPT_CHARS] for row in zip(*values)]


def apply(compiled: Compiled, frame: pd.DataFrame, lines, decimal: str = ".") -> Mapped:
    """The mapped fields of `frame` (source columns; `lines` the records' line numbers)."""
    n = len(frame)
    values = SourceValues(frame, np.asarray(lines), decimal)
    kinds = TABLES[compiled.mapping.table]["kinds"]
    errors: Errors = {}
    out = {f: evaluate(f, s, values, errors, kinds[f]) for f, s in compiled.fields.items()}
    return Mapped(pd.DataFrame(out, index=range(n)), errors, values.frame, values)


def evaluate(target: str, compiled: CompiledSource, values: "SourceValues", errors: Errors, kind: str) -> pd.Series:
    """One field's values for the chunk; rows the mapping cannot compute get an error and None."""
    source, n = compiled.source, values.n
    if source.kind == "column":
        result = values.raw(source.column)
        if source.values:
            table = dict(source.values)
            text = values.text(source.column)
            result = text.map(lambda v: table.get(v, v), na_action="ignore")
    elif source.kind == "constant":
        result = pd.Series([source.constant] * n, dtype=object)
    elif source.kind == "template":
        result = _template(compiled.template, values)
    elif source.kind == "expression":
        expression = compiled.expressions[0]
        bad = values.not_numbers(expression.numeric, target, errors)
        result = expression.evaluate(values.scope(expression), n)
        if bad.any():
            result = result.astype(object).where(~bad, None)
    else:  # cases: the first that holds wins
        result = pd.Series([source.otherwise] * n, dtype=object)
        decided = np.zeros(n, dtype=bool)
        for expression, (_, value) in zip(compiled.expressions, source.cases):
            bad = values.not_numbers(expression.numeric, target, errors)
            holds = expression.evaluate(values.scope(expression), n)
            holds = holds.fillna(False).astype(bool).to_numpy() & ~decided & ~bad
            result = result.where(~holds, value)
            decided |= holds | bad
        result = result.where(~_erred(errors, target, n), None)
    result = result.reset_index(drop=True)
    if kind in ("id", "text", "type") and result.dtype == object:
        result = result.astype("str")  # Arrow-backed text: typing and the quarantine take their fast paths
    if kind == "time" and (source.format or source.timezone):
        result = _times(result, source.format, source.timezone, target, errors)
    return result


def _template(parts, values: "SourceValues") -> pd.Series:
    """Literals and columns' text joined (in Arrow); missing where a column is missing."""
    pieces = []
    for literal, column in parts:
        if literal:
            pieces.append(pa.scalar(literal))
        if column is not None:
            pieces.append(pa.array(values.text(column).astype(object), type=pa.string(), from_pandas=True))
    if not any(isinstance(p, pa.Array) for p in pieces):
        return pd.Series(["".join(p.as_py() for p in pieces)] * values.n, dtype="str")
    return pd.Series(pc.binary_join_element_wise(*pieces, "").to_pandas(), dtype="str")


def _times(values: pd.Series, fmt: str | None, zone: str | None, target: str, errors: Errors) -> pd.Series:
    """Text in `fmt` (or ISO 8601), in `zone` (or UTC), as UTC times; what does not match is an error."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
        parsed = values
    else:
        text = values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v).strip())
        text = text.where(text != "", None)
        parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
        for pos in np.flatnonzero(text.notna().to_numpy() & parsed.isna().to_numpy()):
            shown = str(text.iloc[pos])[:60]
            reason = f"{target}: does not match the time format {fmt}" if fmt else f"{target}: is not a date/time"
            errors.setdefault(int(pos), []).append((target, reason, f"{reason} (got {shown!r})"))
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(zone or "UTC", ambiguous="NaT", nonexistent="NaT")
    return parsed.dt.tz_convert("UTC")


def _erred(errors: Errors, target: str, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for pos, errs in errors.items():
        if any(f == target for f, _, _ in errs):
            mask[pos] = True
    return mask


def _missing_value(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT


class SourceValues:
    """A chunk's source columns as read, as text and as numbers (computed once each)."""

    def __init__(self, frame: pd.DataFrame, lines: np.ndarray, decimal: str):
        self.frame, self.lines, self.decimal, self.n = frame.reset_index(drop=True), lines, decimal, len(frame)
        self._numbers: dict[str, tuple[pd.Series, np.ndarray]] = {}
        self._text: dict[str, pd.Series] = {}

    def raw(self, column: str) -> pd.Series:
        return pd.Series(self.lines) if column == LINE else self.frame[column]

    def text(self, column: str) -> pd.Series:
        """Values as text (None where missing); whole numbers without '.0' (17850.0 -> '17850')."""
        if column not in self._text:
            values = self.raw(column)
            if pd.api.types.is_float_dtype(values):
                text = values.astype(object).map(lambda v: str(int(v)) if float(v).is_integer() else str(v), na_action="ignore")
            elif pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
                text = values.astype(object).map(str, na_action="ignore")
            elif isinstance(values.dtype, pd.StringDtype):
                text = values
            else:
                text = values.astype(object).where(values.notna(), None)
            self._text[column] = text.reset_index(drop=True)
        return self._text[column]

    def number(self, column: str) -> tuple[pd.Series, np.ndarray]:
        """(values as float, mask of values present but not numbers)."""
        if column not in self._numbers:
            values = self.raw(column)
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                self._numbers[column] = (values.astype("float64"), np.zeros(self.n, dtype=bool))
            else:  # the rule of every number column (segwork.ingestion.parse): "12.5" with decimal "," is no number
                self._numbers[column] = numbers_from_text(self.text(column), self.decimal)
        return self._numbers[column]

    def scope(self, expression) -> dict[str, pd.Series]:
        return {c: (self.number(c)[0] if c in expression.numeric else self.text(c)) for c in expression.columns}

    def not_numbers(self, columns, target: str, errors: Errors) -> np.ndarray:
        """Rows where a column the expression computes with is not a number: an error on `target`."""
        bad_any = np.zeros(self.n, dtype=bool)
        for column in columns:
            _, bad = self.number(column)
            for pos in np.flatnonzero(bad & ~bad_any):
                reason = f"{target}: {column} is not a number"
                errors.setdefault(int(pos), []).append((target, reason, f"{reason} (got {str(self.text(column).iloc[pos])[:60]!r})"))
            bad_any |= bad
        return bad_any
