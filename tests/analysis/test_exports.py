"""Download bytes: CSV text and an Excel workbook read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pandas as pd

from analysis.collection import log_counts, snapshot_log, unknown_skus
from analysis.exports import csv_bytes, excel_bytes, sheet_name
from analysis.overview import headline
from analysis.seats import seat_table

FRAME = pd.DataFrame(
    {
        "name": ["Microsoft 365 E3", "Zoë's SKU"],
        "available": [-1, 2],
        "utilization": [1.2, float("nan")],
        "sources": [("", "g1"), ()],
        "last_sign_in": pd.to_datetime(["2025-05-20T08:00:00Z", None], utc=True),
        "known": [True, False],
    }
)


def test_csv_bytes() -> None:
    text = csv_bytes(FRAME).decode("utf-8")
    assert text.splitlines() == [
        "name,available,utilization,sources,last_sign_in,known",
        "Microsoft 365 E3,-1,1.2,; g1,2025-05-20T08:00:00Z,True",
        "Zoë's SKU,2,,,,False",
    ]


def test_excel_bytes() -> None:
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(FRAME, "skus: latest/all")))
    assert book.sheetnames == ["skus  latest all"]
    rows = list(book.active.iter_rows(values_only=True))
    assert rows == [
        ("name", "available", "utilization", "sources", "last_sign_in", "known"),
        ("Microsoft 365 E3", -1, 1.2, "; g1", datetime(2025, 5, 20, 8, 0), True),
        ("Zoë's SKU", 2, None, None, None, False),
    ]


def test_exports_of_an_empty_table_keep_the_header() -> None:
    empty = FRAME.iloc[0:0]
    assert csv_bytes(empty).decode() == "name,available,utilization,sources,last_sign_in,known\n"
    rows = list(openpyxl.load_workbook(io.BytesIO(excel_bytes(empty))).active.iter_rows(values_only=True))
    assert rows == [("name", "available", "utilization", "sources", "last_sign_in", "known")]


def test_sheet_names_are_valid() -> None:
    assert sheet_name("") == "data"
    assert sheet_name("a" * 40) == "a" * 31


def test_snapshot_log_and_unknown_skus() -> None:
    snapshots = pd.DataFrame(
        [
            (1, "complete", "2025-05-01T06:00:00Z", "2025-05-01T06:01:00Z", 60.0, 5, 0, 1, ["a", "b"], None),
            (2, "failed", "2025-05-02T06:00:00Z", "2025-05-02T06:00:30Z", None, None, None, None, [], "boom"),
        ],
        columns=["id", "status", "started_at", "finished_at", "duration_seconds", "request_count", "retry_count",
                 "signin_available", "warnings", "error"],
    ).assign(user_count=1, license_count=1, sku_count=1, group_count=0)  # fmt: skip
    log = snapshot_log(snapshots)
    assert log[["id", "status", "warnings", "error", "signin_available"]].values.tolist() == [
        [2, "failed", "", "boom", None],
        [1, "complete", "a\nb", "", True],
    ]
    assert log["started"].iloc[1] == pd.Timestamp("2025-05-01T06:00:00Z")
    assert log_counts(log) == {"complete": 1, "failed": 1, "running": 0, "attempts": 2}
    seats = seat_table(
        pd.DataFrame(
            [("e3", "SPE_E3", "Microsoft 365 E3"), ("x", "MYSTERY", None)],
            columns=["sku_id", "sku_part_number", "catalog_name"],
        ).assign(enabled=3, warning=0, suspended=0, locked_out=0, consumed=1)
    )
    assert unknown_skus(seats).values.tolist() == [["MYSTERY", "x", 3, 1]]


def test_headline_numbers() -> None:
    seats = seat_table(
        pd.DataFrame(
            [("e3", "SPE_E3", 10, 12), ("v", "VISIOCLIENT", 5, 1), ("f", "FLOW_FREE", 1000, 3)],
            columns=["sku_id", "sku_part_number", "enabled", "consumed"],
        ).assign(warning=0, suspended=0, locked_out=0)
    )
    errors = pd.DataFrame({"user_id": ["a", "a", "b"]})
    reclaim = pd.DataFrame({"activity": ["disabled", "inactive", "never"]})
    assert headline(seats, errors, reclaim) == {
        "skus": 3, "purchased": 15, "assigned": 13, "available": 2, "unused": 4, "over_assigned_skus": 1,
        "users_in_error": 2, "reclaimable": 3, "reclaimable_disabled": 1, "reclaimable_inactive": 2,
    }  # fmt: skip


def test_major_units_are_exact_decimals_in_each_currency() -> None:
    from decimal import Decimal

    from analysis.exports import major_units

    frame = pd.DataFrame(
        {"currency": ["USD", "JPY", None, "USD"], "cost": pd.array([3600, 1500, 0, None], dtype="Int64")}
    )
    out = major_units(frame, ["cost"])
    assert out["cost"].tolist() == [Decimal("36.00"), Decimal("1500"), None, None]
    assert csv_bytes(out).decode().splitlines() == ["currency,cost", "USD,36.00", "JPY,1500", ",", "USD,"]
    assert frame["cost"].tolist()[0] == 3600  # the input is left alone
