"""Seat arithmetic (DESIGN §4) on hand-built frames with hand-computed answers."""

from __future__ import annotations

import math

import pandas as pd

from analysis.seats import seat_table, seat_totals


def _skus(*rows: tuple[str, int, int, int, int, int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=[
            "sku_part_number",
            "enabled",
            "warning",
            "suspended",
            "locked_out",
            "consumed",
            "applies_to",
        ],
    ).assign(sku_id=lambda f: f["sku_part_number"].str.lower(), catalog_name=None, catalog_kind=None)


def test_purchased_includes_warning_but_not_suspended_or_locked_out() -> None:
    table = seat_table(_skus(("SPE_E3", 100, 10, 5, 3, 90, "User")))
    row = table.iloc[0]
    assert row["purchased"] == 110  # 100 enabled + 10 in grace period
    assert row["available"] == 20  # 110 - 90
    assert math.isclose(row["utilization"], 90 / 110)
    assert bool(row["depends_on_warning"]) is True  # 20 free, 10 of which lapse


def test_over_assigned_is_negative_not_clipped() -> None:
    table = seat_table(_skus(("VISIOCLIENT", 10, 0, 0, 0, 14, "User")))
    row = table.iloc[0]
    assert row["available"] == -4
    assert bool(row["over_assigned"]) is True
    assert row["unused"] == 0
    totals = seat_totals(table)
    assert totals["over_assigned_skus"] == 1
    assert totals["over_assigned_seats"] == 4


def test_zero_purchased_has_undefined_utilization() -> None:
    table = seat_table(_skus(("CRMSTANDARD", 0, 0, 25, 0, 14, "User")))
    row = table.iloc[0]
    assert row["purchased"] == 0
    assert math.isnan(row["utilization"])
    assert row["available"] == -14


def test_free_viral_and_company_skus_are_listed_but_not_counted() -> None:
    table = seat_table(
        _skus(
            ("SPE_E5", 50, 0, 0, 0, 40, "User"),  # 10 unused
            ("FLOW_FREE", 10000, 0, 0, 0, 12, "User"),  # free: 9,988 mean nothing
            ("POWER_BI_STANDARD", 1000000, 0, 0, 0, 300, "User"),
            ("EXCHANGE_ANALYTICS", 25, 0, 0, 0, 0, "Company"),  # tenant-wide
        )
    )
    assert len(table) == 4
    assert table.set_index("sku_part_number")["counts_as_unused"].to_dict() == {
        "SPE_E5": True,
        "FLOW_FREE": False,
        "POWER_BI_STANDARD": False,
        "EXCHANGE_ANALYTICS": False,
    }
    totals = seat_totals(table)
    assert totals == {
        "skus": 4,
        "counted_skus": 1,
        "purchased": 50,
        "consumed": 40,
        "unused": 10,
        "over_assigned_skus": 0,
        "over_assigned_seats": 0,
        "warning": 0,
    }


def test_catalog_kind_free_and_names() -> None:
    frame = _skus(("CUSTOM_FREEBIE", 500, 0, 0, 0, 2, "User"), ("SPE_E3", 5, 0, 0, 0, 5, "User"))
    frame["catalog_kind"] = ["free", "suite"]
    frame["catalog_name"] = [None, "Microsoft 365 E3"]
    table = seat_table(frame).set_index("sku_part_number")
    assert bool(table.loc["CUSTOM_FREEBIE", "free"]) is True
    assert table.loc["CUSTOM_FREEBIE", "name"] == "CUSTOM_FREEBIE"  # unknown: falls back to part number
    assert bool(table.loc["CUSTOM_FREEBIE", "known"]) is False
    assert table.loc["SPE_E3", "name"] == "Microsoft 365 E3"
    assert table.loc["SPE_E3", "utilization"] == 1.0
