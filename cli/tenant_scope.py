"""``--tenant T``: point a command at one registered tenant's own store instead of the configured one.

T is the tenant's id or its domain as the registry holds them (any case). The registry is in the
configured store; the tenant's store is beside it (``store.tenants.tenant_store``). An unknown
tenant is a usage mistake (exit 2, one sentence), like any other bad option value.
"""

from __future__ import annotations

import dataclasses

import click

from licensedesk.config import Settings
from licensedesk.errors import ConfigError, StoreError
from licensedesk.tenants import TenantEntry
from store.db import open_store, store_exists
from store.queries import complete_snapshot_ids
from store.tenants import tenant_entries, tenant_store

tenant_option = click.option(
    "--tenant", "tenant", metavar="TENANT",
    help="A registered tenant (its id or domain): report on its own store (see `tenants list`).",
)  # fmt: skip


def find_tenant(entries: list[TenantEntry], key: str) -> TenantEntry:
    """The entry whose id or domain is ``key`` (any case).

    Raises:
        ConfigError: none is (exit 2).
    """
    wanted = key.strip().lower()
    for entry in entries:
        if wanted in (entry.tenant_id, entry.domain):
            return entry
    raise ConfigError(
        f"No tenant {key.strip()} is registered (by id or domain); `license-desk tenants list` shows those that are."
    )


def tenant_scope(settings: Settings, key: str) -> tuple[Settings, TenantEntry]:
    """The settings of one registered tenant's store (``store`` replaced), and its entry.

    Raises:
        ConfigError: no such tenant is registered.
        StoreError: there is no registry, or no collection of the tenant has completed.
    """
    with open_store(settings.store, readonly=True) as registry:
        entry = find_tenant(tenant_entries(registry), key)
    location = tenant_store(settings.store, entry.tenant_id)
    collected = store_exists(location)
    if collected:
        with open_store(location, readonly=True) as own:
            collected = bool(complete_snapshot_ids(own))
    if not collected:
        raise StoreError(
            f"Tenant {entry.display_name} ({entry.tenant_id}) has not been collected yet; run "
            "`license-desk collect --all` first (`license-desk tenants list` shows how its last attempt ended)."
        )
    return dataclasses.replace(settings, store=location), entry
