"""One SKU in detail: its units, subscriptions, holders and service plans.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.disabled_plans import split_plan_ids
from analysis.inactive import HELD_STATES, utc
from analysis.labels import assignment_text, source_label

UNIT_FIELDS = ("enabled", "warning", "suspended", "locked_out", "consumed", "purchased", "available")


def sku_units(seats: pd.DataFrame, sku_id: str) -> dict[str, Any]:
    """The seat row of one SKU (``analysis.seats.seat_table`` output) as plain Python values."""
    row = seats[seats["sku_id"] == sku_id]
    if row.empty:
        raise KeyError(sku_id)
    record = row.iloc[0]
    out: dict[str, Any] = {name: int(record[name]) for name in UNIT_FIELDS}
    util = float(record["utilization"])
    out["utilization"] = None if pd.isna(util) else util
    for flag in ("known", "free", "company", "over_assigned", "depends_on_warning"):
        out[flag] = bool(record[flag])
    out["name"] = str(record["name"])
    out["sku_part_number"] = str(record["sku_part_number"])
    return out


def sku_notes(units: Mapping[str, Any]) -> list[str]:
    """Sentences that explain an odd SKU (unknown, free, nothing purchased, over-assigned, ...)."""
    notes: list[str] = []
    part = units["sku_part_number"]
    if not units["known"]:
        notes.append(
            f"{part} is not in the SKU catalog, so it is shown by its part number; "
            "import Microsoft's current catalog to name it (`license-desk catalog import FILE`)."
        )
    if units["free"]:
        notes.append("This is a free or viral SKU: it is listed but never counted as unused seats.")
    if units["company"]:
        notes.append("This SKU applies to the whole company, not to users: it is not counted as seats.")
    if units["purchased"] == 0:
        notes.append("Nothing is purchased (no enabled or warning units), so utilization is undefined.")
    if units["over_assigned"]:
        notes.append(
            f"Over-assigned: {units['consumed']} assigned but only {units['purchased']} purchased "
            f"({units['available']} available)."
        )
    if units["depends_on_warning"]:
        notes.append(
            f"{units['warning']} of the purchased units are in their grace period (warning) and lapse "
            "when it ends: some of the free seats depend on them."
        )
    return notes


def sku_subscriptions(subs: pd.DataFrame, sku_id: str) -> pd.DataFrame:
    """The commerce subscriptions behind one SKU, next lifecycle date first."""
    rows = subs[subs["sku_id"] == sku_id]
    out = pd.DataFrame(
        {
            "subscription_id": rows["subscription_id"].to_numpy(),
            "status": rows["status"].to_numpy(),
            "trial": [None if pd.isna(v) else bool(v) for v in rows["is_trial"]],
            "total_licenses": rows["total_licenses"].astype("int64").to_numpy(),
            "next_lifecycle": utc(rows["next_lifecycle_at"].to_numpy()).to_numpy(),
            "created": utc(rows["created_at"].to_numpy()).to_numpy(),
        }
    )
    return out.sort_values("next_lifecycle", na_position="last").reset_index(drop=True)


def sku_holders(
    licenses: pd.DataFrame, users: pd.DataFrame, sku_id: str, group_names: Mapping[str, str]
) -> pd.DataFrame:
    """Every assignment of one SKU (held or in error): who, from where, in which state."""
    rows = licenses[licenses["sku_id"] == sku_id].merge(
        users[["user_id", "user_principal_name", "display_name", "department"]], on="user_id", how="left"
    )
    out = pd.DataFrame(
        {
            "user_principal_name": rows["user_principal_name"].to_numpy(),
            "display_name": rows["display_name"].to_numpy(),
            "department": rows["department"].to_numpy(),
            # .tolist(): element-wise iteration of Arrow-backed string columns is slow.
            "source": [source_label(g, group_names) for g in rows["assigned_by_group"].tolist()],
            "state": [
                assignment_text(s, e)
                for s, e in zip(rows["state"].tolist(), rows["error"].tolist(), strict=True)
            ],
            "holds_seat": rows["state"].isin(HELD_STATES).to_numpy(),
            "user_id": rows["user_id"].to_numpy(),
        }
    )
    return out.sort_values(["user_principal_name", "source"]).reset_index(drop=True)


def plan_usage(plans: pd.DataFrame, licenses: pd.DataFrame, sku_id: str) -> pd.DataFrame:
    """Each service plan of a SKU and how many holders have it switched off.

    A plan counts as disabled for a holder only when every assignment through which the holder
    holds the SKU disables it: a user with the plan off in a group but on in a direct assignment
    still has the plan. ``disabled_plans`` is as ``analysis.disabled_plans`` keeps it.

    Returns:
        ``service_plan_name``, ``provisioning_status``, ``holders``, ``disabled_for``,
        ``enabled_for`` and ``service_plan_id``.
    """
    sku_plans = plans[plans["sku_id"] == sku_id]
    held = licenses[(licenses["sku_id"] == sku_id) & licenses["state"].isin(HELD_STATES)]
    off_sets: dict[str, frozenset[str]] = {}
    for user, plans_text in zip(held["user_id"].tolist(), held["disabled_plans"].tolist(), strict=True):
        off = split_plan_ids(plans_text)
        previous = off_sets.get(user)
        off_sets[user] = off if previous is None else previous & off
    holders = len(off_sets)
    disabled = [
        sum(1 for off in off_sets.values() if off is not None and plan in off)
        for plan in sku_plans["service_plan_id"]
    ]
    out = pd.DataFrame(
        {
            "service_plan_name": sku_plans["service_plan_name"].to_numpy(),
            "provisioning_status": sku_plans["provisioning_status"].to_numpy(),
            "holders": holders,
            "disabled_for": pd.array(disabled, dtype="int64"),
            "service_plan_id": sku_plans["service_plan_id"].to_numpy(),
        }
    )
    out["enabled_for"] = out["holders"] - out["disabled_for"]
    columns = [
        "service_plan_name", "provisioning_status", "holders", "disabled_for", "enabled_for", "service_plan_id",
    ]  # fmt: skip
    return out[columns].sort_values("service_plan_name").reset_index(drop=True)
