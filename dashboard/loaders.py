"""The dashboard's reads: every ``st.cache_data`` and cached frame; nothing here writes.

Every cached loader takes the store path and a snapshot id (two for comparisons), so a new
snapshot is a new cache key and stale numbers cannot be served after a collection. The snapshot
ids themselves are read uncached: they are the keys. Caches are bounded (``ttl``, ``max_entries``)
and cleared after "Collect now" (``dashboard.services``). Callers get their own copy of each
cached frame (st.cache_data pickles), so nothing here is shared mutable state. The few frames with
a row per held seat are kept as objects instead (``st.cache_resource``): pickling them costs up to
a second per miss and half a second per hit. Their loaders hand each caller a shallow copy, and
pandas' copy-on-write keeps a caller's edits out of the cached frame.

The loaders that are one named query of ``store`` are generated from it (``_per_snapshot``,
``_keyed``); the others compute from loaded frames with ``analysis``. Every read goes through
``dashboard.connection``'s one read-only connection per store.

The price book, thresholds and reclaim exemptions change without a new snapshot (edited on Costs
and Reclaim, or by ``license-desk prices import``). They are small and read uncached; what is
computed from them is cached under a ``version`` of their content, so an edit made anywhere is a
new cache key, and the dashboard's own edits also clear those caches at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import pandas as pd
import streamlit as st

from analysis.chargeback import chargeback_views
from analysis.costs import sku_costs, snapshot_date
from analysis.group_errors import PER_MEMBER_LICENCES, explain_errors
from analysis.holders import seat_holders
from analysis.inactive import reclaimable_activity, reclaimable_per_sku, user_activity
from analysis.labels import group_names, sku_names
from analysis.pricebook import SkuIndex
from analysis.reclaim import reclaim_candidates
from analysis.renewals import subscription_terms
from analysis.seats import seat_table
from analysis.skus import plan_usage, sku_holders
from analysis.users import options, user_table
from dashboard import usage_loaders
from dashboard.connection import read
from store import catalog, history, prices, queries
from store.audit import audit_entries
from store.db import Store, store_exists

_TTL = 3600
_ENTRIES = 16
# Copy-on-write is how pandas 3 always works; before it, a shallow copy shares its values.
_COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

P = ParamSpec("P")
R = TypeVar("R")


def _cached(load: Callable[P, R], name: str, doc: str | None) -> Callable[P, R]:
    # st.cache_data keys a function by its module, qualified name and source: every generated
    # loader shares one source, so its own name is what keeps its cache apart.
    load.__name__ = load.__qualname__ = name
    load.__doc__ = doc
    return st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)(load)


def _per_snapshot(
    query: Callable[Concatenate[Store, P], R], name: str | None = None
) -> Callable[Concatenate[str, P], R]:
    """A cached loader of ``query``: ``loader(path, *args)`` is ``query(store, *args)``, whose
    first arguments are snapshot ids (the keys)."""

    def load(path: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
        result: R = read(path, query, *args, **kwargs)
        return result

    return _cached(load, name or query.__name__, query.__doc__)


def _keyed(query: Callable[[Store], R], key: str) -> Callable[[str, int], R]:
    """A cached loader of a ``query`` over every snapshot: ``loader(path, snapshot_id)``, where
    ``snapshot_id`` (the latest, or the newest attempt) is only the cache key."""

    def load(path: str, snapshot_id: int, /) -> R:
        result: R = read(path, query)
        return result

    return _cached(load, query.__name__, f"{query.__doc__ or ''} (``snapshot_id`` is {key}, the key)")


def _own(frame: pd.DataFrame) -> pd.DataFrame:
    """A caller's own view of a frame cached as an object: edits to it never reach the cache."""
    return frame.copy(deep=not _COPY_ON_WRITE)


# -- the snapshot ids: uncached, they are the keys ------------------------------------------------
def snapshot_ids(path: str) -> list[int]:
    """Complete snapshot ids, oldest first; [] when there is no store yet (uncached: cache keys)."""
    if not store_exists(path):
        return []
    ids: list[int] = read(path, queries.complete_snapshot_ids)
    return ids


def latest_snapshot(path: str) -> int | None:
    """The latest complete snapshot id, or None."""
    ids = snapshot_ids(path)
    return ids[-1] if ids else None


def latest_attempt(path: str) -> int | None:
    """The newest snapshot attempt of any status (the key of the snapshot list)."""
    if not store_exists(path):
        return None
    attempt: int | None = read(path, history.latest_attempt)
    return attempt


# -- one named query each ---------------------------------------------------------------------------
snapshot_info = _per_snapshot(queries.snapshot_info)
sku_counts = _per_snapshot(queries.sku_counts)
service_plans = _per_snapshot(queries.service_plans)
subscriptions = _per_snapshot(queries.subscriptions)
users = _per_snapshot(queries.users)
user_licenses = _per_snapshot(queries.user_licenses)
license_states = _per_snapshot(queries.license_states)
# One user's licences (``user_id=``, Users) or one SKU's (``sku_id=``, SKU detail).
user_licenses_of = _per_snapshot(queries.user_licenses_of)
sku_users = _per_snapshot(queries.users_holding, "sku_users")
held_licenses = _per_snapshot(queries.held_licenses)
licensed_groups = _per_snapshot(queries.licensed_groups)
group_errors = _per_snapshot(queries.group_errors)
error_members = _per_snapshot(queries.error_members)
error_member_departments = _per_snapshot(queries.error_member_departments)
license_changes = _per_snapshot(history.license_changes)  # (path, before, after)
user_changes = _per_snapshot(history.user_changes)  # (path, before, after)
snapshots = _keyed(queries.snapshots, "the newest attempt's id")
sku_history = _keyed(queries.sku_history, "the latest complete snapshot")
error_history = _keyed(history.error_history, "the latest complete snapshot")
catalog_status = _keyed(catalog.catalog_status, "the latest complete snapshot")


