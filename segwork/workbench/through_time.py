"""The Through time page's three sections: segment sizes over time, transitions between two
dates (with each flow's members), and who entered or left a segment (downloads recorded as
exports). Each declares its filters as state.Fields (added to `shown`, mirrored in the URL by the
page), reads its widgets, makes one segwork call through workbench.data and draws the result.
"""
from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from segwork import charts, through_time
from segwork.segments import DEFAULT_RULES
from segwork.through_time import BY, EVERY, places
from segwork.workbench import data, filters, state, ui
from segwork.workbench import history_tables as tables

PAGE_SIZE = 50
SIZE_MEANING = ("A segment's size at the end of a day counts each customer with their latest profile version by "
                "then (not one deleted by then), their loyalty by their days since signup on that day. A week ends "
                "on Sunday; the range's last day is always a point.")
DATES = {"min_value": filters.EARLIEST, "max_value": filters.LATEST}


def sizes_section(shown: list, latest: date) -> None:
    """Each segment's customers at the end of every day, week or month of a range: chart, table, CSV."""
    st.subheader("Segment sizes over time")
    locations = ("",) + data.locations()
    fields = (
        state.Field("tt_start", "start", tables.months_before(latest, 12) + timedelta(days=1), "date"),
        state.Field("tt_end", "end", latest, "date"),
        state.Field("tt_every", "every", "month", options=EVERY),
        state.Field("tt_lines", "lines", "segment", options=BY),
        state.Field("tt_location", "location", "", options=locations),
        state.Field("tt_age", "age", filters.AGE_RANGE, "range", minimum=filters.AGE_RANGE[0], maximum=filters.AGE_RANGE[1]),
        state.Field("tt_log", "log", False, "bool"),
    )
    shown.extend(fields)
    ui.problems(state.init(*fields))
    with st.form("tt_sizes_form"):
        c = st.columns([2, 2, 2, 3])
        c[0].date_input("From (UTC)", key="tt_start", **DATES)
        c[1].date_input("To (UTC, inclusive)", key="tt_end", **DATES)
        c[2].radio("A point at the end of every", EVERY, key="tt_every", horizontal=True)
        c[3].radio("A line per", BY, key="tt_lines", horizontal=True, format_func=tables.BY_LABELS.get)
        c = st.columns(2)
        c[0].selectbox("Location", locations, key="tt_location", format_func=lambda v: v or "(all locations)")
        c[1].slider("Age", *filters.AGE_RANGE, key="tt_age",
                    help="The full range includes customers of unknown age; any narrower range keeps known ages only.")
        st.form_submit_button("Show sizes", type="primary")
    v = state.values(*fields)
    min_age, max_age = filters.age_bounds(v["age"])
    st.caption(filters.caption(start=v["start"], end=v["end"], location=v["location"], age=v["age"], rules=state.rules())
               + " " + SIZE_MEANING)
    with st.spinner("Counting each segment's customers from the profile history..."):
        sizes = data.query("segment_sizes", start_date=v["start"], end_date=v["end"], every=v["every"],
                           location=v["location"] or None, min_age=min_age, max_age=max_age)
    note = tables.sizes_note(sizes)
    if note:
        st.info(note, icon=":material/history_toggle_off:")
    st.checkbox("Log scale (small segments visible beside a large one)", key="tt_log")
    st.plotly_chart(charts.segment_sizes(sizes, v["lines"], log=v["log"]), key="tt_sizes_chart")
    wide = tables.sizes_by_day(sizes, v["lines"])
    with st.expander(f"The sizes as a table ({len(wide):,} points)"):
        ui.table(wide, key="tt_sizes_table")
    ui.download_csv(f"Download the sizes at {len(wide):,} points (CSV)", data.csv_bytes(wide),
                    tables.file_name("segment_sizes", v["every"], v["start"], v["end"], v["location"]), key="tt_sizes_csv")


