"""Figure builders: the numbers they are given end up in the traces, empty input says so."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from segwork import analysis, charts

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
