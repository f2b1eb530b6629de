"""Every plotly figure segwork draws (workbench pages and notebooks alike), and their fixed colours.

One colour per segment and per event type everywhere, and one segment order (segwork.segments:
High to Low value, Loyal to New), so a colour or a position means the same thing on every chart.
Event types outside EVENT_TYPE_COLORS get a colour of OTHER_EVENT_COLORS chosen by a stable
hash of their name: the same in every chart, process and run, whatever else is shown.

Each builder takes the DataFrame a segwork function returns and gives a
`plotly.graph_objects.Figure`; an empty frame gives an empty figure that says so.
"""
from __future__ import annotations

import zlib
from typing import Iterable

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segwork.analysis import RFM_SEGMENTS
from segwork.segments import LOYALTY_SEGMENTS, SEGMENTS, SEPARATOR, VALUE_SEGMENTS, in_segment_order, segment_labels
from segwork.through_time import OUTSIDE

SEGMENT_COLORS = {"High Value": "#1b6ca8", "Medium Value": "#5aa0d6", "Low Value": "#9ec5e6",
                  "Loyal": "#2e7d32", "Regular": "#81c784", "New": "#a5d6a7", "no profile": "#999999",
                  OUTSIDE: "#999999"}
# A (value, loyalty) segment is drawn in its value segment's colour (as the Segments page's bars),
# told apart by a dash and a marker per loyalty segment where all nine share a chart.
LOYALTY_DASHES = {"Loyal": "solid", "Regular": "dash", "New": "dot"}
LOYALTY_MARKERS = {"Loyal": "circle", "Regular": "square", "New": "diamond"}
_SEGMENTINGS = {"segment": ("segment", SEGMENTS), "value": ("value_segment", VALUE_SEGMENTS),
                "loyalty": ("loyalty_segment", LOYALTY_SEGMENTS)}  # through_time's `by`: column, order
_SEGMENTING_WORDS = {"segment": "segment", "value": "value segment", "loyalty": "loyalty segment"}
EVENT_TYPE_COLORS = {  # the demo's and the Online Retail data's types, in the order legends list them
    "page_view": "#4c78a8", "product_view": "#72b7b2", "search": "#b279a2", "add_to_cart": "#f58518",
    "wishlist": "#ff9da6", "purchase": "#54a24b", "return": "#e45756", "login": "#9d755d"}
OTHER_EVENT_COLORS = ("#eeca3b", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666",
                      "#17becf", "#bcbd22", "#393b79", "#bab0ac")
SEQUENTIAL = px.colors.sequential.Blues[3:]  # for bars: its lightest colour still stands out on white
MEASURE_LABELS = {"customer_count": "customers", "avg_lifetime_value": "average lifetime value",
                  "total_lifetime_value": "total lifetime value", "event_count": "events", "total_value": "event value"}


def event_type_color(event_type: str) -> str:
    """The fixed colour of an event type (known ones by name, others by a stable hash of it)."""
    known = EVENT_TYPE_COLORS.get(event_type)
    return known or OTHER_EVENT_COLORS[zlib.crc32(str(event_type).encode()) % len(OTHER_EVENT_COLORS)]


def event_type_order(event_types: Iterable[str]) -> list[str]:
    """Event types in legend order: the known ones as in EVENT_TYPE_COLORS, then the rest by name."""
    present = set(event_types)
    return [t for t in EVENT_TYPE_COLORS if t in present] + sorted(present - set(EVENT_TYPE_COLORS))


def _event_colors(event_types: Iterable[str]) -> dict:
    order = event_type_order(event_types)
    return {"color_discrete_map": {t: event_type_color(t) for t in order}, "category_orders": {"event_type": order}}


