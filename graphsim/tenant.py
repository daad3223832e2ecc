"""The simulated tenant: its state (graphsim.state) and the helpers tests use to change it.

`build_tenant` makes one deterministically from (users, seed, start) (see graphsim.builder);
`Tenant.advance_day` moves it one simulated day forward (graphsim.evolution). Every mutation goes
through graphsim.licensing so consumedUnits always equals the number of users holding a SKU.
The HTTP layer never touches state without holding `tenant.lock`.
"""

from __future__ import annotations

from datetime import datetime
from random import Random

from graphsim import builder, evolution, licensing
from graphsim.model import SeatCounts
from graphsim.state import DEFAULT_START, TenantState, new_subscription

__all__ = ["SeatCounts", "Tenant", "build_tenant"]


class Tenant(TenantState):
    """A simulated directory (state and lookups: graphsim.state.TenantState) with the changes
    tests and the write endpoints make to it, each followed by group processing."""

    # -- helpers that keep group processing consistent ---------------------------------------
    def buy_seats(self, sku_id_or_part_number: str, n: int, *, process: bool = True) -> None:
        """Add n enabled units (to the largest Enabled subscription), then process all groups.

        process=False only adds the units, as Entra does: members in CountViolation then stay in error
        until they (or their group) are reprocessed.
        """
        with self.lock:
            sku = self.sku(sku_id_or_part_number)
            enabled = [s for s in self.subscriptions if s.sku_id == sku.sku_id and s.status == "Enabled"]
            if enabled:
                max(enabled, key=lambda s: s.total_licenses).total_licenses += n
            else:
                rng = Random(f"{self.seed_key}/purchase/{len(self.subscriptions)}")
                self.subscriptions.append(new_subscription(self, rng, sku, n, billing="P1M"))
            self.refresh_units()
            if process:
                licensing.process_all(self)

    def add_group_members(self, group_id: str, user_ids: list[str]) -> None:
        """Add users to a group (joining at the end), then process the group."""
        with self.lock:
            group = self.groups_by_id[group_id]
            for uid in user_ids:
                user = self.user(uid)
                if user is None:
                    raise KeyError(f"no user {uid!r}")
                group.members[user.id] = None
            licensing.process_group(self, group)

    def remove_group_members(self, group_id: str, user_ids: list[str]) -> None:
        """Remove users from a group; their seats from it are freed (others are not reprocessed)."""
        with self.lock:
            group = self.groups_by_id[group_id]
            for uid in user_ids:
                user = self.user(uid)
                if user is not None:
                    licensing.remove_member(self, group, user)

    def advance_day(self) -> None:
        """One simulated day: hires, leavers, sign-ins, purchases, renewals, group processing."""
        with self.lock:
            evolution.advance_day(self)


def build_tenant(
    users: int = 500, seed: int = 7, start: datetime | None = None, *, domain: str | None = None
) -> Tenant:
    """A synthetic tenant, deterministic for (users, seed): ``start`` (default 2026-01-05 UTC) moves
    its dates, never its draw; ``domain`` defaults to contoso.onmicrosoft.com."""
    return builder.build(Tenant, users, seed, start or DEFAULT_START, domain)


def customer_tenants(count: int, users: int, seed: int, start: datetime | None = None) -> list[Tenant]:
    """``count`` more tenants for a simulator serving many (tenant 2, 3, ...): each with ``users``
    users, its own seed (seed + n - 1 for tenant n), id and domain (customerN.onmicrosoft.com)."""
    out = []
    for n in range(2, count + 2):
        tenant = build_tenant(users, seed + n - 1, start, domain=f"customer{n}.onmicrosoft.com")
        tenant.account_name = f"Customer {n} Ltd"
        out.append(tenant)
    return out
