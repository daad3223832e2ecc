"""Builds a seeded synthetic tenant: people, groups, license plans, subscriptions, seeded errors.

Why two processing passes: seat totals are sized from demand. Pass one runs group processing with
unlimited seats to learn how many seats each SKU needs; subscriptions are then bought to that demand
plus slack (or minus a shortfall for the SKUs that must show CountViolation), the group states are
reset, and pass two runs with the real seat counts. Direct assignments made here skip the write
rules on purpose: they are the tenant's history (e.g. the over-assigned SKU).

Imports graphsim.state, graphsim.licensing, graphsim.model, graphsim.people, graphsim.skus.
"""

from __future__ import annotations

import math
from bisect import bisect
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from random import Random
from typing import TypeVar

from graphsim import licensing
from graphsim.model import OTHER, UNIQUENESS_VIOLATION, DirectLicense, Group, Subscription, User
from graphsim.people import (
    COMPANY_DOMAINS,
    CONTOSO,
    COUNTRIES,
    DEPARTMENTS,
    FABRIKAM,
    FABRIKAM_COUNTRIES,
    FIRST_NAMES,
    GUEST_DOMAINS,
    SURNAMES,
    ascii_name,
)
from graphsim.skus import sku_id
from graphsim.state import DEFAULT_START, TenantState, add_period, new_guid

DEPT_KEYS = list(DEPARTMENTS)
DEPT_CUM = list(accumulate(w for w, _ in DEPARTMENTS.values()))
COUNTRY_KEYS = list(COUNTRIES)
COUNTRY_CUM = list(accumulate(row[0] for row in COUNTRIES.values()))

E3_STAFF = "Licensing - M365 E3 Staff"
E3_SALES = "Licensing - M365 E3 Sales"
O365_EMS = "Licensing - Office 365 E3 + EMS"
BUSINESS_PREMIUM = "Licensing - Business Premium"
POWER_BI = "Licensing - Power BI Pro"
CALLING = "Licensing - Teams Calling"
COPILOT = "Licensing - Copilot pilot"
# name -> (description, products); creation order is processing order (base suites first, so
# add-ons that depend on them see the base already assigned).
LICENSED_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    E3_STAFF: ("Microsoft 365 E3 for Contoso staff", ("SPE_E3",)),
    E3_SALES: ("Microsoft 365 E3 for the sales organisation", ("SPE_E3",)),
    O365_EMS: ("Legacy Office 365 E3 with EMS E3", ("ENTERPRISEPACK", "EMS")),
    BUSINESS_PREMIUM: ("Microsoft 365 Business Premium for Fabrikam", ("SPB",)),
    POWER_BI: ("Power BI Pro for analysts", ("POWER_BI_PRO",)),
    CALLING: ("Teams Calling Plan (domestic) for phone-facing staff", ("MCOPSTN1",)),
    COPILOT: ("Microsoft 365 Copilot pilot", ("Microsoft_365_Copilot",)),
}
PLAIN_GROUPS = ("All Company", "Sales Team", "Engineering", "Fabrikam Staff", "Copilot Champions")

BASE_SKUS = frozenset(sku_id(p) for p in ("SPE_E3", "SPE_E5", "ENTERPRISEPACK", "SPB", "EXCHANGESTANDARD"))

T = TypeVar("T", bound=TenantState)


def ts(when: datetime) -> int:
    return int(when.timestamp())


def _pick(rng: Random, items: tuple[str, ...]) -> str:
    """rng.choice without its overhead (this runs several times per user for 100,000 users)."""
    return items[int(rng.random() * len(items))]


