"""Segment rules: view and change the value and loyalty thresholds for this session."""
import streamlit as st

from segwork.workbench import state, ui

KEYS = ("rl_high_value", "rl_medium_value", "rl_loyal_days", "rl_regular_days")


def forget_inputs():
    state.reset_rules()
    for key in KEYS:
        st.session_state.pop(key, None)


rules = state.rules()
st.title("Segment rules")
st.markdown("Every page segments customers by these rules. Changes hold for this browser session "
            "(and travel in the page's link); they never change stored data.")
with st.form("rl_form"):
    c = st.columns(2)
    c[0].number_input("High Value: lifetime value from", value=float(rules.high_value), step=100.0, key="rl_high_value")
    c[0].number_input("Medium Value: lifetime value from", value=float(rules.medium_value), step=50.0, key="rl_medium_value")
    c[1].number_input("Loyal: more days since signup than", value=int(rules.loyal_days), min_value=0, step=30, key="rl_loyal_days")
    c[1].number_input("Regular: more days since signup than", value=int(rules.regular_days), min_value=0, step=30,
                      key="rl_regular_days")
    submitted = st.form_submit_button("Apply for this session", type="primary")
if submitted:
    with ui.errors(prefix="Rules not changed: "):
        rules = state.set_rules(*(st.session_state[k] for k in KEYS))
        st.success("New rules in force on every page.", icon=":material/check_circle:")
st.button("Back to the default rules", key="rl_reset", on_click=forget_inputs)
state.mirror()
st.markdown("**Rules in force**\n" + "\n".join(f"- {line}" for line in rules.describe()))
