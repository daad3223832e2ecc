"""What the dashboard changes: "Collect now", applying a plan, and edits to the price book,
thresholds and reclaim exemptions; each one then forgets the cached reads it made stale.

Every action takes its store from ``dashboard.settings``, as the pages do, so a page and the
action it offers name the same store (the chosen tenant's, when tenants are registered; its
collections are then recorded on the registry, as ``collect --all`` records them). Writes open a connection of their own
(``dashboard.connection.write``); ``dashboard.loaders`` never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import streamlit as st

from actions.apply import ApplyResult, ChangeResult, apply_plan
from actions.plan import Plan
from analysis.pricebook import PriceRow, price_book_changes
from collectors.graph import GraphClient
from collectors.runner import run_collection
from dashboard.access import Role
from dashboard.connection import write
from dashboard.loaders import forget_finance, price_book
from dashboard.settings import current_tenant, registry_path
from dashboard.signin import require_role
from licensedesk.config import Settings
from licensedesk.errors import ConfigError, LicenseDeskError, redact
from licensedesk.tenants import TenantEntry
from store import prices
from store.db import open_store, utcnow
from store.snapshots import SnapshotSummary
from store.tenants import prepare_tenant_store, record_outcome, tenant_store


def save_price_book(path: str, rows: Sequence[PriceRow]) -> tuple[int, int]:
    """Make ``rows`` (the whole edited book, validated) the price book in one transaction: changed and
    new rows are saved with source "dashboard", removed ones deleted, unchanged ones left alone.

    Returns:
        (rows written, rows removed).
    """
    save, delete = price_book_changes(price_book(path), rows)
    try:
        if not save and not delete:
            return 0, 0
        written, removed = write(path, prices.edit_prices, save, delete, source="dashboard")
        return int(written), int(removed)
    finally:
        forget_finance()


def import_prices(path: str, rows: Sequence[PriceRow], *, replace: bool, source: str) -> tuple[int, int]:
    """Write an imported price-book CSV's rows (validated) in one transaction; (written, removed)."""
    try:
        written, removed = write(path, prices.save_prices, rows, replace=replace, source=source)
    finally:
        forget_finance()
    return int(written), int(removed)


def save_thresholds(path: str, changes: Iterable[Mapping[str, Any]]) -> int:
    """Set several SKUs' thresholds (all or none).

    Raises:
        licensedesk.errors.InputError: a bad value (one sentence each); nothing was written.
    """
    return int(write(path, prices.save_thresholds, changes))


def add_exemption(path: str, kind: str, target: str, *, note: str, label: str | None) -> None:
    """Exempt a user or a SKU from reclaim.

    Raises:
        licensedesk.errors.InputError: no note, no target, or an unknown kind.
    """
    try:
        write(path, prices.add_exemption, kind, target, note=note, label=label)
    finally:
        forget_finance()


def remove_exemption(path: str, kind: str, target: str) -> bool:
    """Remove one exemption; True when there was one."""
    try:
        return bool(write(path, prices.remove_exemption, kind, target))
    finally:
        forget_finance()


def clear_caches() -> None:
    """Forget every cached read (after a collection, so the new snapshot shows at once) and the
    shared connections (a collection may have upgraded the store's schema)."""
    st.cache_data.clear()
    st.cache_resource.clear()


def collect(settings: Settings, progress: Callable[[Any], None]) -> SnapshotSummary:
    """Take one snapshot now (``license-desk collect``) into ``settings.store``, then clear the
    caches. Admins only: checked here, not only by hiding the button.

    Raises:
        dashboard.access.AccessDenied: this session's person is not an admin; nothing was called.
        licensedesk.errors.LicenseDeskError: the collection failed; nothing was published.
    """
    require_role(Role.ADMIN, "Collecting now")
    try:
        return _collect(settings, progress)
    finally:
        clear_caches()


def _collect(settings: Settings, progress: Callable[[Any], None] | None = None) -> SnapshotSummary:
    """``run_collection`` into ``settings.store``; for a registered tenant, into its own store
    (its schema created first on PostgreSQL) and its outcome recorded on the registry."""
    entry = current_tenant()
    if entry is None:
        return run_collection(settings, progress=progress)
    registry = registry_path()
    _check_for(settings, entry, registry)
    with open_store(registry) as store:
        prepare_tenant_store(store, registry, entry.tenant_id)
    try:
        summary = run_collection(settings, progress=progress)
    except LicenseDeskError as exc:
        _record(registry, entry, None, redact(str(exc), *settings.secrets))
        raise
    _record(registry, entry, summary.snapshot_id, None)
    return summary


def _check_for(settings: Settings, entry: TenantEntry, registry: str) -> None:
    # The settings come from the same choice, so this only fails if the choice changed in between
    # (another tab): never collect one tenant's directory into another's store.
    if settings.tenant_id != entry.tenant_id or settings.store != tenant_store(registry, entry.tenant_id):
        raise ConfigError(
            f"The tenant shown changed to {entry.display_name} while acting; nothing was done. Try again."
        )


def _record(registry: str, entry: TenantEntry, snapshot_id: int | None, error: str | None) -> None:
    with open_store(registry) as store:
        record_outcome(store, entry.tenant_id, ran_at=utcnow(), snapshot_id=snapshot_id, error=error)


def apply(
    plan: Plan, settings: Settings, *, actor: str, on_result: Callable[[ChangeResult], None]
) -> ApplyResult:
    """Apply a plan (audited per change), then take a fresh snapshot and clear the caches.

    Raises:
        licensedesk.errors.LicenseDeskError: refused before sending (writes off, live seats short).
    """
    entry = current_tenant()
    if entry is not None:
        _check_for(settings, entry, registry_path())
    with open_store(settings.store) as store:
        writer = GraphClient(settings, identity="write")  # the live seat re-check and the writes
        result = apply_plan(plan, settings=settings, client=writer, store=store, actor=actor,
                            on_result=on_result)  # fmt: skip
    try:
        _collect(settings)
    finally:
        clear_caches()
    return result
