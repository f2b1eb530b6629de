"""Customer lookup: find a customer by id, email or name prefix; profile, segments, timeline page by page."""
import streamlit as st

from segwork import charts
from segwork.workbench import data, filters, state, ui

PAGE_SIZE = 5000
QUERY = state.Field("lk_q", "q", "")
ui.problems(state.init(QUERY))
shown = [QUERY]
customer_id = events = None


def first_page():
    st.session_state["lk_page"] = 1


st.title("Customer lookup")
with st.form("lk_form"):
    st.text_input("Customer id, or the start of an email address or name", key="lk_q",
                  placeholder="c0000042, ana.smith, Ana S")
    st.form_submit_button("Find", type="primary", on_click=first_page)
text = state.values(QUERY)["q"].strip()

if not text:
    st.info("Type a customer id, or the first letters of an email address or name.", icon=":material/search:")
with ui.errors():
    matches = data.query("find_customers", text=text, limit=50) if text else None
    gone = data.query("profile_versions", customer_id=text) if matches is not None and matches.empty else None
    if gone is not None and len(gone):  # a deleted customer's id: no profile now, but a history
        ui.profile_history(gone, customer_id=text)
    elif matches is not None and matches.empty:
        st.warning(f"No customer id, email or name starts with {text!r}.", icon=":material/person_off:")
    elif matches is not None:
        labels = filters.customer_labels(matches)
        PICK = state.Field("lk_pick", "id", next(iter(labels)), options=tuple(labels))
        ui.problems(state.init(PICK))
        shown.append(PICK)
        if len(labels) > 1:
            st.selectbox(f"{len(labels)}{'+' if len(labels) == 50 else ''} customers match; choose one",
                         tuple(labels), key="lk_pick", format_func=labels.get, on_change=first_page)
        customer_id = state.values(PICK)["id"]
if customer_id:
    with ui.errors():
        ui.customer_profile(data.query("customer_segment_lookup", customer_id=customer_id))
        ui.profile_history(data.query("profile_versions", customer_id=customer_id))
        EVENTS = (state.Field("lk_types", "event_type", [], "list", options=tuple(data.query("event_types_present"))),
                  state.Field("lk_from", "from", None, "date"), state.Field("lk_to", "to", None, "date"),
                  state.Field("lk_page", "page", 1, "int", minimum=1))
        shown.extend(EVENTS)
        ui.problems(state.init(*EVENTS))
        with st.form("lk_events_form"):
            c = st.columns([2, 1, 1])
            c[0].multiselect("Event types (none chosen = all)", EVENTS[0].options, key="lk_types")
            c[1].date_input("From (UTC)", key="lk_from", min_value=filters.EARLIEST, max_value=filters.LATEST)
            c[2].date_input("To (UTC, inclusive)", key="lk_to", min_value=filters.EARLIEST, max_value=filters.LATEST)
            st.form_submit_button("Show events", on_click=first_page)
        v = state.values(*EVENTS)
        where = {"event_types": v["event_type"], "start_date": v["from"], "end_date": v["to"]}
        events, total, st.session_state["lk_page"] = data.timeline_page(customer_id, where, page=v["page"], page_size=PAGE_SIZE)
state.mirror(*shown)  # after the page is known: past the end, the URL names the last page

if events is not None and total == 0:
    st.info(f"No events{filters.timeline_words(**where) or ' for this customer yet'}.", icon=":material/event_busy:")
elif events is not None:
    offset = (st.session_state["lk_page"] - 1) * PAGE_SIZE
    title = filters.timeline_title(total, offset, len(events), **where)
    st.plotly_chart(charts.customer_timeline(events, title=title), key="lk_timeline")
    ui.table(events, key="lk_events")
    pages, c = filters.page_count(total, PAGE_SIZE), st.columns([1, 3])
    if pages > 1:
        c[0].number_input(f"Page (of {pages:,}, {PAGE_SIZE:,} events each)", min_value=1, max_value=pages, key="lk_page")
    with c[1]:
        ui.timeline_downloads(customer_id, where, events, total, offset, data.export_limit())
