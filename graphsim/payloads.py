"""Graph JSON for users, groups, subscribedSkus and subscriptions, built per page on demand.

Why lazily: a 100,000-user tenant keeps only compact state; a full user with assignedPlans,
proxyAddresses and signInActivity is about 1.5 KB of JSON and is only ever built for the page being
served. Property tables say which names are selectable and which come back without $select, as
Graph does. Callers hold tenant.lock. Imports graphsim.model, graphsim.people, graphsim.skus and
(for types) graphsim.tenant.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphsim.model import ACTIVE, NO_ERROR, Group, Subscription, User
from graphsim.people import COMPANY_DOMAINS, COUNTRIES

if TYPE_CHECKING:
    from graphsim.tenant import Tenant

NEVER = "0001-01-01T00:00:00Z"
_BY_COUNTRY_NAME = {row[1]: (row[3], row[4]) for row in COUNTRIES.values()}  # name -> (language, phone)


@lru_cache(maxsize=65536)
def iso(when: datetime) -> str:
    """Graph's UTC timestamp text (cached: license dates repeat across thousands of users)."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=65536)
def iso_s(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _hash(*parts: object) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def _request_id(*parts: object) -> str:
    h = _hash(*parts)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _mail(user: User) -> str:
    local = user.upn.split("@", 1)[0]
    if user.is_guest and user.guest_domain:
        return f"{local.split('#EXT#')[0][: -len(user.guest_domain) - 1]}@{user.guest_domain}"
    return f"{local}@{COMPANY_DOMAINS.get(user.company_name or '', 'contoso.com')}"


def _phone(user: User, kind: str, share: int) -> str | None:
    row = _BY_COUNTRY_NAME.get(user.country or "")
    h = int(_hash(user.id, kind)[:8], 16)
    if row is None or h % 100 >= share:
        return None
    return f"{row[1]} {h % 10000:04d}"


def effective_licenses(user: User) -> dict[str, tuple[str, ...]]:
    """assignedLicenses: skuId -> plans disabled in every source (a plan any source enables is on)."""
    out: dict[str, set[str]] = {}
    for sku, lic in user.direct.items():
        out[sku] = set(lic.disabled_plans)
    for (_, sku), glic in user.group_licenses.items():
        if glic.state == ACTIVE:
            out[sku] = out[sku] & set(glic.disabled_plans) if sku in out else set(glic.disabled_plans)
    return {sku: tuple(sorted(d)) for sku, d in out.items()}


def _assigned_plans(t: Tenant, user: User) -> list[dict[str, Any]]:
    since: dict[str, datetime] = {}
    for sku, lic in user.direct.items():
        since[sku] = lic.updated
    for (_, sku), glic in user.group_licenses.items():
        if glic.state == ACTIVE and (sku not in since or glic.updated < since[sku]):
            since[sku] = glic.updated
    plans: list[dict[str, Any]] = []
    seen: set[str] = set()
    for sku, disabled in effective_licenses(user).items():
        status = t.capability_status(sku)
        for plan in t.sku_by_id[sku].plans:
            if plan.id not in disabled and plan.id not in seen:
                seen.add(plan.id)
                plans.append(
                    {"assignedDateTime": iso(since[sku]), "capabilityStatus": status,
                     "service": plan.service, "servicePlanId": plan.id}
                )  # fmt: skip
    return plans


def _states(user: User) -> list[dict[str, Any]]:
    rows = [
        {"assignedByGroup": None, "disabledPlans": list(lic.disabled_plans), "error": NO_ERROR,
         "lastUpdatedDateTime": iso(lic.updated), "skuId": sku, "state": ACTIVE}
        for sku, lic in user.direct.items()
    ]  # fmt: skip
    rows += [
        {"assignedByGroup": gid, "disabledPlans": list(glic.disabled_plans), "error": glic.error,
         "lastUpdatedDateTime": iso(glic.updated), "skuId": sku, "state": glic.state}
        for (gid, sku), glic in user.group_licenses.items()
    ]  # fmt: skip
    return rows


def sign_in_activity(user: User) -> dict[str, Any] | None:
    """signInActivity; None for a user who never signed in (the caller decides absent vs null)."""
    if user.last_sign_in is None and user.last_non_interactive is None:
        return None

    def pair(epoch: int | None, kind: str) -> tuple[str, str]:
        return (NEVER, "") if epoch is None else (iso_s(epoch), _request_id(user.id, epoch, kind))

    last, last_id = pair(user.last_sign_in, "i")
    ni, ni_id = pair(user.last_non_interactive, "n")
    ok, ok_id = pair(user.last_success, "i")
    return {
        "lastSignInDateTime": last, "lastSignInRequestId": last_id,
        "lastNonInteractiveSignInDateTime": ni, "lastNonInteractiveSignInRequestId": ni_id,
        "lastSuccessfulSignInDateTime": ok, "lastSuccessfulSignInRequestId": ok_id,
    }  # fmt: skip


UserProp = Callable[["Tenant", User], Any]
USER_PROPERTIES: dict[str, UserProp] = {
    "businessPhones": lambda t, u: [p] if (p := _phone(u, "office", 70)) else [],
    "displayName": lambda t, u: u.display_name,
    "givenName": lambda t, u: u.given_name,
    "jobTitle": lambda t, u: u.job_title,
    "mail": lambda t, u: _mail(u),
    "mobilePhone": lambda t, u: _phone(u, "mobile", 30),
    "officeLocation": lambda t, u: u.office_location,
    "preferredLanguage": lambda t, u: (
        _BY_COUNTRY_NAME[u.country][0] if u.country in _BY_COUNTRY_NAME else None
    ),
    "surname": lambda t, u: u.surname,
    "userPrincipalName": lambda t, u: u.upn,
    "id": lambda t, u: u.id,
    "accountEnabled": lambda t, u: u.account_enabled,
    "userType": lambda t, u: u.user_type,
    "usageLocation": lambda t, u: u.usage_location,
    "department": lambda t, u: u.department,
    "companyName": lambda t, u: u.company_name,
    "country": lambda t, u: u.country,
    "city": lambda t, u: u.city,
    "createdDateTime": lambda t, u: iso(u.created),
    "employeeId": lambda t, u: None if u.is_guest else f"{100000 + u.idx}",
    "proxyAddresses": lambda t, u: (
        ([f"SMTP:{_mail(u)}"] if u.is_guest else [f"SMTP:{_mail(u)}", f"smtp:{u.upn}"])
        + ([u.extra_proxy] if u.extra_proxy else [])
    ),
    "assignedLicenses": lambda t, u: [
        {"disabledPlans": list(d), "skuId": s} for s, d in effective_licenses(u).items()
    ],
    "assignedPlans": _assigned_plans,
    "licenseAssignmentStates": lambda t, u: _states(u),
    "signInActivity": lambda t, u: sign_in_activity(u),
    "onPremisesSyncEnabled": lambda t, u: u.on_prem_sync,
}
USER_DEFAULT = tuple(list(USER_PROPERTIES)[:11])


def user_json(tenant: Tenant, user: User, select: Sequence[str] | None) -> dict[str, Any]:
    """A user object with the selected properties (Graph's default set without $select).

    Users who never signed in get no signInActivity key if their idx is even and null if odd: real
    tenants show both, and parsers must accept both.
    """
    out: dict[str, Any] = {}
    for name in select or USER_DEFAULT:
        value = USER_PROPERTIES[name](tenant, user)
        if name == "signInActivity" and value is None and user.idx % 2 == 0:
            continue
        out[name] = value
    if "id" not in out:
        out["id"] = user.id
    return out


GroupProp = Callable[["Tenant", Group], Any]
GROUP_PROPERTIES: dict[str, GroupProp] = {
    "id": lambda t, g: g.id,
    "createdDateTime": lambda t, g: iso(g.created),
    "description": lambda t, g: g.description,
    "displayName": lambda t, g: g.display_name,
    "groupTypes": lambda t, g: [] if g.security_enabled else ["Unified"],
    "mail": lambda t, g: None if not g.mail_enabled else f"{g.mail_nickname}@contoso.com",
    "mailEnabled": lambda t, g: g.mail_enabled,
    "mailNickname": lambda t, g: g.mail_nickname,
    "onPremisesSyncEnabled": lambda t, g: None,
    "securityEnabled": lambda t, g: g.security_enabled,
    "visibility": lambda t, g: None if g.security_enabled else "Public",
    "assignedLicenses": lambda t, g: [{"disabledPlans": list(d), "skuId": s} for s, d in g.licenses.items()],
    "licenseProcessingState": lambda t, g: {"state": g.processing_state},
    "hasMembersWithLicenseErrors": lambda t, g: None,  # filterable, never returned
}
GROUP_DEFAULT = tuple(list(GROUP_PROPERTIES)[:11])


def group_json(tenant: Tenant, group: Group, select: Sequence[str] | None) -> dict[str, Any]:
    out = {
        n: GROUP_PROPERTIES[n](tenant, group)
        for n in select or GROUP_DEFAULT
        if n != "hasMembersWithLicenseErrors"
    }
    out.setdefault("id", group.id)
    return out


def sku_json(tenant: Tenant, sku_id: str) -> dict[str, Any]:
    sku = tenant.sku_by_id[sku_id]
    counts = tenant.seat_counts()[sku_id]
    status = tenant.capability_status(sku_id)
    provisioning = "Success" if status in ("Enabled", "Warning") else "Disabled"
    return {
        "accountName": tenant.account_name, "accountId": tenant.account_id, "appliesTo": sku.applies_to,
        "capabilityStatus": status, "consumedUnits": counts.consumed, "id": f"{tenant.tenant_id}_{sku_id}",
        "prepaidUnits": {"enabled": counts.enabled, "lockedOut": counts.locked_out,
                         "suspended": counts.suspended, "warning": counts.warning},
        "servicePlans": [
            {"servicePlanId": p.id, "servicePlanName": p.name, "provisioningStatus": provisioning,
             "appliesTo": p.applies_to} for p in sku.plans
        ],
        "skuId": sku_id, "skuPartNumber": sku.part_number,
        "subscriptionIds": [s.id for s in tenant.subscriptions if s.sku_id == sku_id],
    }  # fmt: skip


SKU_PROPERTIES = (
    "accountId", "accountName", "appliesTo", "capabilityStatus", "consumedUnits", "id", "prepaidUnits",
    "servicePlans", "skuId", "skuPartNumber", "subscriptionIds",
)  # fmt: skip


def subscription_json(tenant: Tenant, sub: Subscription) -> dict[str, Any]:
    plans = tenant.sku_by_id[sub.sku_id].plans
    provisioning = "Success" if sub.status in ("Enabled", "Warning") else "Disabled"
    return {
        "commerceSubscriptionId": sub.commerce_subscription_id, "createdDateTime": iso(sub.created),
        "id": sub.id, "isTrial": sub.is_trial, "nextLifecycleDateTime": iso(sub.next_lifecycle),
        "ownerId": sub.owner_id, "ownerTenantId": tenant.tenant_id, "ownerType": "User",
        "serviceStatus": [
            {"appliesTo": p.applies_to, "provisioningStatus": provisioning, "servicePlanId": p.id,
             "servicePlanName": p.name} for p in plans
        ],
        "skuId": sub.sku_id, "skuPartNumber": sub.part_number, "status": sub.status,
        "totalLicenses": sub.total_licenses,
    }  # fmt: skip


SUBSCRIPTION_PROPERTIES = (
    "commerceSubscriptionId", "createdDateTime", "id", "isTrial", "nextLifecycleDateTime", "ownerId",
    "ownerTenantId", "ownerType", "serviceStatus", "skuId", "skuPartNumber", "status", "totalLicenses",
)  # fmt: skip


def pick(obj: dict[str, Any], select: Sequence[str] | None) -> dict[str, Any]:
    """Keep only the selected keys (in selection order); everything without $select."""
    return obj if not select else {k: obj[k] for k in select if k in obj}
