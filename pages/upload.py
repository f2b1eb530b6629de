"""Upload: any file into either table: its own columns, a mapping onto the table, the report."""
import hashlib

import streamlit as st

from segwork.errors import SegworkError
from segwork.mapping import Mapping
from segwork.workbench import data, engine, mapper, state, ui, upload

TABLES = ("customer_events", "customers")
TABLE = state.Field("up_table", "table", "customer_events", options=TABLES)
ui.problems(state.init(TABLE))

st.title("Upload")
st.markdown(
    f"CSV, NDJSON, JSON or Parquet, optionally gzipped, **up to {st.get_option('server.maxUploadSize')} MB** "
    "(`server.maxUploadSize` in `.streamlit/config.toml`; load larger files with `python -m segwork ingest`). "
    "Your file's columns need not be segwork's: **map them** below (a mapping can be saved and reused). "
    "Every row is validated: good rows are inserted, bad ones are quarantined with their reasons and line. "
    "**Uploading the same file again does not duplicate data**: rows already loaded are recognised and skipped."
)
table = st.radio("Into table", TABLES, key="up_table", horizontal=True)
state.mirror(TABLE)
file = st.file_uploader("File", type=upload.FILE_TYPES, key="up_file")
blocked, mapping = "Choose a file first.", None

if file is not None:
    blocked = None
    try:
        sample = mapper.sample(file.getvalue(), file.name, engine.settings().for_uploads())
    except SegworkError as exc:
        st.error(str(exc), icon=":material/error:")
        blocked, sample = "The file cannot be read (see above).", None
    if sample is not None:
        st.markdown(f"**Your file** `{file.name}`: {sample.format.upper()}{', gzipped' if sample.compressed else ''}, "
                    f"{len(sample.header)} columns; its first {len(sample.rows)} records.")
        st.dataframe(sample.types, hide_index=True, key="up_types")
        st.dataframe(sample.rows, hide_index=True, key="up_rows")

        st.subheader(f"Map it onto {table}")
        points = mapper.starting_points(table, sample, data.mappings())
        start = st.selectbox("Start from", list(points), key="up_start",
                             help="A saved or built-in mapping whose columns the file has, the file as is, or a suggestion.")
        base = points[start]
        custom = st.session_state.get("up_custom")
        if custom and custom[0] == (file.name, table, start):
            base = custom[1]
        if base is None:
            pv = upload.preview(file.getvalue(), file.name, table)
            st.dataframe(pv.columns, hide_index=True, key="up_columns")
        else:
            digest = hashlib.sha1(base.to_json().encode()).hexdigest()[:8]
            edited = st.data_editor(
                mapper.editor_rows(table, base), hide_index=True, key=f"up_editor_{digest}",
                disabled=["field", "required", "stored as"],
                column_config={
                    "from": st.column_config.SelectboxColumn("from", options=mapper.KINDS, required=True),
                    "source": st.column_config.TextColumn(
                        "source", help="a column of the file, a constant, an expression such as Quantity * UnitPrice, "
                                       "or a template such as {InvoiceNo}-{_line} (_line: the record's line)"),
                    "time format": st.column_config.TextColumn("time format", help="e.g. %d/%m/%Y %H:%M; empty: ISO 8601")})
            try:
                mapping = mapper.from_editor(table, edited, base)
            except SegworkError as exc:
                st.error(str(exc), icon=":material/error:")
                blocked = "The mapping has an error (see above)."
            if mapping is not None and table == "customer_events":
                derive = st.checkbox("Also derive customer profiles from these transactions (first purchase as signup "
                                     "date, net value as lifetime value)", value=base.profiles is not None, key="up_profiles")
                where = (base.profiles or {}).get("location")
                options = ["(none)"] + sample.header
                location = st.selectbox("Profile location from", options, disabled=not derive, key=f"up_location_{digest}",
                                        index=options.index(where.column) if where is not None and where.column in options else 0)
                mapping = mapper.with_profiles(mapping, derive, None if location == "(none)" else location)
            with st.expander("Edit as JSON (value maps, cases such as 'return when Quantity < 0')"):
                text = st.text_area("Mapping JSON", mapping.to_json() if mapping else base.to_json(), height=300,
                                    key=f"up_json_{digest}")
                if st.button("Use this JSON", key="up_json_apply"):
                    try:
                        st.session_state["up_custom"] = ((file.name, table, start), Mapping.from_json(text))
                        st.rerun()
                    except SegworkError as exc:
                        st.error(str(exc), icon=":material/error:")
            if mapping is not None:
                try:
                    shown, bad = mapper.mapped_preview(mapping, sample)
                    st.markdown(f"**What {table} gets** from the first {len(shown)} records"
                                + (f": {bad} of them would be quarantined (reasons in *problems*)." if bad else ": all good."))
                    st.dataframe(shown, hide_index=True, key="up_mapped")
                except SegworkError as exc:
                    st.error(str(exc), icon=":material/error:")
                    blocked = "The mapping does not fit this file yet (see above)."
                name_col, save_col = st.columns([3, 1], vertical_alignment="bottom")
                save_as = name_col.text_input("Save this mapping as", key="up_save_name", placeholder="my-shop-export")
                if save_col.button("Save mapping", key="up_save", disabled=bool(blocked) or not save_as):
                    with ui.errors():
                        data.save_mapping(mapping, save_as)
                        st.success(f"Saved as {save_as!r}: pick it under 'Start from', or "
                                   f"`python -m segwork ingest {table} FILE --mapping {save_as}`.", icon=":material/check:")

if file is not None:
    if blocked:
        st.caption(f"Ingest is not possible yet: {blocked}")
    if st.button(f"Ingest {file.name} into {table}", key="up_ingest", type="primary", disabled=bool(blocked)):
        st.session_state["up_report"] = None
        bar = st.progress(0.0, text="Reading...")
        with ui.errors():
            st.session_state["up_report"] = data.ingest(
                table, file.getvalue(), file.name, mapping=mapping,
                progress=lambda rows, done: bar.progress(done or 0.0, text=f"{rows:,} rows read"))
        bar.empty()

if st.session_state.get("up_report") is not None:
    report = st.session_state["up_report"]
    ui.ingest_report(report)
    if report.profiles is not None:
        ui.ingest_report(report.profiles)
