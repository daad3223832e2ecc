"""Loading for the dashboard: the only module with ``st.cache_*``.

Every cached loader takes the store path and a snapshot id (two for comparisons), so a new
snapshot is a new cache key and stale numbers cannot be served after a collection. The snapshot
ids themselves are read uncached: they are the keys. Caches are bounded (``ttl``, ``max_entries``)
and cleared after "Collect now". Callers get their own copy of each cached frame (st.cache_data
pickles), so nothing here is shared mutable state. The few frames with a row per held seat are
kept as objects instead (``st.cache_resource``): pickling them costs up to a second per miss and
half a second per hit. Their loaders hand each caller a shallow copy, and pandas' copy-on-write
keeps a caller's edits out of the cached frame.

The price book, thresholds and reclaim exemptions change without a new snapshot (edited here or
by ``license-desk prices import``). They are small and read uncached; what is computed from them
is cached under a ``version`` of their content, so an edit made anywhere is a new cache key, and
the dashboard's own edits also clear those caches at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from actions.apply import ApplyResult, ChangeResult, apply_plan
from actions.plan import Plan
from analysis.chargeback import chargeback_views
from analysis.costs import sku_costs, snapshot_date
from analysis.group_errors import PER_MEMBER_LICENCES, explain_errors
from analysis.holders import seat_holders
from analysis.inactive import reclaimable_activity, reclaimable_per_sku, user_activity
from analysis.labels import group_names, sku_names
from analysis.pricebook import PriceRow, SkuIndex, price_book_changes
from analysis.reclaim import reclaim_candidates
from analysis.renewals import subscription_terms
from analysis.seats import seat_table
from analysis.skus import plan_usage, sku_holders
from analysis.users import options, user_table
from collectors.graph import GraphClient
from collectors.runner import run_collection
from dashboard import usage_loaders
from dashboard.access import Role
from dashboard.signin import require_role
from licensedesk.config import DEFAULT_STORE, Settings, load_settings
from licensedesk.errors import ConfigError
from store import catalog, history, prices, queries
from store.audit import audit_entries
from store.db import open_store, store_exists
from store.snapshots import SnapshotSummary

_TTL = 3600
_ENTRIES = 16
# Copy-on-write is how pandas 3 always works; before it, a shallow copy shares its values.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3


def _own(frame: pd.DataFrame) -> pd.DataFrame:
    """A caller's own view of a frame cached as an object: edits to it never reach the cache."""
    return frame.copy(deep=not _COPY_ON_WRITE)


def store_path() -> str:
    """The store the dashboard reads (``LICENSE_DESK_STORE``, else the default)."""
    return os.environ.get("LICENSE_DESK_STORE") or DEFAULT_STORE


def settings() -> tuple[Settings | None, str | None]:
    """The configuration, or None and the one-sentence reason it is invalid."""
    try:
        return load_settings(), None
    except ConfigError as exc:
        return None, str(exc)


def inactive_days() -> int:
    """``LICENSE_DESK_INACTIVE_DAYS`` (default 90; also when the configuration is invalid)."""
    loaded, _ = settings()
    return loaded.inactive_days if loaded else Settings().inactive_days


def snapshot_ids(path: str) -> list[int]:
    """Complete snapshot ids, oldest first; [] when there is no store yet (uncached: cache keys)."""
    if not store_exists(path):
        return []
    with open_store(path, readonly=True) as store:
        return queries.complete_snapshot_ids(store)


def latest_snapshot(path: str) -> int | None:
    """The latest complete snapshot id, or None."""
    ids = snapshot_ids(path)
    return ids[-1] if ids else None


def latest_attempt(path: str) -> int | None:
    """The newest snapshot attempt of any status (the key of the snapshot list)."""
    if not store_exists(path):
        return None
    with open_store(path, readonly=True) as store:
        return history.latest_attempt(store)


