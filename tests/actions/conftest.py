"""Fixtures for applying plans: a simulated tenant with write permissions, collected into a real store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from analysis.seats import seat_table
from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store

WRITE = {
    "Organization.Read.All", "User.Read.All", "Group.Read.All", "AuditLog.Read.All", "Reports.Read.All",
    "LicenseAssignment.ReadWrite.All", "User.ReadWrite.All",
}  # fmt: skip


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


@pytest.fixture
def tenant(store_url: str) -> Iterator[tuple[GraphSimulator, Any]]:
    """A 300-user simulated tenant the app may write to, with one snapshot in ``store_url``."""
    with GraphSimulator(users=300, seed=4) as simulator:
        simulator.set_permissions(WRITE)
        settings = replace(simulator_settings(simulator, store_url), allow_writes=True)
        run_collection(settings)
        yield simulator, settings
