"""One simulated day of a tenant's life, so `license-desk demo` can build history.

Per day, drawn from an RNG seeded by (tenant seed, day number) so the same number of days always
gives the same tenant: about 0.2% of members leave (account disabled; 60% have their licenses and
group memberships removed 3-21 days later, the rest keep them: "disabled users holding seats"),
about 0.3% are hired (licensed like the original staff; direct licenses only while seats are free,
group memberships regardless, so licensed groups outgrow their seats), active users sign in, a few
users drift between active and inactive, base suites are topped up when hires are waiting
(Power BI Pro, Copilot and Calling are never auto-bought, so their CountViolations persist), an
add-on purchase happens now and then, and subscriptions renew when their lifecycle date passes.
Imports graphsim.builder, graphsim.licensing, graphsim.model, graphsim.skus, graphsim.state.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from random import Random

from graphsim import licensing
from graphsim.builder import make_person, plan_member, ts
from graphsim.model import COUNT_VIOLATION, ERROR, User
from graphsim.skus import sku_id
from graphsim.state import TenantState, add_period, new_subscription

TOPPED_UP = ("SPE_E3", "SPE_E5", "SPB", "ENTERPRISEPACK", "EMS")
ADD_ONS = ("VISIOCLIENT", "AAD_PREMIUM_P2", "EMS")


def _how_many(rng: Random, expected: float) -> int:
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def _offboard(tenant: TenantState, user: User) -> None:
    licensing.set_direct(tenant, user, {})
    for group in tenant.groups:
        if user.id in group.members:
            licensing.remove_member(tenant, group, user)


def _hire(tenant: TenantState, rng: Random) -> None:
    created = tenant.now + timedelta(seconds=rng.randrange(8 * 3600, 18 * 3600))
    guest = rng.random() < 0.05
    user = make_person(tenant, rng, guest=guest, created=created)
    tenant.add_user(user)
    if guest:
        user.activity = "never" if rng.random() < 0.3 else "active"
        return
    plan_member(tenant, rng, user, {g.display_name: g for g in tenant.groups})
    wanted, user.direct = user.direct, {}
    for sku, lic in wanted.items():
        if tenant.free_seats(sku) > 0:  # an admin cannot assign directly without a seat
            user.direct[sku] = lic
            tenant.consumed[sku] += 1


def _sign_ins(tenant: TenantState, rng: Random, day_start_s: int) -> None:
    for user in tenant.users:
        if not user.account_enabled or ts(user.created) > day_start_s:
            continue
        drift = rng.random()
        if user.activity == "active" and drift < 0.0003:
            user.activity = "inactive"  # long leave: stops signing in
        elif user.activity == "inactive" and drift < 0.002:
            user.activity = "active"
        if user.activity != "active":
            continue
        if rng.random() < (0.15 if user.is_guest else 0.8):
            when = day_start_s + rng.randrange(86400)
            user.last_sign_in = max(user.last_sign_in or 0, when)
            user.last_success = max(user.last_success or 0, when)
        if not user.is_guest and rng.random() < 0.9:
            user.last_non_interactive = max(
                user.last_non_interactive or 0, day_start_s + rng.randrange(86400)
            )


def _buy(tenant: TenantState, rng: Random, sku: str, n: int) -> None:
    enabled = [s for s in tenant.subscriptions if s.sku_id == sku and s.status == "Enabled"]
    if enabled and rng.random() < 0.7:
        max(enabled, key=lambda s: s.total_licenses).total_licenses += n
    else:
        tenant.subscriptions.append(new_subscription(tenant, rng, tenant.sku_by_id[sku], n, billing="P1M"))


def _purchases(tenant: TenantState, rng: Random) -> bool:
    waiting: Counter[str] = Counter(
        sku
        for user in tenant.users
        for (_, sku), lic in user.group_licenses.items()
        if lic.state == ERROR and lic.error == COUNT_VIOLATION
    )
    bought = False
    for part in TOPPED_UP:
        sku = sku_id(part)
        enabled = tenant.seat_counts()[sku].enabled
        if tenant.free_seats(sku) - waiting[sku] < max(1, enabled // 100) and rng.random() < 0.5:
            _buy(tenant, rng, sku, max(5, waiting[sku] + math.ceil(enabled * 0.03)))
            bought = True
    if rng.random() < 0.03:
        _buy(tenant, rng, sku_id(rng.choice(ADD_ONS)), rng.randint(2, 5))
        bought = True
    return bought


def advance_day(tenant: TenantState) -> None:
    """Move the tenant one day forward (caller holds tenant.lock)."""
    tenant.day += 1
    day = tenant.day
    rng = Random(f"{tenant.seed_key}/day/{day}")
    day_start_s = ts(tenant.now)
    for user in tenant.users:
        if user.reclaim_on is not None and user.reclaim_on <= day:
            user.reclaim_on = None
            _offboard(tenant, user)
    staff = [u for u in tenant.users if not u.is_guest and u.account_enabled]
    for user in rng.sample(staff, min(len(staff), _how_many(rng, len(staff) * 0.002))):
        user.account_enabled = False
        user.left_on = day
        user.reclaim_on = day + rng.randint(3, 21) if rng.random() < 0.6 else None
    for _ in range(_how_many(rng, len(staff) * 0.003)):
        _hire(tenant, rng)
    _sign_ins(tenant, rng, day_start_s)
    licensing.process_all(tenant)
    end = tenant.now + timedelta(days=1)
    if _purchases(tenant, rng):
        tenant.refresh_units()
        licensing.process_all(tenant)
    for sub in tenant.subscriptions:
        while sub.next_lifecycle <= end:
            if sub.status == "Enabled":
                sub.next_lifecycle = add_period(sub.next_lifecycle, sub.billing)
            else:  # grace periods and suspensions are extended by the reseller in this story
                sub.next_lifecycle += timedelta(days=30)
    tenant.now = end
