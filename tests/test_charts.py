"""Figure builders (segwork.charts, the one home of figures for pages and notebooks): the numbers
they are given end up in the traces, empty input says so, and every segment and event type has
one colour and one place in the order, whichever chart shows it and whatever else it shows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import segwork
from segwork import analysis, charts, segments, synth

SUMMARY = pd.DataFrame({
    "value_segment": ["High Value", "High Value", "Low Value", "Medium Value"],
    "loyalty_segment": ["Loyal", "New", "Loyal", "New"],
    "customer_count": [3, 1, 4, 2],
    "avg_lifetime_value": [2000.0, 1500.0, 100.0, 700.0],
})


def bars(fig: go.Figure) -> dict[str, dict]:
    """{trace name: {x: y}} of a bar figure."""
    return {t.name: dict(zip(t.x, t.y)) for t in fig.data}


def test_segment_mix_of_one_summary():
    fig = charts.segment_mix(SUMMARY)
    assert bars(fig) == {"High Value": {"Loyal": 3, "New": 1}, "Low Value": {"Loyal": 4}, "Medium Value": {"New": 2}}
    assert fig.layout.barmode == "relative"


def test_segment_mix_compares_summaries_as_shares():
    other = SUMMARY.assign(customer_count=[1, 1, 6, 2])
    fig = charts.segment_mix({"default": SUMMARY, "stricter": other}, share=True)
    got = bars(fig)
    assert got["High Value"] == {"default": pytest.approx(0.4), "stricter": pytest.approx(0.2)}
    assert got["Low Value"] == {"default": pytest.approx(0.4), "stricter": pytest.approx(0.6)}
    by_loyalty = bars(charts.segment_mix({"x": SUMMARY}, by="loyalty_segment"))
    assert by_loyalty == {"Loyal": {"x": 7}, "New": {"x": 3}}
    with pytest.raises(ValueError, match="by must be"):
        charts.segment_mix(SUMMARY, by="age")


def test_top_customers_first_row_on_top():
    engagement = pd.DataFrame({"customer_id": ["17850", "c2", "zz"], "location": ["UK", "UK", ""], "event_count": [3, 2, 1],
                               "total_value": [30.0, 20.0, 10.0], "value_segment": ["High Value", "Low Value", ""]})
    fig = charts.top_customers(engagement)
    assert bars(fig) == {"High Value": {30.0: "17850"}, "Low Value": {20.0: "c2"},
                                                          "no profile": {10.0: "zz"}}
    assert list(fig.layout.yaxis.categoryarray) == ["zz", "c2", "17850"] and fig.layout.yaxis.type == "category"
    assert list(charts.top_customers(engagement, "event_count").data[0].x) == [3]


def test_monthly_activity_has_customers_and_value():
    monthly = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01"]), "active_customers": [5, 7],
                            "events": [10, 20], "total_value": [100.0, -5.0]})
    fig = charts.monthly_activity(monthly)
    assert list(fig.data[0].y) == [5, 7] and list(fig.data[1].y) == [100.0, -5.0]
    assert fig.data[1].yaxis == "y2"


def test_rfm_segments_in_grid_order():
    scores = pd.DataFrame({"customer_id": ["a", "b", "c"], "recency_days": [1, 300, 2], "frequency": [9, 1, 8],
                           "monetary": [90.0, 10.0, 100.0], "rfm_segment": ["Champions", "Hibernating", "Champions"]})
    fig = charts.rfm_segments(analysis.rfm_segment_summary(scores))
    assert list(fig.data[0].x) == ["Champions", "Hibernating"] and list(fig.data[0].y) == [2, 1]
    assert list(fig.data[0].text) == ["95% of value", "5% of value"]


def test_retention_heatmap_cells():
    cohorts = pd.DataFrame({"cohort_month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
                            "months_since_signup": [0, 1, 0], "cohort_size": [4, 4, 2],
                            "active_customers": [4, 1, 2], "retention": [1.0, 0.25, 1.0]})
    fig = charts.retention_heatmap(analysis.retention_matrix(cohorts))
    z = fig.data[0].z
    assert list(fig.data[0].y) == ["2024-01", "2024-02"] and fig.layout.yaxis.type == "category"
    assert list(z[0]) == [1.0, 0.25] and z[1][0] == 1.0 and pd.isna(z[1][1])


def test_customer_timeline_one_dot_per_event():
    timeline = pd.DataFrame({"event_id": ["e1", "e2", "e3"], "event_type": ["login", "purchase", "login"],
                             "event_value": [0.0, 9.5, 0.0], "product_id": ["", "p1", ""], "category": "",
                             "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)})
    fig = charts.customer_timeline(timeline)
    assert sorted(len(t.x) for t in fig.data) == [1, 2]


@pytest.mark.parametrize("build", [
    lambda: charts.segment_mix(SUMMARY.iloc[0:0]),
    lambda: charts.segment_mix({}),
    lambda: charts.top_customers(pd.DataFrame()),
    lambda: charts.monthly_activity(pd.DataFrame(columns=["month", "active_customers", "total_value"])),
    lambda: charts.rfm_segments(pd.DataFrame()),
    lambda: charts.retention_heatmap(pd.DataFrame()),
    lambda: charts.customer_timeline(pd.DataFrame(columns=["timestamp", "event_type"])),
])
def test_empty_input_gives_a_figure_that_says_so(build):
    fig = build()
    assert not fig.data and fig.layout.annotations[0].text.startswith("no ")


# --- the workbench's figures, on query results -------------------------------------------

@pytest.fixture
def summary(client):
    segwork.ingest(client, "customers", synth.customers(400, seed=2))
    return segwork.customer_segments_summary(client)


def test_heatmap_puts_each_segment_in_its_cell(summary):
    fig = charts.segment_heatmap(summary)
    heat = fig.data[0]
    assert list(heat.y) == ["High Value", "Medium Value", "Low Value"] and list(heat.x) == ["Loyal", "Regular", "New"]
    for row in summary.itertuples():
        cell = list(heat.y).index(row.value_segment), list(heat.x).index(row.loyalty_segment)
        assert heat.text[cell[0]][cell[1]] == f"{row.customer_count:,}"
        assert heat.z[cell[0]][cell[1]] == pytest.approx(np.log10(row.customer_count + 1))  # shades by magnitude
    assert sum(int(t.replace(",", "")) for r in heat.text for t in r) == 400
    labels = dict(zip(heat.colorbar.ticktext, heat.colorbar.tickvals))  # the colour bar reads in counts
    assert labels["0"] == 0 and labels["100"] == pytest.approx(np.log10(101)) and "(log scale)" in heat.colorbar.title.text
    assert max(int(t.replace(",", "")) for t in labels) <= summary["customer_count"].max()
    # the colour bar starts at 0 customers, so its 0 and 1 ticks show (plotly needs zmax with zmin for that)
    assert heat.zmin == 0 and heat.zmax == pytest.approx(np.log10(summary["customer_count"].max() + 1))
    avg = charts.segment_heatmap(summary, "avg_lifetime_value").data[0]  # other measures keep a linear scale
    assert avg.z[0][0] == summary.set_index(["value_segment", "loyalty_segment"]).loc[("High Value", "Loyal"), "avg_lifetime_value"]


def test_segment_bars_follow_the_fixed_segment_order_not_the_measure(summary):
    fig = charts.segment_bars(summary, "avg_lifetime_value")
    present = set(segments.segment_labels(summary))
    assert list(fig.layout.yaxis.categoryarray)[::-1] == [s for s in segments.SEGMENTS if s in present]
    shown = {label: x for trace in fig.data for label, x in zip(trace.y, trace.x)}
    assert shown == dict(zip(segments.segment_labels(summary), summary["avg_lifetime_value"]))
    assert {(t.texttemplate, t.textposition) for t in fig.data} == {("%{x:,.2f}", "outside")}  # every bar says its value
    assert {t.texttemplate for t in charts.segment_bars(summary, "customer_count").data} == {"%{x:,}"}
    assert fig.layout.xaxis.range[1] > summary["avg_lifetime_value"].max() * 1.2  # the longest bar's value fits beside it


def test_figures_of_empty_results_say_so():
    for fig in (charts.segment_heatmap(pd.DataFrame()), charts.segment_bars(pd.DataFrame()),
                charts.top_customers(pd.DataFrame()), charts.events_over_time(pd.DataFrame())):
        assert not fig.data and fig.layout.annotations[0].text.startswith("no ")


def test_top_customers_and_events_over_time(client):
    segwork.ingest(client, "customers", synth.customers(50, seed=1))
    segwork.ingest(client, "customer_events", synth.events(2000, 50, seed=1))
    top = segwork.customer_engagement_analysis(client, "2024-11-01", "2026-11-01", limit=40)
    fig = charts.top_customers(top, "event_count", top=25)
    bars = {y: x for trace in fig.data for y, x in zip(trace.y, trace.x)}
    assert list(fig.layout.yaxis.categoryarray)[::-1] == list(top["customer_id"][:25])
    assert [bars[c] for c in top["customer_id"][:25]] == list(top["event_count"][:25])
    daily = segwork.events_over_time(client, "2024-11-01", "2026-11-01")
    fig = charts.events_over_time(daily)
    assert sum(sum(t.y) for t in fig.data) == 2000


# --- one colour per event type and per segment, one segment order -------------------------

def colors(fig: go.Figure) -> dict[str, str]:
    """{trace name: its colour} of a figure with one trace per category."""
    return {t.name: t.marker.color for t in fig.data}


def test_an_event_type_has_one_colour_whatever_else_is_shown():
    timeline = pd.DataFrame({"event_type": ["teleport", "login", "purchase", "zap"], "event_value": 0.0, "product_id": "",
                             "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], utc=True)})
    daily = pd.DataFrame({"day": pd.to_datetime(["2024-01-01"] * 4), "event_type": ["purchase", "page_view", "zap", "return"],
                          "event_count": [1, 2, 3, 4], "total_value": 0.0})
    in_timeline, in_daily = colors(charts.customer_timeline(timeline)), colors(charts.events_over_time(daily))
    assert in_timeline["purchase"] == in_daily["purchase"] == charts.EVENT_TYPE_COLORS["purchase"]
    assert in_timeline["zap"] == in_daily["zap"] == charts.event_type_color("zap")  # unknown: by its name, not its place
    assert in_timeline["teleport"] == charts.event_type_color("teleport") not in charts.EVENT_TYPE_COLORS.values()
    assert len(set(in_daily.values())) == 4
    assert charts.event_type_order(["zap", "return", "teleport", "purchase"]) == ["purchase", "return", "teleport", "zap"]
    assert [t.name for t in charts.events_over_time(daily).data] == ["page_view", "purchase", "return", "zap"]


def test_unknown_event_type_colours_are_the_same_in_every_process():
    import subprocess
    import sys

    code = "from segwork import charts; print([charts.event_type_color(t) for t in ('teleport', 'zap', 'x1')])"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**__import__("os").environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {f"{[charts.event_type_color(t) for t in ('teleport', 'zap', 'x1')]}\n"}


def test_a_segment_has_one_colour_and_one_place_in_every_chart():
    shuffled = SUMMARY.sample(frac=1, random_state=3)
    bars = charts.segment_bars(shuffled, "avg_lifetime_value")
    assert list(bars.layout.yaxis.categoryarray)[::-1] == ["High Value · Loyal", "High Value · New", "Medium Value · New",
                                                           "Low Value · Loyal"]
    engagement = pd.DataFrame({"customer_id": ["a", "b", "c"], "location": "", "event_count": [3, 2, 1],
                               "total_value": [1.0, 2.0, 3.0], "value_segment": ["Low Value", "", "High Value"]})
    for fig in (bars, charts.segment_mix(SUMMARY), charts.top_customers(engagement)):
        for name, color in colors(fig).items():
            assert color == charts.SEGMENT_COLORS[name], (name, color)
    assert [t.name for t in charts.segment_mix({"x": shuffled}).data] == ["High Value", "Medium Value", "Low Value"]
    assert [t.name for t in charts.top_customers(engagement).data] == ["High Value", "Low Value", "no profile"]


def test_every_figure_is_drawn_in_segwork_charts():
    from segwork.config import PROJECT_DIR

    for path in [*(PROJECT_DIR / "segwork").rglob("*.py"), *(PROJECT_DIR / "pages").glob("*.py"),
                 *(PROJECT_DIR / "notebooks").glob("*.ipynb")]:
        if path.name != "charts.py":
            text = path.read_text()
            assert "import plotly" not in text and "from plotly" not in text, path


def contrast_with_white(color: str) -> float:
    """WCAG 2 contrast ratio of '#rrggbb' or 'rgb(r,g,b)' against white (1 = invisible, 21 = black)."""
    rgb = ([int(color[i:i + 2], 16) for i in (1, 3, 5)] if color.startswith("#")
           else [int(v) for v in color[color.index("(") + 1:-1].split(",")])
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 1.05 / (0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2] + 0.05)


def test_no_bar_or_dot_is_white_on_white():
    """Notebook 3's RFM bars of low average monetary were near-white (Blues starts at rgb(247,251,255))."""
    summary = pd.DataFrame({"rfm_segment": ["Champions", "Hibernating"], "customers": [5, 50], "value_share": [0.99, 0.01],
                            "avg_recency_days": [3.0, 300.0], "avg_frequency": [9.0, 1.0], "avg_monetary": [5000.0, 1.0]})
    scale = [color for _, color in charts.rfm_segments(summary).layout.coloraxis.colorscale]
    for color in [*scale, *charts.SEGMENT_COLORS.values(), *charts.EVENT_TYPE_COLORS.values(), *charts.OTHER_EVENT_COLORS]:
        assert contrast_with_white(color) >= 1.5, color
    assert contrast_with_white("#ffffff") == 1 and contrast_with_white("rgb(247,251,255)") < 1.1  # the check itself