def _read(path: str, reader: Callable[..., Any], *args: Any) -> Any:
    with open_store(path, readonly=True) as store:
        return reader(store, *args)


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def snapshot_info(path: str, snapshot_id: int) -> dict[str, Any]:
    return dict(_read(path, queries.snapshot_info, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def snapshots(path: str, snapshot_id: int) -> pd.DataFrame:
    """Every snapshot attempt; ``snapshot_id`` is the newest attempt's id (the cache key)."""
    return pd.DataFrame(_read(path, queries.snapshots))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_counts(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.sku_counts, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def seats(path: str, snapshot_id: int) -> pd.DataFrame:
    """``seat_table`` of a snapshot (cached: every page starts from it)."""
    return seat_table(sku_counts(path, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def service_plans(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.service_plans, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def subscriptions(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.subscriptions, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def users(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.users, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def user_licenses(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.user_licenses, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def license_states(path: str, snapshot_id: int) -> pd.DataFrame:
    """``store.queries.license_states``: every assignment, narrow and unordered (the user table and
    its filters), about half the cost of ``user_licenses``."""
    return pd.DataFrame(_read(path, queries.license_states, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def user_licenses_of_user(path: str, snapshot_id: int, user_id: str) -> pd.DataFrame:
    """``user_licenses`` rows of one user (the user picked on Users)."""
    return pd.DataFrame(_read(path, partial(queries.user_licenses_of, user_id=user_id), snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_licenses(path: str, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``user_licenses`` rows of one SKU (SKU detail), a fraction of every licence."""
    return pd.DataFrame(_read(path, partial(queries.user_licenses_of, sku_id=sku_id), snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_users(path: str, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``users`` rows of the users with an assignment of one SKU (SKU detail)."""
    return pd.DataFrame(_read(path, queries.users_holding, snapshot_id, sku_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_holder_table(path: str, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``analysis.skus.sku_holders`` of one SKU (cached: tens of thousands of rows for a big SKU)."""
    return sku_holders(
        sku_licenses(path, snapshot_id, sku_id),
        sku_users(path, snapshot_id, sku_id),
        sku_id,
        group_names(licensed_groups(path, snapshot_id)),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_plan_usage(path: str, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``analysis.skus.plan_usage`` of one SKU (cached, as ``sku_holder_table``)."""
    return plan_usage(service_plans(path, snapshot_id), sku_licenses(path, snapshot_id, sku_id), sku_id)


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def held_licenses(path: str, snapshot_id: int) -> pd.DataFrame:
    """``store.queries.held_licenses``: the assignments holding seats, what the seat holders and
    reclaim candidates need (half the columns of ``user_licenses``, unsorted)."""
    return pd.DataFrame(_read(path, queries.held_licenses, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def licensed_groups(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.licensed_groups, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def group_errors(path: str, snapshot_id: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, queries.group_errors, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def error_members(path: str, snapshot_id: int) -> pd.DataFrame:
    """``store.queries.error_members``: who is in which group-licence error, without names (what
    the Overview and Trends count, read from the errors' own index)."""
    return pd.DataFrame(_read(path, queries.error_members, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def activity(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``user_activity`` as of the snapshot's own time (cached: it touches every user)."""
    info = snapshot_info(path, snapshot_id)
    return user_activity(
        users(path, snapshot_id),
        now=pd.Timestamp(info["started_at"]),
        inactive_days=days,
        signin_available=bool(info["signin_available"]),
    )


def _counted_skus(path: str, snapshot_id: int) -> list[str]:
    """The SKUs that count as seats (reclaiming the others saves nothing)."""
    table = seats(path, snapshot_id)
    return [str(s) for s in table.loc[table["counts_as_unused"].astype(bool), "sku_id"].tolist()]


def _narrow_activity(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``user_activity`` from the five user columns it reads (``queries.activity_inputs``), not
    every column of every user; uncached: each caller caches what it computes from it."""
    info = snapshot_info(path, snapshot_id)
    return user_activity(
        pd.DataFrame(_read(path, queries.activity_inputs, snapshot_id)),
        now=pd.Timestamp(info["started_at"]),
        inactive_days=days,
        signin_available=bool(info["signin_available"]),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def reclaim_activity(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``analysis.inactive.reclaimable_activity``: the Overview's reclaimable seats, counted from
    one row per user (seats held, in SQL) and five user columns, not every assignment and user."""
    counted = _counted_skus(path, snapshot_id)
    return reclaimable_activity(
        pd.DataFrame(_read(path, queries.held_seat_counts, snapshot_id, counted)),
        _narrow_activity(path, snapshot_id, days),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def reclaimable_by_sku(path: str, snapshot_id: int, days: int, sku_ids: tuple[str, ...]) -> dict[str, int]:
    """``reclaim_by_sku(reclaimable_seats(...))`` restricted to ``sku_ids`` (Group errors: the SKUs
    members wait for), from those SKUs' held (user, SKU) pairs and five user columns instead of
    every held seat joined with its holder."""
    counted = set(_counted_skus(path, snapshot_id))
    wanted = [s for s in sku_ids if s in counted]
    if not wanted:
        return {}
    return reclaimable_per_sku(
        pd.DataFrame(_read(path, queries.held_seat_pairs, snapshot_id, wanted)),
        _narrow_activity(path, snapshot_id, days),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def departments(path: str, snapshot_id: int) -> list[str]:
    """``analysis.users.options(users, "department")``: the department picker's options, from the
    distinct departments in SQL rather than every user."""
    return options(pd.DataFrame(_read(path, queries.departments, snapshot_id)), "department")


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def error_member_departments(path: str, snapshot_id: int) -> pd.DataFrame:
    """``store.queries.error_member_departments``: the departments of the users in error, what
    filtering them by department reads (instead of every user)."""
    return pd.DataFrame(_read(path, queries.error_member_departments, snapshot_id))


def users_table(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``analysis.users.user_table`` of a snapshot (cached: one row per user, built from every licence)."""
    return _own(_users_table(path, snapshot_id, days))


@st.cache_resource(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def _users_table(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    return user_table(
        users(path, snapshot_id),
        license_states(path, snapshot_id),
        activity(path, snapshot_id, days),
        sku_names(seats(path, snapshot_id)),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def explained_errors(path: str, snapshot_id: int) -> pd.DataFrame:
    """``analysis.group_errors.explain_errors`` of a snapshot."""
    return explain_errors(
        group_errors(path, snapshot_id),
        # Only the licences of members in the errors explained from them are ever read.
        pd.DataFrame(_read(path, queries.licenses_of_users_in_error, snapshot_id, PER_MEMBER_LICENCES)),
        seats(path, snapshot_id),
        service_plans(path, snapshot_id),
        licensed_groups(path, snapshot_id),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_history(path: str, snapshot_id: int) -> pd.DataFrame:
    """Seat counts of every complete snapshot up to now; ``snapshot_id`` (the latest) is the key."""
    return pd.DataFrame(_read(path, queries.sku_history))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def error_history(path: str, snapshot_id: int) -> pd.DataFrame:
    """Members in error per snapshot and kind; ``snapshot_id`` (the latest) is the key."""
    return pd.DataFrame(_read(path, history.error_history))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def license_changes(path: str, before: int, after: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, history.license_changes, before, after))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def user_changes(path: str, before: int, after: int) -> pd.DataFrame:
    return pd.DataFrame(_read(path, history.user_changes, before, after))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def catalog_status(path: str, snapshot_id: int) -> dict[str, Any]:
    return dict(_read(path, catalog.catalog_status))


def holders(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``analysis.holders.seat_holders`` as of the snapshot's own time: every held seat and its holder."""
    return _own(_holders(path, snapshot_id, days))


@st.cache_resource(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def _holders(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    info = snapshot_info(path, snapshot_id)
    return seat_holders(
        # Not the cached ``users``: Reclaim and Costs need no other column nor its order.
        pd.DataFrame(_read(path, queries.holder_inputs, snapshot_id)),
        held_licenses(path, snapshot_id),
        now=pd.Timestamp(info["started_at"]),
        inactive_days=days,
        signin_available=bool(info["signin_available"]),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def terms(path: str, snapshot_id: int) -> pd.DataFrame:
    """``analysis.renewals.subscription_terms`` of a snapshot (terms settled by the renewals seen so far)."""
    info = snapshot_info(path, snapshot_id)
    return subscription_terms(
        subscriptions(path, snapshot_id),
        _read(path, prices.subscription_lifecycles),
        now=pd.Timestamp(info["started_at"]),
    )


def price_book(path: str) -> pd.DataFrame:
    """The whole price book, every effective date (uncached: small, and edited without a new snapshot)."""
    return pd.DataFrame(_read(path, prices.load_prices))


def thresholds(path: str) -> pd.DataFrame:
    """Per-SKU alert thresholds (uncached, as the price book)."""
    return pd.DataFrame(_read(path, prices.load_thresholds))


def exemptions(path: str) -> pd.DataFrame:
    """Reclaim exemptions (uncached, as the price book)."""
    return pd.DataFrame(_read(path, prices.load_exemptions))


def sku_index(path: str) -> SkuIndex:
    """What a price's ``sku`` cell may name: the latest snapshot's SKUs, the catalog's, the priced ones."""
    index: SkuIndex = _read(path, prices.sku_index)
    return index


def version(frame: pd.DataFrame) -> str:
    """A fingerprint of a small table's content: the cache key of what is computed from it."""
    digest = pd.util.hash_pandas_object(frame.astype(str), index=False).sum() if len(frame) else 0
    return f"{len(frame)}:{int(digest):x}"


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def costs(path: str, snapshot_id: int, days: int, basis: str, prices_version: str) -> pd.DataFrame:
    """``analysis.costs.sku_costs`` of a snapshot per ``basis`` (``month``/``year``) at the prices
    in force on its date; ``prices_version`` is ``version(price_book(path))``, the key."""
    info = snapshot_info(path, snapshot_id)
    return sku_costs(
        seats(path, snapshot_id),
        price_book(path),
        holders(path, snapshot_id, days),
        subscriptions(path, snapshot_id),
        on=snapshot_date(str(info["started_at"])),
        basis=basis,
        signin_available=bool(info["signin_available"]),
        unused=usage_loaders.unused(path, snapshot_id, days, _holders(path, snapshot_id, days)),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def chargeback(
    path: str, snapshot_id: int, days: int, basis: str, prices_version: str
) -> dict[str, pd.DataFrame]:
    """``analysis.chargeback.chargeback_views``: sheet title -> cost per department, company, usage location."""
    return chargeback_views(
        holders(path, snapshot_id, days), costs(path, snapshot_id, days, basis, prices_version), basis=basis
    )


def candidates(path: str, snapshot_id: int, days: int, exemptions_version: str) -> pd.DataFrame:
    """``analysis.reclaim.reclaim_candidates`` of a snapshot, exempt rows included (flagged);
    ``exemptions_version`` is ``version(exemptions(path))``, the key."""
    return _own(_candidates(path, snapshot_id, days, exemptions_version))


@st.cache_resource(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def _candidates(path: str, snapshot_id: int, days: int, exemptions_version: str) -> pd.DataFrame:
    info = snapshot_info(path, snapshot_id)
    return reclaim_candidates(
        holders(path, snapshot_id, days),
        held_licenses(path, snapshot_id),
        seats(path, snapshot_id),
        service_plans(path, snapshot_id),
        exemptions(path),
        licensed_groups(path, snapshot_id),
        now=pd.Timestamp(info["started_at"]),
        inactive_days=days,
        include_exempt=True,
        usage=usage_loaders.usage(path, snapshot_id),
    )


def _write(path: str, writer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with open_store(path, create=False) as store:
        return writer(store, *args, **kwargs)


def _forget_finance() -> None:
    # What the edited tables feed; snapshot loaders stay cached (a snapshot never changes).
    for loader in (costs, chargeback, _candidates):
        loader.clear()


def save_price_book(path: str, rows: Sequence[PriceRow]) -> tuple[int, int]:
    """Make ``rows`` (the whole edited book, validated) the price book in one transaction: changed and
    new rows are saved with source "dashboard", removed ones deleted, unchanged ones left alone.

    Returns:
        (rows written, rows removed).
    """
    save, delete = price_book_changes(price_book(path), rows)
    try:
        return (
            (0, 0)
            if not save and not delete
            else _write(path, prices.edit_prices, save, delete, source="dashboard")
        )
    finally:
        _forget_finance()


def import_prices(path: str, rows: Sequence[PriceRow], *, replace: bool, source: str) -> tuple[int, int]:
    """Write an imported price-book CSV's rows (validated) in one transaction; (written, removed)."""
    try:
        written, removed = _write(path, prices.save_prices, rows, replace=replace, source=source)
    finally:
        _forget_finance()
    return int(written), int(removed)


def save_thresholds(path: str, changes: Iterable[Mapping[str, Any]]) -> int:
    """Set several SKUs' thresholds (all or none).

    Raises:
        licensedesk.errors.InputError: a bad value (one sentence each); nothing was written.
    """
    return int(_write(path, prices.save_thresholds, changes))


def add_exemption(path: str, kind: str, target: str, *, note: str, label: str | None) -> None:
    """Exempt a user or a SKU from reclaim.

    Raises:
        licensedesk.errors.InputError: no note, no target, or an unknown kind.
    """
    try:
        _write(path, prices.add_exemption, kind, target, note=note, label=label)
    finally:
        _forget_finance()


def remove_exemption(path: str, kind: str, target: str) -> bool:
    """Remove one exemption; True when there was one."""
    try:
        return bool(_write(path, prices.remove_exemption, kind, target))
    finally:
        _forget_finance()


def clear_caches() -> None:
    """Forget every cached read (after a collection, so the new snapshot shows at once)."""
    st.cache_data.clear()
    st.cache_resource.clear()


def collect(settings_: Settings, progress: Callable[[Any], None]) -> SnapshotSummary:
    """Take one snapshot now (``license-desk collect``), then clear the caches. Admins only:
    checked here, not only by hiding the button.

    Raises:
        dashboard.access.AccessDenied: this session's person is not an admin; nothing was called.
        licensedesk.errors.LicenseDeskError: the collection failed; nothing was published.
    """
    require_role(Role.ADMIN, "Collecting now")
    try:
        return run_collection(settings_, progress=progress)
    finally:
        clear_caches()


def audit_log(path: str) -> pd.DataFrame:
    """The audit log, newest first (uncached: it changes with every applied plan)."""
    if not store_exists(path):
        return pd.DataFrame(columns=["status", "action", "actor"])
    return _read(path, audit_entries)


def apply(
    plan: Plan, settings_: Settings, *, actor: str, on_result: Callable[[ChangeResult], None]
) -> ApplyResult:
    """Apply a plan (audited per change), then take a fresh snapshot and clear the caches.

    Raises:
        licensedesk.errors.LicenseDeskError: refused before sending (writes off, live seats short).
    """
    with open_store(settings_.store) as store:
        writer = GraphClient(settings_, identity="write")  # the live seat re-check and the writes
        result = apply_plan(plan, settings=settings_, client=writer, store=store, actor=actor,
                            on_result=on_result)  # fmt: skip
    try:
        run_collection(settings_)
    finally:
        clear_caches()
    return result
