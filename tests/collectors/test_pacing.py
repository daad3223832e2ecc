"""Pacing under Graph's throttling budgets, against the simulator metering them.

A collection of a 30-user simulated tenant reads 12 resource units (counted by hand from its
requests: subscribedSkus with $select 2, subscriptions 1, one users page 1, two groups pages 1
each, six membersWithLicenseErrors items 1 each), so three tenants read 36 units.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from cli.demo_tenant import simulator_settings
from collectors.graph import GraphClient
from collectors.pacing import AppBudget, request_cost
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from graphsim.throttling import Limits

# 20 units per 2 s for the app across tenants: 36 units at once are far past it.
LOW_APP = Limits(app_limit=20, app_window=2.0, tenant_limit=10_000, tenant_window=10.0)


def _collect_all(sim: GraphSimulator, tmp_path: Path, budget: AppBudget | None) -> list[GraphClient]:
    clients = []
    for n, tenant in enumerate(sim.tenants):
        settings = dataclasses.replace(
            simulator_settings(sim, str(tmp_path / f"t{n}.sqlite")), tenant_id=tenant.tenant_id
        )
        client = GraphClient(settings, pacer=budget.pacer() if budget else None)
        run_collection(settings, client=client)
        clients.append(client)
    return clients


def test_unpaced_collections_are_throttled_past_the_app_budget(tmp_path: Path) -> None:
    with GraphSimulator(users=30, seed=2, tenants=3, throttling=LOW_APP) as sim:
        clients = _collect_all(sim, tmp_path, None)
        assert sim.meter is not None and sim.meter.throttled > 0
        # Retry-After was honoured: every collection still completed, after its 429s.
        assert sum(c.stats.throttled for c in clients) > 0


def test_paced_collections_see_no_429_and_take_what_the_budget_allows(tmp_path: Path) -> None:
    with GraphSimulator(users=30, seed=2, tenants=3, throttling=LOW_APP) as sim:
        # A little under Graph's 20 (as a deployment sharing the app would set it): Graph counts a
        # request when it arrives, and on a loaded machine arrivals bunch up.
        budget = AppBudget(18, 2.0, 10_000, 10.0)
        started = time.monotonic()
        clients = _collect_all(sim, tmp_path, budget)
        elapsed = time.monotonic() - started
        assert sim.meter is not None and sim.meter.throttled == 0
        assert sum(c.stats.throttled for c in clients) == 0
        # 36 units with 17 in hand (95% of 18), refilled at 8.5 a second: the last unit can leave no
        # sooner than (36 - 17) / 8.5 = 2.2 s after the first (the collections' own work counts too).
        assert budget.waited > 0 and elapsed >= 2.1


def test_the_limit_percentage_header_slows_the_pacer_before_a_429(tmp_path: Path) -> None:
    # The simulator's tenant budget is 60 per 10 s; the pacer believes Graph's 3,500 and learns
    # from the header. No request costs more than 6 units (the batch of six), a tenth of 60, so
    # one sent below 80% in use cannot reach 100%.
    limits = Limits(app_limit=100_000, app_window=20.0, tenant_limit=60, tenant_window=10.0)
    with GraphSimulator(users=30, seed=2, throttling=limits) as sim:
        budget = AppBudget(150_000, 20.0, 3_500, 10.0)
        settings = simulator_settings(sim, str(tmp_path / "one.sqlite"))
        pacer = budget.pacer()
        client = GraphClient(settings, pacer=pacer)
        for _ in range(6):  # 72 units against 60 per 10 s
            run_collection(settings, client=client)
        assert pacer.waited > 0  # it slowed down on its own, on Graph's word
        assert sim.meter is not None and sim.meter.throttled == 0
        assert client.stats.throttled == 0


def test_request_costs_as_graph_counts_them() -> None:
    base = "https://graph.example/v1.0"
    assert request_cost("GET", f"{base}/users", {"$select": "id"}, None) == 1
    assert request_cost("GET", f"{base}/users?$top=999", None, None) == 2
    assert request_cost("GET", f"{base}/subscribedSkus", None, None) == 3
    batch = {"requests": [{"id": "1", "method": "GET", "url": "/groups/x/members"},
                          {"id": "2", "method": "PATCH", "url": "/users/x"}]}  # fmt: skip
    assert request_cost("POST", f"{base}/$batch", None, batch) == 3
    assert request_cost("POST", f"{base}/users/x/assignLicense", None, {}) == 0