def segment_heatmap(summary: pd.DataFrame, measure: str = "customer_count") -> go.Figure:
    """Value (rows) x loyalty (columns) grid of one measure of customer_segments_summary."""
    if summary.empty:
        return _empty("no customers match")
    grid = (summary.pivot_table(index="value_segment", columns="loyalty_segment", values=measure, aggfunc="sum")
            .reindex(index=list(VALUE_SEGMENTS), columns=list(LOYALTY_SEGMENTS)))
    if measure == "customer_count":
        grid = grid.fillna(0)
    text = grid.map(lambda v: "" if pd.isna(v) else (f"{v:,.0f}" if measure == "customer_count" else f"{v:,.2f}"))
    label = MEASURE_LABELS.get(measure, measure)
    # customer counts shaded by order of magnitude: one large segment leaves the others visible
    shades = _log_shades(grid.to_numpy(), label) if measure == "customer_count" else {"z": grid.to_numpy(), "colorbar": {"title": label}}
    fig = go.Figure(go.Heatmap(
        x=list(grid.columns), y=list(grid.index), text=text.to_numpy(), texttemplate="%{text}", colorscale="Blues",
        hovertemplate="%{y} / %{x}: %{text}<extra></extra>", **shades,
    ))
    fig.update_layout(title=f"{label.capitalize()} by value and loyalty segment",
                      xaxis_title="loyalty segment", yaxis_title="value segment", yaxis_autorange="reversed")
    return _tidy(fig)


def _log_shades(counts: np.ndarray, label: str) -> dict:
    """A heatmap's z, zmin and colour bar for counts: log10(count + 1) as each cell's colour, the
    lightest shade at 0, a colour bar that reads in counts (0, 1, 10, 100, ... up to the largest)."""
    top = max(float(np.nanmax(counts)), 1.0)
    ticks = [0, *(10 ** k for k in range(int(np.floor(np.log10(top))) + 1))]
    # plotly uses zmin only with zmax (else it scales from the smallest cell: 4 in the demo, hiding the 0 and 1 ticks)
    return {"z": np.log10(counts + 1), "zmin": 0, "zmax": float(np.log10(top + 1)), "colorbar": {
        "title": f"{label} (log scale)", "tickvals": [float(np.log10(t + 1)) for t in ticks], "ticktext": [f"{t:,}" for t in ticks]}}


def segment_bars(summary: pd.DataFrame, measure: str = "customer_count") -> go.Figure:
    """One horizontal bar per (value, loyalty) segment, in the fixed segment order (High Value · Loyal on top)."""
    if summary.empty:
        return _empty("no customers match")
    frame = in_segment_order(summary)
    frame = frame.assign(segment=segment_labels(frame))
    label = MEASURE_LABELS.get(measure, measure)
    fig = px.bar(frame, x=measure, y="segment", orientation="h", color="value_segment", color_discrete_map=SEGMENT_COLORS,
                 category_orders={"value_segment": list(VALUE_SEGMENTS)},
                 labels={measure: label, "segment": "", "value_segment": "value segment"},
                 hover_data={"customer_count": ":,", "avg_lifetime_value": ":,.2f"},
                 title=f"{label.capitalize()} per segment")
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["segment"])[::-1])
    # each bar says its value: beside a 14k segment one of 7 customers is a sliver no eye can read
    fig.update_traces(texttemplate="%{x:,}" if measure == "customer_count" else "%{x:,.2f}", textposition="outside",
                      cliponaxis=False)
    low, top = float(frame[measure].min()), float(frame[measure].max())
    if low >= 0 and top > 0:  # room for the longest bar's value beside it (autorange leaves none)
        fig.update_xaxes(range=[0, top * 1.22])
    fig.update_layout(height=max(300, 34 * len(frame) + 120), showlegend=False)
    return _tidy(fig)


def segment_mix(summaries: pd.DataFrame | dict[str, pd.DataFrame], *, by: str = "value_segment",
                share: bool = False, title: str | None = None) -> go.Figure:
    """Customers per segment from customer_segments_summary results, stacked.

    One summary: one bar per segment of the other kind (value vs loyalty). Several, as
    {label: summary} (rule sets, countries): one bar per label, so the mixes compare; with
    share=True each bar shows percentages of its customers.
    """
    if by not in ("value_segment", "loyalty_segment"):
        raise ValueError(f"by must be value_segment or loyalty_segment, not {by!r}")
    other = "loyalty_segment" if by == "value_segment" else "value_segment"
    if isinstance(summaries, pd.DataFrame):
        frame, x, xlabel = summaries.rename(columns={other: "group"}), "group", other.replace("_", " ")
    else:
        frame = pd.concat([s.assign(group=label) for label, s in summaries.items()], ignore_index=True) if summaries else pd.DataFrame()
        x, xlabel = "group", ""
    if frame.empty:
        return _empty("no customers match")
    counts = frame.groupby([x, by], sort=False, as_index=False)["customer_count"].sum()
    y, ylabel = "customer_count", "customers"
    if share:
        counts["share"] = counts["customer_count"] / counts.groupby(x)["customer_count"].transform("sum")
        y, ylabel = "share", "share of customers"
    order = list(VALUE_SEGMENTS if by == "value_segment" else LOYALTY_SEGMENTS)
    fig = px.bar(counts, x=x, y=y, color=by, color_discrete_map=SEGMENT_COLORS, category_orders={by: order},
                 labels={x: xlabel, y: ylabel, by: by.replace("_", " ")}, hover_data={"customer_count": ":,"},
                 title=title or f"Customers by {by.replace('_', ' ')}")
    if x == "group" and isinstance(summaries, pd.DataFrame):
        fig.update_xaxes(categoryorder="array", categoryarray=list(LOYALTY_SEGMENTS if by == "value_segment" else VALUE_SEGMENTS))
    if share:
        fig.update_yaxes(tickformat=".0%")
    return _tidy(fig)


