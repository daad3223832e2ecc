"""The simulator serving many tenants, and metering Graph's throttling budgets.

Costs and limits worked out from Microsoft's "Identity and access service limits" table
(graphsim.throttling cites it): GET users is 2 resource units, 1 with $select; GET subscribedSkus 3.
"""

from __future__ import annotations

import requests

from graphsim.server import GraphSimulator
from graphsim.tenant import build_tenant
from graphsim.throttling import Limits, read_cost
from tests.helpers.graph_client import https_session

SCOPE = "https://graph.microsoft.com/.default"
SLOW = 1000.0  # a window so long that refilling during a test is a rounding error


def _token(sim: GraphSimulator, session: requests.Session, tenant: str) -> str:
    answer = session.post(
        f"{sim.authority_url}/{tenant}/oauth2/v2.0/token",
        data={"client_id": sim.client_id, "client_secret": sim.client_secret,
              "grant_type": "client_credentials", "scope": SCOPE},
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def _get(sim: GraphSimulator, session: requests.Session, token: str, path: str) -> requests.Response:
    return session.get(f"{sim.graph_url}/{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_each_tenant_has_its_own_id_domain_and_users_and_the_first_is_unchanged() -> None:
    with GraphSimulator(users=60, seed=5, tenants=3) as sim:
        session = https_session(sim)
        directory = sim.directory()
        assert [d["domain"] for d in directory] == [
            "contoso.onmicrosoft.com", "customer2.onmicrosoft.com", "customer3.onmicrosoft.com",
        ]  # fmt: skip
        assert len({d["tenant_id"] for d in directory}) == 3
        # Tenant 1 is the tenant a one-tenant simulator of the same users and seed serves.
        assert directory[0]["tenant_id"] == build_tenant(60, 5).tenant_id
        upns = []
        for entry in directory:
            token = _token(sim, session, entry["domain"])  # by domain as well as by id
            page = _get(sim, session, token, "users?$select=userPrincipalName&$top=999").json()["value"]
            assert len(page) == 60
            assert all(u["userPrincipalName"].endswith("@" + entry["domain"]) for u in page)
            upns.append({u["userPrincipalName"].split("@")[0] for u in page})
        assert upns[1] != upns[2]  # each customer's own people, not a copy


def test_a_token_reads_only_the_tenant_it_was_issued_in() -> None:
    with GraphSimulator(users=30, seed=2, tenants=2) as sim:
        session = https_session(sim)
        second = sim.tenants[1]
        token = _token(sim, session, second.tenant_id)
        skus = _get(sim, session, token, "subscribedSkus").json()["value"]
        assert {s["id"].split("_")[0] for s in skus} == {second.tenant_id}
        unknown = session.post(
            f"{sim.authority_url}/customer9.onmicrosoft.com/oauth2/v2.0/token",
            data={"client_id": sim.client_id, "client_secret": sim.client_secret,
                  "grant_type": "client_credentials", "scope": SCOPE},
            timeout=10,
        )  # fmt: skip
        assert unknown.status_code == 400 and unknown.json()["error_codes"] == [90002]


def test_costs_follow_graphs_table() -> None:
    assert read_cost("/users", {}) == 2
    assert read_cost("/users", {"$select": "id"}) == 1
    assert read_cost("/subscribedSkus", {}) == 3
    assert read_cost("/subscribedSkus", {"$select": "skuId"}) == 2
    assert read_cost("/groups/abc/members", {"$top": "5"}) == 2
    assert read_cost("/directory/subscriptions", {"$select": "id"}) == 1  # never below 1
    assert read_cost("/users", {"$expand": "manager"}) == 3


def test_past_the_tenant_budget_reads_are_answered_429_with_retry_after() -> None:
    # 10 RU per tenant: five reads of /users at 2 RU each fit, the sixth does not.
    limits = Limits(tenant_limit=10, tenant_window=SLOW, app_limit=1000, app_window=SLOW)
    with GraphSimulator(users=30, seed=2, throttling=limits) as sim:
        session = https_session(sim)
        token = _token(sim, session, sim.tenant_id)
        answers = [_get(sim, session, token, "users") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert [a.headers["x-ms-resource-unit"] for a in answers[:5]] == ["2"] * 5
        # Past 80% in use: after the fifth read 10 of 10 units are spent (the fourth leaves 0.8, not past it).
        assert [a.headers.get("x-ms-throttle-limit-percentage") for a in answers[:5]] == [None] * 4 + ["1.00"]
        throttled = answers[5]
        # 2 units refill at 10 per 1000 s: 200 s (less the moment the test took, rounded up).
        assert 199 <= int(throttled.headers["Retry-After"]) <= 200
        assert (
            throttled.headers["x-ms-throttle-scope"]
            == f"Tenant_Application/Read/{sim.client_id}/{sim.tenant_id}"
        )
        assert throttled.json()["error"]["code"] == "TooManyRequests"


def test_the_app_budget_is_shared_by_every_tenant() -> None:
    # 6 RU for the app across tenants: tenant 1 spends 4, tenant 2's first read (2) fits, its second not.
    limits = Limits(tenant_limit=1000, tenant_window=SLOW, app_limit=6, app_window=SLOW)
    with GraphSimulator(users=30, seed=2, tenants=2, throttling=limits) as sim:
        session = https_session(sim)
        first, second = (_token(sim, session, t.tenant_id) for t in sim.tenants)
        assert [_get(sim, session, first, "users").status_code for _ in range(2)] == [200, 200]
        assert _get(sim, session, second, "users").status_code == 200
        refused = _get(sim, session, second, "users")
        assert refused.status_code == 429
        assert refused.headers["x-ms-throttle-scope"].startswith("Application/Read/")
        assert sim.meter is not None and sim.meter.throttled == 1


def test_batch_items_are_metered_one_by_one() -> None:
    limits = Limits(tenant_limit=3, tenant_window=SLOW, app_limit=1000, app_window=SLOW)
    with GraphSimulator(users=30, seed=2, throttling=limits) as sim:
        session = https_session(sim)
        token = _token(sim, session, sim.tenant_id)
        batch = {"requests": [{"id": str(i), "method": "GET", "url": "/users?$select=id"} for i in range(4)]}
        answer = session.post(
            f"{sim.graph_url}/$batch", json=batch, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
        statuses = sorted(int(r["status"]) for r in answer["responses"])
        # 1 RU each against 3: three answered, the fourth throttled with its own Retry-After.
        assert statuses == [200, 200, 200, 429]
        throttled = next(r for r in answer["responses"] if int(r["status"]) == 429)
        assert "Retry-After" in throttled["headers"]


def test_without_throttling_nothing_is_metered() -> None:
    with GraphSimulator(users=30, seed=2) as sim:
        session = https_session(sim)
        token = _token(sim, session, sim.tenant_id)
        answer = _get(sim, session, token, "users")
        assert answer.status_code == 200 and "x-ms-resource-unit" not in answer.headers
