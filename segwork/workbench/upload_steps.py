"""The Upload page's steps as Streamlit widgets: how the file is written, the file's own columns,
the mapping onto the table, the saved mappings. The work is in segwork.workbench.mapper."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from segwork.errors import SegworkError
from segwork.ingestion.dialect import Dialect
from segwork.mapping import Mapping, builtins
from segwork.workbench import data, engine, mapper, upload

AUTO = "find out"
DELIMITERS = {AUTO: None, "comma ,": ",", "semicolon ;": ";", "tab": "\t", "pipe |": "|"}
ENCODINGS = {AUTO: None, "UTF-8": "utf-8", "Latin-1 (ISO-8859-1)": "latin-1", "Windows-1252": "cp1252"}


@st.cache_data(max_entries=8, show_spinner=False)
def read_sample(data: bytes, name: str, dialect: Dialect) -> mapper.Sample:
    """The upload's first records (mapper.sample), read once per file and choice, not on every rerun."""
    return mapper.sample(data, name, engine.settings().for_uploads(), dialect=dialect)


@st.cache_data(max_entries=8, show_spinner=False)
def sheets(data: bytes, name: str) -> tuple[str, ...]:
    """A workbook's sheets, read once per file (a workbook is opened whole)."""
    return mapper.sheets(data, name, engine.settings().for_uploads())


@dataclass
class Step:
    """Where the mapping step leaves the upload: the mapping (None: the file as is), or why not yet."""

    mapping: Mapping | None = None
    blocked: str | None = None


def file_options(sheets: tuple[str, ...] = ()) -> Dialect:
    """How the file is written: delimiter, decimal mark, encoding, sheet ('find out' by default)."""
    with st.expander("How the file is written (delimiter, decimal comma, encoding, sheet)"):
        c = st.columns(4)
        delimiter = c[0].selectbox("Delimiter", list(DELIMITERS), key="up_delimiter")
        decimal = c[1].selectbox("Decimal mark", [". (1234.5)", ", (1234,5)"], key="up_decimal")
        encoding = c[2].selectbox("Encoding", list(ENCODINGS), key="up_encoding")
        sheet = c[3].selectbox("Sheet", [AUTO, *sheets], key="up_sheet", disabled=not sheets,
                               help="for an Excel workbook: the first sheet unless you choose")
    try:
        return Dialect(delimiter=DELIMITERS[delimiter], decimal=decimal[0], encoding=ENCODINGS[encoding],
                       sheet=None if sheet == AUTO else sheet)
    except SegworkError as exc:
        st.error(str(exc), icon=":material/error:")
        return Dialect()


def your_file(name: str, sample: mapper.Sample) -> None:
    st.markdown(f"**Your file** `{name}`: {sample.read_as}{', gzipped' if sample.compressed else ''}; "
                f"{len(sample.header)} columns, its first {len(sample.rows)} records.")
    st.dataframe(sample.types, hide_index=True, key="up_types")
    st.dataframe(sample.rows, hide_index=True, key="up_rows")


def mapping_step(file, table: str, sample: mapper.Sample, chosen: Dialect | None = None) -> Step:
    """Choose a starting mapping, edit it (table, profiles, JSON), see what the table gets, save it."""
    st.subheader(f"Map it onto {table}")
    points = mapper.starting_points(table, sample, data.mappings())
    start = st.selectbox("Start from", list(points), key="up_start",
                         help="The file as is, a saved or built-in mapping whose columns the file has, or a suggestion.")
    base = points[start]
    custom = st.session_state.get("up_custom")
    if custom and custom[0] == (file.name, table, start):
        base = custom[1]
    if base is None:
        pv = upload.preview(file.getvalue(), file.name, table, dialect=sample.dialect)
        st.dataframe(pv.columns, hide_index=True, key="up_columns")
        return Step()
    step = Step()
    digest = hashlib.sha1(base.to_json().encode()).hexdigest()[:8]
    edited = st.data_editor(
        mapper.editor_rows(table, base), hide_index=True, key=f"up_editor_{digest}", disabled=["field", "required", "stored as"],
        column_config={
            "from": st.column_config.SelectboxColumn("from", options=mapper.KINDS, required=True),
            "source": st.column_config.TextColumn("source", help="a column of the file, a constant, an expression such as "
                                                  "Quantity * UnitPrice, or a template such as {InvoiceNo}-{_line}"),
            "time format": st.column_config.TextColumn("time format", help="e.g. %d/%m/%Y %H:%M; empty: ISO 8601")})
    try:
        step.mapping = mapper.from_editor(table, edited, base)
    except SegworkError as exc:
        st.error(str(exc), icon=":material/error:")
        return Step(None, "The mapping has an error (see above).")
    if table == "customer_events":
        derive = st.checkbox("Also derive customer profiles from these transactions (first purchase as signup date, "
                             "net value as lifetime value)", value=base.profiles is not None, key="up_profiles")
        where = (base.profiles or {}).get("location")
        options = ["(none)"] + sample.header
        location = st.selectbox("Profile location from", options, disabled=not derive, key=f"up_location_{digest}",
                                index=options.index(where.column) if where is not None and where.column in options else 0)
        step.mapping = mapper.with_profiles(step.mapping, derive, None if location == "(none)" else location)
    _json_editor(file, table, start, step.mapping, digest)
    try:
        shown, bad = mapper.mapped_preview(step.mapping, sample)
        st.markdown(f"**What {table} gets** from the first {len(shown)} records"
                    + (f": {bad} of them would be quarantined (reasons in *problems*)." if bad else ": all good."))
        st.dataframe(shown, hide_index=True, key="up_mapped")
    except SegworkError as exc:
        st.error(str(exc), icon=":material/error:")
        step.blocked = "The mapping does not fit this file yet (see above)."
    _save(step, table, chosen)
    return step


def _json_editor(file, table: str, start: str, mapping: Mapping, digest: str) -> None:
    with st.expander("Edit as JSON (value maps, cases such as 'return when Quantity < 0')"):
        text = st.text_area("Mapping JSON", mapping.to_json(), height=300, key=f"up_json_{digest}")
        if st.button("Use this JSON", key="up_json_apply"):
            try:
                st.session_state["up_custom"] = ((file.name, table, start), Mapping.from_json(text))
                st.rerun()
            except SegworkError as exc:
                st.error(str(exc), icon=":material/error:")


def _save(step: Step, table: str, chosen: Dialect | None) -> None:
    name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
    save_as = name_col.text_input("Save this mapping as", key="up_save_name", placeholder="my-shop-export")
    if save_col.button("Save mapping", key="up_save", disabled=bool(step.blocked) or not save_as):
        try:
            data.save_mapping(mapper.with_read(step.mapping, chosen), save_as)
            st.success(f"Saved as {save_as!r}: pick it under 'Start from', or "
                       f"`python -m segwork ingest {table} FILE --mapping {save_as}`.", icon=":material/check:")
        except SegworkError as exc:
            st.error(str(exc), icon=":material/error:")


def saved_mappings() -> None:
    """The mappings one can use by name; a saved one can be removed."""
    with st.expander("Saved column mappings"):
        saved = data.mappings()
        st.dataframe(mapper.saved_table(saved, set(builtins())), hide_index=True, key="up_saved")
        own = [n for n in saved if n not in builtins()]
        if own:
            gone = st.selectbox("Remove a saved mapping", own, key="up_remove_name")
            if st.button("Remove", key="up_remove"):
                try:
                    data.remove_mapping(gone)
                    st.rerun()
                except SegworkError as exc:
                    st.error(str(exc), icon=":material/error:")
