"""The tenants registry (migration 10), and where each registered tenant's own store is.

Why a store per tenant: a store's history (users and licences kept as intervals, "the latest
complete snapshot") is the history of one directory, and a snapshot of another tenant would close
every interval of the first. So the registry lives in the configured store, and each customer
tenant is collected into a store of its own beside it: ``<store>.tenants/<tenant id>.sqlite``
next to an SQLite store, or the schema ``tenant_<id>`` (after the store's own schema, if any) of the same PostgreSQL database (its
``search_path``), so N machines of a sharded collection share one database. Secrets never reach
the registry: only ``licensedesk.tenants``' references do. Imports no Streamlit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pandas as pd

from licensedesk.errors import InputError
from licensedesk.tenants import TenantEntry
from store.db import Store, utcnow
from store.locations import is_postgres, sqlite_path

COLUMNS = [
    "tenant_id", "display_name", "domain", "client_id", "credential", "enabled", "tags", "added_at",
    "last_run_at", "last_status", "last_snapshot_id", "last_error",
]  # fmt: skip


def save_tenant(store: Store, entry: TenantEntry) -> bool:
    """Add the tenant, or update it when it is registered already (then True); one transaction."""
    return save_tenants(store, [entry])[0]


def save_tenants(store: Store, entries: Sequence[TenantEntry]) -> list[bool]:
    """Add or update every entry in one transaction (all or none); True for each one updated."""
    updated = []
    with store.atomic() as tx:
        for e in entries:
            values = (
                e.display_name,
                e.domain,
                e.client_id,
                e.credential,
                int(e.enabled),
                json.dumps(list(e.tags)),
            )
            known = tx.execute("SELECT 1 FROM tenants WHERE tenant_id = ?", (e.tenant_id,)).fetchone()
            if known:
                tx.execute(
                    """UPDATE tenants SET display_name = ?, domain = ?, client_id = ?, credential = ?,
                           enabled = ?, tags = ? WHERE tenant_id = ?""",
                    (*values, e.tenant_id),
                )
            else:
                tx.execute(
                    """INSERT INTO tenants (display_name, domain, client_id, credential, enabled, tags,
                           tenant_id, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (*values, e.tenant_id, utcnow()),
                )
            updated.append(known is not None)
    return updated


def remove_tenant(store: Store, tenant_id: str) -> None:
    """Take a tenant off the registry (its own store, and its history, are left as they are).

    Raises:
        InputError: no such tenant is registered.
    """
    with store.atomic() as tx:
        gone = tx.execute("DELETE FROM tenants WHERE tenant_id = ?", (tenant_id.strip().lower(),)).rowcount
    if not gone:
        raise InputError(
            f"No tenant {tenant_id} is registered; `license-desk tenants list` shows those that are."
        )


def load_tenants(store: Store) -> pd.DataFrame:
    """The registry, by display name: ``COLUMNS``, ``enabled`` a bool, ``tags`` a list."""
    frame = store.frame(f"SELECT {', '.join(COLUMNS)} FROM tenants ORDER BY display_name, tenant_id")
    frame["enabled"] = frame["enabled"].astype(bool)
    frame["tags"] = [json.loads(t) for t in frame["tags"]]
    return frame


def tenant_entries(store: Store, *, enabled_only: bool = False) -> list[TenantEntry]:
    """The registry as entries (only the enabled ones when asked)."""
    frame = load_tenants(store)
    return [
        TenantEntry(
            r.tenant_id, r.display_name, r.domain, r.client_id, r.credential, bool(r.enabled), tuple(r.tags)
        )
        for r in frame.itertuples(index=False)
        if r.enabled or not enabled_only
    ]


def record_outcome(
    store: Store, tenant_id: str, *, ran_at: str, snapshot_id: int | None, error: str | None
) -> None:
    """Remember how this tenant's latest collection ended (its failure as one sentence)."""
    with store.atomic() as tx:
        tx.execute(
            "UPDATE tenants SET last_run_at = ?, last_status = ?, last_snapshot_id = ?, last_error = ? WHERE tenant_id = ?",
            (ran_at, "failed" if error else "complete", snapshot_id, error, tenant_id),
        )


def schema_name(location: str, tenant_id: str) -> str:
    """The PostgreSQL schema of a tenant's store: ``tenant_`` and its id (letters, digits and _),
    after the configured store's own schema when its URL names one (``licensedesk_tenant_...``)."""
    options = dict(parse_qsl(urlsplit(location).query)).get("options", "")
    found = re.findall(r"-c\s*search_path\s*=\s*([A-Za-z0-9_]+)", options)
    prefix = f"{found[-1].lower()}_" if found else ""
    return (prefix + "tenant_" + re.sub(r"[^a-z0-9]", "_", tenant_id.lower()))[:63]


def tenant_store(location: str, tenant_id: str) -> str:
    """Where the store of one registered tenant is, given the configured store's location."""
    if is_postgres(location):
        parts = urlsplit(location)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        # libpq applies -c settings in order, so this search_path wins over one already given.
        query["options"] = (
            f"{query.get('options', '')} -csearch_path={schema_name(location, tenant_id)}".strip()
        )
        return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))  # libpq: %20, never +
    path = sqlite_path(location)
    return str(path.with_name(path.name + ".tenants") / f"{tenant_id.lower()}.sqlite")


def prepare_tenant_store(store: Store, location: str, tenant_id: str) -> None:
    """Create the PostgreSQL schema a tenant's store lives in (an SQLite file creates itself)."""
    if store.dialect.name == "postgresql":
        store.conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name(location, tenant_id)}"')
