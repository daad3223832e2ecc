"""Flat files for billing audits (``license-desk export``): one table per report, one row per line.

- ``users-licences``: one row per user and licence assignment (a user holding a SKU directly and
  through a group has two rows). ``monthly_cost`` is what the seat costs a month at the price in
  force on the snapshot's date (``analysis.costs.prices_in_force``; a yearly price / 12, rounded
  once per seat). A seat is billed once: its cost is on the direct row, else on its first group's
  row; the user's other rows for that SKU, and assignments that hold no seat (in error), cost 0.
  A SKU without a price has an empty cost (never 0); a free SKU without a price costs 0. A SKU
  priced in several currencies on that date gives one row per currency. Trial seats are not told
  apart per user (Graph does not say which holder has the trial's seat).
- ``costs``: ``report costs`` rows (per SKU and currency, then totals), amounts as numbers.
- ``reclaim``: the reclaim candidates (exemptions applied) with the monthly saving of each seat
  their action frees (0 when it frees none; empty when the SKU has no price).
- ``renewals``: what renews or ends within 90 days (``analysis.renewals.renewal_calendar``) and
  the seats that could be dropped at each annual renewal (``downscale_window``).

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or carriage
return) are written with a leading ``'``: tenant data (names, departments, group names) is not
trusted. Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd

from analysis.costs import prices_in_force
from analysis.exports import csv_bytes, excel_bytes
from analysis.inactive import HELD_STATES, last_sign_in
from analysis.labels import group_names, source_label
from analysis.money import seats_cost, to_decimal
from analysis.reclaim import REASONS

REPORTS = ("users-licences", "costs", "reclaim", "renewals")
FORMATS = ("csv", "xlsx")
USER_LICENCE_COLUMNS = [
    "user_principal_name", "display_name", "department", "company", "usage_location", "sku",
    "sku_part_number", "assigned", "state", "error", "last_sign_in", "monthly_cost", "currency",
]  # fmt: skip
RECLAIM_COLUMNS = [
    "user_principal_name", "display_name", "department", "sku", "sku_part_number", "reason", "evidence",
    "action", "frees_seat", "last_sign_in", "monthly_saving", "currency",
]  # fmt: skip
RENEWAL_COLUMNS = [
    "window", "next_lifecycle_at", "days_left", "event", "sku_part_number", "sku_id", "subscription_id",
    "status", "is_trial", "term", "seats", "droppable_seats", "currency", "monthly_cost", "term_cost",
    "rollover",
]  # fmt: skip


def file_bytes(frame: pd.DataFrame, fmt: str, *, title: str) -> bytes:
    """The report as CSV (UTF-8) or an .xlsx workbook with one sheet named ``title``; both escape
    text a spreadsheet would run as a formula (``analysis.exports``)."""
    if fmt == "csv":
        return csv_bytes(frame)
    if fmt == "xlsx":
        return excel_bytes(frame, title)
    raise ValueError(f"unknown export format {fmt!r}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _stamp(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    text: str = pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


def seat_prices(
    seats: pd.DataFrame, prices: pd.DataFrame, *, on: dt.date
) -> dict[str, list[tuple[str | None, int | None]]]:
    """skuId -> [(currency, monthly minor units of one seat)] in force on ``on``: one pair per
    currency; ``[(None, 0)]`` for a free SKU without a price; ``[(None, None)]`` for any other
    unpriced SKU (unknown, not free)."""
    in_force = prices_in_force(prices, on)
    out: dict[str, list[tuple[str | None, int | None]]] = {}
    for price in in_force.to_dict(orient="records"):
        monthly = seats_cost(int(price["unit_price_minor"]), str(price["period"]), 1, "month")
        out.setdefault(str(price["sku_id"]), []).append((str(price["currency"]), monthly))
    for sku in seats.to_dict(orient="records"):
        out.setdefault(str(sku["sku_id"]), [(None, 0 if bool(sku["free"]) else None)])
    return out


def _money(minor: int | None, currency: str | None) -> Decimal | None:
    if minor is None:
        return None
    return to_decimal(minor, currency) if currency else Decimal(minor)


def user_licence_rows(
    users: pd.DataFrame,
    licenses: pd.DataFrame,
    seats: pd.DataFrame,
    groups: pd.DataFrame,
    prices: pd.DataFrame,
    *,
    on: dt.date,
) -> pd.DataFrame:
    """The ``users-licences`` report (module docstring).

    Args:
        users: ``store.queries.users`` rows of the snapshot.
        licenses: ``store.queries.user_licenses`` rows (sorted by user, part number, group; '' = direct).
        seats: ``analysis.seats.seat_table`` output (SKU names, ``free``).
        groups: ``store.queries.licensed_groups`` rows (group names).
        prices: the whole price book (``store.prices.load_prices``).
        on: the snapshot's date (``analysis.costs.snapshot_date``).

    Returns:
        ``USER_LICENCE_COLUMNS``, sorted by user principal name (any case), then SKU part number,
        direct before group rows; ``monthly_cost`` a Decimal in major units or None.
    """
    # One lookup table per user field: a dict read per licence row, not a frame lookup.
    ids = users["user_id"].astype(str).tolist()
    person = {
        field: dict(zip(ids, values, strict=True))
        for field, values in (
            ("user_principal_name", users["user_principal_name"].map(_text)),
            ("display_name", users["display_name"].map(_text)),
            ("department", users["department"].map(_text)),
            ("company", users["company_name"].map(_text)),
            ("usage_location", users["usage_location"].map(_text)),
            ("last_sign_in", last_sign_in(users).map(_stamp)),
        )
    }
    names = dict(zip(seats["sku_id"].astype(str), seats["name"].astype(str), strict=True))
    via = group_names(groups) if not groups.empty else {}
    price = seat_prices(seats, prices, on=on)
    billed: set[tuple[str, str]] = set()
    rows: list[dict[str, Any]] = []
    for lic in licenses.to_dict(orient="records"):
        user_id, sku_id = str(lic["user_id"]), str(lic["sku_id"])
        carries = lic["state"] in HELD_STATES and (user_id, sku_id) not in billed
        if carries:
            billed.add((user_id, sku_id))
        base = {field: values.get(user_id) for field, values in person.items()}
        base.update(
            sku=names.get(sku_id, str(lic["sku_part_number"])),
            sku_part_number=lic["sku_part_number"],
            assigned=source_label(str(lic["assigned_by_group"] or ""), via),
            state=lic["state"],
            error=_text(lic["error"]),
        )
        for currency, monthly in price.get(sku_id, [(None, None)]):
            cost = monthly if monthly is None or carries else 0
            rows.append({**base, "monthly_cost": _money(cost, currency), "currency": currency})
    out = pd.DataFrame(rows, columns=USER_LICENCE_COLUMNS)
    order = out["user_principal_name"].fillna("").str.lower()
    return out.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)


def cost_rows(report: pd.DataFrame, money_columns: list[str]) -> pd.DataFrame:
    """``report costs`` rows with their decimal-text amounts as Decimals (numbers in a workbook)."""
    out = report.copy()
    for column in money_columns:
        out[column] = pd.Series(
            [Decimal(v) if isinstance(v, str) else None for v in out[column].tolist()],
            dtype=object,
            index=out.index,
        )
    return out


def reclaim_rows(
    candidates: pd.DataFrame, users: pd.DataFrame, seats: pd.DataFrame, prices: pd.DataFrame, *, on: dt.date
) -> pd.DataFrame:
    """The ``reclaim`` report: ``analysis.reclaim.reclaim_candidates`` rows (exempt ones dropped)
    with the holder's department and each freed seat's monthly saving (``RECLAIM_COLUMNS``)."""
    kept = candidates[~candidates["exempt"].astype(bool)] if "exempt" in candidates else candidates
    department = dict(zip(users["user_id"], users["department"], strict=True))
    price = seat_prices(seats, prices, on=on)
    rows: list[dict[str, Any]] = []
    for cand in kept.to_dict(orient="records"):
        base = {
            "user_principal_name": cand["user_principal_name"],
            "display_name": _text(cand["display_name"]),
            "department": _text(department.get(cand["user_id"])),
            "sku": cand["sku"],
            "sku_part_number": cand["sku_part_number"],
            "reason": REASONS.get(str(cand["reason"]), str(cand["reason"])),
            "evidence": cand["evidence"],
            "action": cand["action"],
            "frees_seat": bool(cand["frees_seat"]),
            "last_sign_in": _stamp(cand["last_sign_in"]),
        }
        for currency, monthly in price.get(str(cand["sku_id"]), [(None, None)]):
            saving = monthly if monthly is None or base["frees_seat"] else 0
            rows.append({**base, "monthly_saving": _money(saving, currency), "currency": currency})
    return pd.DataFrame(rows, columns=RECLAIM_COLUMNS)


def renewal_rows(calendar: pd.DataFrame, window: pd.DataFrame) -> pd.DataFrame:
    """The ``renewals`` report: ``renewal_calendar`` rows with ``droppable_seats`` from the
    ``downscale_window`` (0 for an annual renewal with nothing to drop; empty for other terms,
    which can shrink any month or end anyway) and amounts as Decimals."""
    drop = {
        (str(r["subscription_id"]), r["currency"]): int(r["droppable_seats"])
        for r in window.to_dict(orient="records")
    }
    rows: list[dict[str, Any]] = []
    for line in calendar.to_dict(orient="records"):
        currency = line["currency"]
        yearly = (
            line["term"] in ("annual", "multi-year") and line["status"] == "Enabled" and not line["is_trial"]
        )
        rows.append({
            **{k: line[k] for k in RENEWAL_COLUMNS if k in line},
            "next_lifecycle_at": pd.Timestamp(line["next_lifecycle_at"]).strftime("%Y-%m-%d"),
            "days_left": int(line["days_left"]),
            "droppable_seats": drop.get((str(line["subscription_id"]), currency), 0) if yearly else None,
            "monthly_cost": None if pd.isna(line["monthly_cost"]) else _money(int(line["monthly_cost"]), currency),
            "term_cost": None if pd.isna(line["term_cost"]) else _money(int(line["term_cost"]), currency),
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=RENEWAL_COLUMNS)
    out["droppable_seats"] = out["droppable_seats"].astype("Int64")
    return out
