"""Which registered tenant this session shows: the registry, what the person may see, the choice.

With customer tenants in the configured store's registry (``license-desk tenants add``), every
page, loader, download and action works on the chosen tenant's own store, and ``dashboard.settings``
asks this module which one that is; the sidebar's picker (``dashboard.app``) only writes the
choice. The choice is checked on every call against what the person may see
(``dashboard.access.visible_tenants``), so a link (``?tenant=``) or session state left from before
can never reach a tenant they may not. With no tenant registered nothing changes: the dashboard
shows the configured store.

Imports nothing of ``dashboard.settings`` (which imports it).
"""

from __future__ import annotations

import streamlit as st

from dashboard.access import AccessDenied, choose_tenant, visible_tenants
from dashboard.connection import read
from dashboard.signin import access_state
from licensedesk.errors import LicenseDeskError
from licensedesk.tenants import TenantEntry
from store.db import store_exists
from store.tenants import tenant_entries

PICKER_KEY = "tenant_picker"
QUERY_PARAM = "tenant"
# A tenant added with `license-desk tenants add` shows within this many seconds.
_REGISTRY_TTL = 10


@st.cache_data(ttl=_REGISTRY_TTL, max_entries=4, show_spinner=False)
def _registry(registry: str) -> list[TenantEntry]:
    """Every tenant of the registry in the store at ``registry`` (none without that store).

    Raises:
        licensedesk.errors.StoreError: the store is there but cannot be read (not cached).
    """
    if not store_exists(registry):
        return []
    entries: list[TenantEntry] = read(registry, tenant_entries)
    return entries


def registered(registry: str) -> list[TenantEntry]:
    """Every registered tenant; none when the store cannot be read (reading checks the schema),
    in which case the pages show that store and say why they cannot read it, as they always have.
    """
    try:
        return _registry(registry)
    except LicenseDeskError:
        return []


def visible(registry: str) -> list[TenantEntry]:
    """The registered tenants this session's person may see."""
    config, person, _roles = access_state()
    return visible_tenants(registered(registry), person, config)


def chosen(registry: str) -> TenantEntry | None:
    """The tenant this session shows, or None when no tenant is registered (the configured store).

    Raises:
        AccessDenied: tenants are registered, and this person may see none of them; or tenants
            are limited per person and the registry cannot be read.
    """
    config, person, _roles = access_state()
    try:
        tenants = _registry(registry)
    except LicenseDeskError as exc:
        if config.sign_in and config.tenant_access is not None:
            # Tenants are limited per person: a registry that cannot be read must not fall back to
            # showing the configured store's data to everyone.
            raise AccessDenied(
                f"The tenants registry cannot be read, so who may see which tenant cannot be told: {exc}"
            ) from None
        return None
    if not tenants:
        return None
    allowed = visible_tenants(tenants, person, config)
    asked = st.query_params.get(QUERY_PARAM)
    pick = choose_tenant(allowed, asked, st.session_state.get(PICKER_KEY))
    if pick is None:
        raise AccessDenied(
            f"You may see none of the {len(tenants)} registered tenant(s); ask a License Desk administrator."
        )
    return pick


def label(entry: TenantEntry) -> str:
    """How the picker and the pages name a tenant: its name and domain (or id)."""
    state = "" if entry.enabled else ", not collected: disabled"
    return f"{entry.display_name} ({entry.domain or entry.tenant_id}{state})"