def top_customers(engagement: pd.DataFrame, measure: str = "total_value", *, top: int | None = None,
                  title: str | None = None) -> go.Figure:
    """Horizontal bars of the first `top` (all) customer_engagement_analysis rows, first on top, coloured by value segment."""
    engagement = engagement if top is None else engagement.head(top)
    if engagement.empty:
        return _empty("no events in the selection")
    label = MEASURE_LABELS.get(measure, measure)
    frame = engagement.assign(value_segment=engagement["value_segment"].replace("", "no profile"))
    fig = px.bar(frame, x=measure, y="customer_id", orientation="h", color="value_segment",
                 color_discrete_map=SEGMENT_COLORS, category_orders={"value_segment": [*VALUE_SEGMENTS, "no profile"]},
                 hover_data={"event_count": ":,", "total_value": ":,.2f", "location": True},
                 labels={measure: label, "customer_id": "customer", "value_segment": "value segment"},
                 title=title or f"Top {len(frame)} customers by {label}")
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["customer_id"])[::-1], type="category")
    fig.update_layout(height=max(320, 22 * len(frame) + 120))
    return _tidy(fig)


def events_over_time(daily: pd.DataFrame, measure: str = "event_count") -> go.Figure:
    """Stacked daily bars per event type, from events_over_time."""
    if daily.empty:
        return _empty("no events in the selection")
    label = MEASURE_LABELS.get(measure, measure)
    fig = px.bar(daily, x="day", y=measure, color="event_type", **_event_colors(daily["event_type"]),
                 labels={measure: label, "day": "day (UTC)", "event_type": "event type"},
                 title=f"{label.capitalize()} per day")
    fig.update_layout(barmode="stack", bargap=0.05)
    return _tidy(fig)


def customer_timeline(timeline: pd.DataFrame, *, title: str = "Events of one customer") -> go.Figure:
    """One dot per event (time x event type), from segwork.customer_timeline."""
    if timeline.empty:
        return _empty("no events for this customer")
    fig = px.strip(timeline, x="timestamp", y="event_type", color="event_type", **_event_colors(timeline["event_type"]),
                   hover_data={"event_value": ":,.2f", "product_id": True, "event_type": False},
                   labels={"timestamp": "time (UTC)", "event_type": "event type"}, title=title)
    fig.update_layout(showlegend=False)
    return _tidy(fig)


