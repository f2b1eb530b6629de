"""Through time: segment sizes over a range, transitions between two dates and why, who entered or left a segment."""
import streamlit as st

from segwork.workbench import history_tables, state, through_time, ui

st.title("Through time")
st.markdown("Segments change as profiles change and signups age. Everything here is computed from the profile "
            "history: every stored version of every customer, deletions included.")
shown = []
with ui.errors():
    latest = history_tables.latest_day()
    sections = (through_time.sizes_section, through_time.transitions_section, through_time.changes_section)
    for i, section in enumerate(sections):
        if i:
            st.divider()
        with ui.errors():
            section(shown, latest)
state.mirror(*shown)  # after the flow's page is known: past the end, the URL names the last page