def transitions_section(shown: list, latest: date) -> None:
    """Who went from where to where between two dates, why, and the members of any flow."""
    st.subheader("Transitions between two dates")
    fields = (
        state.Field("tt_a", "a", tables.months_before(latest, 1), "date"),
        state.Field("tt_b", "b", latest, "date"),
        state.Field("tt_by", "by", "segment", options=BY),
        state.Field("tt_moved", "moved", False, "bool"),
    )
    shown.extend(fields)
    ui.problems(state.init(*fields))
    with st.form("tt_moves_form"):
        c = st.columns([2, 2, 3])
        c[0].date_input("Date A (end of day, UTC)", key="tt_a", **DATES)
        c[1].date_input("Date B (end of day, UTC)", key="tt_b", **DATES)
        c[2].radio("Places", BY, key="tt_by", horizontal=True, format_func=tables.BY_LABELS.get)
        st.checkbox("Draw only the customers who moved (leave out those who stayed in their place)", key="tt_moved")
        st.form_submit_button("Show transitions", type="primary", on_click=_first_page)
    v = state.values(*fields)
    with st.spinner("Placing every customer at both dates..."):
        flows = data.query("transitions", date_a=v["a"], date_b=v["b"], by=v["by"])
    if flows.empty:
        st.info(f"No customer had a profile at the end of {v['a']:%Y-%m-%d} or of {v['b']:%Y-%m-%d}.",
                icon=":material/history_toggle_off:")
        return
    if tables.everyone_new(flows):
        st.info(f"Nobody had a profile yet at the end of {v['a']:%Y-%m-%d}, so every customer comes from "
                f"'{tables.OUTSIDE}' (a customer exists from their first profile version on): choose a later date A "
                "to see customers move between segments.", icon=":material/history_toggle_off:")
    a, b = f"{v['a']:%Y-%m-%d}", f"{v['b']:%Y-%m-%d}"
    drawn = tables.moved_only(flows) if v["moved"] else flows
    title = f"Customers who moved, from the end of {a} (left) to the end of {b} (right)" if v["moved"] else None
    st.plotly_chart(charts.transition_sankey(drawn, places(v["by"]), date_a=a, date_b=b, title=title), key="tt_sankey")
    outside = f"'{tables.OUTSIDE}': no profile at that date (not yet, or deleted). " if tables.anyone_outside(flows) else ""
    st.caption(f"{outside}Each place's customers are in brackets; hover over a flow for its customers.")
    st.plotly_chart(charts.transition_heatmap(through_time.transition_matrix(flows), date_a=a, date_b=b), key="tt_heatmap")
    matrix = tables.matrix_table(flows, v["a"], v["b"])
    with st.expander("The matrix as a table, with totals"):
        ui.table(matrix, key="tt_matrix")
        ui.download_csv("Download the matrix (CSV)", data.csv_bytes(matrix), tables.file_name("transitions", v["by"], a, b),
                        key="tt_matrix_csv")
    st.markdown("**Flows and why customers moved** (customers who moved first, largest flow first)")
    ui.table(tables.flow_table(flows), key="tt_flows")
    _members(shown, flows, v)


def _members(shown: list, flows, v: dict) -> None:
    choices = tables.flow_choices(flows)
    pick = (state.Field("tt_flow", "flow", next(iter(choices)), options=tuple(choices)),
            state.Field("tt_page", "page", 1, "int", minimum=1))
    shown.extend(pick)
    ui.problems(state.init(*pick))
    st.selectbox("Members of the flow", tuple(choices), key="tt_flow", on_change=_first_page,
                 format_func=lambda f: f"{f} ({choices[f]:,} customer{'s' * (choices[f] != 1)})")
    flow = st.session_state["tt_flow"]
    rows, total, st.session_state["tt_page"] = tables.flow_page(v["a"], v["b"], v["by"], flow,
                                                                page=st.session_state["tt_page"], page_size=PAGE_SIZE)
    st.markdown(f"**{ui.plain(flow)}**: {total:,} customer{'s' * (total != 1)}, by customer id; "
                "an id opens the customer in Customer lookup.")
    links(rows, key="tt_members", columns=tables.MEMBER_COLUMNS)
    c = st.columns([1, 3])
    pages = filters.page_count(total, PAGE_SIZE)
    c[0].number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, key="tt_page")
    with c[1]:
        ui.download_csv(f"Download all {total:,} customers of this flow (CSV)",
                        tables.flow_export(v["a"], v["b"], v["by"], flow), tables.file_name("flow", flow, v["a"], v["b"]),
                        key="tt_members_csv")


