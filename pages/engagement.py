"""Engagement: who engaged how much in a period; ranked table, top customers, events over time."""
import streamlit as st

from segwork import charts
from segwork.queries import ORDER_BY
from segwork.workbench import data, drill, filters, state, ui

st.title("Engagement")
with ui.errors():
    start, end = filters.default_window(data.query("freshness")["latest_event"])
    types = tuple(data.query("event_types_present"))
    locations = ("",) + data.locations()
    FIELDS = (
        state.Field("en_start", "start", start, "date"),
        state.Field("en_end", "end", end, "date"),
        state.Field("en_types", "event_type", [], "list", options=types),
        state.Field("en_limit", "limit", 100, "int", minimum=1, maximum=10_000),
        state.Field("en_location", "location", "", options=locations),
        state.Field("en_order", "order_by", "event_count", options=ORDER_BY),
        state.Field("en_inactive", "inactive", False, "bool"),
    )
    ui.problems(state.init(*FIELDS))
    with st.form("en_form"):
        c = st.columns(2)
        c[0].date_input("From (UTC)", key="en_start")
        c[1].date_input("To (UTC, inclusive)", key="en_end")
        st.multiselect("Event types (none chosen = all)", types, key="en_types")
        c = st.columns(3)
        c[0].number_input("How many customers", min_value=FIELDS[3].minimum, max_value=FIELDS[3].maximum, step=10,
                          key="en_limit")
        c[1].selectbox("Location", locations, key="en_location", format_func=lambda v: v or "(all locations)")
        c[2].radio("Rank by", ORDER_BY, key="en_order", horizontal=True,
                   format_func={"event_count": "events", "total_value": "event value"}.get)
        st.checkbox("Include customers without events in the period (ranked last)", key="en_inactive")
        st.form_submit_button("Analyse", type="primary")
    v = state.mirror(*FIELDS)
    st.caption(filters.caption(start=v["start"], end=v["end"], event_types=v["event_type"],
                               location=v["location"], rules=state.rules()))
    result = data.query("customer_engagement_analysis", start_date=v["start"], end_date=v["end"],
                        event_types=v["event_type"], limit=v["limit"], location=v["location"] or None,
                        order_by=v["order_by"], include_inactive=v["inactive"])
    drill.open_lookup_on_click(st.plotly_chart(charts.top_customers(result, measure=v["order_by"], top=25), key="en_top",
                                               on_select="rerun", selection_mode="points"), "y")
    ui.table(result, key="en_table", links=True)
    ui.download_csv(f"Download these {len(result):,} rows (CSV)", data.csv_bytes(result), "engagement.csv", key="en_csv")
    daily = data.query("events_over_time", start_date=v["start"], end_date=v["end"],
                       event_types=v["event_type"], location=v["location"] or None)
    st.plotly_chart(charts.events_over_time(daily), key="en_daily")
