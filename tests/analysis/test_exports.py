"""Download bytes: CSV text and an Excel workbook read back with openpyxl."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import openpyxl
import pandas as pd

from analysis.collection import log_counts, snapshot_log, unknown_skus
from analysis.exports import csv_bytes, escape_formula, escape_formulas, excel_bytes, major_units, sheet_name
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
    # Text fields quoted, numbers and booleans bare (OWASP "CSV Injection": a separator inside a
    # quoted cell cannot start a new cell).
    assert text.splitlines() == [
        '"name","available","utilization","sources","last_sign_in","known"',
        '"Microsoft 365 E3",-1,1.2,"; g1","2025-05-20T08:00:00Z",True',
        '"Zoë\'s SKU",2,"","","",False',
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
    assert csv_bytes(empty).decode() == '"name","available","utilization","sources","last_sign_in","known"\n'
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
    assert csv_bytes(out).decode().splitlines() == [
        '"currency","cost"',
        '"USD",36.00',
        '"JPY",1500',
        '"",""',
        '"USD",""',
    ]
    assert frame["cost"].tolist()[0] == 3600  # the input is left alone


# Tenant text that a spreadsheet would run (OWASP "CSV Injection"), and what each cell must read.
EVIL = pd.DataFrame(
    {
        "display_name": [
            '=HYPERLINK("http://evil","x")',
            "+1+cmd",
            "-2+3",
            "@SUM(A1)",
            "\tTab",
            "\rCR",
            "Ada",
        ],
        "department": ["Sales", "IT", None, "=1+1", "HR", "HR", "a;=1+1"],
        "available": [-1, 2, -3, 0, 1, 2, 3],
        "utilization": [-0.5, 1.0, float("nan"), 0.25, 1.0, 1.0, 1.0],
        "price": [
            Decimal("-36.00"),
            Decimal("1"),
            None,
            Decimal("0"),
            Decimal("2"),
            Decimal("3"),
            Decimal("4"),
        ],
    }
)
ESCAPED = ['\'=HYPERLINK("http://evil","x")', "'+1+cmd", "'-2+3", "'@SUM(A1)", "'\tTab", "'\rCR", "Ada"]


def test_csv_text_that_looks_like_a_formula_starts_with_a_quote_and_numbers_stay_numbers() -> None:
    text = csv_bytes(EVIL).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[0] for row in rows[1:]] == ESCAPED
    assert [row[1] for row in rows[1:]] == ["Sales", "IT", "", "'=1+1", "HR", "HR", "a;=1+1"]
    # A negative number is written bare (a number to any spreadsheet), never quoted nor escaped.
    lines = text.splitlines()
    assert lines[1].endswith(",-1,-0.5,-36.00")
    # A separator inside a cell stays inside the quotes.
    assert lines[-1] == '"Ada","a;=1+1",3,1.0,4'


def test_excel_has_no_formula_and_keeps_the_text_after_the_quote() -> None:
    book = openpyxl.load_workbook(io.BytesIO(excel_bytes(EVIL, "users")))
    sheet = book.active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert [c.data_type for c in cells if c.data_type == "f"] == []
    # XML reads a stored carriage return back as a line feed; the quote in front is what matters.
    assert [sheet.cell(row=r, column=1).value for r in range(2, 9)] == [
        t.replace("\r", "\n") for t in ESCAPED
    ]
    assert sheet.cell(row=5, column=2).value == "'=1+1"
    # Numbers stay numbers: a negative count and a negative price are numeric cells.
    assert (sheet.cell(row=2, column=3).value, sheet.cell(row=2, column=3).data_type) == (-1, "n")
    assert sheet.cell(row=2, column=4).value == -0.5
    assert (sheet.cell(row=2, column=5).value, sheet.cell(row=2, column=5).data_type) == (-36, "n")


def test_escape_formula_leaves_everything_but_dangerous_text_alone() -> None:
    assert escape_formula("=1+1") == "'=1+1"
    assert escape_formula("Ada -1") == "Ada -1"  # only the start of a cell matters
    assert escape_formula(-1) == -1
    assert escape_formula(None) is None
    assert escape_formula(Decimal("-2.50")) == Decimal("-2.50")
    escaped = escape_formulas(EVIL)
    assert escaped["display_name"].tolist() == ESCAPED
    assert escaped["available"].tolist() == [-1, 2, -3, 0, 1, 2, 3]
    assert EVIL["display_name"].iloc[0].startswith("=")  # the input is left alone


def test_money_in_major_units_stays_numeric_when_negative() -> None:
    frame = pd.DataFrame({"currency": ["USD"], "change": pd.array([-3600], dtype="Int64")})
    rows = list(csv.reader(io.StringIO(csv_bytes(major_units(frame, ["change"])).decode())))
    assert rows == [["currency", "change"], ["USD", "-36.00"]]
    assert csv_bytes(major_units(frame, ["change"])).decode().splitlines()[1] == '"USD",-36.00'


def test_the_chargeback_workbook_and_csv_never_hold_a_formula() -> None:
    from analysis.chargeback import chargeback_export, chargeback_workbook

    view = pd.DataFrame(
        {
            "bucket": ['=HYPERLINK("http://evil","x")', "-Sales"],
            "currency": ["USD", "USD"],
            "users": [1, 2],
            "seats": [1, 2],
            "cost": pd.array([3600, -1200], dtype="Int64"),
            "unpriced_seats": [0, 0],
        }
    )
    sheet = openpyxl.load_workbook(io.BytesIO(chargeback_workbook({"Department": view}))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [sheet.cell(row=r, column=1).value for r in (2, 3)] == [
        '\'=HYPERLINK("http://evil","x")',
        "'-Sales",
    ]
    assert sheet.cell(row=3, column=5).value == -12  # a negative cost stays a number
    rows = list(csv.reader(io.StringIO(csv_bytes(chargeback_export(view)).decode())))
    assert [row[0] for row in rows[1:]] == ['\'=HYPERLINK("http://evil","x")', "'-Sales"]


def test_the_price_book_csv_escapes_a_part_number_that_looks_like_a_formula() -> None:
    from analysis.pricebook import SkuIndex, price_book_csv

    index = SkuIndex.build(pd.DataFrame({"sku_id": ["a1", "b2"], "sku_part_number": ["=EVIL()", "SPE_E3"]}))
    prices = pd.DataFrame(
        {
            "sku_id": ["a1", "b2"],
            "sku_part_number": ["=EVIL()", "SPE_E3"],
            "unit_price_minor": [100, 3600],
            "currency": ["USD", "USD"],
            "period": ["month", "month"],
            "effective_from": ["2025-01-01", "2025-01-01"],
            "source": ["test", "test"],
        }
    )
    lines = price_book_csv(prices, index).splitlines()
    assert lines == [
        "sku,unit_price,currency,period,effective_from",
        "'=EVIL(),1.00,USD,month,2025-01-01",
        "SPE_E3,36.00,USD,month,2025-01-01",
    ]
