"""Run-out forecast on hand-built series with hand-computed dates."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.trends import default_skus, interval_counts, runout_forecast, waiting_by_sku

DAY0 = pd.Timestamp("2025-01-01T00:00:00Z")


def _series(points: list[tuple[int, int, int]], sku: str = "s1", counted: bool = True) -> pd.DataFrame:
    """(day, purchased, consumed) points of one SKU."""
    return pd.DataFrame(
        {
            "snapshot_id": range(1, len(points) + 1),
            "time": [DAY0 + pd.Timedelta(days=d) for d, _p, _c in points],
            "sku_id": sku,
            "sku": sku.upper(),
            "purchased": [p for _d, p, _c in points],
            "consumed": [c for _d, _p, c in points],
            "available": [p - c for _d, p, c in points],
            "counted": counted,
        }
    )


@pytest.mark.parametrize(
    ("points", "waiting", "window", "rate", "days", "date", "outlook"),
    [
        # +10 seats in 10 days = 1/day; 100 - 60 = 40 free -> 40 days after day 10 = day 50.
        (
            [(0, 100, 50), (10, 100, 60)],
            0,
            30,
            1.0,
            40.0,
            DAY0 + pd.Timedelta(days=50),
            "runs out in 40 days",
        ),
        # 5 waiting in CountViolation take 5 of the 40: 35 days.
        (
            [(0, 100, 50), (10, 100, 60)],
            5,
            30,
            1.0,
            35.0,
            DAY0 + pd.Timedelta(days=45),
            "runs out in 35 days",
        ),
        # The window ignores day 0: (60 - 58) / (10 - 8) = 1/day still, from day 8.
        (
            [(0, 100, 0), (8, 100, 58), (10, 100, 60)],
            0,
            5,
            1.0,
            40.0,
            DAY0 + pd.Timedelta(days=50),
            "runs out in 40 days",
        ),
        # Half a seat a day: 10 free -> 20 days.
        ([(0, 20, 0), (20, 20, 10)], 0, 30, 0.5, 20.0, DAY0 + pd.Timedelta(days=40), "runs out in 20 days"),
        # Flat and falling: no run-out.
        (
            [(0, 100, 60), (10, 100, 60)],
            0,
            30,
            0.0,
            math.nan,
            pd.NaT,
            "no run-out: assignments flat or falling",
        ),
        (
            [(0, 100, 70), (10, 100, 60)],
            0,
            30,
            -1.0,
            math.nan,
            pd.NaT,
            "no run-out: assignments flat or falling",
        ),
        # One point in the window: no rate.
        ([(0, 100, 50), (40, 100, 60)], 0, 30, math.nan, math.nan, pd.NaT, "no run-out: not enough history"),
        # Already full, or over-assigned: out now (day 10), whatever the rate.
        ([(0, 10, 5), (10, 10, 10)], 0, 30, 0.5, 0.0, DAY0 + pd.Timedelta(days=10), "no free seats now"),
        (
            [(0, 10, 12), (10, 10, 12)],
            3,
            30,
            0.0,
            0.0,
            DAY0 + pd.Timedelta(days=10),
            "no free seats now (3 waiting)",
        ),
        # 8 free but 8 waiting: out now.
        (
            [(0, 20, 10), (10, 20, 12)],
            8,
            30,
            0.2,
            0.0,
            DAY0 + pd.Timedelta(days=10),
            "no free seats now (8 waiting)",
        ),
        ([(0, 0, 0), (10, 0, 0)], 0, 30, 0.0, 0.0, DAY0 + pd.Timedelta(days=10), "nothing purchased"),
    ],
)
def test_forecast(
    points: list[tuple[int, int, int]],
    waiting: int,
    window: int,
    rate: float,
    days: float,
    date: pd.Timestamp,
    outlook: str,
) -> None:
    out = runout_forecast(_series(points), {"s1": waiting}, window_days=window)
    row = out.iloc[0]
    assert (math.isnan(row["rate_per_day"]) and math.isnan(rate)) or math.isclose(row["rate_per_day"], rate)
    assert (math.isnan(row["days_left"]) and math.isnan(days)) or math.isclose(row["days_left"], days)
    assert (pd.isna(row["runout_date"]) and pd.isna(date)) or row["runout_date"] == date
    assert row["outlook"] == outlook
    assert row["free_after_waiting"] == points[-1][1] - points[-1][2] - waiting


def test_only_counted_skus_of_the_latest_snapshot_are_forecast_soonest_first() -> None:
    series = pd.concat(
        [
            _series([(0, 100, 50), (10, 100, 60)], "slow"),  # 40 days
            _series([(0, 100, 50), (10, 100, 90)], "fast"),  # 4/day, 10 free: 2.5 days
            _series([(0, 10000, 5), (10, 10000, 9)], "free", counted=False),
            _series([(0, 10, 5)], "gone"),  # not in the latest snapshot
            _series([(0, 50, 5), (10, 50, 5)], "flat"),
        ],
        ignore_index=True,
    )
    out = runout_forecast(series, {})
    assert out["sku_id"].tolist() == ["fast", "slow", "flat"]
    assert out["days_left"].tolist()[:2] == [2.5, 40.0]


def test_empty_history() -> None:
    assert runout_forecast(_series([]).iloc[0:0], {}).empty


def test_waiting_counts_distinct_members_in_count_violation() -> None:
    errors = pd.DataFrame(
        [
            ("u1", "e3", "CountViolation"),
            ("u1", "e3", "CountViolation"),  # the same member through a second group
            ("u2", "e3", "CountViolation"),
            ("u3", "e3", "MutuallyExclusiveViolation"),
            ("u4", "visio", "CountViolation"),
        ],
        columns=["user_id", "sku_id", "error"],
    )
    assert waiting_by_sku(errors) == {"e3": 2, "visio": 1}


def test_default_skus_are_the_biggest_counted_ones() -> None:
    seats = pd.DataFrame(
        {
            "sku_id": ["a", "b", "c", "d", "e"],
            "name": ["A", "B", "C", "D", "E"],
            "purchased": [10, 50, 50, 0, 900],
            "counts_as_unused": [True, True, True, True, False],
        }
    )
    assert default_skus(seats, limit=2) == ["b", "c"]
    assert default_skus(seats) == ["b", "c", "a"]  # nothing purchased and free SKUs left out


def test_interval_counts_count_rows_valid_in_each_snapshot() -> None:
    # Snapshot 3 failed (never a complete id); rows open at valid_from and close at valid_to.
    rows = pd.DataFrame(
        [
            (1, 4, "Count"),  # in 1 and 2
            (2, None, "Count"),  # from 2 on
            (2, 5, "Other"),  # in 2 and 4
            (4, 5, "Count"),  # in 4 only
            (5, 6, "Other"),  # in 5 only
        ],
        columns=["valid_from", "valid_to", "error"],
    )
    snapshots = pd.DataFrame({"id": [1, 2, 4, 5, 6], "started_at": ["d1", "d2", "d4", "d5", "d6"]})
    out = interval_counts(rows, snapshots, "error")
    assert out.values.tolist() == [
        [1, "d1", "Count", 1],
        [2, "d2", "Count", 2],
        [2, "d2", "Other", 1],
        [4, "d4", "Count", 2],
        [4, "d4", "Other", 1],
        [5, "d5", "Count", 1],
        [5, "d5", "Other", 1],
        [6, "d6", "Count", 1],
    ]
    assert list(out.columns) == ["snapshot_id", "started_at", "error", "count"]
    assert interval_counts(rows.iloc[:0], snapshots, "error").empty
