"""Segments: customers and lifetime value per value x loyalty segment; a segment's customers, paged."""
import streamlit as st

from segwork import charts, segments
from segwork.workbench import data, drill, filters, state, ui

PAGE_SIZE = 50


def first_page():
    st.session_state["sg_page"] = 1


st.title("Segments")
with ui.errors():
    locations = ("",) + data.locations()
    FILTERS = (
        state.Field("sg_location", "location", "", options=locations),
        state.Field("sg_age", "age", filters.AGE_RANGE, "range", minimum=filters.AGE_RANGE[0], maximum=filters.AGE_RANGE[1]),
    )
    ui.problems(state.init(*FILTERS))
    with st.form("sg_form"):
        c = st.columns(2)
        c[0].selectbox("Location", locations, key="sg_location", format_func=lambda v: v or "(all locations)")
        c[1].slider("Age", *filters.AGE_RANGE, key="sg_age",
                    help="The full range includes customers of unknown age; any narrower range keeps known ages only.")
        st.form_submit_button("Apply", type="primary", on_click=first_page)
    v = state.values(*FILTERS)
    min_age, max_age = filters.age_bounds(v["age"])
    where = {"location": v["location"] or None, "min_age": min_age, "max_age": max_age}
    st.caption(filters.caption(location=v["location"], age=v["age"], rules=state.rules()))

    summary = segments.in_segment_order(data.query("customer_segments_summary", **where))
    if summary.empty:
        st.info("No customers match these filters.", icon=":material/filter_alt_off:")
        state.mirror(*FILTERS)
    else:
        ui.table(summary, key="sg_summary")
        labels = tuple(segments.segment_labels(summary))
        PICK = (state.Field("sg_segment", "segment", None, options=labels + (None,)),
                state.Field("sg_page", "page", 1, "int", minimum=1))
        ui.problems(state.init(*PICK))
        for column, (measure, key) in zip(st.columns(2), (("customer_count", "sg_counts"), ("avg_lifetime_value", "sg_values"))):
            column.plotly_chart(charts.segment_bars(summary, measure), key=key, selection_mode="points",
                                on_select=drill.follow(key, "y", "sg_segment", labels, "sg_page"))
        st.selectbox("Segment", labels, key="sg_segment", placeholder="Click a bar, or choose a segment, to list its customers",
                     on_change=first_page)
        chosen = state.values(*PICK)
        if chosen["segment"]:
            value, loyalty = filters.split_segment(chosen["segment"])
            rows, total, st.session_state["sg_page"] = data.segment_page(
                value, loyalty, where, page=chosen["page"], page_size=PAGE_SIZE)
        state.mirror(*FILTERS, *PICK)  # after the page is known: past the end, the URL names the last page
        if chosen["segment"]:
            st.markdown(f"**{chosen['segment']}**: {total:,} customer{'s' * (total != 1)}, highest lifetime value first. "
                        "A customer id opens the Customer lookup.")
            ui.table(rows, key="sg_customers", links=True)
            c = st.columns([1, 3])
            c[0].number_input(f"Page (of {filters.page_count(total, PAGE_SIZE):,})", min_value=1,
                              max_value=filters.page_count(total, PAGE_SIZE), key="sg_page")
            with c[1]:
                ui.download_csv(f"Download all {total:,} customers of this segment (CSV)",
                                data.segment_export(value_segment=value, loyalty_segment=loyalty, **where),
                                f"segment_{value}_{loyalty}.csv".lower().replace(" ", "_"), key="sg_csv")