def make_person(
    tenant: TenantState, rng: Random, *, guest: bool, created: datetime, company: str | None = None
) -> User:
    """A new user with realistic attributes; licensing is planned separately."""
    given, surname = _pick(rng, FIRST_NAMES), _pick(rng, SURNAMES)
    local = f"{ascii_name(given)}.{ascii_name(surname)}"
    uid = new_guid(rng)
    if guest:
        domain = _pick(rng, GUEST_DOMAINS)
        upn = f"{tenant.unique_upn_local(local + '_' + domain)}#EXT#@{tenant.domain}"
        return User(
            idx=len(tenant.users), id=uid, upn=upn, given_name=given, surname=surname, user_type="Guest",
            account_enabled=True, usage_location=None, department=None, company_name=None, job_title=None,
            country=None, city=None, office_location=None, created=created, guest_domain=domain,
        )  # fmt: skip
    company = company or (FABRIKAM if rng.random() < 0.2 else CONTOSO)
    dept = DEPT_KEYS[min(bisect(DEPT_CUM, rng.random() * DEPT_CUM[-1]), len(DEPT_KEYS) - 1)]
    if company == FABRIKAM:
        country = _pick(rng, FABRIKAM_COUNTRIES)
    else:
        x = rng.random() * COUNTRY_CUM[-1]
        country = COUNTRY_KEYS[min(bisect(COUNTRY_CUM, x), len(COUNTRY_KEYS) - 1)]
    _, country_name, cities, _, _ = COUNTRIES[country]
    city = _pick(rng, cities)
    return User(
        idx=len(tenant.users), id=uid, upn=f"{tenant.unique_upn_local(local)}@{tenant.domain}",
        given_name=given, surname=surname, user_type="Member", account_enabled=True,
        usage_location=None if rng.random() < 0.03 else country, department=dept, company_name=company,
        job_title=_pick(rng, DEPARTMENTS[dept][1]), country=country_name, city=city,
        office_location=f"{city} {1 + int(rng.random() * 40)}/{1000 + int(rng.random() * 3000)}", created=created,
        on_prem_sync=True if rng.random() < 0.7 else None,
    )  # fmt: skip


def _sign_ins(user: User, rng: Random, now: datetime) -> None:
    """Past sign-in activity for a user built at `now`, consistent with its activity class."""
    now_s, created_s = ts(now), ts(user.created)
    age_days = (now_s - created_s) / 86400
    if user.activity == "inactive" and age_days < 100:
        user.activity = "active"
    if user.activity == "never":
        return
    if not user.account_enabled:
        last = now_s - int(rng.uniform(20, 300) * 86400)
    elif user.activity == "inactive":
        last = now_s - int(rng.uniform(91, min(600.0, age_days)) * 86400)
    else:
        last = now_s - min(int(rng.expovariate(1 / (2 * 86400))), 40 * 86400)
    last = max(last, created_s + 3600)
    user.last_success = user.last_sign_in = last
    if user.activity == "inactive" and rng.random() < 0.2:  # a recent failed attempt
        user.last_sign_in = now_s - int(rng.uniform(1, 30) * 86400)
    if rng.random() < (0.85 if user.activity == "active" else 0.4):
        user.last_non_interactive = min(now_s, last + int(rng.uniform(0, 2) * 86400))


def plan_member(tenant: TenantState, rng: Random, user: User, groups: dict[str, Group]) -> None:
    """Give a member a base suite and add-ons, directly or through licensed groups."""
    now = tenant.now
    dept = user.department or ""

    def direct(part: str) -> None:
        user.direct[sku_id(part)] = DirectLicense((), now)

    def join(name: str) -> None:
        groups[name].members[user.id] = None

    has_base = True
    if user.company_name == FABRIKAM:
        r = rng.random()
        if r < 0.05:
            has_base = False
        elif r < 0.65:
            direct("SPB")
        else:
            join(BUSINESS_PREMIUM)
        groups["Fabrikam Staff"].members[user.id] = None
    else:
        e5_share = {"IT": 0.5, "Legal": 0.3}.get(dept, 0.04)
        r = rng.random()
        if r < 0.04:
            has_base = False
            if rng.random() < 0.5:
                direct("EXCHANGESTANDARD")
        elif r < 0.04 + e5_share:
            direct("SPE_E5")
            if rng.random() < 0.15:  # redundant suites: E5 on top of the E3 group
                join(E3_SALES if dept == "Sales" else E3_STAFF)
        elif rng.random() < 0.08:
            join(O365_EMS)
        else:
            join(E3_SALES if dept == "Sales" else E3_STAFF)
            roll = rng.random()
            if roll < 0.015:  # the same SKU directly and through the group: one seat
                direct("SPE_E3")
            elif roll < 0.045:  # Entra P1 bought on top of E3, which already includes it
                direct("AAD_PREMIUM")
        groups["All Company"].members[user.id] = None
        if has_base and rng.random() < {"Marketing": 0.08, "Sales": 0.08}.get(dept, 0.03):
            join(COPILOT)
    if dept == "Sales":
        groups["Sales Team"].members[user.id] = None
    if dept == "Engineering":
        groups["Engineering"].members[user.id] = None
    if rng.random() < {"Finance": 0.7, "Marketing": 0.3, "Sales": 0.25}.get(dept, 0.05):
        join(POWER_BI)
    if rng.random() < {"Customer Support": 0.6, "Sales": 0.2}.get(dept, 0.0):
        join(CALLING)
    if rng.random() < {"Engineering": 0.25, "Research & Development": 0.2}.get(dept, 0.02):
        direct("VISIOCLIENT")
    if rng.random() < {"Operations": 0.15, "Engineering": 0.08}.get(dept, 0.01):
        direct("PROJECTPROFESSIONAL")
    if dept == "IT" and sku_id("SPE_E5") not in user.direct and rng.random() < 0.5:
        direct("AAD_PREMIUM_P2")
    if dept == "Human Resources" and rng.random() < 0.25:
        direct("WORKPLACE_ANALYTICS")
    if rng.random() < 0.3:
        direct("FLOW_FREE")
    if rng.random() < 0.35:
        direct("POWER_BI_STANDARD")


