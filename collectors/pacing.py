"""Pacing reads under Graph's throttling budgets: a token bucket per tenant and one for the app.

Why: one multi-tenant app collecting hundreds of tenants at once spends Graph's budget per app
across all tenants (150,000 resource units per 20 s) and per app in each tenant (3,500 per 10 s
for the smallest tenants), and a 429 costs its ``Retry-After`` and a request. So each request waits
here until both buckets hold its cost, reckoned as Graph does (``read_cost``: ``GET users`` 2,
``GET subscribedSkus`` 3, ``$select`` -1, ...; a ``$batch`` costs the sum of its items), and the
buckets listen to Graph: ``x-ms-throttle-limit-percentage`` (sent past 80% of a budget, which other
machines of a sharded collection or other tools of the same app may be spending, or which is
smaller than we think) pauses the tenant's requests until Graph's bucket is back to 60%, and a 429
empties the bucket its ``x-ms-throttle-scope`` names for its
``Retry-After``. The retry itself stays ``collectors.retry``'s. Writes are not metered by Graph's
read budget, so they pass. Imports nothing of the project but ``licensedesk.config``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from licensedesk.config import Settings, parse_budget

# Graph's published base costs of reads (identity and access), ids as "{id}"; anything else 1.
BASE_COSTS: dict[tuple[str, ...], int] = {
    ("users",): 2,
    ("subscribedskus",): 3,
    ("applications",): 2,
    ("groups", "{id}", "members"): 3,
    ("groups", "{id}", "transitivemembers"): 5,
}
RELAXED = 0.6  # the share of a budget in use that a pause on Graph's warning header waits back to


def read_cost(path: str, query: Mapping[str, str]) -> int:
    """Resource units Graph charges for one GET of ``path`` (relative to the version root)."""
    segments = [s.lower().removeprefix("microsoft.graph.") for s in path.strip("/").split("/") if s]
    cost = BASE_COSTS.get(tuple(s if i % 2 == 0 else "{id}" for i, s in enumerate(segments)), 1)
    options = {k.lower() for k in query}
    cost += ("$expand" in options) - ("$select" in options)
    top = next((v for k, v in query.items() if k.lower() == "$top"), "")
    if top.isdigit() and int(top) < 20:
        cost -= 1
    return max(1, cost)


class TokenBucket:
    """Up to ``limit`` units, refilled at limit / window per second. Not locked: ``Pacer`` locks."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit, self.window, self.rate, self._clock = float(limit), window, limit / window, clock
        self.level, self._stamp = float(limit), clock()

    def _refill(self) -> None:
        now = self._clock()
        self.level = min(self.limit, self.level + (now - self._stamp) * self.rate)
        self._stamp = now

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` is in the bucket (0 now)."""
        self._refill()
        return max(0.0, (min(cost, self.limit) - self.level) / self.rate)

    def take(self, cost: float) -> None:
        self.level -= min(cost, self.limit)

    def drain_to(self, level: float) -> None:
        """Hold no more than ``level`` (negative: empty for -level / rate seconds more)."""
        self._refill()
        self.level = min(self.level, level)


@dataclass
class AppBudget:
    """The app's bucket, shared by the ``Pacer`` of every tenant it collects; and the one lock."""

    units: int
    seconds: float
    tenant_units: int
    tenant_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.bucket = TokenBucket(_headroom(self.units), self.seconds, self.clock)
        self.lock = threading.Lock()
        self.waited = 0.0

    @classmethod
    def of(cls, settings: Settings) -> AppBudget:
        """The budgets configured (``LICENSE_DESK_APP_BUDGET``, ``LICENSE_DESK_TENANT_BUDGET``)."""
        app = parse_budget(settings.app_budget, "LICENSE_DESK_APP_BUDGET")
        tenant = parse_budget(settings.tenant_budget, "LICENSE_DESK_TENANT_BUDGET")
        return cls(app[0], app[1], tenant[0], tenant[1])

    def pacer(self) -> Pacer:
        """A pacer for one more tenant: its own bucket, this app bucket."""
        return Pacer(self, TokenBucket(_headroom(self.tenant_units), self.tenant_seconds, self.clock))


class Pacer:
    """Paces one tenant's requests (``GraphClient(pacer=...)`` calls ``before`` and ``after``)."""

    def __init__(self, app: AppBudget, tenant: TokenBucket) -> None:
        self.app, self.tenant = app, tenant
        self.waited = 0.0

    def before(self, method: str, url: str, params: Mapping[str, str] | None, json_body: Any) -> None:
        """Wait until both buckets hold this request's cost, then take it."""
        cost = request_cost(method, url, params, json_body)
        if cost == 0:
            return
        while True:
            with self.app.lock:
                wait = max(self.tenant.wait_for(cost), self.app.bucket.wait_for(cost))
                if wait <= 0:
                    self.tenant.take(cost)
                    self.app.bucket.take(cost)
                    return
            self.waited += wait
            with self.app.lock:
                self.app.waited += wait
            self.app.sleep(wait)

    def after(self, status: int, headers: Mapping[str, str]) -> None:
        """Listen to Graph: how much of a budget is used, and which one a 429 was for."""
        with self.app.lock:
            if status == 429:
                retry_after = _number(headers.get("Retry-After")) or 1.0
                scope = headers.get("x-ms-throttle-scope", "")
                bucket = self.app.bucket if scope.startswith("Application/") else self.tenant
                bucket.drain_to(-retry_after * bucket.rate)
                return
            used = _number(headers.get("x-ms-throttle-limit-percentage"))
            if used is not None and used > RELAXED:
                # The header gives a share of a limit we do not know, so it cannot say how many
                # units are left; but Graph refills a whole budget in its window, so pausing
                # (used - RELAXED) of a window brings its bucket back to RELAXED, whatever its size.
                self.tenant.drain_to(-(used - RELAXED) * self.tenant.window * self.tenant.rate)


def request_cost(method: str, url: str, params: Mapping[str, str] | None, json_body: Any) -> int:
    """What Graph's read budget charges for one request: a GET's cost, a ``$batch``'s items' sum."""
    parts = urlsplit(url)
    path = _version_relative(parts.path)
    if method == "GET":
        return read_cost(path, {**dict(parse_qsl(parts.query)), **(params or {})})
    if path.strip("/") == "$batch" and isinstance(json_body, dict):
        total = 0
        for item in json_body.get("requests") or []:
            if isinstance(item, dict) and str(item.get("method", "GET")).upper() == "GET":
                inner = urlsplit("/" + str(item.get("url", "")).lstrip("/"))
                total += read_cost(inner.path, dict(parse_qsl(inner.query)))
        return total
    return 0


def _version_relative(path: str) -> str:
    """``/v1.0/users`` -> ``/users`` (whatever prefix a gateway puts before the version)."""
    for version in ("/v1.0/", "/beta/"):
        if version in path:
            return "/" + path.split(version, 1)[1]
    return path


def _headroom(units: int) -> int:
    """5% less than the budget: Graph counts a request when it arrives, later (and by a latency
    that varies) than we do when it leaves, and its clock is not ours."""
    return max(1, units * 95 // 100)


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
