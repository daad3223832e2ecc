"""Graph's identity-and-access throttling: what a directory read costs, and the two budgets it is
metered against (per app per tenant, and per app across all tenants).

Why a model of its own: a collector that serves hundreds of tenants with one multi-tenant app
meets the app-wide budget long before any single tenant's, and only a simulator that meters both
can show whether pacing keeps it under them. The numbers are Microsoft's published ones
(learn.microsoft.com/graph/throttling-limits, "Identity and access service limits"):

- cost of a read, in resource units (RU): ``GET users`` 2, ``GET subscribedSkus`` 3,
  ``GET groups/{id}/members`` 3, ``GET groups/{id}/transitiveMembers`` 5, any other GET 1;
  ``$select`` -1, ``$expand`` +1, ``$top`` under 20 -1; never below 1;
- app + tenant pair: 3,500 RU per 10 s under 50 users, 5,000 for 50 to 500, 8,000 above;
- app across all tenants: 150,000 RU per 20 s.

Both are token buckets (Graph's own description): a bucket holds up to its limit and refills
at limit / window per second; a read that finds less than its cost in either bucket is answered
429 with ``Retry-After`` (whole seconds until the bucket holds it) and ``x-ms-throttle-scope``, and
is not charged. Every read answered is given ``x-ms-resource-unit`` and, once more than 80% of a
budget is in use, ``x-ms-throttle-limit-percentage`` (0.8 to 1.8, the larger of the two). Writes
have a separate quota, which the simulator does not meter. Imports nothing from the project.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Graph's published base costs (path segments lowercased, ids as "{id}"); anything else costs 1.
BASE_COSTS: dict[tuple[str, ...], int] = {
    ("users",): 2,
    ("subscribedskus",): 3,
    ("applications",): 2,
    ("groups", "{id}", "members"): 3,
    ("groups", "{id}", "transitivemembers"): 5,
    ("contracts",): 3,
    ("oauth2permissiongrants",): 2,
}
WARN_FRACTION = 0.8  # Graph sends x-ms-throttle-limit-percentage only past this share of a budget


def tenant_size_limit(users: int) -> int:
    """RU per 10 s for one app in a tenant of this many users (S, M or L)."""
    if users < 50:
        return 3_500
    return 5_000 if users <= 500 else 8_000


def read_cost(path: str, query: Mapping[str, str]) -> int:
    """Resource units of one GET of ``path`` (relative to /v1.0) with these query options."""
    segments = [s.lower().removeprefix("microsoft.graph.") for s in path.strip("/").split("/") if s]
    shape = tuple(s if i % 2 == 0 else "{id}" for i, s in enumerate(segments))
    cost = BASE_COSTS.get(shape, 1)
    options = {k.lower(): v for k, v in query.items()}
    if "$select" in options:
        cost -= 1
    if "$expand" in options:
        cost += 1
    top = options.get("$top", "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(1, cost)


@dataclass
class Bucket:
    """A token bucket of ``limit`` units refilled over ``window`` seconds (thread-safe)."""

    limit: float
    window: float
    clock: Callable[[], float] = time.monotonic
    level: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.level, self.stamp = float(self.limit), self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.limit, self.level + (now - self.stamp) * self.limit / self.window)
        self.stamp = now

    def shortfall(self, cost: float) -> float:
        """Seconds until the bucket holds ``cost`` (0 when it does now)."""
        self._refill()
        missing = cost - self.level
        return 0.0 if missing <= 0 else missing * self.window / self.limit

    def used(self) -> float:
        """The share of the budget in use (0 when full, 1 when empty)."""
        self._refill()
        return 1.0 - self.level / self.limit


@dataclass(frozen=True)
class Limits:
    """The budgets to meter: Graph's by default; tests set them low.

    ``tenant_limit`` None means Graph's size-dependent limit (``tenant_size_limit``).
    """

    app_limit: int = 150_000
    app_window: float = 20.0
    tenant_limit: int | None = None
    tenant_window: float = 10.0


@dataclass(frozen=True)
class Verdict:
    """The meter's answer to one read: headers for the answer, and a 429 when ``retry_after`` is set."""

    headers: dict[str, str]
    retry_after: int | None = None
    scope: str | None = None


class Meter:
    """Meters reads per (app, tenant) and per app; ``users_of`` gives a tenant's size."""

    def __init__(
        self, limits: Limits, users_of: Callable[[str], int], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self._users_of = users_of
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], Bucket] = {}
        self._apps: dict[str, Bucket] = {}
        self.throttled = 0

    def _buckets(self, app: str, tenant: str) -> tuple[Bucket, Bucket]:
        pair = self._pairs.get((app, tenant))
        if pair is None:
            limit = self.limits.tenant_limit or tenant_size_limit(self._users_of(tenant))
            pair = self._pairs[(app, tenant)] = Bucket(limit, self.limits.tenant_window, self._clock)
        whole = self._apps.get(app)
        if whole is None:
            whole = self._apps[app] = Bucket(self.limits.app_limit, self.limits.app_window, self._clock)
        return pair, whole

    def charge(self, app: str, tenant: str, path: str, query: Mapping[str, str]) -> Verdict:
        """Charge one read to both budgets, or refuse it (uncharged) when either lacks its cost."""
        cost = read_cost(path, query)
        with self._lock:
            pair, whole = self._buckets(app, tenant)
            waits = (
                ("Tenant_Application", tenant, pair.shortfall(cost)),
                ("Application", tenant, whole.shortfall(cost)),
            )
            scope, scoped_to, wait = max(waits, key=lambda w: w[2])
            if wait > 0:
                self.throttled += 1
                return Verdict(
                    {"Retry-After": str(max(1, math.ceil(wait))),
                     "x-ms-throttle-scope": f"{scope}/Read/{app}/{scoped_to}",
                     "x-ms-throttle-information": "ResourceUnitLimitExceeded"},
                    retry_after=max(1, math.ceil(wait)), scope=scope,
                )  # fmt: skip
            pair.level -= cost
            whole.level -= cost
            headers = {"x-ms-resource-unit": str(cost)}
            used = max(pair.used(), whole.used())
            if used > WARN_FRACTION:
                headers["x-ms-throttle-limit-percentage"] = f"{used:.2f}"
            return Verdict(headers)
