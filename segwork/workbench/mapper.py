"""The Upload page's mapping step: a file's own columns and first rows, a mapping to start from,
the mapping as an editable table, and the first rows as the table would get them."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from segwork.config import Settings
from segwork.errors import SegworkError
from segwork.ingestion import read as readers
from segwork.ingestion.dialect import Dialect
from segwork.ingestion.mapped import merge_errors
from segwork.ingestion.parse import numbers_from_text, parse_chunk
from segwork.ingestion.validate import validate
from segwork.mapping import apply as applying
from segwork.mapping.spec import SOURCE_KINDS, FieldSource, Mapping
from segwork.mapping.suggest import suggest
from segwork.schemas import TABLES, columns

AS_IS = "as is: the file has the table's columns"
SUGGESTED = "suggested from the file's columns"
NOT_MAPPED = "not mapped"
KINDS = (NOT_MAPPED,) + SOURCE_KINDS
STORED_AS = {"id": "text (id)", "text": "text", "type": "event type", "float": "number", "int": "whole number",
             "time": "date/time (UTC)"}


@dataclass
class Sample:
    """The first records of a file with all its own columns."""

    format: str
    compressed: bool
    header: list[str]
    rows: pd.DataFrame  # record (line number) + the file's columns, as read
    types: pd.DataFrame  # column, looks like, first values
    dialect: Dialect = dataclasses.field(default_factory=Dialect)  # as resolved: what was given and what was found
    read_as: str = ""  # how the file is read, for people ("CSV: delimiter semicolon (detected), decimal comma")
    sheets: tuple[str, ...] = ()  # a workbook's sheets


def sample(data: bytes, name: str, settings: Settings, rows: int = 10, dialect: Dialect | None = None) -> Sample:
    """Read the first `rows` records of an upload with every column it has (InputFileError if
    unreadable), written as `dialect` says (what it leaves open is found out)."""
    header = _read(data, name, settings, [], rows, dialect)[0].seen or []
    chunk, src = _read(data, name, settings, header, rows, dialect)
    frame = chunk.frame.head(rows).reset_index(drop=True)
    line = frame.pop("__row") if "__row" in frame.columns else pd.Series(range(chunk.first_row, chunk.first_row + len(frame)))
    shown = pd.concat([pd.DataFrame({"record": line.to_numpy()}), frame.reindex(columns=header)], axis=1)
    types = pd.DataFrame([{"column": c, "looks like": looks_like(frame[c], src.dialect.decimal) if c in frame else "empty",
                           "first values": ", ".join(map(str, frame[c].dropna().astype(str).head(3))) if c in frame else ""}
                          for c in header])
    read_as = f"{src.format.upper()}: {src.dialect.describe(src.detected)}"
    read_as += f" (of {', '.join(map(repr, src.sheets))})" if len(src.sheets) > 1 else ""
    return Sample(src.format, data[:2] == b"\x1f\x8b", header, shown, types, src.dialect, read_as, tuple(src.sheets))


def sheets(data: bytes, name: str, settings: Settings) -> tuple[str, ...]:
    """A workbook's sheets (none for other formats; an unreadable file shows its error later)."""
    if not name.lower().endswith((".xlsx", ".xlsm")):
        return ()
    try:
        src = readers.open_source(data, None, name, settings)
    except SegworkError:
        return ()
    src.close()
    return tuple(src.sheets)


def _read(data: bytes, name: str, settings: Settings, wanted: list[str], rows: int, dialect: Dialect | None):
    chunk, src = readers.first_chunk(data, name, settings, dialect, wanted, rows)
    return (chunk if chunk is not None else readers.RawChunk(pd.DataFrame(), 1, [], [])), src


def looks_like(values: pd.Series, decimal: str = ".") -> str:
    """What a column's first values read as: number, whole number, date/time, text or empty."""
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return "empty"
    numbers, bad = numbers_from_text(text.reset_index(drop=True), decimal)
    if not bad.any() and numbers.notna().all():
        return "whole number" if (numbers == np.floor(numbers)).all() and not text.str.contains(r"[.,]").any() else "number"
    if text.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}").all() and pd.to_datetime(
            text, errors="coerce", format="mixed").notna().all():
        return "date/time"
    return "text"


def starting_points(table: str, sample_: Sample, saved: dict[str, Mapping]) -> dict[str, Mapping | None]:
    """The mappings the page offers, best first: as is (when the file fits), saved ones that fit
    the file, the suggestion, then the other saved ones for this table."""
    fits_as_is = all(c in sample_.header for c in TABLES[table]["required"])
    fitting = {n: m for n, m in saved.items() if m.table == table and all(c in sample_.header for c in m.source_columns())}
    out: dict[str, Mapping | None] = {AS_IS: None} if fits_as_is else {}
    out.update(fitting)
    out[SUGGESTED] = suggest(table, sample_.rows.drop(columns="record"))
    out.update({n: m for n, m in saved.items() if m.table == table and n not in out})
    return out


