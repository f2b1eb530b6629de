"""Customer lookup: find a customer by id, email or name prefix; profile, segments, timeline."""
import streamlit as st

from segwork import charts
from segwork.workbench import data, filters, state, ui

QUERY = state.Field("lk_q", "q", "")
ui.problems(state.init(QUERY))
shown = [QUERY]
customer_id = None

st.title("Customer lookup")
with st.form("lk_form"):
    st.text_input("Customer id, or the start of an email address or name", key="lk_q",
                  placeholder="c0000042, ana.smith, Ana S")
    st.form_submit_button("Find", type="primary")
text = state.values(QUERY)["q"].strip()

if not text:
    st.info("Type a customer id, or the first letters of an email address or name.", icon=":material/search:")
with ui.errors():
    matches = data.query("find_customers", text=text, limit=50) if text else None
    if matches is not None and matches.empty:
        st.warning(f"No customer id, email or name starts with {text!r}.", icon=":material/person_off:")
    elif matches is not None:
        labels = filters.customer_labels(matches)
        PICK = state.Field("lk_pick", "id", next(iter(labels)), options=tuple(labels))
        ui.problems(state.init(PICK))
        shown.append(PICK)
        if len(labels) > 1:
            st.selectbox(f"{len(labels)}{'+' if len(labels) == 50 else ''} customers match; choose one",
                         tuple(labels), key="lk_pick", format_func=labels.get)
        customer_id = state.values(PICK)["id"]
state.mirror(*shown)

if customer_id:
    with ui.errors():
        ui.customer_profile(data.query("customer_segment_lookup", customer_id=customer_id))
        events = data.query("customer_timeline", customer_id=customer_id, limit=5000)
        if events.empty:
            st.info("No events for this customer yet.", icon=":material/event_busy:")
        else:
            st.plotly_chart(charts.customer_timeline(events, title=f"{len(events):,} events, newest first in the table"),
                            key="lk_timeline")
            ui.table(events, key="lk_events")
            ui.download_csv("Download the events (CSV)", data.csv_bytes(events), f"{customer_id}_events.csv", key="lk_csv")
