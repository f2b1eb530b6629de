"""Segment rules: view and change the value and loyalty thresholds for this session, seeing first who would move."""
import streamlit as st

from segwork import charts
from segwork.workbench import analyses, state, ui

KEYS = ("rl_high_value", "rl_medium_value", "rl_loyal_days", "rl_regular_days")
PENDING = "rl_pending"


def forget_inputs():
    state.reset_rules()
    st.session_state.pop(PENDING, None)
    for key in KEYS:
        st.session_state.pop(key, None)


def apply_pending():
    new = st.session_state.pop(PENDING)
    state.set_rules(new.high_value, new.medium_value, new.loyal_days, new.regular_days)
    st.session_state["rl_applied"] = True


rules = state.rules()
st.title("Segment rules")
st.markdown("Every page segments customers by these rules. Changes hold for this browser session "
            "(and travel in the page's link); they never change stored data. See who would move before applying.")
with st.form("rl_form"):
    c = st.columns(2)
    c[0].number_input("High Value: lifetime value from", value=float(rules.high_value), step=100.0, key="rl_high_value")
    c[0].number_input("Medium Value: lifetime value from", value=float(rules.medium_value), step=50.0, key="rl_medium_value")
    c[1].number_input("Loyal: more days since signup than", value=int(rules.loyal_days), min_value=0, step=30, key="rl_loyal_days")
    c[1].number_input("Regular: more days since signup than", value=int(rules.regular_days), min_value=0, step=30,
                      key="rl_regular_days")
    submitted = st.form_submit_button("Preview the change", type="primary")
if submitted:
    st.session_state.pop(PENDING, None)
    with ui.errors(prefix="Rules not changed: "):
        st.session_state[PENDING] = analyses.proposed_rules(*(st.session_state[k] for k in KEYS))
if st.session_state.pop("rl_applied", False):
    st.success("New rules in force on every page.", icon=":material/check_circle:")
pending = st.session_state.get(PENDING)
if pending is not None and pending == rules:
    st.info("These are the rules in force: nobody would move.", icon=":material/info:")
elif pending is not None:
    with ui.errors():
        counts, matrix = analyses.rule_change(pending)
        st.subheader("Who would move")
        moved, total = analyses.moved(matrix)
        st.markdown(f"Under the new rules **{moved:,}** of {total:,} customers would change "
                    "segment: the blue cells below; the grey diagonal keeps its segment. Nothing changes until you apply.")
        c = st.columns([2, 3])
        with c[0]:
            ui.table(counts, key="rl_counts")
        c[1].plotly_chart(charts.migration_heatmap(matrix), key="rl_matrix")
        with st.expander("The migration matrix as a table"):
            st.dataframe(matrix, key="rl_matrix_table")
        st.button("Apply for this session", type="primary", key="rl_apply", on_click=apply_pending,
                  icon=":material/check:")
st.button("Back to the default rules", key="rl_reset", on_click=forget_inputs)
state.mirror()
st.markdown("**Rules in force**\n" + "\n".join(f"- {line}" for line in state.rules().describe()))
