"""Saved segments: each with its size, members (paged, whole CSV), composition, versions and SQL;
two compared (or one against every customer): sizes, overlap, composition side by side."""
import streamlit as st

from segwork import charts
from segwork.workbench import custom_data, filters, state, ui

PAGE_SIZE = 50
BY = {"location": "location", "age_band": "age band", "gender": "gender", "value_segment": "value segment",
      "loyalty_segment": "loyalty segment", "segment": "value x loyalty segment"}


def first_page():
    st.session_state["sv_page"] = 1


st.title("Saved segments")
with ui.errors():
    listing = custom_data.listing_with_sizes()
    if listing.empty:
        st.info("No saved segments yet: build one on the Segment builder page.", icon=":material/bookmarks:")
        st.stop()
    names = tuple(listing["name"])
    st.caption("Sizes at now, with the segment rules in force.")
    ui.table(listing, key="sv_listing")
    PICK = (state.Field("sv_segment", "segment", names[0], options=names),
            state.Field("sv_page", "page", 1, "int", minimum=1),
            state.Field("sv_segment_a", "a", names[0], options=names),
            state.Field("sv_compare", "compare", custom_data.EVERYONE, options=(custom_data.EVERYONE, *names)))
    ui.problems(state.init(*PICK))
    one, two = st.tabs(["One segment", "Compare two"])
    with one:
        name = st.selectbox("Segment", names, key="sv_segment", on_change=first_page)
        rows, total, st.session_state["sv_page"] = custom_data.member_page(name, page=st.session_state["sv_page"],
                                                                          page_size=PAGE_SIZE)
        st.markdown(f"**{ui.plain(name)}**: {total:,} customer{'s' * (total != 1)}, highest lifetime value first.")
        members, composition, versions, sql = st.tabs(["Members", "Composition", "Versions", "SQL"])
        with members:
            ui.table(rows, key="sv_members")
            c = st.columns([1, 3])
            c[0].number_input(f"Page (of {filters.page_count(total, PAGE_SIZE):,})", min_value=1,
                              max_value=filters.page_count(total, PAGE_SIZE), key="sv_page")
            with c[1]:
                ui.download_csv(f"Download all {total:,} members (CSV)", custom_data.members_export(name),
                                f"segment_{name}.csv".lower().replace(" ", "_"), key="sv_csv")
        with composition:
            c = st.columns(2)
            c[0].plotly_chart(charts.composition(custom_data.call("composition", name, by="location"), "location"), key="sv_loc")
            c[1].plotly_chart(charts.composition(custom_data.call("composition", name, by="age_band"), "age_band"), key="sv_age")
            c = st.columns(2)
            c[0].plotly_chart(charts.segment_heatmap(custom_data.value_by_loyalty(name)), key="sv_grid")
            c[1].plotly_chart(charts.event_mix(custom_data.call("event_mix", name, days=30), days=30), key="sv_mix")
        with versions:
            ui.table(custom_data.call("versions", name), key="sv_versions")
        with sql:
            text, parameters = custom_data.call("sql_of", name)
            c = st.columns([3, 1])
            c[0].code(text, language="sql", wrap_lines=True)
            c[1].markdown("**Parameters**")
            c[1].json({k: str(v) for k, v in parameters.items()})

    with two:
        c = st.columns(2)
        a = c[0].selectbox("Segment A", names, key="sv_segment_a")
        b = c[1].selectbox("Segment B", (custom_data.EVERYONE, *names), key="sv_compare")
        other = None if b == custom_data.EVERYONE else b
        sizes = custom_data.call("overlap", a, other)
        c = st.columns(5)
        for col, label, n in zip(c, (f"A: {a}", f"B: {b}", "both", "only A", "only B"),
                                 (sizes["a"], sizes["b"], sizes["both"], sizes["only_a"], sizes["only_b"])):
            col.metric(label, f"{n:,}")
        st.plotly_chart(charts.overlap(sizes, a, b), key="sv_overlap")
        by = st.selectbox("Composition by", tuple(BY), format_func=BY.get, key="sv_by")
        side = custom_data.side_by_side(a, other, by)
        st.plotly_chart(charts.composition_compare(side, by, a, b), key="sv_side")
        shares = {"customers_a": st.column_config.NumberColumn(f"A: {a}", format="localized"),
                  "share_a": st.column_config.NumberColumn("A: share", format="percent"),
                  "customers_b": st.column_config.NumberColumn(f"B: {b}", format="localized"),
                  "share_b": st.column_config.NumberColumn("B: share", format="percent"),
                  "difference": st.column_config.NumberColumn("A - B (points)", format="percent")}
        st.dataframe(side.style.map(custom_data.difference_colour, subset=["difference"]), hide_index=True,
                     key="sv_side_table", column_config=shares)
    state.mirror(*PICK)
