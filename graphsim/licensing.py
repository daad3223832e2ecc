"""Group-based licensing and the direct-assignment rules of assignLicense.

Why here and not in the router: the same engine runs when the tenant is built, every simulated day,
after test helpers, and behind the write endpoints, so seat counts can never drift from what the
users' states say.

Group processing (a simulator model of Entra's documented behaviour):
- members are processed in a fixed order: groups in creation order, members in joining order;
- an assignment that is Active stays Active (seats are never taken back to give to someone else);
- a member who already holds the SKU (directly or from another group) becomes Active without a new
  seat; otherwise a free seat (prepaidUnits.enabled - consumedUnits > 0) is needed;
- checks, first failure wins: ProhibitedInUsageLocationViolation, MutuallyExclusiveViolation,
  DependencyViolation, the user's proxy-address conflict (UniquenessViolation / Other, only for SKUs
  that bring a mailbox), CountViolation;
- all-or-nothing per group: if any product of a group fails for a user, every product of that group
  gets state "Error" with that same error, and none of them is in assignedLicenses;
- users without usageLocation are processed with the tenant's default location.

Imports only graphsim.model, graphsim.skus and graphsim.state.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from graphsim.model import (
    ACTIVE,
    COUNT_VIOLATION,
    DEPENDENCY_VIOLATION,
    ERROR,
    MUTUALLY_EXCLUSIVE_VIOLATION,
    NO_ERROR,
    PROHIBITED_LOCATION_VIOLATION,
    DirectLicense,
    Group,
    GroupLicense,
    User,
)
from graphsim.skus import (
    DEPENDENCIES,
    MAILBOX_PLANS,
    MUTUALLY_EXCLUSIVE,
    PLAN_NAMES,
    PROHIBITED_LOCATIONS,
    SKU_BY_ID,
)
from graphsim.state import TenantState


class LicenseError(Exception):
    """A write Graph refuses with 400 Request_BadRequest; the message is Graph's text."""


EXCLUSIVE_WITH: dict[str, frozenset[str]] = {
    a: frozenset(b for x, b in MUTUALLY_EXCLUSIVE if x == a) for a, _ in MUTUALLY_EXCLUSIVE
}


@cache
def _plans(sku: str, disabled: tuple[str, ...]) -> frozenset[str]:
    """The plans a SKU switches on without the disabled ones (cached: few distinct combinations)."""
    return SKU_BY_ID[sku].plan_ids(disabled)


def active_plans(tenant: TenantState, user: User, skip_group: str | None = None) -> dict[str, str]:
    """planId -> skuId for every plan the user has on (direct and Active group assignments)."""
    plans: dict[str, str] = {}
    for sku, lic in user.direct.items():
        for plan in _plans(sku, lic.disabled_plans):
            plans.setdefault(plan, sku)
    for (gid, sku), glic in user.group_licenses.items():
        if glic.state == ACTIVE and gid != skip_group:
            for plan in _plans(sku, glic.disabled_plans):
                plans.setdefault(plan, sku)
    return plans


def _group_plans(tenant: TenantState, user: User) -> dict[str, str]:
    """planId -> skuId for the plans the user's Active group assignments switch on."""
    plans: dict[str, str] = {}
    for (_, sku), glic in user.group_licenses.items():
        if glic.state == ACTIVE:
            for plan in _plans(sku, glic.disabled_plans):
                plans.setdefault(plan, sku)
    return plans


def _first_conflict(new: Iterable[str], held: dict[str, str]) -> tuple[str, str] | None:
    """The first (new plan, held plan) pair that may not be on together, in a stable order."""
    new = EXCLUSIVE_WITH.keys() & set(new)
    if not new:
        return None
    found = [(plan, other) for plan in new for other in EXCLUSIVE_WITH.get(plan, ()) if other in held]
    return min(found) if found else None


