"""Overview: what is in the database, how fresh it is, segment sizes, and a live mode."""
import streamlit as st

from segwork import charts
from segwork.ingestion import ingestlog
from segwork.workbench import data, engine, state, ui

LIVE = state.Field("ov_live", "live", False, "bool")
ui.problems(state.init(LIVE))
interval = engine.settings().workbench_live_seconds

st.title("Overview")
ui.data_note()
live = st.toggle(f"Live mode: refresh every {interval} s while events stream in", key="ov_live")
state.mirror(LIVE)


@st.fragment(run_every=interval if live else None)
def current_state():
    if live:
        with ui.errors():
            data.trickle_demo(2 * interval)  # the demo, and only the demo, moves while it is watched
    with ui.errors():
        counts = data.query("table_counts", fresh=live)
        fresh = data.query("freshness", fresh=live)
        c = st.columns(4)
        c[0].metric("Customers", f"{counts['customers']:,}")
        c[1].metric("Events", f"{counts['customer_events']:,}")
        c[2].metric("Quarantined customer rows", f"{counts['customers_quarantine']:,}")
        c[3].metric("Quarantined event rows", f"{counts['customer_events_quarantine']:,}")
        c = st.columns(4)
        c[0].metric("Events in the last hour", f"{fresh['events_last_hour']:,}")
        c[1].metric("Events in the last day", f"{fresh['events_last_day']:,}")
        ui.fact(c[2], "Latest event", ui.ago(fresh["latest_event"], fresh["as_of"]))
        ui.fact(c[3], "Latest ingest", ui.ago(fresh["latest_ingest"], fresh["as_of"]))
        summary = data.query("customer_segments_summary", fresh=live)
        if summary.empty:
            st.info("No customers yet: load files on the Upload page, or load a sample above.", icon=":material/inbox:")
        else:
            st.plotly_chart(charts.segment_heatmap(summary), key="ov_heatmap")
        st.caption(f"Engine: {data.engine_description()}. Checked {fresh['as_of']:%Y-%m-%d %H:%M:%S} UTC.")


current_state()

st.subheader("Recent ingests")
with ui.errors():
    for _, row in data.query("incomplete_ingests").iterrows():
        st.warning(ingestlog.describe(row), icon=":material/warning:")
    ui.table(data.query("ingest_history", limit=20), key="ov_history",
             columns=["started_at", "status", "table_name", "source", "rows_read", "inserted", "duplicates", "quarantined",
                      "elapsed_s", "ingest_id"])