def monthly_activity(monthly: pd.DataFrame, *, title: str = "Engagement month by month") -> go.Figure:
    """Active customers (bars) and net event value (line) per month, from analysis.monthly_activity."""
    if monthly.empty:
        return _empty("no events in the selection")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=monthly["month"], y=monthly["active_customers"], name="active customers",
                         marker_color="#5aa0d6", hovertemplate="%{x|%b %Y}: %{y:,} customers<extra></extra>"))
    fig.add_trace(go.Scatter(x=monthly["month"], y=monthly["total_value"], name="net value", mode="lines+markers",
                             line_color="#e07b39", hovertemplate="%{x|%b %Y}: %{y:,.2f}<extra></extra>"), secondary_y=True)
    fig.update_layout(title=title, xaxis_title="month (UTC)", legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(title_text="active customers", secondary_y=False)
    fig.update_yaxes(title_text="net event value", secondary_y=True, rangemode="tozero")
    return _tidy(fig)


def rfm_segments(summary: pd.DataFrame, *, title: str = "RFM segments") -> go.Figure:
    """Customers (bars, darker for a higher average monetary) and share of net value (text) per RFM
    segment, from analysis.rfm_segment_summary."""
    if summary.empty:
        return _empty("no purchasing customers")
    frame = summary.reset_index()
    fig = px.bar(frame, x="rfm_segment", y="customers", color="avg_monetary", color_continuous_scale=SEQUENTIAL,
                 text=frame["value_share"].map(lambda v: f"{v:.0%} of value" if abs(v) >= 0.01 else f"{v:.1%} of value"),
                 category_orders={"rfm_segment": [s for s in RFM_SEGMENTS if s in set(frame["rfm_segment"])]},
                 labels={"rfm_segment": "RFM segment", "customers": "customers", "avg_monetary": "avg monetary"},
                 hover_data={"avg_recency_days": ":.0f", "avg_frequency": ":.1f", "avg_monetary": ":,.2f"},
                 title=title)
    fig.update_traces(textposition="outside", cliponaxis=False)
    return _tidy(fig)


def retention_heatmap(matrix: pd.DataFrame, *, title: str = "Share of each signup cohort active N months later") -> go.Figure:
    """Cohorts (rows) x months since signup (columns), from analysis.retention_matrix."""
    if matrix.empty:
        return _empty("no cohorts")
    fig = px.imshow(matrix, text_auto=".0%", color_continuous_scale="Blues", aspect="auto", zmin=0, zmax=1,
                    labels={"x": "months since signup", "y": "signup cohort", "color": "active"}, title=title)
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(type="category")  # '2011-01' labels, not a date axis that skips months
    fig.update_coloraxes(colorbar_tickformat=".0%")
    return _tidy(fig)


def segment_color(place: str) -> str:
    """The fixed colour of a segment of any segmenting: a value or loyalty segment its own, a
    (value, loyalty) segment its value segment's, OUTSIDE ('Not a customer') grey."""
    return SEGMENT_COLORS.get(place) or SEGMENT_COLORS.get(str(place).split(SEPARATOR)[0], SEGMENT_COLORS[OUTSIDE])


def segment_sizes(sizes: pd.DataFrame, by: str = "segment", *, log: bool = False, title: str | None = None) -> go.Figure:
    """One line per segment over time, from through_time.segment_sizes: per (value, loyalty) segment
    (by='segment': the value segment's colour, a dash and marker per loyalty segment), or summed
    per value or loyalty segment (by='value' / 'loyalty': their own colours); legend in the fixed order.
    log=True: a logarithmic customers axis, so small segments show beside a large one (a point with
    0 customers has no place on it and is left out of its line)."""
    column, order = _SEGMENTINGS[by]
    if sizes.empty:
        return _empty("no segment sizes in the selection")
    frame = sizes.groupby(["day", column], as_index=False, sort=False)["customers"].sum()
    fig = go.Figure()
    many = frame["day"].nunique() > 60  # markers only while a point stands out (weeks, months)
    for label in [s for s in order if s in set(frame[column])]:
        rows = frame[frame[column] == label].sort_values("day")
        loyalty = str(label).split(SEPARATOR)[-1] if by == "segment" else "Loyal"
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(rows["day"]), y=rows["customers"], name=label, mode="lines" if many else "lines+markers",
            line={"color": segment_color(label), "dash": LOYALTY_DASHES.get(loyalty, "solid"), "width": 2.5},
            marker={"symbol": LOYALTY_MARKERS.get(loyalty, "circle"), "size": 7},
            hovertemplate="%{y:,}<extra>" + label + "</extra>"))
    fig.update_layout(title=title or f"Customers per {_SEGMENTING_WORDS[by]} over time", xaxis_title="end of day (UTC)",
                      yaxis_title="customers", hovermode="x unified", legend={"title": _SEGMENTING_WORDS[by]}, height=460)
    if log:
        fig.update_yaxes(type="log", tickformat=",", title="customers (log scale)")
        for trace in fig.data:
            trace.y = [None if v <= 0 else v for v in trace.y]
    else:
        fig.update_yaxes(rangemode="tozero", tickformat=",")
    fig.update_xaxes(hoverformat="%Y-%m-%d")
    return _tidy(fig)