def _missing_dependency(check: Iterable[str], on: set[str]) -> tuple[str, frozenset[str]] | None:
    """The first plan of `check` none of whose prerequisites is in `on`."""
    for plan in sorted(check):
        needs = DEPENDENCIES.get(plan)
        if needs and not needs & on:
            return plan, needs
    return None


def _count_change(tenant: TenantState, before: set[str], after: set[str]) -> None:
    for sku in after - before:
        tenant.consumed[sku] += 1
    for sku in before - after:
        tenant.consumed[sku] -= 1


def _group_error(tenant: TenantState, group: Group, user: User) -> str | None:
    """Why this group's products cannot all be assigned to the user now (None: they can)."""
    location = user.usage_location or tenant.default_location
    held_skus = user.held_skus()
    held_plans = active_plans(tenant, user, skip_group=group.id)
    new_plans: set[str] = set()
    for sku, disabled in group.licenses.items():
        new_plans |= _plans(sku, disabled)
    for sku in group.licenses:
        if location in PROHIBITED_LOCATIONS.get(sku, ()):
            return PROHIBITED_LOCATION_VIOLATION
    if _first_conflict(new_plans, held_plans) is not None:
        return MUTUALLY_EXCLUSIVE_VIOLATION
    if _missing_dependency(new_plans, new_plans | set(held_plans)) is not None:
        return DEPENDENCY_VIOLATION
    if user.proxy_conflict and new_plans & MAILBOX_PLANS:
        return user.proxy_conflict
    for sku in group.licenses:
        if sku not in held_skus and tenant.free_seats(sku) <= 0:
            return COUNT_VIOLATION
    return None


def evaluate(tenant: TenantState, group: Group, user: User) -> None:
    """Bring one member's assignments from one group up to date (all-or-nothing)."""
    current = {sku: lic for (gid, sku), lic in user.group_licenses.items() if gid == group.id}
    if current.keys() == group.licenses.keys() and all(
        lic.state == ACTIVE and lic.disabled_plans == group.licenses[sku] for sku, lic in current.items()
    ):
        return
    before = user.held_skus()
    for sku in current:
        del user.group_licenses[(group.id, sku)]
    without = user.held_skus()
    _count_change(tenant, before, without)
    if not group.licenses:
        return
    error = _group_error(tenant, group, user)
    now = tenant.now
    for sku, disabled in group.licenses.items():
        state, err = (ACTIVE, NO_ERROR) if error is None else (ERROR, error)
        old = current.get(sku)
        unchanged = old is not None and old.state == state and old.error == err
        updated = old.updated if old is not None and unchanged else now
        user.group_licenses[(group.id, sku)] = GroupLicense(state, err, disabled, updated)
    _count_change(tenant, without, user.held_skus())


def process_group(tenant: TenantState, group: Group) -> None:
    """Process every member of one group, in joining order."""
    for uid in group.members:
        evaluate(tenant, group, tenant.users_by_id[uid])
    group.processing_state = "ProcessingComplete"


def process_all(tenant: TenantState) -> None:
    """One full pass: licensed groups in creation order (what buy_seats and each day run)."""
    for group in tenant.groups:
        if group.licenses:
            process_group(tenant, group)


def process_user(tenant: TenantState, user: User) -> None:
    """Re-evaluate all of one user's group assignments (reprocessLicenseAssignment)."""
    for group in tenant.groups:
        if user.id in group.members:
            evaluate(tenant, group, user)


def drop_group_states(tenant: TenantState, group: Group, user: User) -> None:
    """Forget a member's assignments from one group (the seats they held are freed)."""
    before = user.held_skus()
    for key in [k for k in user.group_licenses if k[0] == group.id]:
        del user.group_licenses[key]
    _count_change(tenant, before, user.held_skus())


def remove_member(tenant: TenantState, group: Group, user: User) -> None:
    """Take a user out of a group; the seats its assignments held are freed."""
    drop_group_states(tenant, group, user)
    group.members.pop(user.id, None)


