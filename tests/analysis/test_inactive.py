"""Activity and reclaimable seats on hand-built frames with hand-computed answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.inactive import (
    distinct_values,
    reclaim_by_sku,
    reclaim_totals,
    reclaimable_seats,
    user_activity,
)
from analysis.seats import seat_table

NOW = pd.Timestamp("2025-06-01T00:00:00Z")


def _users(*rows: tuple[str, int | None, str | None, str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["user_id", "account_enabled", "created_at", "last_sign_in_at", "last_non_interactive_at"],
    ).assign(user_principal_name=lambda f: f["user_id"] + "@x.com", display_name=lambda f: f["user_id"])


@pytest.mark.parametrize(
    ("row", "days", "activity", "since"),
    [
        (("a", 1, "2024-01-01T00:00:00Z", "2025-05-31T00:00:00Z", None), 90, "active", 1.0),
        (("a", 1, "2024-01-01T00:00:00Z", "2025-03-03T00:00:00Z", None), 90, "inactive", 90.0),  # exactly 90
        (("a", 1, "2024-01-01T00:00:00Z", "2025-03-04T00:00:00Z", None), 90, "active", 89.0),
        # the later of interactive and non-interactive counts
        (
            ("a", 1, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2025-05-22T00:00:00Z"),
            90,
            "active",
            10.0,
        ),
        (("a", 1, "2024-01-01T00:00:00Z", "2025-05-22T00:00:00Z", None), 7, "inactive", 10.0),
        (("a", 0, "2024-01-01T00:00:00Z", "2025-05-31T00:00:00Z", None), 90, "disabled", 1.0),
        (("a", 1, "2024-01-01T00:00:00Z", None, None), 90, "never", math.nan),
        (("a", 1, "2025-05-01T00:00:00Z", None, None), 90, "new", math.nan),  # 31 days old
        (("a", 1, None, None, None), 90, "never", math.nan),  # age unknown: treated as old
        (
            ("a", None, "2024-01-01T00:00:00Z", "2025-05-31T00:00:00Z", None),
            90,
            "active",
            1.0,
        ),  # unknown = enabled
        (("a", 1, "2024-01-01T00:00:00Z", "not a date", None), 90, "never", math.nan),
    ],
)
def test_activity(
    row: tuple[str, int | None, str | None, str | None, str | None], days: int, activity: str, since: float
) -> None:
    out = user_activity(_users(row), now=NOW, inactive_days=days, signin_available=True)
    assert out["activity"].tolist() == [activity]
    got = out["days_since_sign_in"].iloc[0]
    assert (math.isnan(got) and math.isnan(since)) or math.isclose(got, since)


def test_without_sign_in_data_nobody_is_inactive_but_disabled_stays_disabled() -> None:
    users = _users(
        ("a", 1, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", None),
        ("b", 0, "2024-01-01T00:00:00Z", None, None),
    )
    out = user_activity(users, now=NOW, inactive_days=90, signin_available=False)
    assert out["activity"].tolist() == ["unknown", "disabled"]


def _seats() -> pd.DataFrame:
    return seat_table(
        pd.DataFrame(
            [
                ("e3", "SPE_E3", "User", 10, 0, 0, 0, 3),
                ("flow", "FLOW_FREE", "User", 10000, 0, 0, 0, 2),
                ("co", "EXCHANGE_ANALYTICS", "Company", 5, 0, 0, 0, 1),
                ("visio", "VISIOCLIENT", "User", 5, 0, 0, 0, 1),
            ],
            columns=[
                "sku_id",
                "sku_part_number",
                "applies_to",
                "enabled",
                "warning",
                "suspended",
                "locked_out",
                "consumed",
            ],
        )
    )


def test_reclaimable_seats_count_each_held_sku_once_and_skip_free_skus() -> None:
    users = _users(
        ("dis", 0, "2024-01-01T00:00:00Z", "2025-05-31T00:00:00Z", None),
        ("old", 1, "2024-01-01T00:00:00Z", "2024-12-01T00:00:00Z", None),
        ("act", 1, "2024-01-01T00:00:00Z", "2025-05-31T00:00:00Z", None),
        ("nev", 1, "2024-01-01T00:00:00Z", None, None),
    )
    licenses = pd.DataFrame(
        [
            ("dis", "e3", "", "Active"),
            ("dis", "flow", "", "Active"),  # free: never reclaimable
            ("old", "e3", "", "Active"),
            ("old", "e3", "g1", "Active"),  # same SKU twice: one seat
            ("old", "co", "", "Active"),  # company-wide: not a seat
            ("old", "visio", "g2", "Error"),  # not held
            ("act", "e3", "", "Active"),
            ("nev", "visio", "", "ActiveWithError"),
        ],
        columns=["user_id", "sku_id", "assigned_by_group", "state"],
    )
    activity = user_activity(users, now=NOW, inactive_days=90, signin_available=True)
    out = reclaimable_seats(licenses, activity, users, _seats())
    assert out[["user_id", "sku_id", "activity", "sources"]].values.tolist() == [
        ["dis", "e3", "disabled", ("",)],
        ["old", "e3", "inactive", ("", "g1")],
        ["nev", "visio", "never", ("",)],
    ]
    assert reclaim_totals(out) == {"seats": 3, "disabled": 1, "inactive": 2}
    assert reclaim_by_sku(out) == {"e3": 2, "visio": 1}


def test_nobody_to_reclaim() -> None:
    users = _users(("act", 1, "2024-01-01T00:00:00Z", "2025-05-31T00:00:00Z", None))
    licenses = pd.DataFrame(columns=["user_id", "sku_id", "assigned_by_group", "state"])
    activity = user_activity(users, now=NOW, inactive_days=90, signin_available=True)
    out = reclaimable_seats(licenses, activity, users, _seats())
    assert out.empty
    assert reclaim_totals(out) == {"seats": 0, "disabled": 0, "inactive": 0}


def test_distinct_values_sorts_keys_and_lists_each_keys_distinct_values() -> None:
    frame = pd.DataFrame(
        {
            "user": pd.Series(["u2", "u1", "u2", "u1", None, "u1", "u2"], dtype=object),
            "sku": pd.Series(["e3", "e3", "e3", "visio", "e3", "e3", "e3"], dtype=object),
            "group": pd.Series(["g2", "", "g1", "g1", "g9", "", None], dtype=object),
        }
    )
    out = distinct_values(frame, ["user", "sku"], "group")
    # The row without a user is left out; u1's two direct E3 rows are one ''; u2's missing group comes last.
    assert out.values.tolist() == [
        ["u1", "e3", ("",)],
        ["u1", "visio", ("g1",)],
        ["u2", "e3", ("g1", "g2", None)],
    ]
    assert distinct_values(frame.iloc[:0], ["user"], "group").empty