def editor_rows(table: str, mapping: Mapping) -> pd.DataFrame:
    """The mapping as one row per field: how it is filled, from what, and the time format."""
    rows = []
    for field, kind in TABLES[table]["kinds"].items():
        source = mapping.fields.get(field)
        how = source.kind if source is not None else NOT_MAPPED
        what = "" if source is None else _what(source)
        rows.append({"field": field, "required": field in TABLES[table]["required"], "stored as": STORED_AS[kind],
                     "from": how, "source": what, "time format": (source.format or "") if source else ""})
    return pd.DataFrame(rows)


def _what(source: FieldSource) -> str:
    if source.kind == "cases":
        return "; ".join(f"{v} when {w}" for w, v in source.cases) + f"; else {source.otherwise}"
    value = getattr(source, source.kind)
    text = "" if value is None else str(value)
    return text + (f"  (value map: {dict(source.values)})" if source.values else "")


def from_editor(table: str, rows: pd.DataFrame, base: Mapping) -> Mapping:
    """The mapping after edits in the table; a row left as it was keeps its value map or cases."""
    fields: dict[str, FieldSource] = {}
    before = editor_rows(table, base).set_index("field")
    for row in rows.to_dict("records"):
        field, how, what = row["field"], row["from"], str(row.get("source") or "").strip()
        fmt = str(row.get("time format") or "").strip() or None
        old = base.fields.get(field)
        if how == NOT_MAPPED or (how != "constant" and not what):
            continue
        unchanged = field in before.index and before.loc[field, "from"] == how and before.loc[field, "source"] == what
        if unchanged and old is not None:
            fields[field] = replace(old, format=fmt if TABLES[table]["kinds"][field] == "time" else None)
            continue
        if how == "cases":
            raise SegworkError(f"field {field}: cases are edited as JSON (the 'Edit as JSON' box below)")
        source = FieldSource(**{how: what})
        if fmt and TABLES[table]["kinds"][field] == "time":
            source = replace(source, format=fmt)
        fields[field] = source
    return replace(base, fields=fields)


def mapped_preview(mapping: Mapping, sample_: Sample) -> tuple[pd.DataFrame, int]:
    """The sample's rows as the table would get them, with each row's problems; (rows, bad rows).
    MappingError when the mapping does not fit the file."""
    compiled = mapping.check(sample_.header, "this file")
    frame = sample_.rows.drop(columns="record")
    mapped = applying.apply(compiled, frame, sample_.rows["record"].to_numpy(), sample_.dialect.decimal)
    parsed = parse_chunk(mapping.table, mapped.frame, sample_.dialect.decimal)
    merge_errors(parsed, mapped.errors)
    failures = validate(mapping.table, parsed)
    shown = parsed.typed[[c for c in columns(mapping.table) if c in mapping.fields]].copy()
    shown.insert(0, "record", sample_.rows["record"].to_numpy())
    shown["problems"] = [("; ".join(d for _, _, d in failures[i])) if i in failures else "" for i in range(len(shown))]
    return shown, len(failures)


def with_profiles(mapping: Mapping, derive: bool, location: str | None) -> Mapping:
    """The mapping deriving customer profiles (location from `location`) or not."""
    if mapping.table != "customer_events" or not derive:
        return replace(mapping, profiles=None)
    profiles = dict(mapping.profiles or {})
    if location:
        profiles["location"] = FieldSource(column=location)
    else:
        profiles.pop("location", None)
    return replace(mapping, profiles=profiles)


def saved_table(saved: dict[str, Mapping], builtin: set[str]) -> pd.DataFrame:
    """The mappings one can use by name, one row each."""
    return pd.DataFrame([{"name": n, "table": m.table, "kind": "built-in" if n in builtin else "saved",
                          "reads columns": ", ".join(m.source_columns()), "description": m.description}
                         for n, m in saved.items()], columns=["name", "table", "kind", "reads columns", "description"])


def with_read(mapping: Mapping, chosen: Dialect | None) -> Mapping:
    """The mapping remembering what was chosen of its files' writing (what was found out is found again)."""
    if chosen is None:
        return mapping
    read = {k: getattr(chosen, k) for k in ("delimiter", "decimal", "encoding", "sheet")}
    return replace(mapping, read={k: v for k, v in read.items() if v is not None and not (k == "decimal" and v == ".")})
