"""Charts are pure: the figure holds exactly the numbers and labels of the frame it was given."""

from __future__ import annotations

import pandas as pd

from analysis.seats import seat_table
from dashboard import charts


def _seats() -> pd.DataFrame:
    return seat_table(
        pd.DataFrame(
            [("e3", "SPE_E3", 5, 1, 7, "Microsoft 365 E3"), ("pbi", "POWER_BI_PRO", 0, 0, 0, "Power BI Pro"),
             ("v", "VISIOCLIENT", 10, 0, 9, "Visio Plan 2"), ("x", "MYSTERY", 4, 0, 1, None)],
            columns=["sku_id", "sku_part_number", "enabled", "warning", "consumed", "catalog_name"],
        ).assign(suspended=0, locked_out=0, applies_to="User")
    )  # fmt: skip


def test_utilization_chart_labels_every_sku_and_copes_with_nothing_purchased() -> None:
    bar = charts.utilization_chart(_seats()).data[0]
    # Drawn bottom-up in reverse name order, so the list reads top-down alphabetically.
    assert list(bar.y) == ["Visio Plan 2", "Power BI Pro", "MYSTERY", "Microsoft 365 E3"]
    assert list(bar.x) == [90.0, 0.0, 25.0, 116.7]
    assert list(bar.text) == ["9 / 10 (90%)", "0 assigned, nothing purchased", "1 / 4 (25%)", "7 / 6 (117%)"]
    assert list(bar.marker.color) == [charts.AMBER, charts.GREY, charts.BLUE, charts.RED]


def test_seats_over_time_has_a_purchased_and_an_assigned_line_per_sku() -> None:
    history = pd.DataFrame(
        {
            "time": pd.to_datetime(["2025-05-01", "2025-05-02", "2025-05-01", "2025-05-02"], utc=True),
            "sku": ["b", "b", "A", "A"],
            "purchased": [10, 12, 5, 5],
            "consumed": [8, 9, 5, 6],
        }
    )
    fig = charts.seats_over_time_chart(history)
    # One small chart per SKU (alphabetical, ignoring case), each with its own y-axis.
    assert [(t.name, list(t.y), t.yaxis) for t in fig.data] == [
        ("purchased", [5, 5], "y"), ("assigned", [5, 6], "y"), ("purchased", [10, 12], "y2"), ("assigned", [8, 9], "y2"),
    ]  # fmt: skip
    assert [a.text for a in fig.layout.annotations] == ["A", "b"]
    assert [t.showlegend for t in fig.data] == [True, True, False, False]


def test_one_sku_is_one_chart() -> None:
    history = pd.DataFrame(
        {"time": pd.to_datetime(["2025-05-01"], utc=True), "sku": ["A"], "purchased": [3], "consumed": [1]}
    )
    fig = charts.seats_over_time_chart(history, "A: purchased vs assigned")
    assert fig.layout.title.text == "A: purchased vs assigned"
    assert len(fig.data) == 2 and not fig.layout.annotations


def test_error_history_is_stacked_by_kind() -> None:
    errors = pd.DataFrame(
        {
            "time": pd.to_datetime(["2025-05-01", "2025-05-02", "2025-05-02"], utc=True),
            "error": ["CountViolation", "CountViolation", "Other"],
            "members": [1, 2, 3],
        }
    )
    fig = charts.error_history_chart(errors)
    assert fig.layout.barmode == "stack"
    assert [(t.name, list(t.y)) for t in fig.data] == [("CountViolation", [1, 2]), ("Other", [3])]
