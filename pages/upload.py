"""Upload: validate and load a file into either table; the report and the quarantined rows."""
import streamlit as st

from segwork.workbench import data, state, ui, upload

TABLES = ("customer_events", "customers")
TABLE = state.Field("up_table", "table", "customer_events", options=TABLES)
ui.problems(state.init(TABLE))

st.title("Upload")
st.markdown(
    f"CSV, NDJSON, JSON or Parquet, optionally gzipped, **up to {st.get_option('server.maxUploadSize')} MB** "
    "(`server.maxUploadSize` in `.streamlit/config.toml`; load larger files with `python -m segwork ingest`). "
    "Every row is validated: good rows are inserted, bad ones are quarantined with their reasons. "
    "**Uploading the same file again does not duplicate data**: rows already loaded are recognised and skipped."
)
table = st.radio("Into table", TABLES, key="up_table", horizontal=True)
state.mirror(TABLE)
file = st.file_uploader("File", type=upload.FILE_TYPES, key="up_file")

if file is not None:
    with ui.errors():
        pv = upload.preview(file.getvalue(), file.name, table)
        st.markdown(f"**Preview** of `{file.name}`: {pv.format.upper()}{', gzipped' if pv.compressed else ''}, "
                    f"the first {len(pv.rows)} records, and what `{table}` makes of each column.")
        if pv.missing_required:
            st.warning(f"Missing required column(s) for {table}: {', '.join(pv.missing_required)}; "
                       "this file will be refused.", icon=":material/warning:")
        if pv.ignored:
            st.caption(f"Columns {table} does not have (ignored): {', '.join(pv.ignored)}")
        st.dataframe(pv.columns, hide_index=True, key="up_columns")
        st.dataframe(pv.rows, hide_index=True, key="up_preview")
    if st.button(f"Ingest {file.name} into {table}", key="up_ingest", type="primary"):
        st.session_state["up_report"] = None
        bar = st.progress(0.0, text="Reading...")
        with ui.errors():
            st.session_state["up_report"] = data.ingest(
                table, file.getvalue(), file.name,
                progress=lambda rows, done: bar.progress(done or 0.0, text=f"{rows:,} rows read"))
        bar.empty()

if st.session_state.get("up_report") is not None:
    ui.ingest_report(st.session_state["up_report"])