def _plan_extras(tenant: TenantState, rng: Random, members: list[User]) -> None:
    """Small direct populations with caps: the trial, the unknown SKU, licensed guests."""
    finance = [u for u in members if u.department == "Finance"]
    for u in rng.sample(finance, min(len(finance), 20, max(1, len(finance) // 10))):
        u.direct[sku_id("PBI_PREMIUM_PER_USER")] = DirectLicense((), tenant.now)
    it = [u for u in members if u.department == "IT"]
    for u in rng.sample(it, min(len(it), 8, max(1, len(it) // 8))):
        u.direct[sku_id("CONTOSO_PARTNER_ADDON")] = DirectLicense((), tenant.now)
    for g in (u for u in tenant.users if u.is_guest):
        if rng.random() < 0.1:
            g.usage_location = rng.choice(("US", "GB", "DE"))
            g.direct[sku_id("POWER_BI_PRO")] = DirectLicense((), tenant.now)


def _seed_errors(tenant: TenantState, rng: Random, members: list[User], groups: dict[str, Group]) -> None:
    """Make sure every error type exists (given enough users), whatever the dice said."""
    spb, e3_parts = sku_id("SPB"), ("SPE_E3", "SPE_E5", "ENTERPRISEPACK", "SPB", "EXCHANGESTANDARD")
    mailbox_direct = {sku_id(p) for p in e3_parts}
    fabrikam = [u for u in members if spb in u.direct and u.usage_location and u.account_enabled]
    for user, name in zip(rng.sample(fabrikam, min(2, len(fabrikam))), (E3_SALES, O365_EMS), strict=False):
        groups[name].members[user.id] = None  # MutuallyExclusiveViolation (Exchange/SharePoint plans)
    base_groups = (E3_STAFF, E3_SALES, O365_EMS, BUSINESS_PREMIUM)
    in_base_group = {uid for name in base_groups for uid in groups[name].members}
    no_base = [
        u for u in members
        if u.company_name == CONTOSO and u.id not in in_base_group and not (set(u.direct) & BASE_SKUS)
    ]  # fmt: skip
    if len(no_base) < 2:  # too few contractors: move a staff member out of the E3 group
        movable = [u for u in members if u.id in groups[E3_STAFF].members and not set(u.direct) & BASE_SKUS]
        for user in rng.sample(movable, min(2 - len(no_base), len(movable))):
            del groups[E3_STAFF].members[user.id]
            no_base.append(user)
    for user in rng.sample(no_base, min(2, len(no_base))):
        groups[COPILOT].members[user.id] = None  # DependencyViolation: Copilot without Apps
    calling = groups[CALLING].members
    far = [u for u in members if u.usage_location in ("IN", "BR") and u.id not in calling]
    for user in rng.sample(far, min(2, len(far))):
        calling[user.id] = None  # ProhibitedInUsageLocationViolation
    elsewhere = {uid for n, g in groups.items() if n not in (E3_STAFF, "All Company") for uid in g.members}
    staff = [
        u for u in members
        if u.id in groups[E3_STAFF].members and u.id not in elsewhere and not (set(u.direct) & mailbox_direct)
    ]  # fmt: skip
    others = [u for u in members if u.id not in groups[E3_STAFF].members and u.company_name == CONTOSO]
    for user, error in zip(
        rng.sample(staff, min(2, len(staff))), (UNIQUENESS_VIOLATION, OTHER), strict=False
    ):
        if others:
            victim = rng.choice(others)
            user.proxy_conflict = error
            user.extra_proxy = f"smtp:{ascii_name(victim.upn.split('@')[0])}@{COMPANY_DOMAINS[CONTOSO]}"


# part number -> (share of demand added, minimum added); negative share = shortfall.
SLACK: dict[str, tuple[float, int]] = {
    "SPE_E3": (0.04, 2), "SPE_E5": (0.03, 1), "ENTERPRISEPACK": (0.02, 1), "SPB": (0.05, 1),
    "EXCHANGESTANDARD": (0.1, 2), "VISIOCLIENT": (0.15, 2), "AAD_PREMIUM": (0.1, 2),
    "AAD_PREMIUM_P2": (0.05, 2), "EMS": (0.02, 1), "WORKPLACE_ANALYTICS": (0.5, 5), "MCOPSTN1": (0.05, 1),
    "CONTOSO_PARTNER_ADDON": (0.0, 6), "Microsoft_365_Copilot": (0.0, 0),
}  # fmt: skip


def _subscription(
    tenant: TenantState, rng: Random, part: str, total: int, *, status: str = "Enabled", trial: bool = False,
    created: datetime | None = None, next_lifecycle: datetime | None = None, billing: str | None = None,
) -> Subscription:  # fmt: skip
    now = tenant.now
    billing = billing or ("P1Y" if rng.random() < 0.7 else "P1M")
    created = created or (now - timedelta(days=rng.randint(40, 1400), hours=rng.randint(0, 23)))
    if next_lifecycle is None:
        n = 1
        while add_period(created, billing, n) <= now:
            n += 1
        next_lifecycle = add_period(created, billing, n)
    return Subscription(
        id=new_guid(rng), commerce_subscription_id=new_guid(rng), sku_id=sku_id(part), part_number=part,
        status=status, total_licenses=total, is_trial=trial, created=created, next_lifecycle=next_lifecycle,
        billing=billing, owner_id=tenant.account_id,
    )  # fmt: skip


def _buy(tenant: TenantState, rng: Random, demand: dict[str, int], n_users: int) -> None:
    """Subscriptions sized to demand: slack, a shortfall, warning/suspended units, a trial."""
    subs, now = tenant.subscriptions, tenant.now
    for sku in tenant.skus:
        part, need = sku.part_number, demand[sku.sku_id]
        if part == "POWER_BI_PRO":  # over capacity by several members: CountViolation
            enabled = max(0, need - max(3, math.ceil(need * 0.06))) if need >= 4 else need
        elif part == "PROJECTPROFESSIONAL":  # over-assigned: units moved to a suspended subscription
            enabled = max(0, need - max(2, math.ceil(need * 0.1)))
            subs.append(_subscription(tenant, rng, part, max(3, math.ceil(need * 0.15)), status="Suspended",
                                      next_lifecycle=now + timedelta(days=45)))  # fmt: skip
        elif part == "FLOW_FREE":
            enabled = max(10_000, math.ceil(need / 10_000) * 10_000)
        elif part == "POWER_BI_STANDARD":
            enabled = 1_000_000
        elif part == "PBI_PREMIUM_PER_USER":
            subs.append(_subscription(tenant, rng, part, 25, trial=True, billing="P1M",
                                      created=now - timedelta(days=12), next_lifecycle=now + timedelta(days=18)))  # fmt: skip
            continue
        elif part == "CRMSTANDARD":
            subs.append(_subscription(tenant, rng, part, 25, status="Suspended",
                                      next_lifecycle=now + timedelta(days=60)))  # fmt: skip
            continue
        elif part == "SHAREPOINTSTORAGE":
            enabled = 100 + n_users // 10
        else:
            share, minimum = SLACK.get(part, (0.05, 1))
            enabled = need + max(minimum, math.ceil(need * share))
            if part == "Microsoft_365_Copilot":
                enabled = max(need, 5)
        if part == "VISIOCLIENT":  # a grace-period subscription: warning units
            subs.append(_subscription(tenant, rng, part, max(2, math.ceil(need * 0.1)), status="Warning",
                                      billing="P1Y", next_lifecycle=now + timedelta(days=20)))  # fmt: skip
        parts = 1 if enabled < 10 else rng.choice((1, 2, 2, 3))
        sizes = [enabled // parts] * parts
        sizes[0] += enabled - sum(sizes)
        for size in sizes:
            subs.append(_subscription(tenant, rng, part, size))
    tenant.refresh_units()


def build(kind: type[T], n_users: int, seed: int, start: datetime, domain: str | None = None) -> T:
    """The tenant (a ``kind``) for (n_users, seed, start); see the module docstring for the two passes.

    ``domain`` (default contoso.onmicrosoft.com) is its primary domain, which its users' names end in."""
    if n_users < 1:
        raise ValueError("a tenant needs at least one user")
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime (UTC)")
    start = start.astimezone(UTC)
    # The draw does not depend on the start date, only its dates do: the demo, built a few days
    # before today, is then the same tenant every day (what passes today passes tomorrow). The
    # key keeps the default start's text, so tenants built from that start are unchanged.
    key = f"graphsim:{n_users}:{seed}:{DEFAULT_START.isoformat()}"
    rng = Random(key)
    tenant = kind(tenant_id=new_guid(rng), account_id=new_guid(rng), seed_key=key, start=start)
    if domain is not None:
        tenant.domain = domain
    groups: dict[str, Group] = {}
    for name in [*LICENSED_GROUPS, *PLAIN_GROUPS]:
        description, products = LICENSED_GROUPS.get(name, (None, ()))
        group = Group(
            id=new_guid(rng), display_name=name, description=description,
            created=start - timedelta(days=rng.randint(200, 2000)),
            mail_nickname=ascii_name(name.replace(" ", "")) or "group",
            licenses={sku_id(p): () for p in products},
        )  # fmt: skip
        if name == "All Company":
            group.security_enabled, group.mail_enabled = False, True
        groups[name] = group
        tenant.add_group(group)
    members: list[User] = []
    guests = 0
    for i in range(n_users):
        # Every real tenant of this size has guests, and the demo's guest stories (licensed guests,
        # users with no department) must not vanish from a draw whose dice give none.
        guest = rng.random() < 0.05 or (guests == 0 and i == n_users - 1 and n_users >= 50)
        guests += guest
        created = start - timedelta(days=30 + (rng.random() ** 1.7) * 2900, seconds=rng.randrange(86400))
        user = make_person(tenant, rng, guest=guest, created=created)
        r = rng.random()
        if guest:
            user.activity = "never" if r < 0.35 else ("inactive" if r < 0.6 else "active")
        else:
            user.account_enabled = rng.random() >= 0.04
            old = (start - created).days > 180
            user.activity = "never" if r < 0.02 and old else ("inactive" if r < 0.1 else "active")
            plan_member(tenant, rng, user, groups)
            members.append(user)
        _sign_ins(user, rng, start)
        tenant.add_user(user)
    _plan_extras(tenant, rng, members)
    _seed_errors(tenant, rng, members, groups)
    for user in tenant.users:
        for sku in user.direct:
            tenant.consumed[sku] += 1
    tenant._units = {s.sku_id: [10**9, 0, 0, 0] for s in tenant.skus}  # pass one: unlimited seats
    licensing.process_all(tenant)
    demand = dict(tenant.consumed)
    _buy(tenant, rng, demand, n_users)
    # Pass two only for groups giving a SKU now short of seats. Their plans conflict with and
    # prerequisite nothing, so no other group's outcome can change (much cheaper than a full pass).
    short = {sku for sku, need in demand.items() if tenant.free_seats(sku) < 0}
    for group in tenant.groups:
        if short & group.licenses.keys():
            for uid in group.members:
                licensing.drop_group_states(tenant, group, tenant.users_by_id[uid])
    for group in tenant.groups:
        if short & group.licenses.keys():
            licensing.process_group(tenant, group)
    return tenant
