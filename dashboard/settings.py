"""The settings the dashboard runs on, and the one place that decides which store it shows.

Pages, their loaders and the actions ("Collect now", apply) all take the store from here, so
what a page shows and where "Collect now" writes can never disagree: both are
``licensedesk.config.load_settings()``'s ``store``, from ``LICENSE_DESK_STORE`` or else the
TOML file ``LICENSE_DESK_CONFIG`` names. Settings are read on every call (a small file), so a
changed file is seen on the next run without a restart.

When that store's registry holds customer tenants, "the store" is the chosen tenant's own store
(``dashboard.tenancy``: the sidebar's picker, limited to the tenants the person may see), and the
settings are that tenant's (``licensedesk.tenants.tenant_settings``: its id, and its own app if it
has one), so every page, download, "Collect now" and apply follows the picker without a page
knowing. ``registry_path`` is the configured store itself.

Imports only ``dashboard.tenancy`` of the dashboard (and what it imports, none of which imports
this module): every other dashboard module may import it.
"""

from __future__ import annotations

import dataclasses
import os

from dashboard.tenancy import chosen
from licensedesk.config import DEFAULT_STORE, Settings, load_settings
from licensedesk.errors import ConfigError
from licensedesk.tenants import TenantEntry, tenant_settings
from store.tenants import tenant_store

_STORE_VARIABLE = "LICENSE_DESK_STORE"


def base_settings() -> tuple[Settings | None, str | None]:
    """The configuration as configured (the registry's store and tenant), or None and the
    one-sentence reason it is invalid."""
    try:
        return load_settings(), None
    except ConfigError as exc:
        return None, str(exc)


def registry_path() -> str:
    """The configured store (which holds the tenants registry): the configuration's ``store``.

    When the configuration is invalid nothing can be collected or applied (the Data page says
    why), so nothing can disagree: the pages then show ``LICENSE_DESK_STORE``, else the default.
    """
    loaded, _problem = base_settings()
    if loaded is not None:
        return loaded.store
    return os.environ.get(_STORE_VARIABLE) or DEFAULT_STORE


def current_tenant() -> TenantEntry | None:
    """The registered tenant the pages show, or None with no registry (the configured store).

    Raises:
        dashboard.access.AccessDenied: tenants are registered and the person may see none.
    """
    return chosen(registry_path())


def current_settings() -> tuple[Settings | None, str | None]:
    """The settings the pages and actions use: the chosen tenant's when tenants are registered
    (store, tenant id, app), else the configuration; or None and the one-sentence reason."""
    loaded, problem = base_settings()
    if loaded is None:
        return None, problem
    entry = current_tenant()
    if entry is None:
        return loaded, None
    try:
        own = tenant_settings(loaded, entry)
    except ConfigError as exc:
        return None, str(exc)
    return dataclasses.replace(own, store=tenant_store(loaded.store, entry.tenant_id)), None


def store_path() -> str:
    """The store the dashboard reads and collects into: the chosen tenant's own store when
    tenants are registered (whether or not its credentials can be found), else ``registry_path``."""
    registry = registry_path()
    entry = chosen(registry)
    return registry if entry is None else tenant_store(registry, entry.tenant_id)


def inactive_days() -> int:
    """``LICENSE_DESK_INACTIVE_DAYS`` (default 90; also when the configuration is invalid)."""
    loaded, _problem = base_settings()
    return (loaded or Settings()).inactive_days


def table_rows() -> int:
    """``LICENSE_DESK_TABLE_ROWS``: the most rows a table shows (default 10,000; also when the
    configuration is invalid)."""
    loaded, _problem = base_settings()
    return (loaded or Settings()).table_rows
