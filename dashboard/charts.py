"""Charts: pure functions from a DataFrame to a plotly Figure (no Streamlit, no store).

The frames come from ``analysis``; charts only choose marks, colours and labels.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BLUE = "#0f6cbd"
AMBER = "#e8a33d"
RED = "#c4314b"
GREY = "#8a8886"
ERROR_COLOURS = {
    "CountViolation": "#c4314b",
    "ProhibitedInUsageLocationViolation": "#e8a33d",
    "MutuallyExclusiveViolation": "#8764b8",
    "DependencyViolation": "#0f6cbd",
    "UniquenessViolation": "#038387",
    "Other": "#8a8886",
}
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "template": "plotly_white"}


def _bar_colour(utilization: float, over: bool) -> str:
    if over:
        return RED
    if math.isnan(utilization):
        return GREY
    return AMBER if utilization >= 0.9 else BLUE


def utilization_chart(seats: pd.DataFrame) -> go.Figure:
    """Horizontal bars of utilization per SKU, labelled 'assigned / purchased'.

    Args:
        seats: ``seat_table`` rows to draw (``name``, ``consumed``, ``purchased``,
            ``utilization``, ``over_assigned``). A SKU with nothing purchased has no
            utilization: it gets an empty grey bar labelled so.
    """
    # Bars are drawn bottom-up: reverse order reads top-down alphabetically, as the SKU pickers do.
    ordered = seats.sort_values("name", ascending=False, key=lambda names: names.str.lower())
    util = ordered["utilization"].astype("float64")
    labels = [
        f"{c:,} assigned, nothing purchased" if math.isnan(u) else f"{c:,} / {p:,} ({u:.0%})"
        for c, p, u in zip(ordered["consumed"], ordered["purchased"], util, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=(util.fillna(0.0) * 100).round(1).tolist(),
            y=ordered["name"].tolist(),
            orientation="h",
            text=labels,
            textposition="outside",
            cliponaxis=False,
            marker_color=[
                _bar_colour(u, bool(o)) for u, o in zip(util, ordered["over_assigned"], strict=True)
            ],
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    top = max(100.0, float(util.fillna(0.0).max() * 100) if len(util) else 100.0)
    fig.add_vline(x=100, line_dash="dot", line_color=GREY)
    fig.update_layout(
        title="Utilization per SKU (assigned / purchased)",
        xaxis={"title": "% of purchased seats assigned", "range": [0, top * 1.35]},
        yaxis={"title": None, "automargin": True},
        height=120 + 32 * len(ordered),
        showlegend=False,
        **_LAYOUT,
    )
    return fig


def seats_over_time_chart(history: pd.DataFrame, title: str = "Purchased vs assigned") -> go.Figure:
    """Purchased (dashed steps) and assigned (solid) seats over time: one small chart per SKU, each
    with its own y-axis, so a 20-seat add-on is as readable next to a 400-seat suite.

    Args:
        history: ``analysis.trends.seat_history`` rows (``time``, ``sku``, ``purchased``,
            ``consumed``) for the SKUs to draw.
    """
    skus = sorted(history["sku"].unique(), key=lambda name: str(name).lower())
    columns = 1 if len(skus) <= 1 else 2
    rows = max(1, math.ceil(len(skus) / columns))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[str(s) for s in skus] if len(skus) > 1 else None,
        shared_xaxes=True,
        vertical_spacing=0.12 / rows if rows > 1 else 0.0,
        horizontal_spacing=0.08,
    )
    for i, sku in enumerate(skus):
        part = history[history["sku"] == sku].sort_values("time")
        where = {"row": i // columns + 1, "col": i % columns + 1}
        fig.add_trace(
            go.Scatter(
                x=part["time"].tolist(),
                y=part["purchased"].tolist(),
                name="purchased",
                legendgroup="purchased",
                showlegend=i == 0,
                mode="lines",
                line={"color": GREY, "dash": "dash", "shape": "hv"},
            ),
            **where,
        )
        fig.add_trace(
            go.Scatter(
                x=part["time"].tolist(),
                y=part["consumed"].tolist(),
                name="assigned",
                legendgroup="assigned",
                showlegend=i == 0,
                mode="lines+markers",
                line={"color": BLUE},
                marker={"size": 4},
            ),
            **where,
        )
    height = max(360, 100 + 240 * rows)
    fig.update_layout(
        # Several SKUs: the page's heading names the chart and each small chart has its SKU as title,
        # so a figure title would only collide with the first row's titles.
        title=title if len(skus) <= 1 else None,
        legend={"orientation": "h", "y": -70 / height, "yanchor": "top", "x": 0.0},
        height=height,
        **{**_LAYOUT, "margin": {"l": 10, "r": 10, "t": 60 if len(skus) <= 1 else 30, "b": 80}},
    )
    fig.update_yaxes(title_text="seats", col=1)
    return fig


def error_history_chart(errors: pd.DataFrame) -> go.Figure:
    """Members in group-licence error per snapshot, stacked by error kind.

    Args:
        errors: ``store.history.error_history`` rows with ``time`` (UTC) added.
    """
    fig = go.Figure()
    for kind, rows in errors.groupby("error", sort=True):
        fig.add_trace(
            go.Bar(
                x=rows["time"].tolist(),
                y=rows["members"].tolist(),
                name=str(kind),
                marker_color=ERROR_COLOURS.get(str(kind), GREY),
            )
        )
    fig.update_layout(
        title="Members in group-licence error",
        barmode="stack",
        yaxis={"title": "members", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        height=360,
        **_LAYOUT,
    )
    return fig
