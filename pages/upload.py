"""Upload: any file into either table: its own columns, a mapping onto the table, the report."""
import streamlit as st

from segwork.errors import SegworkError
from segwork.workbench import data, state, ui, upload, upload_steps

TABLES = ("customer_events", "customers")
TABLE = state.Field("up_table", "table", "customer_events", options=TABLES)
ui.problems(state.init(TABLE))

st.title("Upload")
st.markdown(
    f"CSV (any delimiter, decimal comma, Latin-1 too), NDJSON, JSON, Parquet or Excel `.xlsx`, optionally gzipped, "
    f"**up to {st.get_option('server.maxUploadSize')} MB** (`server.maxUploadSize` in `.streamlit/config.toml`; "
    "load larger files with `python -m segwork ingest`). Your file's columns need not be segwork's: **map them** "
    "below (a mapping can be saved and reused). Every row is validated: good rows are inserted, bad ones are "
    "quarantined with their reasons and line. **Uploading the same file again does not duplicate data**: rows "
    "already loaded are recognised and skipped."
)
table = st.radio("Into table", TABLES, key="up_table", horizontal=True)
state.mirror(TABLE)
file = st.file_uploader("File", type=upload.FILE_TYPES, key="up_file")
step = upload_steps.Step(blocked="Choose a file first.")

if file is not None:
    dialect = upload_steps.file_options(upload_steps.sheets(file.getvalue(), file.name))
    try:
        sample = upload_steps.read_sample(file.getvalue(), file.name, dialect)
    except SegworkError as exc:
        st.error(str(exc), icon=":material/error:")
        step, sample = upload_steps.Step(blocked="The file cannot be read (see above)."), None
    if sample is not None:
        upload_steps.your_file(file.name, sample)
        step = upload_steps.mapping_step(file, table, sample, dialect)
    if step.blocked:
        st.caption(f"Ingest is not possible yet: {step.blocked}")
    if st.button(f"Ingest {file.name} into {table}", key="up_ingest", type="primary", disabled=bool(step.blocked)):
        st.session_state["up_report"] = None
        bar = st.progress(0.0, text="Reading...")
        with ui.errors():
            st.session_state["up_report"] = data.ingest(
                table, file.getvalue(), file.name, mapping=step.mapping, dialect=sample.dialect,
                progress=lambda rows, done: bar.progress(done or 0.0, text=f"{rows:,} rows read"))
        bar.empty()

upload_steps.saved_mappings()
if st.session_state.get("up_report") is not None:
    report = st.session_state["up_report"]
    ui.ingest_report(report)
    if report.profiles is not None:
        ui.ingest_report(report.profiles)
