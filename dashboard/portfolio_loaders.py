"""The Portfolio page's read: every visible tenant's inputs (``store.portfolio``), cached.

Each tenant's figures come from its own store's latest complete snapshot, so reading them all is
one store open per tenant: cached for ``_TTL`` seconds under the tenants asked for and the
registry's record of their last collections (a ``collect --all`` changes it, so its new snapshots
show at once), and cleared by "Collect now" as every cache is.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analysis.portfolio import TenantInputs
from dashboard.connection import read
from licensedesk.tenants import TenantEntry
from store.db import Store
from store.portfolio import portfolio_inputs
from store.tenants import load_tenants

_TTL = 300


def _last_runs(store: Store) -> tuple[tuple[str, str | None], ...]:
    frame = load_tenants(store)
    return tuple(zip(frame["tenant_id"], frame["last_run_at"].astype(object), strict=True))


@st.cache_data(ttl=_TTL, max_entries=8, show_spinner=False)
def _inputs(
    registry: str, tenant_ids: tuple[str, ...], inactive_days: int, runs: tuple[tuple[str, str | None], ...]
) -> list[TenantInputs]:
    del runs  # only a cache key
    found: list[TenantInputs] = read(
        registry, portfolio_inputs, registry, inactive_days=inactive_days, tenant_ids=tenant_ids
    )
    return found


def portfolio(registry: str, tenants: Sequence[TenantEntry], inactive_days: int) -> list[TenantInputs]:
    """``store.portfolio.portfolio_inputs`` of ``tenants`` only (those the person may see)."""
    runs = read(registry, _last_runs)
    return _inputs(registry, tuple(t.tenant_id for t in tenants), inactive_days, runs)
