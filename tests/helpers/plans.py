"""What the apply tests build plans from: the latest snapshot's tables, and who can get a licence."""

from __future__ import annotations

from typing import Any

from analysis.seats import seat_table
from store import queries
from store.db import open_store
from tests.helpers.graph_client import READ

__all__ = ["WRITE", "assignable", "plan_inputs"]

# The apply tests' app: the read app's permissions with the usage reports, and the two to write.
WRITE = READ | {"Reports.Read.All", "LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"}


def plan_inputs(store_url: str) -> tuple[Any, Any, Any]:
    """(seats, users, licences) of the latest snapshot, as the CLI builds plans from them."""
    with open_store(store_url) as store:
        sid = queries.resolve_snapshot(store)
        return (
            seat_table(queries.sku_counts(store, sid)),
            queries.users(store, sid),
            queries.user_licenses(store, sid),
        )


def assignable(users: Any, licenses: Any, sku_id: str) -> list[str]:
    """UPNs of enabled users with a usage location who do not hold ``sku_id``."""
    holders = set(licenses[licenses["sku_id"] == sku_id]["user_id"])
    pool = users[
        (~users["user_id"].isin(holders)) & users["usage_location"].notna() & (users["account_enabled"] == 1)
    ]
    return [str(u) for u in pool["user_principal_name"]]
