"""The Overview's headline numbers, from the seat table, the errors and the reclaimable seats.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import pandas as pd

from analysis.inactive import reclaim_totals
from analysis.seats import seat_totals


def headline(seats: pd.DataFrame, errors: pd.DataFrame, reclaim: pd.DataFrame) -> dict[str, int]:
    """SKUs, purchased, assigned, available, over-assigned SKUs, users in error, reclaimable seats.

    Args:
        seats: ``analysis.seats.seat_table`` output.
        errors: ``store.queries.group_errors`` rows (``error_members`` is enough: ``user_id``).
        reclaim: ``analysis.inactive.reclaimable_seats`` output (``reclaimable_activity`` is enough).

    Returns:
        ``skus`` (all SKUs listed), and over the SKUs that count as seats: ``purchased``,
        ``assigned``, ``available`` (purchased - assigned, negative when over-assigned overall),
        ``unused`` (free seats, over-assigned SKUs count 0), ``over_assigned_skus``; then
        ``users_in_error`` (distinct users with a group-assignment error), ``reclaimable`` and its
        split ``reclaimable_disabled`` / ``reclaimable_inactive``.
    """
    totals = seat_totals(seats)
    reclaim_split = reclaim_totals(reclaim)
    return {
        "skus": totals["skus"],
        "purchased": totals["purchased"],
        "assigned": totals["consumed"],
        "available": totals["purchased"] - totals["consumed"],
        "unused": totals["unused"],
        "over_assigned_skus": totals["over_assigned_skus"],
        "users_in_error": int(errors["user_id"].nunique()),
        "reclaimable": reclaim_split["seats"],
        "reclaimable_disabled": reclaim_split["disabled"],
        "reclaimable_inactive": reclaim_split["inactive"],
    }