# --- segments through time ----------------------------------------------------------------

SIZES = pd.DataFrame({
    "day": [pd.Timestamp("2026-01-31").date()] * 3 + [pd.Timestamp("2026-02-28").date()] * 3,
    "segment": ["Low Value · New", "High Value · Loyal", "High Value · New"] * 2,
    "value_segment": ["Low Value", "High Value", "High Value"] * 2,
    "loyalty_segment": ["New", "Loyal", "New"] * 2,
    "customers": [5, 2, 1, 4, 3, 0],
})
FLOWS = pd.DataFrame({
    "from_state": ["High Value · Loyal", "High Value · Loyal", "Low Value · New", "Not a customer", "Low Value · New"],
    "to_state": ["High Value · Loyal", "Not a customer", "High Value · New", "Low Value · New", "High Value · New"],
    "why": ["no change", "deleted", "lifetime value rose past 1,000", "new customer", "signup date changed"],
    "customers": [10, 1, 3, 4, 2],
})


def test_segment_sizes_one_line_per_segment_in_the_fixed_order_and_colours():
    fig = charts.segment_sizes(SIZES.sample(frac=1, random_state=1))
    assert [t.name for t in fig.data] == ["High Value · Loyal", "High Value · New", "Low Value · New"]
    assert {t.name: list(t.y) for t in fig.data} == {"High Value · Loyal": [2, 3], "High Value · New": [1, 0],
                                                     "Low Value · New": [5, 4]}
    assert [t.line.color for t in fig.data] == [charts.SEGMENT_COLORS[v] for v in ("High Value", "High Value", "Low Value")]
    assert [t.line.dash for t in fig.data] == ["solid", "dot", "dot"]
    by_value = charts.segment_sizes(SIZES, "value")
    assert {t.name: list(t.y) for t in by_value.data} == {"High Value": [3, 3], "Low Value": [5, 4]}
    by_loyalty = charts.segment_sizes(SIZES, "loyalty")
    assert [(t.name, t.line.color) for t in by_loyalty.data] == [("Loyal", charts.SEGMENT_COLORS["Loyal"]),
                                                                 ("New", charts.SEGMENT_COLORS["New"])]
    assert fig.layout.yaxis.type != "log"
    logged = charts.segment_sizes(SIZES, log=True)  # small segments beside a large one: a log axis
    assert logged.layout.yaxis.type == "log" and "log scale" in logged.layout.yaxis.title.text
    assert {t.name: list(t.y) for t in logged.data} == {"High Value · Loyal": [2, 3], "High Value · New": [1, None],
                                                        "Low Value · New": [5, 4]}  # 0 has no place on a log axis


