"""The segwork workbench: page config, navigation and the shared sidebar; nothing else.

`streamlit run app.py` (started by `python -m segwork run`) imports this file once as a module
to find `app`, an st.App that also serves the HTTP API's routes when segwork.api provides
them (one process, one embedded database). Each browser session then runs it as the script
`__main__`, which draws the pages.
"""
from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

if __name__ == "__main__":
    from segwork.workbench import ui

    st.set_page_config(page_title="segwork workbench", page_icon=str(ui.FAVICON), layout="wide")
    page = st.navigation([
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "upload.py", title="Upload", icon=":material/upload_file:"),
        st.Page(PAGES / "lookup.py", title="Customer lookup", icon=":material/person_search:"),
        st.Page(PAGES / "engagement.py", title="Engagement", icon=":material/trending_up:"),
        st.Page(PAGES / "segments.py", title="Segments", icon=":material/donut_small:"),
        st.Page(PAGES / "through_time.py", title="Through time", icon=":material/timeline:"),
        st.Page(PAGES / "rfm.py", title="RFM", icon=":material/leaderboard:"),
        st.Page(PAGES / "cohorts.py", title="Cohorts", icon=":material/grid_on:"),
        st.Page(PAGES / "rules.py", title="Segment rules", icon=":material/tune:"),
        st.Page(PAGES / "builder.py", title="Segment builder", icon=":material/construction:"),
        st.Page(PAGES / "saved.py", title="Saved segments", icon=":material/bookmarks:"),
        st.Page(PAGES / "api.py", title="API", icon=":material/api:"),
    ])
    page.run()
    ui.sidebar()  # after the page, so it shows rules changed on this run
else:
    from segwork.workbench.server import api_parts, prefer_navigation

    prefer_navigation()
    api_routes, api_lifespan = api_parts()
    app = st.App(__file__, routes=api_routes, lifespan=api_lifespan)
