"""Names people read: SKU names, group names, and where a licence comes from.

Every page says "via group X" and "Microsoft 365 E3" the same way because they all use these.
Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

DIRECT = "Direct"


def sku_names(*seat_tables: pd.DataFrame) -> dict[str, str]:
    """skuId -> display name from one or more ``seat_table`` outputs (later tables win)."""
    names: dict[str, str] = {}
    for table in seat_tables:
        names.update({str(k): str(v) for k, v in zip(table["sku_id"], table["name"], strict=True)})
    return names


def group_names(*groups: pd.DataFrame) -> dict[str, str]:
    """Group id -> display name from ``licensed_groups`` frames (later frames win; the id itself
    when a group has no name)."""
    out: dict[str, str] = {}
    for frame in groups:
        for gid, name in zip(frame["group_id"], frame["group_name"], strict=True):
            out[str(gid)] = str(name) if isinstance(name, str) and name else str(gid)
    return out


def source_label(group_id: str, names: Mapping[str, str]) -> str:
    """'Direct' for a direct assignment, else 'via <group name>'."""
    if not group_id:
        return DIRECT
    return f"via {names.get(group_id, group_id)}"


def sku_label(sku_id: str, names: Mapping[str, str]) -> str:
    """A SKU's display name, or its id when the snapshot does not list it."""
    return names.get(sku_id, sku_id)


def assignment_text(state: str, error: str) -> str:
    """'Active' or 'Error (CountViolation)'."""
    return f"{state} ({error})" if error else state


# Column labels people read in tables; any other snake_case key reads as words ("job_title" ->
# "Job title"). JSON and CSV keep the keys: scripts rely on them (DESIGN §8).
_LABELS = {
    "id": "ID", "sku": "SKU", "sku_id": "SKU ID", "sku_part_number": "Part number", "name": "Name", "sku_name": "SKU",
    "user_principal_name": "User", "display_name": "Name", "user_id": "User ID", "group_id": "Group ID",
    "group_name": "Group", "tenant_id": "Tenant ID", "plan_id": "Plan", "subscription_id": "Subscription ID",
    "commerce_subscription_id": "Commerce subscription ID", "other_sku_id": "Covering SKU ID",
    "other_sku": "Covering SKU", "consumed": "Assigned", "available": "Available", "utilization": "Used",
    "counts_as_unused": "Counts as seats", "known": "In catalog", "users_in_store": "Users holding it",
    "capability_status": "Status", "locked_out": "Locked out", "account_enabled": "Enabled",
    "usage_location": "Country", "last_sign_in": "Last sign-in", "created_at": "Created",
    "next_lifecycle_at": "Next lifecycle date", "is_trial": "Trial", "total_licenses": "Seats",
    "http_status": "HTTP status", "request_id": "Request ID", "skus": "SKUs", "sku_ids": "SKU IDs", "sku_part_numbers": "SKUs assigned", "free": "Free or viral",
    "unpriced_skus": "SKUs without a price", "members_in_error": "Members in error", "frees_seat": "Frees a seat",
    "days_left": "Days left", "monthly_cost": "Monthly cost", "term_cost": "Term cost",
    "free_seats": "Free seats", "droppable_seats": "Seats to drop", "annual_saving": "Annual saving",
    "seats_to_free": "Seats to free",
}  # fmt: skip
_PERIODS = {"_monthly": " per month", "_annual": " per year"}


def table_labels(columns: Iterable[str]) -> dict[str, str]:
    """Column key -> the label a table shows: ``sku_part_number`` -> "Part number", ``job_title`` ->
    "Job title", ``waste_cost_monthly`` -> "Waste cost per month"."""
    return {column: _LABELS.get(column) or _words(column) for column in columns}


def _words(key: str) -> str:
    for suffix, words in _PERIODS.items():
        if key.endswith(suffix):
            return _words(key.removesuffix(suffix)) + words
    return key.replace("_", " ").capitalize()
