"""Extra HTTP routes served by the workbench's process, next to the Streamlit app.

The embedded database can be opened by one process only, so the HTTP API (segwork.api) and
the workbench share one process when both are wanted: app.py hands the API's routes and its
lifespan (which writes what the Events API's spool holds before the process stops) to st.App.
"""
from __future__ import annotations

from typing import Callable

from segwork.config import Settings


def api_parts(settings: Settings | None = None) -> tuple[list, Callable]:
    """The HTTP API's routes and the lifespan that closes it with the workbench (st.App's
    `routes` and `lifespan`)."""
    from segwork.api import mounted

    return mounted(settings or Settings.from_env())


def prefer_navigation() -> None:
    """Have every session start in app.py's st.navigation, even a first visit by a deep link.

    Streamlit (1.67) remembers process-wide whether the app uses the legacy pages/ folder,
    guessing "yes" when a pages/ folder sits next to the entry script, until a run reaches
    st.navigation. A first request for /segments would then run pages/segments.py alone
    (no app.py, no sidebar) and keep every later session on the folder's navigation.
    The flag is internal, and 1.67 has no public switch (client.showSidebarNavigation only
    hides the folder's menu); tests/test_app_library.py pins what this relies on.
    """
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
