"""The thresholds editor's table and what an edit changes, on the finance tenant's seats."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.seats import seat_table
from analysis.thresholds import threshold_changes, threshold_findings, threshold_table
from tests.analysis import finance_tenant as t

SEATS = seat_table(
    pd.DataFrame(
        [(s, p, None, None, a, "Enabled", e, w, 0, 0, c, c) for s, p, a, e, w, c in t.SKUS],
        columns=[
            "sku_id",
            "sku_part_number",
            "catalog_name",
            "catalog_kind",
            "applies_to",
            "capability_status",
            "enabled",
            "warning",
            "suspended",
            "locked_out",
            "consumed",
            "users_in_store",
        ],
    )  # fmt: skip
)
LIMITS = pd.DataFrame(
    {"sku_id": [t.E3], "sku_part_number": ["SPE_E3"], "min_free_seats": pd.array([5], dtype="Int64"),
     "max_utilization_percent": pd.array([None], dtype="Int64")}
)  # fmt: skip


def test_every_sku_with_its_seats_and_limits() -> None:
    table = threshold_table(SEATS, LIMITS)
    assert table["sku_part_number"].tolist() == [
        "AAD_PREMIUM", "CONTOSO_PARTNER_ADDON", "FLOW_FREE", "SHAREPOINTSTORAGE", "SPE_E3", "SPE_E5", "VISIOCLIENT",
    ]  # fmt: skip
    e3 = table.set_index("sku_part_number").loc["SPE_E3"]
    assert (e3["purchased"], e3["consumed"], e3["available"], e3["min_free_seats"]) == (10, 7, 3, 5)
    assert pd.isna(e3["max_utilization_percent"])
    assert table["min_free_seats"].isna().sum() == 6
    assert str(table["min_free_seats"].dtype) == "Int64"
    assert threshold_table(SEATS, LIMITS.iloc[0:0])["min_free_seats"].isna().all()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({}, []),
        ({("SPE_E5", "max_utilization_percent"): 40.0},  # the editor gives floats
         [{"sku_id": t.E5, "sku_part_number": "SPE_E5", "min_free_seats": None, "max_utilization_percent": 40}]),
        ({("SPE_E3", "min_free_seats"): None},  # cleared: no longer checked
         [{"sku_id": t.E3, "sku_part_number": "SPE_E3", "min_free_seats": None, "max_utilization_percent": None}]),
        ({("SPE_E3", "min_free_seats"): 5.0}, []),  # the same value is no change
    ],
)  # fmt: skip
def test_changes_are_the_edited_skus(edit: dict[tuple[str, str], object], expected: list[object]) -> None:
    before = threshold_table(SEATS, LIMITS)
    after = before.copy()
    after["min_free_seats"] = after["min_free_seats"].astype(object)
    after["max_utilization_percent"] = after["max_utilization_percent"].astype(object)
    for (part, column), value in edit.items():
        after.loc[after["sku_part_number"] == part, column] = value
    assert threshold_changes(before, after) == expected


def test_the_findings_the_editor_shows() -> None:
    assert [f.message for f in threshold_findings(SEATS, LIMITS)] == [
        "SPE_E3 has 3 free seats, below the minimum of 5."
    ]