def test_transition_sankey_nodes_in_order_and_colours_links_sum_the_flows():
    places = list(segments.SEGMENTS) + ["Not a customer"]
    fig = charts.transition_sankey(FLOWS, places, date_a="2026-01-31", date_b="2026-02-28")
    sankey = fig.data[0]
    assert list(sankey.node.label) == ["High Value · Loyal (11)", "Low Value · New (5)", "Not a customer (4)",
                                       "High Value · Loyal (10)", "High Value · New (5)", "Low Value · New (4)",
                                       "Not a customer (1)"]
    assert list(sankey.node.color) == [charts.segment_color(p.rsplit(" (", 1)[0]) for p in sankey.node.label]
    assert charts.segment_color("Not a customer") == "#999999" == charts.segment_color("no profile")
    assert charts.segment_color("Medium Value · Regular") == charts.SEGMENT_COLORS["Medium Value"]
    assert charts.segment_color("Regular") == charts.SEGMENT_COLORS["Regular"]
    links = {(sankey.node.label[s], sankey.node.label[t]): v for s, t, v in zip(sankey.link.source, sankey.link.target,
                                                                                 sankey.link.value)}
    assert links[("Low Value · New (5)", "High Value · New (5)")] == 5  # two reasons, one flow
    assert sum(sankey.link.value) == FLOWS["customers"].sum()
    assert all(0 < y < 1 for y in sankey.node.y) and list(sankey.node.y[:3]) == sorted(sankey.node.y[:3])
    assert "2026-01-31" in fig.layout.title.text and "2026-02-28" in fig.layout.title.text


def test_transition_heatmap_counts_as_text_shares_as_colour():
    from segwork import through_time

    matrix = through_time.transition_matrix(FLOWS)
    fig = charts.transition_heatmap(matrix)
    heat = fig.data[0]
    row = list(heat.y).index("Low Value · New")
    assert heat.text[row][list(heat.x).index("High Value · New")] == "5"
    assert heat.z[row][list(heat.x).index("High Value · New")] == 1.0
    first = list(heat.y).index("High Value · Loyal")
    assert heat.z[first][list(heat.x).index("High Value · Loyal")] == pytest.approx(10 / 11)


@pytest.mark.parametrize("build", [
    lambda: charts.segment_sizes(SIZES.iloc[0:0]),
    lambda: charts.transition_sankey(FLOWS.iloc[0:0], []),
    lambda: charts.transition_heatmap(pd.DataFrame()),
])
def test_through_time_figures_of_nothing_say_so(build):
    fig = build()
    assert not fig.data and fig.layout.annotations[0].text.startswith("no ")