# -- small tables edited without a new snapshot: uncached -------------------------------------------
def price_book(path: str) -> pd.DataFrame:
    """The whole price book, every effective date (uncached: small, and edited without a new snapshot)."""
    book: pd.DataFrame = read(path, prices.load_prices)
    return book


def thresholds(path: str) -> pd.DataFrame:
    """Per-SKU alert thresholds (uncached, as the price book)."""
    limits: pd.DataFrame = read(path, prices.load_thresholds)
    return limits


def exemptions(path: str) -> pd.DataFrame:
    """Reclaim exemptions (uncached, as the price book)."""
    exempt: pd.DataFrame = read(path, prices.load_exemptions)
    return exempt


def sku_index(path: str) -> SkuIndex:
    """What a price's ``sku`` cell may name: the latest snapshot's SKUs, the catalog's, the priced ones."""
    index: SkuIndex = read(path, prices.sku_index)
    return index


def audit_log(path: str) -> pd.DataFrame:
    """The audit log, newest first (uncached: it changes with every applied plan)."""
    if not store_exists(path):
        return pd.DataFrame(columns=["status", "action", "actor"])
    log: pd.DataFrame = read(path, audit_entries)
    return log


def version(frame: pd.DataFrame) -> str:
    """A fingerprint of a small table's content: the cache key of what is computed from it."""
    digest = pd.util.hash_pandas_object(frame.astype(str), index=False).sum() if len(frame) else 0
    return f"{len(frame)}:{int(digest):x}"


# -- computed from loaded frames --------------------------------------------------------------------
@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def seats(path: str, snapshot_id: int) -> pd.DataFrame:
    """``seat_table`` of a snapshot (cached: every page starts from it)."""
    return seat_table(sku_counts(path, snapshot_id))


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_holder_table(path: str, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``analysis.skus.sku_holders`` of one SKU (cached: tens of thousands of rows for a big SKU)."""
    return sku_holders(
        user_licenses_of(path, snapshot_id, sku_id=sku_id),
        sku_users(path, snapshot_id, sku_id),
        sku_id,
        group_names(licensed_groups(path, snapshot_id)),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def sku_plan_usage(path: str, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``analysis.skus.plan_usage`` of one SKU (cached, as ``sku_holder_table``)."""
    return plan_usage(
        service_plans(path, snapshot_id), user_licenses_of(path, snapshot_id, sku_id=sku_id), sku_id
    )


def _activity_of(path: str, snapshot_id: int, frame: pd.DataFrame, days: int) -> pd.DataFrame:
    """``user_activity`` of some user columns as of the snapshot's own time."""
    info = snapshot_info(path, snapshot_id)
    return user_activity(
        frame,
        now=pd.Timestamp(info["started_at"]),
        inactive_days=days,
        signin_available=bool(info["signin_available"]),
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def activity(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``user_activity`` as of the snapshot's own time (cached: it touches every user)."""
    return _activity_of(path, snapshot_id, users(path, snapshot_id), days)


def _counted_skus(path: str, snapshot_id: int) -> list[str]:
    """The SKUs that count as seats (reclaiming the others saves nothing)."""
    table = seats(path, snapshot_id)
    return [str(s) for s in table.loc[table["counts_as_unused"].astype(bool), "sku_id"].tolist()]


def _narrow_activity(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``user_activity`` from the five user columns it reads (``queries.activity_inputs``), not
    every column of every user; uncached: each caller caches what it computes from it."""
    return _activity_of(path, snapshot_id, read(path, queries.activity_inputs, snapshot_id), days)


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def reclaim_activity(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``analysis.inactive.reclaimable_activity``: the Overview's reclaimable seats, counted from
    one row per user (seats held, in SQL) and five user columns, not every assignment and user."""
    counted = _counted_skus(path, snapshot_id)
    return reclaimable_activity(
        read(path, queries.held_seat_counts, snapshot_id, counted), _narrow_activity(path, snapshot_id, days)
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
        read(path, queries.held_seat_pairs, snapshot_id, wanted), _narrow_activity(path, snapshot_id, days)
    )


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def departments(path: str, snapshot_id: int) -> list[str]:
    """``analysis.users.options(users, "department")``: the department picker's options, from the
    distinct departments in SQL rather than every user."""
    return options(read(path, queries.departments, snapshot_id), "department")


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
        read(path, queries.licenses_of_users_in_error, snapshot_id, PER_MEMBER_LICENCES),
        seats(path, snapshot_id),
        service_plans(path, snapshot_id),
        licensed_groups(path, snapshot_id),
    )


def holders(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    """``analysis.holders.seat_holders`` as of the snapshot's own time: every held seat and its holder."""
    return _own(_holders(path, snapshot_id, days))


@st.cache_resource(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def _holders(path: str, snapshot_id: int, days: int) -> pd.DataFrame:
    info = snapshot_info(path, snapshot_id)
    return seat_holders(
        # Not the cached ``users``: Reclaim and Costs need no other column nor its order.
        read(path, queries.holder_inputs, snapshot_id),
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
        read(path, prices.subscription_lifecycles),
        now=pd.Timestamp(info["started_at"]),
    )


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


def forget_finance() -> None:
    """Forget what the price book and exemptions feed (after an edit); snapshot loaders stay cached,
    as a snapshot never changes."""
    for loader in (costs, chargeback, _candidates):
        loader.clear()
