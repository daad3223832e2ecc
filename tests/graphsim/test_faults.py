"""Fault injection: every kind does what it says, selectors count matching requests, writes stay unapplied."""

from __future__ import annotations

import time

import pytest
import requests

from graphsim.server import GraphSimulator
from tests.helpers.graph_client import Graph, fetch_token, https_session


def _statuses(sim: GraphSimulator, path: str) -> list[int]:
    return [r.status for r in sim.requests if r.path == path]


def test_throttle_with_fractional_retry_after(sim: GraphSimulator, graph: Graph) -> None:
    sim.faults.add("throttle", path_prefix="/v1.0/users", first=1, retry_after=0.05)
    throttled = graph.get("users")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "0.05"
    error = throttled.json()["error"]
    assert error["code"] == "TooManyRequests" and error["innerError"]["status"] == "429"
    assert graph.get("users").status_code == 200
    assert _statuses(sim, "/v1.0/users") == [429, 200]


def test_throttle_without_retry_after_sends_no_header(sim: GraphSimulator, graph: Graph) -> None:
    sim.faults.add("throttle")
    response = graph.get("subscribedSkus")
    assert response.status_code == 429 and "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("unavailable", 503, "serviceNotAvailable"), ("gateway_timeout", 504, "gatewayTimeout"),
     ("server_error", 500, "generalException")],
)  # fmt: skip
def test_server_errors(sim: GraphSimulator, graph: Graph, kind: str, status: int, code: str) -> None:
    sim.faults.add(kind, nth=[2], retry_after="3" if kind == "unavailable" else None)
    assert graph.get("users").status_code == 200
    response = graph.get("users")
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert ("Retry-After" in response.headers) == (kind == "unavailable")
    assert graph.get("users").status_code == 200


def test_drop_closes_without_an_answer(sim: GraphSimulator, graph: Graph) -> None:
    sim.faults.add("drop", path_prefix="/v1.0/groups", first=1)
    with pytest.raises(requests.ConnectionError):
        graph.get("groups")
    assert _statuses(sim, "/v1.0/groups") == [0]
    assert graph.get("groups").status_code == 200  # a new connection works


def test_truncate_cuts_the_body(sim: GraphSimulator, graph: Graph) -> None:
    sim.faults.add("truncate", path_prefix="/v1.0/users", first=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        graph.get("users", params={"$select": "id,displayName"})
    full = graph.get("users", params={"$select": "id,displayName"})
    assert full.status_code == 200 and len(full.json()["value"]) == 100


def test_slow_answers_after_the_delay(sim: GraphSimulator, graph: Graph) -> None:
    sim.faults.add("slow", path_prefix="/v1.0/subscribedSkus", delay=0.3)
    started = time.perf_counter()
    response = graph.get("subscribedSkus")
    assert response.status_code == 200 and time.perf_counter() - started >= 0.3
    assert next(r for r in sim.requests if r.path == "/v1.0/subscribedSkus").duration >= 0.3


def test_selectors_count_only_matching_requests(sim: GraphSimulator, graph: Graph) -> None:
    rule = sim.faults.add("server_error", path_prefix="/v1.0/users", nth=[2, 4])
    results = []
    for _ in range(3):
        graph.get("groups")  # does not count
        results.append(graph.get("users").status_code)
        results.append(graph.get("users").status_code)
    assert results == [200, 500, 200, 500, 200, 200] and rule.seen == 6 and rule.fired == 2


def test_rate_is_seeded(sim: GraphSimulator, graph: Graph) -> None:
    outcomes = []
    for _ in range(2):
        sim.faults.clear()
        sim.faults.add("unavailable", rate=0.5, seed=42)
        outcomes.append([graph.get("subscribedSkus").status_code for _ in range(20)])
    assert outcomes[0] == outcomes[1] and 3 <= outcomes[0].count(503) <= 17


def test_token_endpoint_is_spared_unless_targeted(sim: GraphSimulator) -> None:
    session = https_session(sim)
    sim.faults.add("unavailable")
    sim.faults.add("unavailable", path_prefix="/")
    assert fetch_token(sim, session).status_code == 200
    sim.faults.clear()
    sim.faults.add("throttle", path_prefix=f"/{sim.tenant_id}/oauth2", first=1, retry_after=1)
    throttled = fetch_token(sim, session)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"] == "temporarily_unavailable"
    assert fetch_token(sim, session).status_code == 200
    session.close()


def test_a_faulted_write_is_not_applied(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    user = next(u for u in tenant.users if u.usage_location and not u.is_guest)
    flow = tenant.sku_id("VISIOCLIENT")
    assert flow not in user.direct
    body = {"addLicenses": [{"skuId": flow, "disabledPlans": []}], "removeLicenses": []}
    for kind in ("throttle", "drop", "truncate"):
        sim.faults.clear()
        sim.faults.add(kind, path_prefix="/v1.0/users/")
        try:
            writer.post(f"users/{user.id}/assignLicense", body)
        except requests.RequestException:
            pass
        assert flow not in user.direct, kind
    assert [r.status for r in sim.write_requests()] == [429, 0, 200]
    sim.faults.clear()
    assert writer.post(f"users/{user.id}/assignLicense", body).status_code == 200
    assert flow in user.direct


@pytest.mark.parametrize(("kind", "status"), [("unavailable", 503), ("throttle", 429)])
def test_status_faults_on_discovery_and_token_answer_aadsts90033(
    sim: GraphSimulator, kind: str, status: int
) -> None:
    session = https_session(sim)
    discovery = f"{sim.authority_url}{sim.discovery_path}"
    sim.faults.add(kind, path_prefix=sim.discovery_path, first=1, retry_after="1")
    sim.faults.add(kind, path_prefix=sim.token_path, first=1)
    for response in (session.get(discovery, timeout=10), fetch_token(sim, session)):
        assert response.status_code == status
        body = response.json()
        assert body["error"] == "temporarily_unavailable" and body["error_codes"] == [90033]
        assert body["error_description"].startswith("AADSTS90033: A transient error has occurred.")
    assert session.get(discovery, timeout=10).json()["token_endpoint"].endswith(sim.token_path)
    assert fetch_token(sim, session).json()["access_token"]
    assert [r.status for r in sim.requests] == [status, status, 200, 200]


@pytest.mark.parametrize("endpoint", ["discovery", "token"])
def test_dropped_and_truncated_sign_in_answers(sim: GraphSimulator, endpoint: str) -> None:
    session = https_session(sim)
    path = sim.discovery_path if endpoint == "discovery" else sim.token_path

    def call() -> requests.Response:
        if endpoint == "discovery":
            return session.get(f"{sim.authority_url}{path}", timeout=10)
        return fetch_token(sim, session)

    sim.faults.add("drop", path_prefix=path, first=1)
    with pytest.raises(requests.ConnectionError):
        call()
    sim.faults.clear()
    sim.faults.add("truncate", path_prefix=path, first=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        call()
    whole = call()
    assert whole.status_code == 200 and whole.json()
    assert [r.status for r in sim.requests] == [0, 200, 200]
