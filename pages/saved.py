"""Saved segments: each with its size, members (paged, whole CSV), composition, versions and SQL;
two compared (or one against every customer): sizes, overlap, composition side by side."""
import streamlit as st

from segwork.workbench import custom_data, filters, saved_view, state, ui

PAGE_SIZE = 50


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
            saved_view.composition(name)
        with versions:
            ui.table(custom_data.call("versions", name), key="sv_versions")
        with sql:
            text, parameters = custom_data.call("sql_of", name)
            c = st.columns([3, 1])
            c[0].code(text, language="sql", wrap_lines=True)
            c[1].markdown("**Parameters**")
            c[1].json({k: str(v) for k, v in parameters.items()})

    with two:
        saved_view.compare(names)
    state.mirror(*PICK)
