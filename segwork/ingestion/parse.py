"""Type raw chunks column by column, keeping the original text and what failed to parse.

Numbers written as text take the file's decimal mark (segwork.ingestion.dialect): with ",",
"1.234,56" is 1234.56, "12,5" is 12.5 and "1.234" is 1234 ("." only groups thousands, three
digits a group); "12.5" or "1,234.5" is no number then, and is quarantined, never misread."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segwork.errors import InputFileError
from segwork.ingestion.records import KEPT_CHARS
from segwork.schemas import RULE_TEXT, TABLES, arrow_strings


@dataclass
class Parsed:
    """A typed frame, the raw input, and per-row parse errors."""

    typed: pd.DataFrame
    raw: pd.DataFrame
    errors: dict[int, list[tuple[str, str, str]]]  # position -> [(column, reason, reason with value)]

    def raw_text(self, positions: list[int]) -> pd.DataFrame:
        """Original values of some rows as text (None for missing; each cut to KEPT_CHARS), for the quarantine."""
        picked = self.raw.iloc[positions]
        return pd.DataFrame({c: [_cut(v) for v in _as_text(picked[c])] if c in picked.columns else [None] * len(picked)
                             for c in self.typed.columns}, dtype=object)


def parse_chunk(table: str, raw: pd.DataFrame, decimal: str = ".") -> Parsed:
    """Turn one raw chunk into the model's dtypes; unparseable values become errors, not NaN.

    Only a missing or blank value is missing: text that reads as NaN or infinity is an error
    ("is not a finite number", as the models say of an infinite float). `decimal` is the
    decimal mark of numbers written as text ("." or ",")."""
    kinds = TABLES[table]["kinds"]
    n = len(raw)
    raw = raw.reset_index(drop=True)
    typed, errors = {}, {}
    for column, kind in kinds.items():
        values = raw[column] if column in raw.columns else pd.Series([None] * n, dtype=object)
        shapes = _shapes(values)
        if shapes is not None:  # parsed as missing, reported here
            values = values.astype(object).where(shapes == "", None)
        result, bad = _PARSERS[kind](point_decimals(values) if decimal == "," and kind in ("float", "int") else values)
        typed[column] = result
        for pos in np.flatnonzero(bad):
            reason = f"{column}: {_failure_words(kind, values.iloc[pos], decimal)}"
            errors.setdefault(int(pos), []).append((column, reason, f"{reason} (got {_short(values.iloc[pos])!r})"))
        for pos in np.flatnonzero(shapes != "") if shapes is not None else ():
            words, shown = f"{column}: is not {_KIND_WORDS[kind]}", repr(_short(_obj_text(raw[column].iloc[pos])))
            if kind in _TEXT_KINDS:  # "product_id: is not text (got an array)"
                reason, detail = f"{words} (got {shapes[pos]})", f"{words} (got {shapes[pos]}: {shown})"
            else:  # "event_value: is not a number (Float64)", as for any other value that is not one
                reason, detail = words, f"{words} (got {shown})"
            errors.setdefault(int(pos), []).append((column, reason, detail))
    return Parsed(pd.DataFrame(typed), raw, errors)


def _shapes(values: pd.Series) -> np.ndarray | None:
    """Per value, "an object", "an array" or "a boolean" where it is one of those (JSON values no
    column takes: a number where text is expected is taken as its text, ids often come as
    numbers), else ""; None when the column holds none (checked on the set of types first)."""
    if pd.api.types.is_bool_dtype(values):
        return np.where(values.isna().to_numpy(), "", "a boolean")
    if values.dtype != object:
        return None
    array = values.to_numpy()
    if not set(map(type, array)) - _SCALAR_TYPES:
        return None
    return np.array([_shape_of(v) for v in array], dtype=object)


def _shape_of(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "an array"
    return ""


def _json_text(value) -> str:
    """A nested value as the JSON text it came as (pyarrow hands arrays over as numpy arrays)."""
    return json.dumps(value, ensure_ascii=False, default=lambda v: v.tolist() if isinstance(v, (np.ndarray, np.generic)) else str(v))


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= KEPT_CHARS else text[:KEPT_CHARS]


def _as_text(values: pd.Series) -> pd.Series:
    """Original values as text (None for missing), for the quarantine."""
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.astype("str")
    else:
        out = values.map(_obj_text) if values.dtype == object else values.astype("str")
    out = out.astype(object)
    out[values.isna().to_numpy()] = None
    return out


def _missing(values: pd.Series) -> np.ndarray:
    if values.dtype == object:
        values = values.map(_obj_text)
    if pd.api.types.is_string_dtype(values):
        return (values.isna() | (values.str.strip() == "")).to_numpy(dtype=bool)
    return values.isna().to_numpy(dtype=bool)


def _text(values: pd.Series) -> pd.Series:
    """Values as str dtype (None stays missing)."""
    if values.dtype == object:
        values = values.map(_obj_text)
    return values.astype("str")


def _obj_text(value):
    """The text of a JSON value, None for missing (None or NaN): str() of a number or text, the
    JSON text of an object, array or boolean."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if type(value) in _SCALAR_TYPES:
        return str(value)
    return _json_text(value) if _shape_of(value) else str(value)