def transition_heatmap(matrix: pd.DataFrame, *, date_a: str = "date A", date_b: str = "date B") -> go.Figure:
    """The from (rows) x to (columns) matrix of through_time.transition_matrix: each cell's
    customers as text, its colour the share of the row's customers (so moves show beside stays)."""
    matrix = matrix.loc[matrix.sum(axis=1) > 0, matrix.sum(axis=0) > 0]  # places nobody was in at that date
    if matrix.empty:
        return _empty("no customers at either date")
    share = matrix.div(matrix.sum(axis=1).replace(0, 1), axis=0)
    text = matrix.map(lambda v: f"{v:,}" if v else "")
    fig = go.Figure(go.Heatmap(
        z=share.to_numpy(), x=list(matrix.columns), y=list(matrix.index), text=text.to_numpy(), texttemplate="%{text}",
        customdata=matrix.to_numpy(), colorscale="Blues", zmin=0, zmax=1,
        colorbar={"title": "share of row", "tickformat": ".0%"},
        hovertemplate="%{y} → %{x}: %{customdata:,} customers (%{z:.1%} of the row)<extra></extra>"))
    fig.update_layout(title=f"From (rows, end of {date_a}) to (columns, end of {date_b})",
                      xaxis_title=f"at the end of {date_b}", yaxis_title=f"at the end of {date_a}",
                      yaxis_autorange="reversed", height=max(360, 38 * len(matrix) + 200))
    fig.update_xaxes(tickangle=-30)
    return _tidy(fig)


def transition_sankey(flows: pd.DataFrame, places: list[str], *, date_a: str = "date A", date_b: str = "date B",
                      title: str | None = None) -> go.Figure:
    """Where customers went from date_a (left) to date_b (right), from through_time.transitions:
    nodes in the fixed order of `places` (Not a customer last) and their segment colours; a
    flow between two places is drawn stronger than customers staying put."""
    flows = flows.groupby(["from_state", "to_state"], as_index=False, sort=False)["customers"].sum()
    flows = flows[flows["customers"] > 0]
    if flows.empty:
        return _empty("no customers at either date")
    left = [p for p in places if p in set(flows["from_state"])]
    right = [p for p in places if p in set(flows["to_state"])]
    size_a = flows.groupby("from_state")["customers"].sum()
    size_b = flows.groupby("to_state")["customers"].sum()
    index_a = {p: i for i, p in enumerate(left)}
    index_b = {p: len(left) + i for i, p in enumerate(right)}
    moved = flows["from_state"] != flows["to_state"]
    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node={"label": [f"{p} ({size_a[p]:,})" for p in left] + [f"{p} ({size_b[p]:,})" for p in right],
              "color": [segment_color(p) for p in left + right], "pad": 12, "thickness": 16,
              "line": {"color": "white", "width": 0.5},
              "x": [0.001] * len(left) + [0.999] * len(right),
              "y": _stacked([size_a[p] for p in left]) + _stacked([size_b[p] for p in right]),
              "hovertemplate": "%{label}<extra></extra>"},
        link={"source": [index_a[p] for p in flows["from_state"]], "target": [index_b[p] for p in flows["to_state"]],
              "value": flows["customers"].tolist(),
              "color": [_faded(segment_color(t), 0.55 if m else 0.18) for t, m in zip(flows["to_state"], moved)],
              "customdata": [f"{a} → {b}" for a, b in zip(flows["from_state"], flows["to_state"])],
              "hovertemplate": "%{customdata}: %{value:,} customers<extra></extra>"},
    ))
    fig.update_traces(textfont={"color": "#262730", "size": 12, "shadow": "none"})
    fig.update_layout(title=title or f"From the end of {date_a} (left) to the end of {date_b} (right)",
                      height=max(420, 54 * max(len(left), len(right)) + 120))
    return _tidy(fig)


def _stacked(sizes: list[int], pad: float = 0.04) -> list[float]:
    """Node centres (0 top, 1 bottom) for nodes of these sizes stacked in this order."""
    total, gaps = float(sum(sizes)) or 1.0, pad * max(len(sizes) - 1, 0)
    scale = max(1.0 - gaps, 0.2) / total
    centres, top = [], 0.0
    for size in sizes:
        centres.append(min(max(top + size * scale / 2, 0.001), 0.999))
        top += size * scale + pad
    return centres


