"""Seats over time and when each SKU runs out.

**Run-out forecast** (one definition, ``runout_forecast``), per SKU that counts as seats:

- the *assignment rate* is the change in consumed seats per day between the earliest snapshot
  within the last ``window_days`` and the latest snapshot: ``(consumed_last - consumed_first) /
  days_between``; it is undefined (NaN) with fewer than two snapshots in the window;
- the *free seats after waiting* are ``purchased - consumed - waiting``, where waiting is the
  number of members in CountViolation for the SKU (they take a seat as soon as one is free);
- if that is 0 or less the SKU has no free seats now: ``days_left = 0`` and the run-out date is
  the latest snapshot's time;
- otherwise, if the rate is positive, ``days_left = free / rate`` and the run-out date is the
  latest snapshot's time plus ``days_left`` days;
- otherwise (a flat or falling rate, or too little history) there is no run-out: ``days_left``
  is NaN and the date NaT.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.inactive import utc
from analysis.seats import seat_table

DEFAULT_WINDOW_DAYS = 30
FORECAST_COLUMNS = [
    "sku", "purchased", "consumed", "waiting", "free_after_waiting", "rate_per_day", "days_left",
    "runout_date", "outlook", "sku_id",
]  # fmt: skip


def seat_history(history: pd.DataFrame, latest_seats: pd.DataFrame) -> pd.DataFrame:
    """Seat numbers of every SKU in every snapshot, named as in the latest snapshot.

    Args:
        history: ``store.queries.sku_history`` rows.
        latest_seats: ``seat_table`` of the latest snapshot (names and which SKUs count as seats;
            a SKU no longer listed keeps its part number and counts unless it is free by name).

    Returns:
        ``snapshot_id``, ``time`` (UTC), ``sku_id``, ``sku``, ``purchased``, ``consumed``,
        ``available``, ``counted``, sorted by time then SKU.
    """
    table = seat_table(history)
    names = dict(zip(latest_seats["sku_id"], latest_seats["name"], strict=True))
    counted = dict(zip(latest_seats["sku_id"], latest_seats["counts_as_unused"], strict=True))
    out = pd.DataFrame(
        {
            "snapshot_id": table["snapshot_id"].astype("int64").to_numpy(),
            "time": utc(table["started_at"].to_numpy()).to_numpy(),
            "sku_id": table["sku_id"].to_numpy(),
            "sku": [names.get(s, p) for s, p in zip(table["sku_id"], table["sku_part_number"], strict=True)],
            "purchased": table["purchased"].astype("int64").to_numpy(),
            "consumed": table["consumed"].astype("int64").to_numpy(),
            "available": table["available"].astype("int64").to_numpy(),
            "counted": [
                bool(counted.get(s, c))
                for s, c in zip(table["sku_id"], table["counts_as_unused"], strict=True)
            ],
        }
    )
    return out.sort_values(["time", "sku"]).reset_index(drop=True)


def waiting_by_sku(errors: pd.DataFrame) -> dict[str, int]:
    """Distinct members waiting in CountViolation per SKU (``store.queries.group_errors`` or
    ``error_members`` rows)."""
    waiting = errors[errors["error"] == "CountViolation"].groupby("sku_id")["user_id"].nunique()
    return {str(k): int(v) for k, v in waiting.items()}


def _outlook(purchased: int, free: int, waiting: int, rate: float, days: float) -> str:
    if purchased == 0:
        return "nothing purchased"
    if free <= 0:
        return f"no free seats now ({waiting} waiting)" if waiting else "no free seats now"
    if math.isnan(rate):
        return "no run-out: not enough history"
    if rate <= 0:
        return "no run-out: assignments flat or falling"
    return f"runs out in {days:.0f} days"


def runout_forecast(
    seats_over_time: pd.DataFrame, waiting: Mapping[str, int], *, window_days: int = DEFAULT_WINDOW_DAYS
) -> pd.DataFrame:
    """When each counted SKU will have no free seats (see the module docstring).

    Args:
        seats_over_time: ``seat_history`` output.
        waiting: members in CountViolation per SKU id (``waiting_by_sku``).
        window_days: how far back the assignment rate looks.

    Returns:
        ``FORECAST_COLUMNS`` for the counted SKUs of the latest snapshot, soonest run-out first
        (no run-out last).
    """
    if seats_over_time.empty:
        return pd.DataFrame(columns=FORECAST_COLUMNS)
    latest_time = seats_over_time["time"].max()
    current = seats_over_time[(seats_over_time["time"] == latest_time) & seats_over_time["counted"]]
    window_start = latest_time - pd.Timedelta(days=window_days)
    in_window = seats_over_time[seats_over_time["time"] >= window_start].sort_values("time")
    earliest = in_window.drop_duplicates("sku_id", keep="first").set_index("sku_id")
    rows = []
    for last in current.itertuples(index=False):
        first = earliest.loc[last.sku_id]
        elapsed = (last.time - first["time"]).total_seconds() / 86400.0
        rate = (last.consumed - int(first["consumed"])) / elapsed if elapsed > 0 else math.nan
        held_back = int(waiting.get(last.sku_id, 0))
        free = int(last.purchased) - int(last.consumed) - held_back
        if free <= 0:
            days, date = 0.0, last.time
        elif rate > 0:
            days = free / rate
            date = last.time + pd.Timedelta(days=days)
        else:
            days, date = math.nan, pd.NaT
        rows.append(
            {
                "sku": last.sku,
                "purchased": int(last.purchased),
                "consumed": int(last.consumed),
                "waiting": held_back,
                "free_after_waiting": free,
                "rate_per_day": rate,
                "days_left": days,
                "runout_date": date,
                "outlook": _outlook(int(last.purchased), free, held_back, rate, days),
                "sku_id": last.sku_id,
            }
        )
    out = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    out["runout_date"] = pd.to_datetime(out["runout_date"], utc=True)
    out["rate_per_day"] = out["rate_per_day"].astype("float64")
    out["days_left"] = out["days_left"].astype("float64")
    return out.sort_values(["days_left", "sku"], na_position="last").reset_index(drop=True)


def error_trend(error_history: pd.DataFrame) -> pd.DataFrame:
    """``store.history.error_history`` rows with ``time`` as a UTC timestamp, oldest first."""
    out = error_history.copy()
    out["time"] = utc(out["started_at"].to_numpy()).to_numpy()
    return out.sort_values(["time", "error"]).reset_index(drop=True)


def default_skus(seats: pd.DataFrame, limit: int = 6) -> list[str]:
    """The SKUs a trend chart starts with: the counted ones with the most purchased seats."""
    counted = seats[seats["counts_as_unused"] & (seats["purchased"] > 0)]
    ranked = counted.sort_values(["purchased", "name"], ascending=[False, True])
    return [str(s) for s in ranked["sku_id"].head(limit)]


def interval_counts(rows: pd.DataFrame, snapshots: pd.DataFrame, key: str) -> pd.DataFrame:
    """How many history rows of each ``key`` value are valid in each snapshot.

    A row is valid in snapshot S when ``valid_from <= S`` and ``valid_to`` is null or greater
    than S, so its count at S is (rows opened at or before S) - (rows closed at or before S): two
    binary searches per value instead of matching every row against every snapshot.

    Args:
        rows: ``valid_from``, ``valid_to`` (null while current) and ``key``.
        snapshots: ``id`` and ``started_at`` of the snapshots to count in.

    Returns:
        ``snapshot_id``, ``started_at``, ``key``, ``count``: one row per snapshot and value with a
        count above 0, ordered by snapshot id then value.
    """
    columns = ["snapshot_id", "started_at", key, "count"]
    ids = snapshots["id"].to_numpy(dtype="int64")
    parts = []
    for value, part in rows.groupby(key, sort=True):
        opened = np.sort(part["valid_from"].to_numpy(dtype="int64"))
        closed = np.sort(part["valid_to"].dropna().to_numpy(dtype="int64"))
        counts = np.searchsorted(opened, ids, side="right") - np.searchsorted(closed, ids, side="right")
        parts.append(
            pd.DataFrame(
                {
                    "snapshot_id": ids,
                    "started_at": snapshots["started_at"].to_numpy(),
                    key: value,
                    "count": counts.astype("int64"),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["count"] > 0].sort_values(["snapshot_id", key], kind="stable")
    return out[columns].reset_index(drop=True)
