"""Roles per tenant: ``[license_desk.tenant_access]`` and the tenant a session may show (pure)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dashboard.access import access_config, choose_tenant, visible_tenants
from licensedesk.tenants import TenantEntry
from tests.dashboard.test_access import ADA_OID, FIN_GROUP, OTHER_TENANT, SECRETS, VIEW_GROUP, signed_in

A = TenantEntry("aaaaaaaa-0000-4000-8000-00000000000a", "Alpha", "alpha.onmicrosoft.com")
B = TenantEntry("bbbbbbbb-0000-4000-8000-00000000000b", "Beta", "beta.onmicrosoft.com")
C = TenantEntry("gamma.onmicrosoft.com", "Gamma", None)  # registered by its domain
ALL = [A, B, C]


def _secrets(tenant_access: Any) -> dict[str, Any]:
    secrets = copy.deepcopy(SECRETS)
    secrets["license_desk"]["tenant_access"] = tenant_access
    return secrets


LIMITED = access_config(
    _secrets(
        {
            # Tenants named by id, by domain and in another letter case: all match.
            A.tenant_id.upper(): ["viewer@contoso.com", FIN_GROUP],
            "beta.onmicrosoft.com": [FIN_GROUP],
            "*": [ADA_OID],
            C.tenant_id: [],
        }
    )
)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (signed_in(email="viewer@contoso.com"), [A]),  # only Alpha names them
        (signed_in(email="x@contoso.com", groups=[FIN_GROUP]), [A, B]),  # through a group, two tenants
        (signed_in(oid=ADA_OID), [A, B, C]),  # "*": every tenant, Gamma too (its own list is empty)
        (signed_in(email="y@contoso.com", groups=[VIEW_GROUP]), []),  # a viewer that no tenant names
        (signed_in(email="stranger@contoso.com"), []),  # no role at all
        (signed_in(tid=OTHER_TENANT, oid=ADA_OID), []),  # another organisation: no role, no tenant
    ],
)
def test_tenant_access_limits_who_sees_which_tenant(
    claims: dict[str, Any], expected: list[TenantEntry]
) -> None:
    assert LIMITED.problem is None
    assert visible_tenants(ALL, claims, LIMITED) == expected


def test_without_tenant_access_everyone_with_a_role_sees_every_tenant() -> None:
    plain = access_config(SECRETS)
    assert visible_tenants(ALL, signed_in(email="viewer@contoso.com"), plain) == ALL
    assert visible_tenants(ALL, signed_in(email="stranger@contoso.com"), plain) == []
    local = access_config({})  # local single-user mode
    assert visible_tenants(ALL, {}, local) == ALL


@pytest.mark.parametrize(
    ("tenant_access", "named"),
    [
        (
            {A.tenant_id: "viewer@contoso.com"},
            f"{A.tenant_id} in [license_desk.tenant_access] must be a list",
        ),
        ({A.tenant_id: [1, 2]}, "must be a list of object ids"),
        (["viewer@contoso.com"], "tenant_access under [license_desk] must be a section"),
    ],
)
def test_a_malformed_tenant_access_serves_nothing(tenant_access: Any, named: str) -> None:
    config = access_config(_secrets(tenant_access))
    assert config.problem is not None and named in config.problem
    assert visible_tenants(ALL, signed_in(oid=ADA_OID), config) == []


def test_tenant_access_without_sign_in_is_a_broken_configuration() -> None:
    config = access_config({"license_desk": {"tenant_access": {A.tenant_id: ["viewer@contoso.com"]}}})
    assert config.problem is not None and "[license_desk.tenant_access]" in config.problem
    assert visible_tenants(ALL, {}, config) == []


def test_choose_tenant_never_leaves_what_may_be_seen() -> None:
    # The link wins (by id or domain, any case), then the session's memory, then the first.
    assert choose_tenant([A, B], "BETA.onmicrosoft.com", A.tenant_id) == B
    assert choose_tenant([A, B], None, B.tenant_id) == B
    assert choose_tenant([A, B], "", None) == A
    # A link or a remembered choice outside what may be seen falls back to a visible tenant.
    assert choose_tenant([A], B.tenant_id, B.tenant_id) == A
    assert choose_tenant([A], "beta.onmicrosoft.com", None) == A
    assert choose_tenant([], A.tenant_id, A.tenant_id) is None
