"""The rows of ``license-desk report``: contract-shaped, snake_case, one definition for CLI and UI.

Pure pandas. Keys listed in DESIGN §8 are a contract: scripts outside this code rely on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.costs import MONEY_COLUMNS, SEAT_COLUMNS, cost_totals, sku_costs, snapshot_date
from analysis.money import amount_text
from analysis.reclaim import saving_totals
from analysis.seats import seat_table

SKU_COLUMNS = [
    "sku_id", "sku_part_number", "name", "applies_to", "capability_status", "enabled", "warning",
    "suspended", "locked_out", "consumed", "purchased", "available", "utilization", "free",
    "counts_as_unused", "known", "users_in_store",
]  # fmt: skip
ERROR_COLUMNS = [
    "group_id",
    "group_name",
    "user_id",
    "user_principal_name",
    "sku_id",
    "sku_part_number",
    "error",
]
SUBSCRIPTION_COLUMNS = [
    "subscription_id", "commerce_subscription_id", "sku_id", "sku_part_number", "status", "total_licenses",
    "is_trial", "created_at", "next_lifecycle_at",
]  # fmt: skip


def sku_report(skus: pd.DataFrame) -> pd.DataFrame:
    """Per-SKU seats (DESIGN §4), most utilised first within the counted SKUs."""
    table = seat_table(skus)
    return table.sort_values(["counts_as_unused", "sku_part_number"], ascending=[False, True])[
        SKU_COLUMNS
    ].reset_index(drop=True)


def error_report(errors: pd.DataFrame) -> pd.DataFrame:
    """Group-based licensing errors, one row per group, member and SKU."""
    return errors[ERROR_COLUMNS].reset_index(drop=True)


def subscription_report(subs: pd.DataFrame) -> pd.DataFrame:
    """Commerce subscriptions with booleans as booleans."""
    out = subs[SUBSCRIPTION_COLUMNS].copy()
    out["is_trial"] = out["is_trial"].map(lambda v: None if v is None or _nan(v) else bool(v))
    return out.reset_index(drop=True)


def user_report(users: pd.DataFrame, licenses: pd.DataFrame) -> list[dict[str, Any]]:
    """Users with their licenses nested (``assigned_by_group`` null for a direct assignment).

    ``last_sign_in`` is the later of the interactive and non-interactive sign-ins.
    """
    by_user: dict[str, list[dict[str, Any]]] = {}
    for row in licenses.itertuples(index=False):
        by_user.setdefault(row.user_id, []).append(
            {
                "sku_id": row.sku_id,
                "sku_part_number": row.sku_part_number,
                "assigned_by_group": row.assigned_by_group or None,
                "state": row.state,
                "error": row.error or None,
            }
        )
    out: list[dict[str, Any]] = []
    for row in users.itertuples(index=False):
        out.append(
            {
                "id": row.user_id,
                "user_principal_name": row.user_principal_name,
                "display_name": row.display_name,
                "account_enabled": None if _nan(row.account_enabled) else bool(row.account_enabled),
                "user_type": row.user_type,
                "usage_location": row.usage_location,
                "department": row.department,
                "company_name": row.company_name,
                "job_title": row.job_title,
                "created_at": row.created_at,
                "last_sign_in": _latest(row.last_sign_in_at, row.last_non_interactive_at),
                "licenses": by_user.get(row.user_id, []),
            }
        )
    return out


def flatten_users(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The user report as a flat table (licenses as one readable cell) for table and CSV output."""
    flat = []
    for row in rows:
        cell = "; ".join(
            lic["sku_part_number"]
            + (" (group)" if lic["assigned_by_group"] else "")
            + (f" [{lic['error']}]" if lic["error"] else "")
            for lic in row["licenses"]
        )
        flat.append({**{k: v for k, v in row.items() if k != "licenses"}, "licenses": cell})
    return pd.DataFrame(flat)


def _latest(*values: Any) -> str | None:
    present = [v for v in values if isinstance(v, str) and v]
    return max(present) if present else None


