"""Plotly figures of the workbench's results (segment summary, events over time), usable from
notebooks too; top customers and a customer's timeline are segwork.charts' (shared with them).

Each builder takes the DataFrame a segwork query returns and gives a `plotly.graph_objects.Figure`;
an empty frame gives an empty figure that says so.
"""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from segwork import charts
from segwork.charts import SEGMENT_COLORS
from segwork.segments import LOYALTY_SEGMENTS, VALUE_SEGMENTS

VALUE_COLORS = {k: v for k, v in SEGMENT_COLORS.items() if k in VALUE_SEGMENTS}
MEASURE_LABELS = {"customer_count": "customers", "avg_lifetime_value": "average lifetime value",
                  "total_lifetime_value": "total lifetime value", "event_count": "events", "total_value": "event value"}


def segment_heatmap(summary: pd.DataFrame, measure: str = "customer_count") -> go.Figure:
    """Value (rows) x loyalty (columns) grid of one measure of customer_segments_summary."""
    if summary.empty:
        return _empty("no customers match")
    grid = (summary.pivot_table(index="value_segment", columns="loyalty_segment", values=measure, aggfunc="sum")
            .reindex(index=list(VALUE_SEGMENTS), columns=list(LOYALTY_SEGMENTS)))
    if measure == "customer_count":
        grid = grid.fillna(0)
    text = grid.map(lambda v: "" if pd.isna(v) else (f"{v:,.0f}" if measure == "customer_count" else f"{v:,.2f}"))
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), text=text.to_numpy(), texttemplate="%{text}",
        colorscale="Blues", colorbar={"title": MEASURE_LABELS.get(measure, measure)},
        hovertemplate="%{y} / %{x}: %{text}<extra></extra>",
    ))
    fig.update_layout(title=f"{MEASURE_LABELS.get(measure, measure).capitalize()} by value and loyalty segment",
                      xaxis_title="loyalty segment", yaxis_title="value segment", yaxis_autorange="reversed")
    return _tidy(fig)


def segment_bars(summary: pd.DataFrame, measure: str = "customer_count") -> go.Figure:
    """One horizontal bar per (value, loyalty) segment, in the summary's order (best average value on top)."""
    if summary.empty:
        return _empty("no customers match")
    frame = summary.assign(segment=segment_labels(summary))
    label = MEASURE_LABELS.get(measure, measure)
    fig = px.bar(frame, x=measure, y="segment", orientation="h", color="value_segment", color_discrete_map=VALUE_COLORS,
                 labels={measure: label, "segment": "", "value_segment": "value segment"},
                 hover_data={"customer_count": ":,", "avg_lifetime_value": ":,.2f"},
                 title=f"{label.capitalize()} per segment")
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["segment"])[::-1])
    fig.update_layout(height=max(300, 34 * len(frame) + 120), showlegend=False)
    return _tidy(fig)


def segment_labels(summary: pd.DataFrame) -> pd.Series:
    """'High Value · Loyal' labels for the rows of a summary."""
    return summary["value_segment"].astype(str) + " · " + summary["loyalty_segment"].astype(str)


def top_customers(engagement: pd.DataFrame, measure: str = "event_count", top: int = 25) -> go.Figure:
    """The first `top` rows of customer_engagement_analysis as bars (segwork.charts.top_customers)."""
    return charts.top_customers(engagement.head(top), measure)


def events_over_time(daily: pd.DataFrame, measure: str = "event_count") -> go.Figure:
    """Stacked daily bars per event type, from events_over_time."""
    if daily.empty:
        return _empty("no events in the selection")
    label = MEASURE_LABELS.get(measure, measure)
    fig = px.bar(daily, x="day", y=measure, color="event_type",
                 labels={measure: label, "day": "day (UTC)", "event_type": "event type"},
                 title=f"{label.capitalize()} per day")
    fig.update_layout(barmode="stack", bargap=0.05)
    return _tidy(fig)


def _tidy(fig: go.Figure) -> go.Figure:
    fig.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10}, template="plotly_white")
    return fig


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _tidy(fig)
