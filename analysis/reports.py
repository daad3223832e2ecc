"""The rows of ``license-desk report``: contract-shaped, snake_case, one definition for CLI and UI.

Pure pandas. Keys listed in DESIGN §8 are a contract: scripts outside this code rely on them.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

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
    return value is None or (isinstance(value, float) and math.isnan(value))