def _faded(color: str, alpha: float) -> str:
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font_size=16)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _tidy(fig)


def _tidy(fig: go.Figure) -> go.Figure:
    fig.update_layout(template="plotly_white", margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig



STAYING_COLOR = "#e0e0e0"  # the migration matrix's diagonal: customers who keep their segment


def migration_heatmap(matrix: pd.DataFrame, *, title: str = "Customers moving from each segment to each under the new rules") -> go.Figure:
    """Segments now (rows) x segments under new rules (columns), from a from x to table of
    customers (segwork.workbench.analyses.migration_matrix of queries.rule_change_impact).

    Blue shades count the customers who move; the diagonal (those who stay) is grey with its
    count, so a few movers are not washed out by thousands who stay. Empty cells are blank.
    """
    if matrix.empty or not matrix.to_numpy().any():
        return _empty("no customers")
    values = matrix.to_numpy().astype(float)
    stay = pd.DataFrame(values, index=matrix.index, columns=matrix.columns)
    move = stay.copy()
    for s in matrix.index:
        if s in matrix.columns:
            move.at[s, s] = float("nan")
    diagonal = pd.DataFrame([[r == c for c in matrix.columns] for r in matrix.index], index=matrix.index, columns=matrix.columns)
    stay = stay.where(diagonal & (stay > 0))
    move = move.where(move > 0)
    x, y = list(matrix.columns), list(matrix.index)
    fig = go.Figure([
        go.Heatmap(z=move.to_numpy(), x=x, y=y, texttemplate="%{z:,.0f}", colorscale="Blues", zmin=0,
                   colorbar={"title": "customers<br>moving"}, hoverongaps=False,
                   hovertemplate="%{z:,} customers would move<br>from %{y}<br>to %{x}<extra></extra>"),
        go.Heatmap(z=stay.to_numpy(), x=x, y=y, texttemplate="%{z:,.0f}", colorscale=[[0, STAYING_COLOR], [1, STAYING_COLOR]],
                   showscale=False, hoverongaps=False, hovertemplate="%{z:,} customers stay in %{y}<extra></extra>"),
    ])
    fig.update_layout(title=title, xaxis_title="segment under the new rules", yaxis_title="segment now",
                      yaxis_autorange="reversed", height=max(380, 40 * len(matrix) + 220))
    fig.update_xaxes(tickangle=-35, type="category", categoryorder="array", categoryarray=x)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=y)
    return _tidy(fig)


def cohort_heatmap(matrix: pd.DataFrame, *, title: str = "Share of each signup cohort active N months later") -> go.Figure:
    """retention_heatmap sized for the page: a row per cohort tall enough to read, and the
    percentages written in the cells only while they fit (hover always gives them)."""
    fig = retention_heatmap(matrix, title=title)
    if matrix.empty:
        return fig
    fig.update_layout(height=max(360, 26 * len(matrix) + 160))
    fig.update_traces(hovertemplate="cohort %{y}, %{x} months after signup: %{z:.1%} active<extra></extra>")
    if len(matrix.columns) > 25:
        fig.update_traces(texttemplate="")
    return fig


# --- your own segments (segwork.custom): the builder, saved segments, comparisons ---------------

COMPARE_COLORS = {"A": "#7b3294", "B": "#e08214", "both": "#9a9a3a", "every customer": "#999999",
                  "the segment": "#7b3294", "condition": "#c2a5cf"}


def condition_counts(counts: pd.DataFrame, *, title: str = "Customers matching each condition alone") -> go.Figure:
    """One horizontal bar per condition (segwork.custom.condition_counts, with a `label` column to
    show), then the segment and every customer, first condition on top."""
    if counts.empty:
        return _empty("no conditions yet")
    frame = counts.assign(label=counts["label"] if "label" in counts else counts["condition"])
    frame["kind"] = [c if c in ("the segment", "every customer") else "condition" for c in frame["condition"]]
    fig = px.bar(frame, x="customers", y="label", orientation="h", color="kind", color_discrete_map=COMPARE_COLORS,
                 text=frame["customers"].map("{:,}".format), labels={"customers": "customers", "label": "", "kind": ""},
                 title=title)
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["label"])[::-1], type="category")
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_layout(height=max(260, 40 * len(frame) + 120), showlegend=False)
    return _tidy(fig)


