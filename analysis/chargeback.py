"""Chargeback: who should pay for the seats, by department, company or usage location.

For one snapshot and one basis (``month``/``year``):

- every held seat (``analysis.holders``) of a priced SKU is charged to its holder's department
  (or company, or usage location) at the SKU's price in force (``analysis.costs``). A holder
  with no value for the attribute is charged to ``unattributed``.
- seats are costed per (bucket, SKU) line, then summed, so rounding happens once per line.
- SKUs whose every purchased seat is a trial seat cost nothing and are left out.
- two more buckets make the view add up to what was bought: ``unassigned seats`` (the
  ``unassigned_cost`` of counted SKUs) and ``tenant-wide`` (Company SKUs, bought for nobody in
  particular). With no over-assignment and no trial seats, each currency's buckets sum to its
  purchased cost.
- seats of SKUs without a price are counted in ``unpriced_seats``, never costed as free.
Currencies are kept apart: one row per bucket and currency.

``chargeback_workbook`` writes the views as an .xlsx workbook, one sheet per view with a totals
row per currency. Pure pandas + openpyxl: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

from analysis.costs import exact_int64, none_for_missing
from analysis.exports import escape_formula, major_units
from analysis.money import minor_digits, seats_cost, to_decimal

VIEWS: dict[str, str] = {
    "department": "Department",
    "company_name": "Company",
    "usage_location": "Usage location",
}
UNATTRIBUTED = "unattributed"
UNASSIGNED = "unassigned seats"
TENANT_WIDE = "tenant-wide"
CHARGE_COLUMNS = ["bucket", "currency", "users", "seats", "cost", "unpriced_seats"]


def chargeback(holders: pd.DataFrame, costs: pd.DataFrame, by: str, *, basis: str = "month") -> pd.DataFrame:
    """Cost per value of ``by`` (see the module docstring).

    Args:
        holders: ``analysis.holders.seat_holders`` output.
        costs: ``analysis.costs.sku_costs`` output for the same snapshot and the same ``basis``.
        by: ``department``, ``company_name`` or ``usage_location`` (any holder column works).

    Returns:
        ``bucket``, ``currency`` (NA for the unpriced-only line of a bucket), ``users`` (distinct
        holders charged), ``seats``, ``cost`` (Int64 minor units), ``unpriced_seats``; users'
        buckets by cost (largest first), then ``unattributed``, ``unassigned seats``, ``tenant-wide``.
    """
    priced = costs[(costs["status"] == "priced") & (costs["paid_seats"] > 0)]
    counted = costs[costs["counts_as_waste"].astype(bool)]
    unpriced_ids = set(costs.loc[costs["status"] == "no price", "sku_id"])
    value = holders[by].where(holders[by].notna() & (holders[by].astype(str).str.strip() != ""), UNATTRIBUTED)
    held = holders.assign(bucket=value.astype(str))
    held = held[held["sku_id"].isin(set(counted["sku_id"]))]
    lines = held.merge(priced[["sku_id", "currency", "unit_price_minor", "period"]], on="sku_id")
    rows: list[dict[str, Any]] = []
    if not lines.empty:
        grouped = lines.groupby(["bucket", "currency", "sku_id", "unit_price_minor", "period"], sort=False)
        per_line = grouped["user_id"].agg(["count", "nunique"]).reset_index()
        per_line["cost"] = [
            seats_cost(int(u), str(p), int(n), basis)
            for u, p, n in zip(
                per_line["unit_price_minor"], per_line["period"], per_line["count"], strict=True
            )
        ]
        users = lines.groupby(["bucket", "currency"])["user_id"].nunique()
        for (bucket, currency), part in per_line.groupby(["bucket", "currency"], sort=False):
            rows.append({
                "bucket": bucket, "currency": currency, "users": int(users[(bucket, currency)]),
                "seats": int(part["count"].sum()), "cost": sum(int(v) for v in part["cost"]), "unpriced_seats": 0,
            })  # fmt: skip
    unpriced = held[held["sku_id"].isin(unpriced_ids)].groupby("bucket")
    for bucket, part in unpriced:
        mine = [r for r in rows if r["bucket"] == bucket]
        if mine:
            mine[0]["unpriced_seats"] = len(part)
        else:
            rows.append({"bucket": bucket, "currency": None, "users": int(part["user_id"].nunique()),
                         "seats": 0, "cost": None, "unpriced_seats": len(part)})  # fmt: skip
    for bucket, frame, seats_column, cost_column in (
        (UNASSIGNED, counted, "unassigned_seats", "unassigned_cost"),
        (TENANT_WIDE, costs[~costs["counts_as_waste"].astype(bool)], "paid_seats", "purchased_cost"),
    ):
        part = frame[(frame["status"] == "priced") & (frame[cost_column].fillna(0) > 0)]
        for currency, lines_ in part.groupby("currency", sort=True):
            rows.append({"bucket": bucket, "currency": currency, "users": 0,
                         "seats": int(lines_[seats_column].sum()), "cost": sum(int(v) for v in lines_[cost_column]),
                         "unpriced_seats": 0})  # fmt: skip
    out = none_for_missing(pd.DataFrame(rows, columns=CHARGE_COLUMNS), "currency")
    out["cost"] = exact_int64([row["cost"] for row in rows])
    rank = out["bucket"].map({UNATTRIBUTED: 1, UNASSIGNED: 2, TENANT_WIDE: 3}).fillna(0)
    out = out.assign(_r=rank, _c=-out["cost"].fillna(0).astype("int64"))
    return (
        out.sort_values(["_r", "currency", "_c", "bucket"]).drop(columns=["_r", "_c"]).reset_index(drop=True)
    )


def chargeback_views(
    holders: pd.DataFrame, costs: pd.DataFrame, *, basis: str = "month"
) -> dict[str, pd.DataFrame]:
    """All three views: sheet title (``Department``, ``Company``, ``Usage location``) -> ``chargeback``."""
    return {title: chargeback(holders, costs, column, basis=basis) for column, title in VIEWS.items()}


def chargeback_totals(view: pd.DataFrame) -> pd.DataFrame:
    """Totals per currency of one view: ``currency``, ``seats``, ``cost``. Seats of unpriced
    SKUs belong to no currency: see ``unpriced_total``."""
    priced = view[view["currency"].notna()]
    out = priced.groupby("currency", sort=True)[["seats", "cost"]].sum().reset_index()
    out["cost"] = out["cost"].astype("Int64")
    return out


def unpriced_total(view: pd.DataFrame) -> int:
    """Held seats of SKUs without a price in one view (not costed, in no currency's total)."""
    return int(view["unpriced_seats"].sum())


def chargeback_export(view: pd.DataFrame, *, basis: str = "month") -> pd.DataFrame:
    """One view as its CSV download: the workbook sheet's columns (``cost per <basis>`` as exact
    Decimals in major units), without the totals rows."""
    out = major_units(view, ["cost"])
    return out.rename(columns={"cost": f"cost per {basis}"})[
        ["bucket", "currency", "users", "seats", f"cost per {basis}", "unpriced_seats"]
    ]


def chargeback_workbook(views: Mapping[str, pd.DataFrame], *, basis: str = "month") -> bytes:
    """An .xlsx workbook: one sheet per view (``bucket``, ``currency``, ``users``, ``seats``,
    ``cost``, ``unpriced_seats``; cost in major units as an Excel number), then one bold
    ``Total (CUR)`` row per currency and one ``Total without a price`` row (the view's unpriced
    seats, counted once). Never sums two currencies."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    header = ["bucket", "currency", "users", "seats", f"cost per {basis}", "unpriced_seats"]
    for title, view in views.items():
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in view.to_dict(orient="records"):
            currency = row["currency"] if isinstance(row["currency"], str) else None
            cost = to_decimal(int(row["cost"]), currency) if currency and not pd.isna(row["cost"]) else None
            # A bucket is tenant text (a department, company or usage location): never a formula.
            sheet.append([escape_formula(row["bucket"]), currency, int(row["users"]), int(row["seats"]), cost,
                          int(row["unpriced_seats"])])  # fmt: skip
            _money_format(sheet, currency)
        for total in chargeback_totals(view).to_dict(orient="records"):
            currency = str(total["currency"])
            sheet.append([f"Total ({currency})", currency, None, int(total["seats"]),
                          to_decimal(int(total["cost"]), currency), None])  # fmt: skip
            _money_format(sheet, currency)
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        # Once, not per currency: summing the column must not count these seats twice.
        sheet.append(["Total without a price", None, None, None, None, unpriced_total(view)])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 32
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _money_format(sheet: Any, currency: str | None) -> None:
    if currency:
        digits = minor_digits(currency)
        sheet.cell(row=sheet.max_row, column=5).number_format = "#,##0" + (
            "." + "0" * digits if digits else ""
        )
