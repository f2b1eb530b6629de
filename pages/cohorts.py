"""Cohorts: monthly signup cohorts and the share of each active N months after signup."""
import streamlit as st

from segwork import charts
from segwork.workbench import analyses, data, state, ui

st.title("Cohorts")
st.caption("A **cohort** is the customers who signed up in one calendar month (UTC). A cell is the share of that "
           "cohort with at least one event of the chosen types (any type when none is chosen) in the month N "
           "months after the signup month (0 = the signup month itself), up to this month: the last cell of each "
           "row is this month so far, so it reads low until the month is over.")
with ui.errors():
    TYPES = state.Field("co_types", "event_type", [], "list", options=tuple(data.query("event_types_present")))
    SPAN = state.Field("co_span", "cohorts", "the last 24 months", options=tuple(analyses.COHORT_SPANS))
    ui.problems(state.init(TYPES, SPAN))
    with st.form("co_form"):
        c = st.columns([3, 1])
        c[0].multiselect("Active means an event of these types (none chosen = any)", TYPES.options, key="co_types")
        c[1].selectbox("Cohorts: signups of", SPAN.options, key="co_span")
        st.form_submit_button("Show", type="primary")
    chosen = state.mirror(TYPES, SPAN)
    rows, matrix = analyses.cohorts(chosen["event_type"], analyses.COHORT_SPANS[chosen["cohorts"]])
    if matrix.empty:
        st.info("No customers yet: cohorts need customers with signup dates.", icon=":material/group_off:")
    else:
        st.plotly_chart(charts.cohort_heatmap(matrix), key="co_heatmap")
        st.caption(f"{len(matrix):,} cohorts, {analyses.cohort_customers(rows):,} "
                   "customers. Hover a cell for its cohort and month.")
        ui.download_csv("Download the cohort rows (CSV)", data.csv_bytes(rows), "cohort_retention.csv", key="co_csv")
