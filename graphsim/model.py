"""The simulated directory's state: users, groups, subscriptions and license assignments.

Plain mutable dataclasses with slots, because a 100,000-user tenant must fit in modest memory:
only what changes or must be looked up is stored, and everything else in a Graph payload (mail,
proxy addresses, phones, request ids) is derived from it when a page is built (graphsim.payloads).
Imports nothing from the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ACTIVE = "Active"
ERROR = "Error"
NO_ERROR = "None"  # what the service sends in licenseAssignmentStates.error on success

COUNT_VIOLATION = "CountViolation"
MUTUALLY_EXCLUSIVE_VIOLATION = "MutuallyExclusiveViolation"
DEPENDENCY_VIOLATION = "DependencyViolation"
PROHIBITED_LOCATION_VIOLATION = "ProhibitedInUsageLocationViolation"
UNIQUENESS_VIOLATION = "UniquenessViolation"
OTHER = "Other"
ERROR_TYPES = (
    COUNT_VIOLATION,
    MUTUALLY_EXCLUSIVE_VIOLATION,
    DEPENDENCY_VIOLATION,
    PROHIBITED_LOCATION_VIOLATION,
    UNIQUENESS_VIOLATION,
    OTHER,
)


@dataclass(slots=True)
class DirectLicense:
    """A license assigned to the user directly (never in error: Graph refuses bad direct writes)."""

    disabled_plans: tuple[str, ...]
    updated: datetime


@dataclass(slots=True)
class GroupLicense:
    """One (group, SKU) assignment to a member: state "Active" or "Error" with the error type."""

    state: str
    error: str
    disabled_plans: tuple[str, ...]
    updated: datetime


@dataclass(slots=True)
class User:
    """A directory user.

    Fields:
        idx: position in Tenant.users (creation order; paging offsets index this list).
        id, upn: object id and userPrincipalName (unique, lowercase UPN).
        given_name, surname: names (display name is "given surname").
        user_type: "Member" or "Guest"; guest_domain: the guest's home domain.
        account_enabled: False for leavers and the seeded disabled accounts.
        usage_location: ISO alpha-2 or None (then group licensing uses the tenant default).
        department, company_name, job_title, country, city, office_location: None for guests.
        created: createdDateTime.
        on_prem_sync: onPremisesSyncEnabled (True or None, as Graph sends it).
        direct: skuId -> DirectLicense.
        group_licenses: (groupId, skuId) -> GroupLicense.
        last_sign_in / last_success / last_non_interactive: epoch seconds or None (never).
        activity: "active" (signs in every few days), "inactive" or "never".
        left_on / reclaim_on: simulated day numbers of leaving and of license removal.
        proxy_conflict: None, or the error ("UniquenessViolation" / "Other") that mailbox
            provisioning hits because extra_proxy duplicates another user's address.
    """

    idx: int
    id: str
    upn: str
    given_name: str
    surname: str
    user_type: str
    account_enabled: bool
    usage_location: str | None
    department: str | None
    company_name: str | None
    job_title: str | None
    country: str | None
    city: str | None
    office_location: str | None
    created: datetime
    on_prem_sync: bool | None = None
    guest_domain: str | None = None
    direct: dict[str, DirectLicense] = field(default_factory=dict)
    group_licenses: dict[tuple[str, str], GroupLicense] = field(default_factory=dict)
    last_sign_in: int | None = None
    last_success: int | None = None
    last_non_interactive: int | None = None
    activity: str = "active"
    left_on: int | None = None
    reclaim_on: int | None = None
    proxy_conflict: str | None = None
    extra_proxy: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def is_guest(self) -> bool:
        return self.user_type == "Guest"

    def held_skus(self) -> set[str]:
        """SKUs in assignedLicenses: direct ones plus those an Active group assignment gives."""
        held = set(self.direct)
        for (_, sku), lic in self.group_licenses.items():
            if lic.state == ACTIVE:
                held.add(sku)
        return held


@dataclass(slots=True)
class Group:
    """A security group; licensed when `licenses` is not empty.

    members is an insertion-ordered dict used as an ordered set (group processing walks it in
    order, and removal must be O(1) for large groups). licenses maps skuId -> disabledPlans.
    """

    id: str
    display_name: str
    description: str | None
    created: datetime
    mail_nickname: str
    licenses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    members: dict[str, None] = field(default_factory=dict)
    security_enabled: bool = True
    mail_enabled: bool = False
    processing_state: str = "ProcessingComplete"


@dataclass(slots=True)
class Subscription:
    """A commerce subscription behind a SKU (Graph companySubscription).

    status is one of Enabled, Warning, Suspended, LockedOut; total_licenses counts toward the SKU's
    prepaidUnits bucket of the same name. billing is "P1Y" or "P1M" (renewal period).
    """

    id: str
    commerce_subscription_id: str
    sku_id: str
    part_number: str
    status: str
    total_licenses: int
    is_trial: bool
    created: datetime
    next_lifecycle: datetime
    billing: str
    owner_id: str


@dataclass(frozen=True, slots=True)
class SeatCounts:
    """A SKU's counts exactly as /subscribedSkus reports them (prepaidUnits + consumedUnits)."""

    enabled: int
    warning: int
    suspended: int
    locked_out: int
    consumed: int
