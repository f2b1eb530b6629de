"""RFM: purchasing customers scored on recency, frequency and monetary value; the groups, and a group's customers."""
import streamlit as st

from segwork import charts
from segwork.workbench import analyses, data, drill, filters, state, ui

PAGE_SIZE = 50


def first_page():
    st.session_state["rf_page"] = 1


st.title("RFM")
st.caption("Each customer with at least one purchase, over all history up to now: **recency** = days since the "
           "last purchase, **frequency** = purchases, **monetary** = net value of purchases less returns. Each is "
           "scored 1–5 by quintile among purchasing customers (5 = best; ties share a score), and the group "
           "comes from the recency and frequency scores (Champions: R 5 and F 4–5; Hibernating: low on both).")
rows, shown = None, []
with ui.errors():
    scores, groups = analyses.rfm()
    if groups.empty:
        st.info("No customer has a purchase yet: RFM needs purchase events.", icon=":material/shopping_cart_off:")
    else:
        names = tuple(groups["rfm_segment"])
        shown = [state.Field("rf_group", "group", None, options=names + (None,)),
                 state.Field("rf_page", "page", 1, "int", minimum=1)]
        ui.problems(state.init(*shown))
        ui.table(groups, key="rf_groups")
        st.plotly_chart(charts.rfm_segments(groups.set_index("rfm_segment")), key="rf_chart",
                        on_select=drill.follow("rf_chart", "x", "rf_group", names, "rf_page"), selection_mode="points")
        st.selectbox("RFM group", names, key="rf_group", on_change=first_page,
                     placeholder="Click a bar, or choose a group, to list its customers")
        chosen = state.values(*shown)
        if chosen["group"]:
            rows, total, st.session_state["rf_page"] = analyses.rfm_group_page(
                scores, chosen["group"], page=chosen["page"], page_size=PAGE_SIZE)
state.mirror(*shown)  # after the page is known: past the end, the URL names the last page
if rows is not None:
    st.markdown(f"**{chosen['group']}**: {total:,} customer{'s' * (total != 1)}, best scores first. "
                "A customer id opens the Customer lookup.")
    ui.table(rows, key="rf_customers", links=True)
    c = st.columns([1, 3])
    c[0].number_input(f"Page (of {filters.page_count(total, PAGE_SIZE):,})", min_value=1,
                      max_value=filters.page_count(total, PAGE_SIZE), key="rf_page")
    with c[1]:
        ui.download_csv(f"Download all {total:,} customers of this group (CSV)",
                        data.csv_bytes(analyses.rfm_group(scores, chosen["group"])),
                        f"rfm_{chosen['group']}.csv".lower().replace(" ", "_"), key="rf_csv")