def _arrow_text(values: pd.Series, *, trim: bool = True, lower: bool = False) -> pd.Series | None:
    """Text, missing for null or blank (trimmed for ids), computed on the Arrow array itself
    when the column is Arrow-backed text (what Parquet and CSV give): the same result as
    the pandas route below (which also trims with Arrow), without its intermediate Series."""
    array = arrow_strings(values)
    if array is None:
        return None
    # Trimming (and lower-casing) is skipped when it can change nothing, told from the bytes in numpy:
    # typing bench's 3M-event Parquet file 0.69 -> 0.63 s, 0.62 -> 0.41 s (medians of 9-11, interleaved, load 6-12).
    trimmed = array if _no_space_at_ends(array) else pc.utf8_trim_whitespace(array)
    out = trimmed if trim else array
    if lower and not _lower_already(out):  # event types as shops send them are lower-case already
        out = pc.utf8_lower(out)
    blank = pc.equal(pc.binary_length(trimmed), 0)
    if pc.any(blank).as_py():
        out = pc.if_else(blank, pa.scalar(None, out.type), out)
    return out.to_pandas()


def _no_space_at_ends(array) -> bool:
    """Whether no text starts or ends with a byte that could be (part of) whitespace: ASCII
    controls, space, or any non-ASCII byte (Unicode spaces such as U+00A0 or U+3000); then
    trimming changes nothing. Read off each value's first and last byte in numpy (an empty
    value reads a neighbour's, or the buffer's last byte: at worst a false alarm, never a miss)."""
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        views = _text_bytes(chunk)
        if views is None:
            return False
        offsets, data = views
        if len(data) and (_space_like(data[np.minimum(offsets[:-1], len(data) - 1)])
                          or _space_like(data[offsets[1:] - 1])):  # -1 reads the last byte
            return False
    return True


def _space_like(edge_bytes: np.ndarray) -> bool:
    return bool(((edge_bytes <= 0x20) | (edge_bytes >= 0x7F)).any())


def _lower_already(array) -> bool:
    """Whether lower-casing changes nothing: ASCII text with no capital letter."""
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        views = _text_bytes(chunk)
        if views is None:
            return False
        offsets, data = views
        used = data[offsets[0]:offsets[-1]] if len(offsets) else data[:0]
        if (used >= 0x80).any() or ((used - np.uint8(ord("A"))) < 26).any():
            return False
    return True


def _text_bytes(chunk) -> tuple[np.ndarray, np.ndarray] | None:
    """(the value offsets, the bytes buffer) of an Arrow text array; None for other types."""
    if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
        return None
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(chunk.buffers()[1], width)[chunk.offset:chunk.offset + len(chunk) + 1] if len(chunk) else np.zeros(0, width)
    data = chunk.buffers()[2]
    return offsets, np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8)


def _parse_text(values: pd.Series):
    fast = _arrow_text(values, trim=False)
    if fast is not None:
        return fast, np.zeros(len(values), dtype=bool)
    out = _text(values)
    return out.where(~_missing(out)), np.zeros(len(values), dtype=bool)


def _parse_id(values: pd.Series):
    fast = _arrow_text(values)
    if fast is not None:
        return fast, np.zeros(len(values), dtype=bool)
    if pd.api.types.is_float_dtype(values):  # ids that came in as numbers: 17850.0 -> "17850"
        whole = values.notna() & (values == np.floor(values.fillna(0)))
        values = values.where(whole).astype("Int64").astype("str").where(whole, _text(values))
    out = _text(values).str.strip()
    return out.where(~_missing(out)), np.zeros(len(values), dtype=bool)


def _parse_type(values: pd.Series):
    fast = _arrow_text(values, lower=True)
    if fast is not None:
        return fast, np.zeros(len(values), dtype=bool)
    out, bad = _parse_id(values)
    return out.str.lower(), bad


def _arrow_cast(values: pd.Series, target: pa.DataType):
    """(values cast to target, missing mask) when the column is Arrow-backed text and every
    non-blank value casts cleanly (Arrow's casts are strict: 2023-02-29 and '1,5' fail);
    None otherwise, and the pandas route below finds the values that do not parse."""
    array = arrow_strings(values)
    if array is None:
        return None
    trimmed = array if _no_space_at_ends(array) else pc.utf8_trim_whitespace(array)
    blank = pc.fill_null(pc.equal(pc.binary_length(trimmed), 0), True)
    try:
        typed = pc.cast(pc.if_else(blank, pa.scalar(None, trimmed.type), trimmed), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return typed, np.asarray(blank.combine_chunks() if isinstance(blank, pa.ChunkedArray) else blank, dtype=bool)


def _parse_float(values: pd.Series):
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), np.zeros(len(values), dtype=bool)
    fast = _arrow_cast(values, pa.float64())
    if fast is not None:
        out = fast[0].to_pandas()
        bad = ~fast[1] & ~np.isfinite(out.to_numpy())  # 'nan' and 'inf' parse, but are not finite numbers
        return out.where(~bad), bad
    text = _text(values).str.strip()
    missing = _missing(text)
    out = pd.to_numeric(text.where(~missing), errors="coerce").astype("float64")
    bad = ~missing & ~np.isfinite(out.to_numpy())
    if pd.api.types.is_object_dtype(values):  # JSON true/false are not numbers
        bad |= values.map(lambda v: isinstance(v, bool)).to_numpy(dtype=bool)
    return out.where(~bad), bad


