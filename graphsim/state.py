"""The simulated tenant's state: the directory, its clock and seat counts, and the small helpers
every part of the simulator shares (seeded GUIDs, billing periods, a bought subscription).

``graphsim.builder`` (the seeded tenant), ``graphsim.evolution`` (one simulated day) and
``graphsim.licensing`` (group processing) work on a ``TenantState``; ``graphsim.tenant`` adds the
methods that call them. Imports graphsim.model, graphsim.people and graphsim.skus only.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import UTC, datetime
from random import Random
from typing import Any

from graphsim.model import Group, SeatCounts, Subscription, User
from graphsim.people import TENANT_DOMAIN
from graphsim.skus import SKUS, Sku

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)
UNIT_BUCKETS = {"Enabled": 0, "Warning": 1, "Suspended": 2, "LockedOut": 3}


def new_guid(rng: Random) -> str:
    """A random-looking (version 4) GUID drawn from a seeded RNG, so ids are reproducible."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def add_period(when: datetime, billing: str, times: int = 1) -> datetime:
    """when + n billing periods ("P1Y" or "P1M"), clamping the day to 28."""
    months = (12 if billing == "P1Y" else 1) * times
    total = when.month - 1 + months
    return when.replace(year=when.year + total // 12, month=total % 12 + 1, day=min(when.day, 28))


class TenantState:
    """All state of one simulated directory.

    Attributes:
        tenant_id, domain, account_id, account_name: identity of the directory and billing account.
        now: the tenant's clock (aware UTC); day: simulated days advanced since it was built.
        has_premium: Entra ID P1/P2 present (signInActivity is refused without it).
        default_location: usage location group licensing uses for users without one.
        skus: list[Sku] (graphsim.skus), sku_by_id: skuId -> Sku.
        subscriptions: list[Subscription]; their totals per status make up prepaidUnits.
        users: list[User] in creation order (paging offsets index it); users_by_id, users_by_upn.
        groups: list[Group] in creation order (processing order); groups_by_id.
        consumed: skuId -> consumedUnits, maintained by graphsim.licensing.
        concealed_names: admin/reportSettings displayConcealedNames (usage reports hash names).
        usage_overrides: user id -> graphsim.usage.UsageProfile pinned by a test (else drawn).
        lock: RLock guarding all of the above.
    """

    def __init__(self, *, tenant_id: str, account_id: str, seed_key: str, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be an aware datetime (UTC)")
        self.tenant_id = tenant_id
        self.domain = TENANT_DOMAIN
        self.account_id = account_id
        self.account_name = "Contoso Ltd"
        self.seed_key = seed_key
        self.now = start.astimezone(UTC)
        self.day = 0
        self.has_premium = True
        self.default_location = "US"
        self.lock = threading.RLock()
        self.skus: list[Sku] = list(SKUS)
        self.sku_by_id: dict[str, Sku] = {s.sku_id: s for s in self.skus}
        self.subscriptions: list[Subscription] = []
        self.users: list[User] = []
        self.users_by_id: dict[str, User] = {}
        self.users_by_upn: dict[str, User] = {}
        self.groups: list[Group] = []
        self.groups_by_id: dict[str, Group] = {}
        self.consumed: dict[str, int] = {s.sku_id: 0 for s in self.skus}
        self._units: dict[str, list[int]] = {}
        self.concealed_names = False
        self.usage_overrides: dict[str, Any] = {}
        self._upn_counts: Counter[str] = Counter()
        self.refresh_units()

    # -- lookups ---------------------------------------------------------------------------
    def sku(self, sku_id_or_part_number: str) -> Sku:
        """A SKU by skuId (any case) or part number; KeyError if the tenant has none."""
        key = sku_id_or_part_number.strip()
        found = self.sku_by_id.get(key.lower())
        if found is None:
            found = next((s for s in self.skus if s.part_number == key), None)
        if found is None:
            raise KeyError(f"no SKU {sku_id_or_part_number!r} in this tenant")
        return found

    def sku_id(self, part_number: str) -> str:
        """skuId of a part number (or of a skuId, normalised to lowercase)."""
        return self.sku(part_number).sku_id

    def user(self, id_or_upn: str) -> User | None:
        """A user by object id or userPrincipalName (case-insensitive)."""
        key = id_or_upn.lower()
        return self.users_by_id.get(key) or self.users_by_upn.get(key)

    def group(self, group_id: str) -> Group | None:
        return self.groups_by_id.get(group_id.lower())

    def unique_upn_local(self, local: str) -> str:
        """first.last, then first.last2, first.last3 ... so UPNs stay unique."""
        self._upn_counts[local] += 1
        n = self._upn_counts[local]
        return local if n == 1 else f"{local}{n}"

    def add_user(self, user: User) -> None:
        self.users.append(user)
        self.users_by_id[user.id] = user
        self.users_by_upn[user.upn.lower()] = user

    def add_group(self, group: Group) -> None:
        self.groups.append(group)
        self.groups_by_id[group.id] = group

    # -- seats -----------------------------------------------------------------------------
    def refresh_units(self) -> None:
        """Recompute prepaidUnits from the subscriptions (after any purchase or status change)."""
        units = {s.sku_id: [0, 0, 0, 0] for s in self.skus}
        for sub in self.subscriptions:
            bucket = UNIT_BUCKETS.get(sub.status)
            if bucket is not None:
                units[sub.sku_id][bucket] += sub.total_licenses
        self._units = units

    def free_seats(self, sku_id: str) -> int:
        """enabled + warning - consumed: what a new assignment needs to be > 0.

        Warning units are in their grace period and still assignable (Enabled -> Warning ->
        Suspended: only from Suspended on can a unit not be assigned).
        """
        units = self._units[sku_id]
        return units[0] + units[1] - self.consumed[sku_id]

    def capability_status(self, sku_id: str) -> str:
        enabled, warning, suspended, locked = self._units[sku_id]
        if enabled > 0:
            return "Enabled"
        if warning > 0:
            return "Warning"
        if suspended > 0:
            return "Suspended"
        return "LockedOut" if locked > 0 else "Suspended"

    def seat_counts(self) -> dict[str, SeatCounts]:
        """skuId -> SeatCounts, exactly what /subscribedSkus reports."""
        with self.lock:
            return {
                sku: SeatCounts(u[0], u[1], u[2], u[3], self.consumed[sku]) for sku, u in self._units.items()
            }

    def error_counts(self) -> Counter[str]:
        """How many (user, group, SKU) assignments are in each error state."""
        with self.lock:
            return Counter(
                lic.error for u in self.users for lic in u.group_licenses.values() if lic.state != "Active"
            )


def new_subscription(tenant: TenantState, rng: Random, sku: Sku, total: int, *, billing: str) -> Subscription:
    """A freshly bought Enabled subscription (renews one period from now)."""
    return Subscription(
        id=new_guid(rng),
        commerce_subscription_id=new_guid(rng),
        sku_id=sku.sku_id,
        part_number=sku.part_number,
        status="Enabled",
        total_licenses=total,
        is_trial=False,
        created=tenant.now,
        next_lifecycle=add_period(tenant.now, billing),
        billing=billing,
        owner_id=tenant.account_id,
    )