def _nan(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


GROUP_COLUMNS = [
    "group_id", "group_name", "sku_part_numbers", "sku_ids", "members", "members_in_error", "processing_state",
]  # fmt: skip


def group_report(groups: pd.DataFrame, licenses: pd.DataFrame, seats: pd.DataFrame) -> pd.DataFrame:
    """One row per licensed group: the SKUs it assigns (part numbers and ids), ``members`` (users
    with a licence through it, in any state) and ``members_in_error`` (those with an error in one).

    Args:
        groups: ``store.queries.licensed_groups`` rows (one per group and SKU).
        licenses: ``user_id``, ``assigned_by_group``, ``error`` of every assignment
            (``store.queries.license_states``).
        seats: ``seat_table`` output (part numbers; a SKU it does not list keeps its id).
    """
    parts = {str(k): str(v) for k, v in zip(seats["sku_id"], seats["sku_part_number"], strict=True)}
    via = licenses[licenses["assigned_by_group"].fillna("") != ""]
    members = via.groupby("assigned_by_group")["user_id"].nunique()
    in_error = via[via["error"].fillna("") != ""].groupby("assigned_by_group")["user_id"].nunique()
    rows: list[dict[str, Any]] = []
    for gid, part in groups.groupby("group_id", sort=False):
        first = part.iloc[0]
        skus = sorted(
            (str(s) for s in part["sku_id"] if isinstance(s, str) and s), key=lambda s: parts.get(s, s)
        )
        rows.append({
            "group_id": gid, "group_name": first["group_name"] if isinstance(first["group_name"], str) else None,
            "sku_part_numbers": [parts.get(s, s) for s in skus], "sku_ids": skus,
            "members": int(members.get(gid, 0)), "members_in_error": int(in_error.get(gid, 0)),
            "processing_state": first["processing_state"] if isinstance(first["processing_state"], str) else None,
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=GROUP_COLUMNS)
    return out.sort_values(
        ["group_name", "group_id"], key=lambda c: c.str.lower(), na_position="last"
    ).reset_index(drop=True)


RECLAIM_COLUMNS = [
    "kind", "user_id", "user_principal_name", "display_name", "sku_id", "sku_part_number", "sku_name", "reason",
    "evidence", "action", "frees_seat", "direct", "group_ids", "group_names", "other_sku_id",
    "other_sku_part_number", "last_sign_in", "created_at", "guest", "currency", "seats_to_free", "saving_monthly",
    "saving_annual",
]  # fmt: skip


@dataclass(frozen=True)
class FinanceInputs:
    """Everything the finance analyses need about one snapshot."""

    snapshot_id: int
    started_at: str
    seats: pd.DataFrame
    holders: pd.DataFrame
    subscriptions: pd.DataFrame
    prices: pd.DataFrame
    signin_available: bool
    # Seats of people who sign in but use none of the SKU's workloads (None: no usage data).
    unused: set[tuple[str, str]] | None = None


def cost_report(inputs: FinanceInputs) -> pd.DataFrame:
    """``report costs`` rows: one per SKU and currency (``kind`` ``sku``), then one per currency
    (``kind`` ``total``); every cost as ``<cost>_monthly`` and ``<cost>_annual`` decimal text."""
    on = snapshot_date(inputs.started_at)
    args = (inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions)
    by_basis = {
        basis: sku_costs(
            *args, on=on, basis=basis, signin_available=inputs.signin_available, unused=inputs.unused
        )
        for basis in ("month", "year")
    }
    rows: list[dict[str, Any]] = []
    for kind, monthly, annual in (
        ("sku", by_basis["month"], by_basis["year"]),
        ("total", cost_totals(by_basis["month"]), cost_totals(by_basis["year"])),
    ):
        for month_row, year_row in zip(
            monthly.to_dict(orient="records"), annual.to_dict(orient="records"), strict=True
        ):
            currency = month_row["currency"] if isinstance(month_row["currency"], str) else None
            row: dict[str, Any] = {"kind": kind}
            if kind == "sku":
                row.update({k: month_row[k] for k in ("sku_id", "sku_part_number", "name", "status")})
                row["unit_price"] = (
                    amount_text(int(month_row["unit_price_minor"]), currency) if currency else None
                )
                row.update({k: month_row[k] for k in ("period", "effective_from", "counts_as_waste")})
            else:
                row.update(sku_id=None, sku_part_number=None, name=f"Total ({currency or 'no price'})")
                row.update(status=None, unit_price=None, period=None, effective_from=None)
                row.update(
                    counts_as_waste=None, skus=month_row["skus"], unpriced_skus=month_row["unpriced_skus"]
                )
            row["currency"] = currency
            row.update({k: _int(month_row.get(k)) for k in SEAT_COLUMNS})
            for column in MONEY_COLUMNS:
                for suffix, source in (("monthly", month_row), ("annual", year_row)):
                    value = source.get(column)
                    row[f"{column}_{suffix}"] = (
                        None
                        if currency is None or value is None or pd.isna(value)
                        else amount_text(int(value), currency)
                    )
            rows.append(row)
    frame = pd.DataFrame(rows)
    # Totals' counts share columns with per-SKU nulls: keep them integers, not floats.
    for column in ("skus", "unpriced_skus", *SEAT_COLUMNS):
        frame[column] = frame[column].astype("Int64")
    return frame


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def reclaim_report(
    candidates: pd.DataFrame,
    savings: dict[str, pd.DataFrame],
    seats: pd.DataFrame,
    group_names: dict[str, str],
) -> pd.DataFrame:
    """``report reclaim`` rows: one per candidate (``kind`` ``candidate``: user, SKU and reason, as
    the Reclaim page lists them), then per SKU and currency the seats the candidates would free
    and what that saves (``kind`` ``sku``), then per currency (``kind`` ``total``; ``currency``
    null for the seats of SKUs without a price, whose saving is unknown, not zero).

    Args:
        candidates: ``analysis.reclaim.reclaim_candidates`` (exempt rows left out).
        savings: ``{"month": ..., "year": ...}``: ``analysis.reclaim.reclaim_savings`` per basis.
        seats: ``seat_table`` output (part numbers of covering SKUs).
        group_names: group id -> name (``analysis.labels.group_names``).
    """
    parts = {str(k): str(v) for k, v in zip(seats["sku_id"], seats["sku_part_number"], strict=True)}

    rows: list[dict[str, Any]] = []
    for c in candidates.to_dict(orient="records"):
        groups = [str(g) for g in c["groups"]]
        other = c["other_sku_id"] if isinstance(c["other_sku_id"], str) else None
        rows.append({
            "kind": "candidate", **{k: c[k] for k in ("user_id", "user_principal_name", "display_name", "sku_id",
                                                     "sku_part_number", "reason", "evidence", "action")},
            "sku_name": c["sku"], "frees_seat": bool(c["frees_seat"]), "direct": bool(c["direct"]),
            "group_ids": groups, "group_names": [group_names.get(g, g) for g in groups], "other_sku_id": other,
            "other_sku_part_number": parts.get(other, other) if other else None,
            "last_sign_in": c["last_sign_in"], "created_at": c["created_at"], "guest": bool(c["guest"]),
        })  # fmt: skip
    month, year = savings["month"], savings["year"]
    # Keyed, not zipped: each basis sorts by its own saving, and rounding can order them apart.
    yearly = {(str(y["sku_id"]), _key(y["currency"])): y for y in year.to_dict(orient="records")}
    for m in month.to_dict(orient="records"):
        y = yearly[(str(m["sku_id"]), _key(m["currency"]))]
        rows.append({
            "kind": "sku", "sku_id": m["sku_id"], "sku_part_number": parts.get(str(m["sku_id"]), m["sku_id"]),
            "sku_name": m["sku"], "currency": None if _nan(m["currency"]) else m["currency"],
            "seats_to_free": int(m["seats"]), "saving_monthly": _money(m["saving"], m["currency"]),
            "saving_annual": _money(y["saving"], y["currency"]),
        })  # fmt: skip
    year_totals = {_key(t["currency"]): t for t in saving_totals(year).to_dict(orient="records")}
    for m in saving_totals(month).to_dict(orient="records"):
        y = year_totals[_key(m["currency"])]
        rows.append({
            "kind": "total", "currency": m["currency"], "seats_to_free": int(m["seats"]),
            "saving_monthly": _money(m["saving"], m["currency"]), "saving_annual": _money(y["saving"], y["currency"]),
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=RECLAIM_COLUMNS)
    out["seats_to_free"] = out["seats_to_free"].astype("Int64")
    return out


RENEWAL_COLUMNS = [
    "kind", "window", "next_lifecycle_at", "days_left", "event", "subscription_id", "sku_id", "sku_part_number",
    "sku_name", "status", "is_trial", "term", "seats", "rollover", "currency", "monthly_cost", "term_cost",
    "free_seats", "droppable_seats", "annual_saving", "subscriptions", "rollovers",
]  # fmt: skip


def renewal_report(
    calendar: pd.DataFrame,
    window: pd.DataFrame,
    bands: pd.DataFrame,
    totals: pd.DataFrame,
    seats: pd.DataFrame,
) -> pd.DataFrame:
    """``report renewals`` rows, the Renewals page's figures: one per subscription (and currency)
    renewing or ending in the calendar's horizon (``kind`` ``renewal``) with what the downscale
    window offers to drop at that renewal; one per window of 30/60/90 days (``kind`` ``window``:
    ``subscriptions``, ``seats``, ``rollovers``); one per currency of the downscale window
    (``kind`` ``total``: ``subscriptions``, ``droppable_seats``, ``annual_saving``). Money is
    decimal text, null when there is no price.

    Args:
        calendar: ``analysis.renewals.renewal_calendar``; window: ``downscale_window`` (same horizon);
        bands: ``calendar_totals`` (90-day calendar); totals: ``downscale_totals``;
        seats: ``seat_table`` output (names and free seats).
    """
    names = {str(k): str(v) for k, v in zip(seats["sku_id"], seats["name"], strict=True)}
    free = {str(k): int(v) for k, v in zip(seats["sku_id"], seats["unused"], strict=True)}

    offered = {
        (str(w["subscription_id"]), None if _nan(w["currency"]) else w["currency"]): w
        for w in window.to_dict(orient="records")
    }
    rows: list[dict[str, Any]] = []
    for r in calendar.to_dict(orient="records"):
        currency = None if _nan(r["currency"]) else r["currency"]
        drop = offered.get((str(r["subscription_id"]), currency))
        rows.append({
            "kind": "renewal", **{k: r[k] for k in ("window", "next_lifecycle_at", "days_left", "event",
                                                   "subscription_id", "sku_id", "sku_part_number", "status",
                                                   "term", "seats")},
            "sku_name": names.get(str(r["sku_id"]), r["sku_part_number"]),
            "is_trial": None if _nan(r["is_trial"]) else bool(r["is_trial"]), "rollover": bool(r["rollover"]),
            "currency": currency, "monthly_cost": _money(r["monthly_cost"], currency),
            "term_cost": _money(r["term_cost"], currency), "free_seats": free.get(str(r["sku_id"])),
            "droppable_seats": int(drop["droppable_seats"]) if drop else 0,
            "annual_saving": _money(drop["annual_saving"], currency) if drop else None,
        })  # fmt: skip
    for band in bands.to_dict(orient="records"):
        rows.append({"kind": "window", "window": band["window"], "subscriptions": int(band["subscriptions"]),
                     "seats": int(band["seats"]), "rollovers": int(band["rollovers"])})  # fmt: skip
    for total in totals.to_dict(orient="records"):
        currency = None if _nan(total["currency"]) else total["currency"]
        rows.append({"kind": "total", "currency": currency, "subscriptions": int(total["subscriptions"]),
                     "droppable_seats": int(total["droppable_seats"]),
                     "annual_saving": _money(total["annual_saving"], currency)})  # fmt: skip
    out = pd.DataFrame(rows, columns=RENEWAL_COLUMNS)
    for column in ("days_left", "seats", "free_seats", "droppable_seats", "subscriptions", "rollovers"):
        out[column] = out[column].astype("Int64")
    return out


def _key(currency: Any) -> str | None:
    return None if _nan(currency) else str(currency)


def _money(minor: Any, currency: Any) -> str | None:
    """Minor units as decimal text (``"36.00"``); None when unpriced or unknown."""
    return None if _nan(currency) or _nan(minor) else amount_text(int(minor), str(currency))
