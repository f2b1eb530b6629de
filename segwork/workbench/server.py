"""Extra HTTP routes served by the workbench's process, next to the Streamlit app.

The embedded database can be opened by one process only, so the HTTP API (segwork.api) and
the workbench share one process when both are wanted: app.py hands these routes to st.App.
"""
from __future__ import annotations

import importlib
import logging

from segwork.config import Settings

log = logging.getLogger(__name__)


def extra_routes(settings: Settings | None = None) -> list:
    """The HTTP API's Starlette routes when `segwork.api.routes(settings)` exists; [] until it does."""
    try:
        api = importlib.import_module("segwork.api")
    except ModuleNotFoundError as exc:
        if exc.name == "segwork.api":
            return []
        raise
    make = getattr(api, "routes", None)
    if make is None:
        log.info("segwork.api has no routes(settings): the workbench runs without the HTTP API")
        return []
    return list(make(settings or Settings.from_env()))
