"""The portfolio's inputs: for each registered tenant, its registry row and the latest complete
snapshot of its own store (``store.tenants.tenant_store``), read as every single-tenant page
reads it. ``analysis.portfolio.portfolio_table`` makes the table of them.

A tenant never collected has no store (or one without a complete snapshot) and one whose store
cannot be read (a newer schema, a server gone): neither stops the others; each gets inputs
without a snapshot and a sentence saying why. Imports no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from analysis.costs import sku_costs, snapshot_date
from analysis.portfolio import NO_COMPLETE_SNAPSHOT, TenantInputs
from analysis.renewals import subscription_terms
from licensedesk.errors import StoreError
from store import queries
from store.db import Store, open_store, store_exists
from store.finance import finance_inputs
from store.prices import subscription_lifecycles
from store.tenants import load_tenants, tenant_store


def portfolio_inputs(
    registry: Store, location: str, *, inactive_days: int, tenant_ids: Sequence[str] | None = None,
    enabled_only: bool = False,
) -> list[TenantInputs]:  # fmt: skip
    """Inputs of every registered tenant (by display name), or of ``tenant_ids`` only.

    Args:
        registry: the configured store (which holds the registry).
        location: that store's location (``Settings.store``): where the tenants' stores are.
        inactive_days: ``Settings.inactive_days`` (who counts as inactive, for waste).
        tenant_ids: only these registered tenants (ids as in the registry); None for all.
        enabled_only: leave out tenants disabled in the registry.
    """
    rows = load_tenants(registry)
    wanted = None if tenant_ids is None else {t.lower() for t in tenant_ids}
    out = []
    for row in rows.to_dict(orient="records"):
        if (wanted is not None and row["tenant_id"] not in wanted) or (enabled_only and not row["enabled"]):
            continue
        base = TenantInputs(
            tenant_id=str(row["tenant_id"]), display_name=str(row["display_name"]), domain=_text(row["domain"]),
            enabled=bool(row["enabled"]), last_run_at=_text(row["last_run_at"]),
            last_status=_text(row["last_status"]), last_error=_text(row["last_error"]),
        )  # fmt: skip
        out.append(tenant_inputs(base, tenant_store(location, base.tenant_id), inactive_days=inactive_days))
    return out


def tenant_inputs(base: TenantInputs, location: str, *, inactive_days: int) -> TenantInputs:
    """``base`` (a registry row) with the latest complete snapshot of the store at ``location``."""
    try:
        if not store_exists(location):
            return base
        with open_store(location, readonly=True) as store:
            return _with_snapshot(base, store, inactive_days)
    except StoreError as exc:
        return replace(base, problem=f"Its store cannot be read: {exc}")


def _with_snapshot(base: TenantInputs, store: Store, inactive_days: int) -> TenantInputs:
    ids = queries.complete_snapshot_ids(store)
    if not ids:
        return replace(base, problem=NO_COMPLETE_SNAPSHOT)
    sid = ids[-1]
    info = queries.snapshot_info(store, sid)
    finance = finance_inputs(store, sid, inactive_days=inactive_days)
    costs = sku_costs(
        finance.seats, finance.prices, finance.holders, finance.subscriptions,
        on=snapshot_date(finance.started_at), basis="month", signin_available=finance.signin_available,
        unused=finance.unused,
    )  # fmt: skip
    terms = subscription_terms(
        finance.subscriptions, subscription_lifecycles(store), now=pd.Timestamp(finance.started_at)
    )
    return replace(
        base, snapshot_id=sid, collected_at=_text(info.get("finished_at")), seats=finance.seats, costs=costs,
        errors=queries.group_errors(store, sid), terms=terms,
    )  # fmt: skip


def _text(value: object) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
