"""Chargeback views and their Excel workbook on the hand-written finance tenant.

Monthly seat prices: E3 USD 36.00, E5 USD 57.00 (684.00/year), AAD USD 6.00, VISIO EUR 8.333..
(100.00/year, rounded once per line). Held seats by department:
    Sales    ann E3, bob E3 + VISIO, ivy E3 + AAD     USD 3 x 36 + 6 = 114.00; EUR 1 VISIO = 8.33
    Finance  cat E3, dan E3                           USD 72.00
    IT       fay E3 + E5 + AAD, hal E5 + AAD (+ partner, unpriced)   USD 36 + 2 x 57 + 2 x 6 = 162.00
    (none)   eve E3 -> unattributed USD 36.00; gus VISIO -> unattributed EUR 8.33
Unassigned seats: USD 108.00 (E3) + 57.00 (E5) + 12.00 (AAD) = 177.00 (6 seats); EUR 16.67 (2 seats).
Tenant-wide: storage USD 10.00 (50 units). USD sums to 571.00 and EUR to 33.33: the purchased cost.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.chargeback import chargeback, chargeback_totals, chargeback_views, chargeback_workbook
from analysis.costs import sku_costs
from analysis.reports import FinanceInputs
from cli.finance import load_finance_inputs
from licensedesk.config import Settings
from store.db import open_store
from tests.analysis import finance_tenant as t


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> FinanceInputs:
    path = str(tmp_path_factory.mktemp("chargeback") / "store.sqlite")
    t.build(path)
    with open_store(path) as store:
        return load_finance_inputs(store, 1, Settings(store=path))


@pytest.fixture(scope="module")
def costs(inputs: FinanceInputs) -> pd.DataFrame:
    return sku_costs(
        inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions, on=dt.date(2026, 3, 1)
    )


def _rows(view: pd.DataFrame) -> list[tuple[object, ...]]:
    return [
        (
            r["bucket"],
            r["currency"],
            r["users"],
            r["seats"],
            None if pd.isna(r["cost"]) else r["cost"],
            r["unpriced_seats"],
        )
        for r in view.to_dict(orient="records")
    ]


def test_by_department(inputs: FinanceInputs, costs: pd.DataFrame) -> None:
    assert _rows(chargeback(inputs.holders, costs, "department")) == [
        ("Sales", "EUR", 1, 1, 833, 0),
        ("IT", "USD", 2, 5, 16200, 1),
        ("Sales", "USD", 3, 4, 11400, 0),
        ("Finance", "USD", 2, 2, 7200, 0),
        ("unattributed", "EUR", 1, 1, 833, 0),
        ("unattributed", "USD", 1, 1, 3600, 0),
        ("unassigned seats", "EUR", 0, 2, 1667, 0),
        ("unassigned seats", "USD", 0, 6, 17700, 0),
        ("tenant-wide", "USD", 0, 50, 1000, 0),
    ]


def test_by_company_and_location(inputs: FinanceInputs, costs: pd.DataFrame) -> None:
    company = _rows(chargeback(inputs.holders, costs, "company_name"))
    # Contoso: E3 ann bob cat fay ivy (5 x 36) + E5 fay hal (2 x 57) + AAD fay hal ivy (3 x 6) = 312.00
    assert company[:4] == [
        ("Contoso", "EUR", 1, 1, 833, 0),
        ("Contoso", "USD", 6, 10, 31200, 1),
        ("Fabrikam", "USD", 2, 2, 7200, 0),
        ("unattributed", "EUR", 1, 1, 833, 0),
    ]
    location = {
        (b, c): cost for b, c, _u, _s, cost, _p in _rows(chargeback(inputs.holders, costs, "usage_location"))
    }
    # US: ann bob fay ivy E3 (144.00) + fay hal E5 (114.00) + fay hal ivy AAD (18.00) = 276.00; DE: cat dan E3
    assert location[("US", "USD")] == 27600
    assert location[("DE", "USD")] == 7200
    assert location[("GB", "EUR")] == 833
    assert location[("unattributed", "USD")] == 3600  # eve has no usage location


def test_totals_equal_the_purchased_cost(inputs: FinanceInputs, costs: pd.DataFrame) -> None:
    totals = chargeback_totals(chargeback(inputs.holders, costs, "department")).set_index("currency")
    assert totals.loc["USD", "cost"] == 57100
    assert totals.loc["EUR", "cost"] == 3333
    assert (totals.loc["USD", "seats"], totals.loc["EUR", "seats"]) == (68, 4)


def test_excel_workbook_has_one_sheet_per_view_headers_and_totals(
    inputs: FinanceInputs, costs: pd.DataFrame
) -> None:
    data = chargeback_workbook(chargeback_views(inputs.holders, costs))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Department", "Company", "Usage location"]
    sheet = book["Department"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("bucket", "currency", "users", "seats", "cost per month", "unpriced_seats")
    assert rows[1] == ("Sales", "EUR", 1, 1, 8.33, 0)
    assert rows[2] == ("IT", "USD", 2, 5, 162, 1)
    assert rows[-3:] == [
        ("Total (EUR)", "EUR", None, 4, 33.33, None),
        ("Total (USD)", "USD", None, 68, 571, None),
        ("Total without a price", None, None, None, None, 1),  # once, not once per currency
    ]
    assert sheet.cell(row=2, column=5).number_format == "#,##0.00"
    assert sheet.cell(row=sheet.max_row, column=1).font.bold
    assert Decimal(str(rows[-2][4])) == Decimal("571")


def test_csv_of_a_view_has_the_sheet_columns_in_major_units(
    costs: pd.DataFrame, inputs: FinanceInputs
) -> None:
    from analysis.chargeback import chargeback_export
    from analysis.exports import csv_bytes

    view = chargeback(inputs.holders, costs, "department")
    lines = csv_bytes(chargeback_export(view)).decode().splitlines()
    assert lines[:3] == [
        '"bucket","currency","users","seats","cost per month","unpriced_seats"',
        '"Sales","EUR",1,1,8.33,0',
        '"IT","USD",2,5,162.00,1',
    ]
    assert lines[-1] == '"tenant-wide","USD",0,50,10.00,0'
    yearly = sku_costs(inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions, on=dt.date(2026, 3, 1),
                       basis="year")  # fmt: skip
    header = csv_bytes(chargeback_export(chargeback(inputs.holders, yearly, "department", basis="year"),
                                         basis="year")).decode().splitlines()[:2]  # fmt: skip
    assert header == [
        '"bucket","currency","users","seats","cost per year","unpriced_seats"',
        '"Sales","EUR",1,1,100.00,0',
    ]
