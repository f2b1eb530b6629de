"""Drill-through: a click on a chart names a group (its customers are listed), and a customer id
links to the Customer lookup (its `q=` link parameter, the one a copied lookup link carries)."""
from __future__ import annotations

from urllib.parse import quote

import pandas as pd
import streamlit as st

LOOKUP_PATH = "lookup"  # the Customer lookup page's URL path (app.py: pages/lookup.py)
LINK_TEXT = r"lookup\?q=(.*)$"  # what a link cell shows: the id


def lookup_url(customer_id: str) -> str:
    """The Customer lookup's link for one customer, relative to the workbench's pages."""
    return f"{LOOKUP_PATH}?q={quote(str(customer_id), safe='')}"


def with_lookup_links(frame: pd.DataFrame, column: str = "customer_id") -> pd.DataFrame:
    """`frame` with each customer id turned into its lookup link (shown as the id)."""
    return frame.assign(**{column: frame[column].map(lookup_url)}) if column in frame.columns else frame


def picked(event, axis: str) -> str | None:
    """The category of the first point clicked in a plotly_chart selection event (None when none)."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    values = [p.get(axis) for p in points if isinstance(p, dict) and p.get(axis) is not None]
    return str(values[0]) if values else None


def follow(chart_key: str, axis: str, target_key: str, options: tuple, page_key: str | None = None):
    """An on_select callback: a click on chart `chart_key` chooses its `axis` category in the
    widget `target_key` (when one of `options`) and goes back to the first page."""
    def on_select() -> None:
        value = picked(st.session_state.get(chart_key), axis)
        if value in options:
            st.session_state[target_key] = value
            if page_key:
                st.session_state[page_key] = 1
    return on_select


def open_lookup_on_click(event, axis: str) -> None:
    """After a click on a chart of customers (their ids on `axis`), open that customer in the lookup."""
    customer_id = picked(event, axis)
    if customer_id:
        from segwork.config import PROJECT_DIR

        st.switch_page(PROJECT_DIR / "pages" / "lookup.py", query_params={"q": customer_id})
