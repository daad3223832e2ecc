"""Renewals: each subscription's term and next lifecycle event, a 30/60/90-day calendar, and the
downscale window.

Graph gives no billing term, so it is derived (``subscription_terms``):

1. **a renewal seen in history**: when a subscription's ``nextLifecycleDateTime`` moved on while it
   was Enabled, the step is one term (``store.prices.subscription_lifecycles``). Exact.
2. otherwise **created -> next lifecycle**: the whole number of months between
   ``createdDateTime`` and ``nextLifecycleDateTime`` (3 days' tolerance, for month ends clamped to
   a shorter month). A multiple of 12 months reads as annual, anything else as monthly. A monthly
   subscription exactly 12, 24, ... months old is indistinguishable from an annual one on these
   two dates alone and reads as annual; history (1.) settles it after its next renewal.
A spacing that is no whole number of months gives ``unknown``. Only Enabled subscriptions get a
term: for Warning, Suspended and LockedOut ones the next date ends a grace period, not a term.

``event`` says what happens on the next lifecycle date: ``renews`` (Enabled), ``trial ends``
(a trial), ``grace period ends`` (Warning: suspended next), ``deleted`` (Suspended, LockedOut).
Monthly rollovers are in the calendar but are never downscale alerts.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from analysis.costs import exact_int64, prices_in_force
from analysis.costs import none_for_missing as _none_for_missing
from analysis.inactive import utc
from analysis.money import seats_cost

_MONTH_DAYS = 30.436875
_TOLERANCE = pd.Timedelta(days=3, hours=12)
EVENTS = {"Enabled": "renews", "Warning": "grace period ends", "Suspended": "deleted", "LockedOut": "deleted"}
TERM_COLUMNS = [
    "subscription_id", "sku_id", "sku_part_number", "status", "is_trial", "total_licenses", "created_at",
    "next_lifecycle_at", "days_left", "term", "term_months", "term_source", "event",
]  # fmt: skip
HORIZONS = (30, 60, 90)


def _add_months(when: pd.Timestamp, months: int) -> pd.Timestamp:
    return when + pd.DateOffset(months=months)


def whole_months(start: pd.Timestamp, end: pd.Timestamp) -> int | None:
    """The whole number of months from ``start`` to ``end`` (within 3.5 days), else None."""
    if pd.isna(start) or pd.isna(end) or end <= start:
        return None
    months = round((end - start).days / _MONTH_DAYS)
    if months < 1:
        return None
    return months if abs(_add_months(start, months) - end) <= _TOLERANCE else None


def _term(months: int | None, from_renewal: bool) -> str:
    if months is None:
        return "unknown"
    if months % 12:
        return "monthly" if months == 1 or not from_renewal else f"{months}-monthly"
    return "annual" if months == 12 or not from_renewal else "multi-year"


def _renewal_steps(lifecycles: pd.DataFrame) -> dict[str, int]:
    """subscription id -> months of the first renewal step seen while Enabled."""
    steps: dict[str, int] = {}
    enabled = lifecycles[lifecycles["status"] == "Enabled"].copy()
    enabled["at"] = utc(enabled["next_lifecycle_at"].to_numpy()).to_numpy()
    for sub_id, rows in enabled.sort_values(["subscription_id", "at"]).groupby("subscription_id"):
        dates = list(rows["at"].drop_duplicates())
        for before, after in zip(dates, dates[1:], strict=False):
            months = whole_months(before, after)
            if months is not None:
                steps[str(sub_id)] = months
                break
    return steps


def subscription_terms(
    subscriptions: pd.DataFrame, lifecycles: pd.DataFrame | None = None, *, now: pd.Timestamp
) -> pd.DataFrame:
    """Every subscription with its derived term and next event (see the module docstring).

    Args:
        subscriptions: ``store.queries.subscriptions`` rows of one snapshot.
        lifecycles: ``store.prices.subscription_lifecycles`` (history), or None.
        now: the snapshot's time (UTC): ``days_left`` counts from it.

    Returns:
        ``subscription_id``, ``sku_id``, ``sku_part_number``, ``status``, ``is_trial`` (bool or
        None), ``total_licenses``, ``created_at`` and ``next_lifecycle_at`` (UTC timestamps),
        ``days_left`` (Int64, whole days to the next lifecycle date, NA if none), ``term``
        (``monthly``/``annual``/``multi-year``/``N-monthly``/``unknown``), ``term_months``
        (Int64), ``term_source`` (``renewal seen``/``created date``/None), ``event``.
        Sorted by next lifecycle date.
    """
    steps = _renewal_steps(lifecycles) if lifecycles is not None and not lifecycles.empty else {}
    created = utc(subscriptions["created_at"].to_numpy())
    following = utc(subscriptions["next_lifecycle_at"].to_numpy())
    rows: list[dict[str, Any]] = []
    for i, sub in enumerate(subscriptions.to_dict(orient="records")):
        sub_id = str(sub["subscription_id"])
        trial = None if pd.isna(sub["is_trial"]) else bool(sub["is_trial"])
        status = str(sub["status"] or "")
        if status != "Enabled":
            months, source = None, None  # the next date ends a grace period, not a term
        elif sub_id in steps:
            months, source = steps[sub_id], "renewal seen"
        else:
            months = whole_months(created.iloc[i], following.iloc[i])
            source = "created date" if months is not None else None
        nxt = following.iloc[i]
        rows.append({
            "subscription_id": sub_id, "sku_id": sub["sku_id"], "sku_part_number": sub["sku_part_number"],
            "status": status, "is_trial": trial, "total_licenses": int(sub["total_licenses"]),
            "created_at": created.iloc[i], "next_lifecycle_at": nxt,
            "days_left": None if pd.isna(nxt) else int((nxt - now).total_seconds() // 86400),
            "term": _term(months, source == "renewal seen"), "term_months": months, "term_source": source,
            "event": "trial ends" if trial and status == "Enabled" else EVENTS.get(status, f"{status.lower()} ends"),
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=TERM_COLUMNS)
    out["days_left"] = out["days_left"].astype("Int64")
    out["term_months"] = out["term_months"].astype("Int64")
    return out.sort_values("next_lifecycle_at", na_position="last").reset_index(drop=True)


def _is_rollover(row: pd.Series) -> bool:
    return bool(row["status"] == "Enabled" and not row["is_trial"] and row["term"] == "monthly")


def _price_on(prices: pd.DataFrame, sku_id: str, on: dt.date) -> list[dict[str, Any] | None]:
    """The prices of a SKU in force on a day, or ``[None]`` when it has none (one unpriced line)."""
    in_force = prices_in_force(prices, on)
    return [*in_force[in_force["sku_id"] == sku_id].to_dict(orient="records")] or [None]


def renewal_calendar(terms: pd.DataFrame, prices: pd.DataFrame, *, horizon_days: int = 90) -> pd.DataFrame:
    """What renews or ends in the next ``horizon_days``, with seats and cost.

    Args:
        terms: ``subscription_terms`` output.
        prices: the whole price book; each line is priced as of its own lifecycle date.

    Returns:
        One row per subscription (and currency, if its SKU is priced in several) whose
        ``days_left`` is 0..horizon_days: ``window`` (``30 days``/``60 days``/``90 days``: the
        first horizon it falls within), ``next_lifecycle_at``, ``days_left``, ``event``,
        ``sku_part_number``, ``sku_id``, ``subscription_id``, ``status``, ``is_trial``, ``term``,
        ``seats`` (total licences), ``currency``, ``monthly_cost`` and ``term_cost`` (Int64 minor
        units: one month of the seats, and one term for monthly/annual terms; 0 for a trial, whose end
        bills nothing; NA when unpriced or the term is unknown), ``rollover`` (a monthly renewal: shown, never an alert).
    """
    due = terms[terms["days_left"].notna() & (terms["days_left"] >= 0) & (terms["days_left"] <= horizon_days)]
    rows: list[dict[str, Any]] = []
    for _, sub in due.iterrows():
        days = int(sub["days_left"])
        window = next((f"{h} days" for h in HORIZONS if days <= h), f"{horizon_days} days")
        base = {
            "window": window, "next_lifecycle_at": sub["next_lifecycle_at"], "days_left": days,
            "event": sub["event"], "sku_part_number": sub["sku_part_number"], "sku_id": sub["sku_id"],
            "subscription_id": sub["subscription_id"], "status": sub["status"], "is_trial": sub["is_trial"],
            "term": sub["term"], "seats": int(sub["total_licenses"]), "rollover": _is_rollover(sub),
        }  # fmt: skip
        on = pd.Timestamp(sub["next_lifecycle_at"]).date()
        for price in _price_on(prices, str(sub["sku_id"]), on):
            row = dict(base, currency=None, monthly_cost=None, term_cost=None)
            if price is not None and bool(sub["is_trial"]):
                # A trial's end bills nothing (its seats lapse unless bought): zero, not NA,
                # which would read as "no price".
                row.update(currency=price["currency"], monthly_cost=0, term_cost=0)
            elif price is not None:
                unit, period = int(price["unit_price_minor"]), str(price["period"])
                row["currency"] = price["currency"]
                row["monthly_cost"] = seats_cost(unit, period, base["seats"], "month")
                basis = {"monthly": "month", "annual": "year"}.get(str(sub["term"]))
                row["term_cost"] = seats_cost(unit, period, base["seats"], basis) if basis else None
            rows.append(row)
    columns = [
        "window", "next_lifecycle_at", "days_left", "event", "sku_part_number", "sku_id", "subscription_id",
        "status", "is_trial", "term", "seats", "currency", "monthly_cost", "term_cost", "rollover",
    ]  # fmt: skip
    out = _none_for_missing(pd.DataFrame(rows, columns=columns), "currency")
    for column in ("monthly_cost", "term_cost"):
        out[column] = exact_int64([row[column] for row in rows])
    return out


def downscale_window(
    terms: pd.DataFrame, seats: pd.DataFrame, prices: pd.DataFrame, *, within_days: int = 90
) -> pd.DataFrame:
    """Annual (and multi-year) subscriptions renewing within ``within_days`` whose SKU has free seats
    that could be dropped at that renewal (monthly subscriptions can shrink any month: never here).

    A SKU's free seats (``seat_table``'s ``unused``: counted SKUs only, never negative) are offered
    to its renewing subscriptions in date order, each taking at most its own size, so no seat is
    offered twice.

    Returns:
        ``subscription_id``, ``sku_id``, ``sku_part_number``, ``next_lifecycle_at``, ``days_left``,
        ``seats`` (the subscription's size), ``free_seats`` (the SKU's), ``droppable_seats``,
        ``currency``, ``annual_saving`` (Int64 minor units; NA when unpriced).
    """
    free = {str(k): int(v) for k, v in zip(seats["sku_id"], seats["unused"], strict=True)}
    due = terms[
        terms["term"].isin(("annual", "multi-year"))
        & (terms["status"] == "Enabled")
        & ~terms["is_trial"].fillna(False).astype(bool)
        & terms["days_left"].notna()
        & (terms["days_left"] >= 0)
        & (terms["days_left"] <= within_days)
    ]
    left = dict(free)
    rows: list[dict[str, Any]] = []
    for _, sub in due.sort_values("next_lifecycle_at").iterrows():
        sku_id = str(sub["sku_id"])
        drop = min(left.get(sku_id, 0), int(sub["total_licenses"]))
        if drop <= 0:
            continue
        left[sku_id] -= drop
        on = pd.Timestamp(sub["next_lifecycle_at"]).date()
        for price in _price_on(prices, sku_id, on):
            rows.append({
                "subscription_id": sub["subscription_id"], "sku_id": sku_id, "sku_part_number": sub["sku_part_number"],
                "next_lifecycle_at": sub["next_lifecycle_at"], "days_left": int(sub["days_left"]),
                "seats": int(sub["total_licenses"]), "free_seats": free.get(sku_id, 0), "droppable_seats": drop,
                "currency": price["currency"] if price else None,
                "annual_saving": seats_cost(int(price["unit_price_minor"]), str(price["period"]), drop, "year")
                if price else None,
            })  # fmt: skip
    columns = [
        "subscription_id", "sku_id", "sku_part_number", "next_lifecycle_at", "days_left", "seats", "free_seats",
        "droppable_seats", "currency", "annual_saving",
    ]  # fmt: skip
    out = _none_for_missing(pd.DataFrame(rows, columns=columns), "currency")
    out["annual_saving"] = exact_int64([row["annual_saving"] for row in rows])
    return out


def calendar_totals(calendar: pd.DataFrame) -> pd.DataFrame:
    """Per window of ``renewal_calendar`` (``30 days``, ``60 days``, ``90 days``: days 0-30, 31-60
    and 61-90): ``window``, ``subscriptions``, ``seats`` and ``rollovers`` (monthly renewals, never
    alerts); a subscription priced in several currencies counts once. Every window has a row."""
    once = calendar.drop_duplicates("subscription_id")
    rows = []
    for horizon in HORIZONS:
        part = once[once["window"] == f"{horizon} days"]
        rows.append({"window": f"{horizon} days", "subscriptions": len(part), "seats": int(part["seats"].sum()),
                     "rollovers": int(part["rollover"].astype(bool).sum())})  # fmt: skip
    return pd.DataFrame(rows, columns=["window", "subscriptions", "seats", "rollovers"])


def downscale_totals(window: pd.DataFrame) -> pd.DataFrame:
    """Totals per currency of ``downscale_window``: ``currency``, ``subscriptions``,
    ``droppable_seats``, ``annual_saving`` (Int64); unpriced lines come last in one row with
    ``currency`` None and ``annual_saving`` NA (unknown, not 0)."""
    rows: list[dict[str, Any]] = [
        {"currency": str(currency), "subscriptions": int(part["subscription_id"].nunique()),
         "droppable_seats": int(part["droppable_seats"].sum()), "annual_saving": sum(int(v) for v in part["annual_saving"])}
        for currency, part in window[window["currency"].notna()].groupby("currency", sort=True)
    ]  # fmt: skip
    unpriced = window[window["currency"].isna()]
    if not unpriced.empty:
        rows.append({"currency": None, "subscriptions": int(unpriced["subscription_id"].nunique()),
                     "droppable_seats": int(unpriced["droppable_seats"].sum()), "annual_saving": None})  # fmt: skip
    out = _none_for_missing(
        pd.DataFrame(rows, columns=["currency", "subscriptions", "droppable_seats", "annual_saving"]),
        "currency",
    )
    out["annual_saving"] = exact_int64([row["annual_saving"] for row in rows])
    return out
