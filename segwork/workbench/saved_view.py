"""The Saved segments page's composition tab and its Compare two tab (pages/saved.py stays thin)."""
from __future__ import annotations

import streamlit as st

from segwork import charts
from segwork.workbench import custom_data

BY = {"location": "location", "age_band": "age band", "gender": "gender", "value_segment": "value segment",
      "loyalty_segment": "loyalty segment", "segment": "value x loyalty segment"}


def composition(name: str) -> None:
    """Who the segment's members are: location, age band, value x loyalty, event mix (30 days)."""
    c = st.columns(2)
    c[0].plotly_chart(charts.composition(custom_data.call("composition", name, by="location"), "location"), key="sv_loc")
    c[1].plotly_chart(charts.composition(custom_data.call("composition", name, by="age_band"), "age_band"), key="sv_age")
    c = st.columns(2)
    c[0].plotly_chart(charts.segment_heatmap(custom_data.value_by_loyalty(name)), key="sv_grid")
    c[1].plotly_chart(charts.event_mix(custom_data.call("event_mix", name, days=30), days=30), key="sv_mix")


def compare(names: tuple[str, ...]) -> None:
    """Two segments (or one against every customer): sizes, overlap, composition side by side."""
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