def numbers_from_text(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, np.ndarray]:
    """Values (text, or numbers already) as float64, and the mask of those present that are no
    finite number (NaN in the result, as are missing ones); `decimal` is the decimal mark of
    the text ("." or ",", see the module's doc). The rule every number column is read with."""
    if decimal not in (".", ","):
        raise InputFileError(f"decimal {decimal!r}: use '.' (1234.5) or ',' (1234,5)")
    values = values.reset_index(drop=True)
    return _parse_float(point_decimals(values) if decimal == "," else values)


def point_decimals(values: pd.Series) -> pd.Series:
    """Text written with a decimal comma ("1.234,5") with a decimal point ("1234.5"); text that is
    no such number is made text that no number parser takes. Values that are not text stay."""
    if values.dtype != object and not pd.api.types.is_string_dtype(values):
        return values
    out = values.astype(object)
    text_at = np.flatnonzero([isinstance(v, str) for v in out.to_numpy()])
    if not len(text_at):
        return out
    text = pd.Series(out.iloc[text_at].to_numpy(), dtype=object).str.strip()
    fine = text.str.fullmatch(_COMMA_NUMBER) | (text == "")
    pointed = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out.iloc[text_at] = pointed.where(fine, "not a number").to_numpy()
    return out


_COMMA_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+|(?=,\d))(?:,\d+)?(?:[eE][+-]?\d+)?"


def _parse_int(values: pd.Series):
    as_float, bad = _parse_float(values)
    fractional = as_float.notna() & np.isfinite(as_float.fillna(0)) & (as_float != np.floor(as_float.fillna(0)))
    out_of_int = as_float.notna() & (as_float.abs() > 2**31 - 1)
    bad = bad | fractional.to_numpy() | out_of_int.to_numpy() | (as_float.notna() & ~np.isfinite(as_float.fillna(0))).to_numpy()
    ok = as_float.where(~bad)
    return ok.round().astype("Int32"), bad


def _parse_time(values: pd.Series):
    n = len(values)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert("UTC")
        return out.astype("datetime64[us, UTC]"), np.zeros(n, dtype=bool)
    if pd.api.types.is_datetime64_dtype(values):
        return values.dt.tz_localize("UTC").astype("datetime64[us, UTC]"), np.zeros(n, dtype=bool)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        missing = values.isna().to_numpy()
        out = pd.to_datetime(values, unit="s", utc=True, errors="coerce")
    elif (fast := _arrow_cast(values, pa.timestamp("s"))) is not None:  # ISO 8601 without zone: UTC
        missing = fast[1]
        out = fast[0].cast(pa.timestamp("s", tz="UTC")).to_pandas()
    else:
        text = _text(values).str.strip()
        missing = _missing(text)
        text = text.where(~missing)
        out = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        numeric = pd.to_numeric(text.where(out.isna()), errors="coerce")  # epoch seconds as text or JSON numbers
        if numeric.notna().any():
            out = out.where(numeric.isna(), pd.to_datetime(numeric, unit="s", utc=True, errors="coerce"))
    out = out.astype("datetime64[us, UTC]")
    bad = ~missing & out.isna().to_numpy()
    return out, bad


_PARSERS = {"id": _parse_id, "text": _parse_text, "type": _parse_type, "float": _parse_float, "int": _parse_int, "time": _parse_time}
_SCALAR_TYPES = {str, int, float, type(None)}
_TEXT_KINDS = ("id", "text", "type")
_KIND_WORDS = {
    "id": "text", "text": "text", "type": "text", "float": "a number (Float64)",
    "int": "a whole number (Int32)", "time": "a date/time (use ISO 8601, e.g. 2024-05-01 13:45:00)",
}


def _failure_words(kind: str, value, decimal: str = ".") -> str:
    """Why a present value failed to parse, e.g. "is not a whole number (Int32)"."""
    if kind in ("float", "int") and _not_finite(value):
        return RULE_TEXT["finite"]
    if kind == "float" and decimal == ",":
        return f"is not {_KIND_WORDS[kind][:-1]}, with decimal comma: 1234,5 or 1.234,5)"
    return f"is not {_KIND_WORDS[kind]}"


def _not_finite(value) -> bool:
    """Whether a value reads as a number that is not finite: NaN, 'nan', '-Infinity', '1e400'."""
    try:
        return not math.isfinite(float(str(value).strip()))
    except ValueError:
        return False


def _short(value) -> str:
    s = str(value)
    return s if len(s) <= 60 else s[:57] + "..."