def set_direct(tenant: TenantState, user: User, direct: dict[str, DirectLicense]) -> None:
    """Replace the user's direct licenses with no rule checks (tenant building and leavers)."""
    before = user.held_skus()
    user.direct = direct
    _count_change(tenant, before, user.held_skus())


def _check_skus(tenant: TenantState, add: list[tuple[str, tuple[str, ...]]], remove: list[str]) -> None:
    for sku in [s for s, _ in add] + remove:
        if sku not in tenant.sku_by_id:
            raise LicenseError(f"License {sku} does not correspond to a valid company License.")
    for sku, disabled in add:
        if tenant.sku_by_id[sku].applies_to != "User":
            raise LicenseError(f"License {sku} cannot be assigned to a user.")
        known = {p.id for p in tenant.sku_by_id[sku].plans}
        for plan in disabled:
            if plan not in known:
                raise LicenseError(f"Service plan {plan} is not part of the license {sku}.")
    if {s for s, _ in add} & set(remove):
        raise LicenseError("The same license cannot be added and removed in one request.")


def assign_direct(
    tenant: TenantState, user: User, add: list[tuple[str, tuple[str, ...]]], remove: list[str]
) -> None:
    """POST /users/{id}/assignLicense: check every rule first, then change all or nothing."""
    _check_skus(tenant, add, remove)
    location = user.usage_location
    if add and not location:
        raise LicenseError("License assignment cannot be done for user with invalid usage location.")
    for sku, _ in add:
        if location in PROHIBITED_LOCATIONS.get(sku, ()):
            raise LicenseError(
                f"License {sku} cannot be assigned to a user with usage location '{location}': "
                "the service is not available in that location."
            )
    for sku in remove:
        if sku not in user.direct:
            if any(k[1] == sku for k in user.group_licenses):
                raise LicenseError(
                    "User license is inherited from a group membership and it cannot be removed "
                    "directly from the user."
                )
            raise LicenseError(f"User does not have a corresponding license {sku} to remove.")
    held = user.held_skus()
    for sku, _ in add:
        if sku not in held and tenant.free_seats(sku) <= 0:
            raise LicenseError(f"Subscription with SKU {sku} does not have any available licenses.")
    now = tenant.now
    new_direct = {s: lic for s, lic in user.direct.items() if s not in remove}
    for sku, disabled in add:
        new_direct[sku] = DirectLicense(disabled, now)
    plans = _group_plans(tenant, user)
    for sku, lic in new_direct.items():
        for plan in _plans(sku, lic.disabled_plans):
            conflict = _first_conflict([plan], plans)
            if conflict is not None and plans[conflict[1]] != sku:
                other_sku = plans[conflict[1]]
                raise LicenseError(
                    f"License assignment failed because service plan {PLAN_NAMES[plan]} ({plan}) of "
                    f"license {sku} is mutually exclusive with service plan {PLAN_NAMES[conflict[1]]} "
                    f"({conflict[1]}) of license {other_sku}."
                )
            plans.setdefault(plan, sku)
    missing = _missing_dependency(plans, set(plans))
    if missing is not None:
        needs = ", ".join(f"{PLAN_NAMES[p]} ({p})" for p in sorted(missing[1]))
        raise LicenseError(
            f"License assignment failed because service plan {PLAN_NAMES[missing[0]]} ({missing[0]}) "
            f"depends on one of the service plans {needs}, which the user does not have."
        )
    set_direct(tenant, user, new_direct)
    process_user(tenant, user)


def assign_to_group(
    tenant: TenantState, group: Group, add: list[tuple[str, tuple[str, ...]]], remove: list[str]
) -> None:
    """POST /groups/{id}/assignLicense: change the group's products, then process its members."""
    _check_skus(tenant, add, remove)
    for sku in remove:
        if sku not in group.licenses:
            raise LicenseError(f"Group does not have a corresponding license {sku} to remove.")
    for sku in remove:
        del group.licenses[sku]
    for sku, disabled in add:
        group.licenses[sku] = disabled
    group.processing_state = "ProcessingInProgress"
    process_group(tenant, group)
