"""Segment builder: your own segment from conditions, its size as you build, each condition's
count alone, its members; saved under a name, loaded to edit, or edited as YAML."""
import streamlit as st

from segwork import charts
from segwork.workbench import builder, custom_data, data, filters, ui

PAGE_SIZE = 50

st.title("Segment builder")
st.caption("Combine profile fields, behaviour, RFM scores and other saved segments. Counts are at now, "
           "with the segment rules in force.")
builder.init()
s = st.session_state
with ui.errors():
    saved = custom_data.saved_names()
    c = st.columns([3, 1, 1], vertical_alignment="bottom")
    c[0].selectbox("Saved segment to edit", saved, index=None, key="bd_pick", placeholder="Choose a saved segment")
    c[1].button("Load", key="bd_load", disabled=not s.get("bd_pick"),
                on_click=lambda: builder.load(custom_data.call("get", s["bd_pick"])))
    c[2].button("Start over", key="bd_clear", on_click=builder.clear)

    st.radio("Customers who match", ("all", "any"), key="bd_match", horizontal=True,
             format_func=lambda m: f"{m} of the conditions")
    for where, title in (("bd_conditions", None), ("bd_group", "Nested group")):
        if title and s[where]:
            st.markdown(f"**{title}** ({s['bd_group_match']} of these, one condition of the segment):")
        for i, condition in enumerate(s[where]):
            c = st.columns([12, 1])
            c[0].markdown(f"{i + 1}. {ui.plain(builder.describe(condition))}")
            c[1].button("", key=f"bd_remove_{where}_{i}", icon=":material/delete:", help="Remove this condition",
                        on_click=builder.remove, args=(where, i))

draft = None
with ui.errors():
    draft = builder.segment()
builder.yaml_sync(draft)
if draft is not None:
    with ui.errors():
        counts = custom_data.call("condition_counts", draft)
        size, everyone = int(counts["customers"].iloc[-2]), int(counts["customers"].iloc[-1])
        c = st.columns([1, 3])
        c[0].metric("Customers in the segment", f"{size:,}", help="custom.count of the draft, at now")
        c[0].metric("Share of every customer", f"{size / everyone:.1%}" if everyone else "–")
        c[1].plotly_chart(charts.condition_counts(builder.labelled(counts, draft)), key="bd_counts")
elif not (s["bd_conditions"] or s["bd_group"]):
    st.info("Add a condition to see how many customers match.", icon=":material/add_circle:")


with ui.errors(), st.container(border=True):
    st.markdown("**Add a condition**")
    builder.add_form(tuple(data.query("event_types_present")), data.locations(), custom_data.saved_names())

if draft is not None:
    with ui.errors():
        st.subheader("Members")
        rows, total, s["bd_page"] = custom_data.member_page(draft, page=s.get("bd_page", 1), page_size=PAGE_SIZE)
        ui.table(rows, key="bd_members")
        st.columns([1, 3])[0].number_input(f"Page (of {filters.page_count(total, PAGE_SIZE):,})", min_value=1,
                                           max_value=filters.page_count(total, PAGE_SIZE), key="bd_page")

with st.expander("Edit as YAML", expanded=False):
    st.text_area("The draft as YAML (segwork.custom's format)", key="bd_yaml", height=220)
    st.button("Apply the YAML", key="bd_yaml_apply", on_click=builder.apply_yaml)
    if s.get("bd_yaml_error"):
        st.error(s.pop("bd_yaml_error"), icon=":material/error:")

st.subheader("Save")
with st.form("bd_save_form"):
    c = st.columns(2)
    c[0].text_input("Name", key="bd_name", max_chars=80)
    c[1].text_input("Note for this version (optional)", key="bd_note")
    st.text_input("Description", key="bd_description")
    st.form_submit_button("Save", type="primary", disabled=draft is None, on_click=builder.save_draft)
if s.get("bd_saved"):
    st.success(s.pop("bd_saved"), icon=":material/check_circle:")
if s.get("bd_save_error"):
    st.error(s.pop("bd_save_error"), icon=":material/error:")
