"""``license-desk check``: what needs attention now, as a list of findings for cron and monitoring.

A finding is raised for:

- **threshold**: a SKU with fewer free seats (``available``, negative when over-assigned) than its
  ``min_free_seats``, or more used (``utilization`` x 100) than its ``max_utilization_percent``.
  A SKU with nothing purchased has no utilization and is only checked against free seats.
- **group_error**: each (group, SKU, error) with members whose group licence failed.
- **expiring**: a subscription whose next lifecycle date is within ``expiring_days`` (30) and that
  is not a plain renewal: a trial ending, a grace period ending (Warning), a deletion
  (Suspended/LockedOut), or an Enabled subscription whose term is unknown. Monthly rollovers are
  never findings.
- **renewal**: an annual subscription renewing within ``expiring_days`` with free seats that could
  be dropped at that renewal (``analysis.renewals.downscale_window``).
- **collection**: the collections after the latest complete snapshot failed, or that snapshot is
  older than ``--stale-hours`` (``analysis.collection.collection_findings``).
- **usage**: the usage reports conceal user names, so Reclaim cannot use what people actually use
  (``usage_findings``).

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from analysis.reclaim_usage import CONCEALED_SETTING

KINDS = ("threshold", "group_error", "expiring", "renewal", "collection", "usage")


@dataclass(frozen=True)
class Finding:
    """One thing that needs attention: ``message`` is a sentence; ``detail`` holds its numbers."""

    kind: str
    subject: str
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def threshold_findings(seats: pd.DataFrame, thresholds: pd.DataFrame) -> list[Finding]:
    """Breaches of per-SKU thresholds.

    Args:
        seats: ``analysis.seats.seat_table`` output.
        thresholds: ``store.prices.load_thresholds`` rows (``sku_id``, ``min_free_seats``,
            ``max_utilization_percent``; NA = not checked).
    """
    findings: list[Finding] = []
    by_id = seats.set_index("sku_id")
    for limit in thresholds.to_dict(orient="records"):
        sku_id = str(limit["sku_id"])
        if sku_id not in by_id.index:
            continue  # a SKU the tenant no longer has: nothing to breach
        sku = by_id.loc[sku_id]
        part = str(sku["sku_part_number"])
        available, purchased = int(sku["available"]), int(sku["purchased"])
        minimum = limit["min_free_seats"]
        if not pd.isna(minimum) and available < int(minimum):
            findings.append(Finding("threshold", part,
                f"{part} has {available} free seat{'s' if available != 1 else ''}, below the minimum of {int(minimum)}.",
                {"sku_id": sku_id, "available": available, "purchased": purchased, "min_free_seats": int(minimum)}))  # fmt: skip
        ceiling = limit["max_utilization_percent"]
        utilization = float(sku["utilization"])
        if not pd.isna(ceiling) and not math.isnan(utilization) and utilization * 100 > int(ceiling):
            findings.append(Finding("threshold", part,
                f"{part} is {utilization * 100:.1f}% used ({int(sku['consumed'])} of {purchased}), above the limit of {int(ceiling)}%.",
                {"sku_id": sku_id, "utilization_percent": round(utilization * 100, 1), "consumed": int(sku["consumed"]),
                 "purchased": purchased, "max_utilization_percent": int(ceiling)}))  # fmt: skip
    return findings


def group_error_findings(errors: pd.DataFrame) -> list[Finding]:
    """One finding per (group, SKU, error) from ``store.queries.group_errors`` rows."""
    if errors.empty:
        return []
    findings: list[Finding] = []
    keys = ["group_id", "group_name", "sku_id", "sku_part_number", "error"]
    for (gid, name, sku_id, part, error), rows in errors.fillna({"group_name": ""}).groupby(keys, sort=True):
        members = int(rows["user_id"].nunique())
        group = name or gid
        findings.append(Finding("group_error", str(group),
            f"Group {group!r}: {members} member{'s' if members != 1 else ''} cannot get {part} ({error}).",
            {"group_id": gid, "sku_id": sku_id, "sku_part_number": part, "error": error, "members": members}))  # fmt: skip
    return findings


def expiry_findings(terms: pd.DataFrame, *, expiring_days: int = 30) -> list[Finding]:
    """Subscriptions ending (not simply renewing) within ``expiring_days``.

    Args:
        terms: ``analysis.renewals.subscription_terms`` output.
    """
    soon = terms[
        terms["days_left"].notna() & (terms["days_left"] >= 0) & (terms["days_left"] <= expiring_days)
    ]
    findings: list[Finding] = []
    for sub in soon.to_dict(orient="records"):
        trial, status = bool(sub["is_trial"]), str(sub["status"])
        if status == "Enabled" and not trial and sub["term"] != "unknown":
            continue  # a renewal: the downscale window decides whether it needs attention
        when = pd.Timestamp(sub["next_lifecycle_at"]).strftime("%Y-%m-%d")
        what = {
            "trial ends": "trial ends",
            "grace period ends": "grace period ends and it is suspended",
            "deleted": "suspension ends and it is deleted",
        }.get(str(sub["event"]), "next lifecycle date comes (term unknown)")
        part, days = str(sub["sku_part_number"]), int(sub["days_left"])
        findings.append(Finding("expiring", part,
            f"A {part} subscription of {_seats(int(sub['total_licenses']))}: its {what} on {when} (in {days} days).",
            {"subscription_id": sub["subscription_id"], "sku_id": sub["sku_id"], "status": status, "is_trial": trial,
             "seats": int(sub["total_licenses"]), "next_lifecycle_at": when, "days_left": days}))  # fmt: skip
    return findings


def renewal_findings(window: pd.DataFrame, *, expiring_days: int = 30) -> list[Finding]:
    """Annual renewals within ``expiring_days`` that could drop free seats (``downscale_window`` rows)."""
    soon = window[window["days_left"] <= expiring_days].drop_duplicates("subscription_id")
    findings: list[Finding] = []
    for sub in soon.to_dict(orient="records"):
        part, when = str(sub["sku_part_number"]), pd.Timestamp(sub["next_lifecycle_at"]).strftime("%Y-%m-%d")
        findings.append(Finding("renewal", part,
            f"A {part} subscription of {_seats(int(sub['seats']))} renews on {when} (in {int(sub['days_left'])} days) "
            f"while {_seats(int(sub['free_seats']))} {'is' if int(sub['free_seats']) == 1 else 'are'} free: lower its quantity by up to {int(sub['droppable_seats'])} before then.",
            {"subscription_id": sub["subscription_id"], "sku_id": sub["sku_id"], "seats": int(sub["seats"]),
             "droppable_seats": int(sub["droppable_seats"]), "next_lifecycle_at": when,
             "days_left": int(sub["days_left"])}))  # fmt: skip
    return findings


def check_findings(
    seats: pd.DataFrame,
    thresholds: pd.DataFrame,
    errors: pd.DataFrame,
    terms: pd.DataFrame,
    window: pd.DataFrame,
    *,
    expiring_days: int = 30,
    usage_reports: pd.DataFrame | None = None,
) -> list[Finding]:
    """Everything ``license-desk check`` reports, in the order thresholds, group errors,
    expiring subscriptions, renewals, usage (see the module docstring for each input's source)."""
    return [
        *threshold_findings(seats, thresholds),
        *group_error_findings(errors),
        *expiry_findings(terms, expiring_days=expiring_days),
        *renewal_findings(window, expiring_days=expiring_days),
        *(usage_findings(usage_reports) if usage_reports is not None else []),
    ]


def usage_findings(usage_reports: pd.DataFrame) -> list[Finding]:
    """One finding when the snapshot's usage reports (``store.usage.load_usage_reports``) were
    concealed: their rows carry hashes, so no usage could be joined to anyone."""
    if usage_reports.empty or not (usage_reports["status"] == "concealed").any():
        return []
    return [Finding("usage", "concealed names",
        f"Microsoft 365 usage reports conceal user names, so Reclaim uses sign-in activity only: turn off {CONCEALED_SETTING}.",
        {"status": "concealed"})]  # fmt: skip


THRESHOLD_TABLE_COLUMNS = [
    "sku_id", "sku", "sku_part_number", "purchased", "consumed", "available", "utilization",
    "min_free_seats", "max_utilization_percent",
]  # fmt: skip
_LIMITS = ("min_free_seats", "max_utilization_percent")


def threshold_table(seats: pd.DataFrame, thresholds: pd.DataFrame) -> pd.DataFrame:
    """Every SKU of a snapshot with its seats now and its thresholds (the dashboard's editor).

    Args:
        seats: ``analysis.seats.seat_table`` output.
        thresholds: ``store.prices.load_thresholds`` rows.

    Returns:
        ``THRESHOLD_TABLE_COLUMNS``, one row per SKU sorted by name; the two limits are Int64
        (NA = not checked).
    """
    limits = thresholds.set_index("sku_id")[list(_LIMITS)] if not thresholds.empty else None
    out = seats.rename(columns={"name": "sku"})[THRESHOLD_TABLE_COLUMNS[:7]].copy()
    for column in _LIMITS:
        values = (
            out["sku_id"].map(limits[column]) if limits is not None else pd.Series(pd.NA, index=out.index)
        )
        out[column] = values.astype("Int64")
    order = out["sku"].str.lower()
    return out.assign(_o=order).sort_values(["_o", "sku_id"]).drop(columns="_o").reset_index(drop=True)


def _limit(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def threshold_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict[str, Any]]:
    """The SKUs whose limits differ between two ``threshold_table`` frames (before and after an edit).

    Returns:
        One mapping per changed SKU: ``sku_id``, ``sku_part_number``, ``min_free_seats`` and
        ``max_utilization_percent`` (int, or None = not checked), for ``store.prices.save_thresholds``.
    """
    old = {str(r["sku_id"]): tuple(_limit(r[c]) for c in _LIMITS) for r in before.to_dict(orient="records")}
    changes: list[dict[str, Any]] = []
    for row in after.to_dict(orient="records"):
        new = tuple(_limit(row[c]) for c in _LIMITS)
        if old.get(str(row["sku_id"]), (None, None)) != new:
            changes.append({"sku_id": str(row["sku_id"]), "sku_part_number": str(row["sku_part_number"]),
                            "min_free_seats": new[0], "max_utilization_percent": new[1]})  # fmt: skip
    return changes


def _seats(n: int) -> str:
    return f"{n:,} seat" if n == 1 else f"{n:,} seats"