def changes_section(shown: list, latest: date) -> None:
    """Who entered and who left one segment between two moments; the download is recorded as an export."""
    st.subheader("Who entered and who left a segment")
    fields = (
        state.Field("tt_segment", "segment", tables.SEGMENT_CHOICES[0], options=tables.SEGMENT_CHOICES),
        state.Field("tt_last", "last", False, "bool"),
        state.Field("tt_since", "since", tables.months_before(latest, 1), "date"),
        state.Field("tt_until", "until", None, "date"),
    )
    shown.extend(fields)
    ui.problems(state.init(*fields))
    c = st.columns([3, 2, 2])
    segment = c[0].selectbox("Segment (value x loyalty, value or loyalty)", tables.SEGMENT_CHOICES, key="tt_segment")
    last = tables.last_export(segment)
    if last is not None:
        st.checkbox(f"Since the last export of {segment} (it ended {last['until']:%Y-%m-%d %H:%M:%S} UTC)", key="tt_last")
    use_last = last is not None and st.session_state["tt_last"]
    c[1].date_input("Since (end of day, UTC)", key="tt_since", disabled=use_last, **DATES)
    c[2].date_input("Until (end of day, UTC; empty: now)", key="tt_until", **DATES)
    v = state.values(*fields)
    since = last["until"].to_pydatetime() if use_last else tables.end_of(v["since"])
    until = tables.end_of(v["until"]) if v["until"] else tables.now_to_the_minute()
    if since >= until:
        st.info(f"Nothing to compare: since ({since:%Y-%m-%d %H:%M:%S} UTC) is not before until "
                f"({until:%Y-%m-%d %H:%M:%S} UTC). Choose a later until, or an earlier since.", icon=":material/update:")
        _exports_made(segment)
        return
    with st.spinner(f"Comparing who was in {segment} then and now..."):
        changes = data.query("segment_changes", segment=segment, since=since, until=until)
    entered = changes[changes["change_kind"] == "entered"]
    exited = changes[changes["change_kind"] == "exited"]
    rules = "default segment rules" if state.rules() == DEFAULT_RULES else "segment rules changed for this session"
    st.caption(f"From {since:%Y-%m-%d %H:%M:%S} UTC{' (the last export)' if use_last else ''} to "
               f"{until:%Y-%m-%d %H:%M:%S} UTC{'' if v['until'] else ' (now)'}; {rules}. "
               f"Entered: in {segment} at the end, not at the start; exited: the other way round.")
    c = st.columns(4)
    c[0].metric("Entered", f"{len(entered):,}")
    c[1].metric("Exited", f"{len(exited):,}")
    for title, rows, key, columns in (("Entered", entered, "tt_entered", tables.ENTERED_COLUMNS),
                                      ("Exited", exited, "tt_exited", tables.EXITED_COLUMNS)):
        st.markdown(f"**{title} {segment}** ({len(rows):,})")
        if len(rows):
            links(tables.members_shown(rows), key=key, columns=columns)
        else:
            st.caption(f"Nobody {title.lower()} {segment} in this time.")
    ui.download_csv(f"Download the {len(changes):,} changes (CSV)", data.csv_bytes(tables.members_shown(changes)),
                    tables.file_name("changes", segment, since, until), key="tt_changes_csv",
                    on_click=_recorded, args=(segment, since, until, len(entered), len(exited)))
    if st.session_state.get("tt_recorded"):
        st.success(st.session_state.pop("tt_recorded"), icon=":material/check_circle:")
    _exports_made(segment)


def _exports_made(segment: str) -> None:
    made = data.query("exports_made", segment=segment, limit=10, fresh=True)
    st.caption(f"Downloading these changes records an export of {segment}; 'since the last export' starts where the "
               "last one ended." + (" Recorded exports, newest first:" if len(made) else " None recorded yet."))
    if len(made):
        ui.table(made, key="tt_exports")


def _recorded(segment: str, since, until, entered: int, exited: int) -> None:
    tables.record_download(segment, since, until, entered, exited)
    st.session_state["tt_recorded"] = (f"Recorded: {entered:,} entered and {exited:,} exited {segment} up to "
                                       f"{until:%Y-%m-%d %H:%M:%S} UTC; 'since the last export' starts there next time.")


def links(frame, key: str, columns: list[str] | None = None) -> None:
    """A table whose customer ids open the customer in Customer lookup."""
    shown = frame[[c for c in columns if c in frame]] if columns else frame
    ui.table(tables.with_links(shown), key=key, links={"customer_id": tables.LOOKUP_DISPLAY})


def _first_page() -> None:
    st.session_state["tt_page"] = 1
