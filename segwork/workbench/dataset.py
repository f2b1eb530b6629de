"""Which data the workbench shows, said plainly in every state (empty, demo, the Online Retail
sample, one's own, a mixture), and the actions that change it: load the demo or the sample,
remove all data (with a confirmation step)."""
from __future__ import annotations

import streamlit as st

from segwork import reset
from segwork.origins import DEMO, OWN, SAMPLE, Contents
from segwork.workbench import data, engine

DONE_KEY = "ds_done"  # a message to show once, after the rerun that follows an action
CONFIRM_KEY = "ds_confirm_empty"
OWN_NAMES_SHOWN = 3
UPLOAD_HINT = ("upload your files (CSV, NDJSON, JSON, Parquet) on the **Upload** page "
               "(or `python -m segwork ingest customers my_customers.csv`)")


def contents() -> Contents:
    """The database's contents (cached briefly, dropped after every change through the workbench)."""
    return data.query("contents")


def short(c: Contents) -> str:
    """A few words for the sidebar: which data this is."""
    if c.empty:
        return "none yet (the database is empty)"
    words = {DEMO: "generated demo data", SAMPLE: "the Online Retail sample", OWN: "your own"}
    return " + ".join(words[k] for k in (DEMO, SAMPLE, OWN) if k in c.kinds)


def note_text(c: Contents, live_seconds: int) -> str:
    """What the Overview says about the data, true for each state."""
    if c.empty:
        return (f"**The database is empty.** Load the generated demo data or the Online Retail sample below, "
                f"or {UPLOAD_HINT}.")
    if c.kinds == {DEMO}:
        return ("**This is generated demo data**: a made-up shop, with events up to the moment it was "
                f"loaded; in live mode new ones arrive every {live_seconds} s. To work on your own data, "
                f"**Remove all data** below, then {UPLOAD_HINT}.")
    if c.kinds == {SAMPLE}:
        return ("**This is the Online Retail sample**: the real invoices of a UK online shop, "
                "2010-12-01 to 2011-12-09 (UCI Machine Learning Repository, CC BY 4.0); each customer's profile "
                "derives from their invoices. Its dates are in 2010-2011: pick dates there on the Engagement page. "
                f"To work on your own data, **Remove all data** below, then {UPLOAD_HINT}.")
    if c.kinds == {OWN}:
        return f"**Your own data**{_from(c) or ', stored by other means than segwork ingest (no record of its sources)'}."
    parts = {DEMO: "the generated demo data", SAMPLE: "the Online Retail sample", OWN: f"your own data{_from(c)}"}
    held = [parts[k] for k in (DEMO, SAMPLE, OWN) if k in c.kinds]
    keep = ("To keep only your own, **Remove all data** below and upload your files again." if OWN in c.kinds
            else "To look at one alone, **Remove all data** below and load it again.")
    return f"**Mixed data**: this database holds {' and '.join(held)}, and every page counts them together. {keep}"


def _from(c: Contents) -> str:
    if not c.own_sources:
        return ""
    names = ", ".join("`" + s.replace("`", "'") + "`" for s in c.own_sources[:OWN_NAMES_SHOWN])
    more = len(c.own_sources) - OWN_NAMES_SHOWN
    return f" from {names}" + (f" and {more:,} more" if more > 0 else "")


def note() -> None:
    """The Overview's note on the data shown, and a message left by the last action."""
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    c = contents()
    text = note_text(c, engine.settings().workbench_live_seconds)
    if c.empty:
        st.info(text, icon=":material/inbox:")
    elif len(c.kinds) > 1:
        st.warning(text, icon=":material/stacks:")
    elif c.kinds == {OWN}:
        st.info(text, icon=":material/folder_open:")
    else:
        st.info(text, icon=":material/science:" if DEMO in c.kinds else ":material/storefront:")


def actions() -> None:
    """Load the demo or the sample (each while it is not loaded), remove all data (once confirmed)."""
    c = contents()
    row = st.container(horizontal=True, key="ds_actions")
    demo = DEMO not in c.kinds and row.button("Load demo data", key="ov_demo", icon=":material/science:")
    sample = SAMPLE not in c.kinds and row.button("Load the Online Retail sample", key="ov_sample",
                                                  icon=":material/storefront:")
    if not c.empty:
        row.button("Remove all data…", key="ov_empty", icon=":material/delete_sweep:",
                   on_click=st.session_state.__setitem__, args=(CONFIRM_KEY, True))
    if demo:
        _load_demo()
    elif sample:
        _load_sample()
    elif st.session_state.get(CONFIRM_KEY) and not c.empty:
        _confirm_empty(c)


def _load_demo() -> None:
    s = engine.settings()
    total = max(s.demo_customers + s.demo_events, 1)
    bar = st.progress(0.0, text="Generating and loading demo data...")
    done = {"rows": 0}

    def step(rows: int) -> None:
        done["rows"] += rows
        bar.progress(min(done["rows"] / total, 1.0),
                     text=f"Loading demo data: {done['rows']:,} of {total:,} rows checked and stored")

    reports = data.load_demo(progress=step)
    st.session_state[DONE_KEY] = "Loaded the demo data: " + _inserted(reports) + "."
    st.rerun()


def _load_sample() -> None:
    with st.status("Loading the Online Retail sample: reading 541,909 invoice lines, checking and storing them "
                   "(this takes a while)...", expanded=True) as status:
        st.write("Each invoice line with a customer becomes an event; each customer's profile derives from "
                 "their invoices.")
        reports = data.load_sample()
        status.update(label="Loaded the Online Retail sample", state="complete")
    st.session_state[DONE_KEY] = "Loaded the Online Retail sample: " + _inserted(reports) + "."
    st.rerun()


def _inserted(reports) -> str:
    """'N customers and M events' stored by the load; derived profiles are versions (one per
    customer and day), and the demo loads its customers' earlier versions in a report of their own,
    so customers are counted in the database, with the versions said too."""
    by: dict[str, int] = {}
    for r in reports:
        by[r.table] = by.get(r.table, 0) + r.inserted
    versions = by.get("customers", 0)
    customers = int(data.query("table_counts", fresh=True)["customers"])
    counted = f"{customers:,} customers" if customers == versions else f"{customers:,} customers ({versions:,} profile versions)"
    return f"{counted} and {by.get('customer_events', 0):,} events"


def _confirm_empty(c: Contents) -> None:
    counts = c.counts
    with st.container(border=True, key="ds_confirm"):
        st.warning(
            f"**Remove all data?** This empties {data.engine_description()}: "
            f"{counts['customers']:,} customers, {counts['customer_events']:,} events, "
            f"{counts['customers_quarantine'] + counts['customer_events_quarantine']:,} quarantined rows, "
            f"{reset.ALSO}. {reset.STAYS} This cannot be undone.",
            icon=":material/warning:")
        yes, no, _ = st.columns([1, 1, 3])
        if yes.button("Yes, remove all data", key="ov_empty_yes", type="primary"):
            before = data.empty_database()
            st.session_state[CONFIRM_KEY] = False
            st.session_state[DONE_KEY] = (f"Removed all data: {before['customers']:,} customers and "
                                          f"{before['customer_events']:,} events. The database is empty.")
            st.rerun()
        no.button("Cancel", key="ov_empty_no", on_click=st.session_state.__setitem__, args=(CONFIRM_KEY, False))