def overlap(sizes: dict, a: str, b: str, *, title: str | None = None) -> go.Figure:
    """Only A / both / only B (segwork.custom.compare.overlap) as one stacked bar, A's colour and B's fixed;
    against every customer (b == 'every customer'): A's members and the rest."""
    if b == "every customer":  # A is a part of everyone: its members and the rest
        parts = [(f"in {a}", sizes["both"], COMPARE_COLORS["A"]),
                 ("every other customer", sizes["only_b"], COMPARE_COLORS["every customer"])]
    else:
        parts = [(f"only {a}", sizes["only_a"], COMPARE_COLORS["A"]), ("both", sizes["both"], COMPARE_COLORS["both"]),
                 (f"only {b}", sizes["only_b"], COMPARE_COLORS["B"])]
    fig = go.Figure([go.Bar(x=[n], y=["customers"], name=label, orientation="h", marker_color=color, text=f"{label}: {n:,}",
                            textposition="inside", hovertemplate=f"{label}: %{{x:,}}<extra></extra>")
                     for label, n, color in parts])
    fig.update_layout(barmode="stack", height=220, title=title or f"Overlap of {a} and {b}", xaxis_title="customers",
                      legend={"orientation": "h", "y": -0.4, "traceorder": "normal"}, yaxis_visible=False)
    return _tidy(fig)


def composition(frame: pd.DataFrame, by: str, *, title: str | None = None) -> go.Figure:
    """Members per value of `by` (segwork.custom.compare.composition), biggest first; value and
    loyalty segments in their fixed colours."""
    if frame.empty:
        return _empty("no members")
    words = by.replace("_", " ")
    colors = {"color": by, "color_discrete_map": SEGMENT_COLORS} if by in ("value_segment", "loyalty_segment") else \
        {"color_discrete_sequence": [SEQUENTIAL[-2]]}
    fig = px.bar(frame, x=by, y="customers", text=frame["share"].map("{:.0%}".format),
                 labels={by: words, "customers": "customers"}, hover_data={"share": ":.1%"},
                 title=title or f"Members by {words}", **colors)
    fig.update_xaxes(type="category")
    if frame["customers"].max() <= 10:
        fig.update_yaxes(dtick=1)  # whole customers, not 0.2 of one
    fig.update_layout(showlegend=False)
    return _tidy(fig)


def event_mix(mix: pd.DataFrame, *, days: int = 30, title: str | None = None) -> go.Figure:
    """Events per member by type in the last `days` days (segwork.custom.compare.event_mix), in the event types' colours."""
    if mix.empty:
        return _empty(f"no events in the last {days} days")
    fig = px.bar(mix, x="event_type", y="per_member", color="event_type", **_event_colors(mix["event_type"]),
                 hover_data={"events": ":,", "customers": ":,", "per_member": ":.2f"},
                 labels={"event_type": "event type", "per_member": "events per member"},
                 title=title or f"Events per member, last {days} days")
    fig.update_layout(showlegend=False)
    return _tidy(fig)


def composition_compare(frame: pd.DataFrame, by: str, a: str, b: str, *, title: str | None = None) -> go.Figure:
    """Side by side shares of A and B per value of `by` (workbench custom_data.side_by_side), the
    difference (A - B, percentage points) marked above each pair: the biggest differences first."""
    if frame.empty:
        return _empty("no members")
    words = by.replace("_", " ")
    fig = go.Figure([go.Bar(x=frame[by], y=frame[f"share_{k}"], name=label, marker_color=COMPARE_COLORS[k.upper()],
                            hovertemplate=f"{label}: %{{y:.1%}}<extra></extra>") for k, label in (("a", a), ("b", b))])
    top = frame[["share_a", "share_b"]].max(axis=1)
    for x, y, d in zip(frame[by], top, frame["difference"]):
        if abs(d) >= 0.005:
            fig.add_annotation(x=x, y=y, text=f"{d * 100:+.0f} pts", showarrow=False, yshift=12,
                               font={"color": COMPARE_COLORS["A"] if d > 0 else COMPARE_COLORS["B"], "size": 12})
    fig.update_layout(barmode="group", title=title or f"Share of members by {words} (A - B marked)",
                      xaxis_title=words, yaxis_title="share of members", legend={"orientation": "h", "y": -0.25})
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%")
    return _tidy(fig)
