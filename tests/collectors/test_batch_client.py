"""GraphClient's $batch under lost item answers, and retry counts per request, against the simulator."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from cli.demo_tenant import simulator_settings
from collectors.graph import GraphClient, RetryPolicy
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from licensedesk.errors import GraphError, ThrottledError

FAST = RetryPolicy(max_attempts=4, max_total_wait=10.0, max_single_wait=0.5, base_backoff=0.02)


def _paths(sim: GraphSimulator, n: int) -> list[str]:
    return [f"/users/{u.id}?$select=id,displayName" for u in sim.tenant.users[:n]]


def _visio_changes(sim: GraphSimulator, n: int) -> tuple[str, list[Any]]:
    visio = sim.tenant.sku_id("VISIOCLIENT")
    users = [
        u for u in sim.tenant.users if u.usage_location and not u.is_guest and visio not in u.held_skus()
    ]
    body = {"addLicenses": [{"skuId": visio, "disabledPlans": []}], "removeLicenses": []}
    return visio, [(u, ("POST", f"/users/{u.id}/assignLicense", body)) for u in users[:n]]


def _in_thread(call: Any, seconds: float) -> Any:
    """Run call on a thread; fail (instead of hanging the suite) if it has not returned in time."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_a_lost_item_answer_is_resent_after_a_pause(sim: GraphSimulator, store_path: str) -> None:
    target = sim.tenant.users[1]
    sim.faults.add("omit", path_prefix=f"/v1.0/users/{target.id}", first=1)
    waits: list[float] = []
    client = GraphClient(simulator_settings(sim, store_path), retry=FAST, sleep=waits.append)
    bodies = client.batch_get(_paths(sim, 3))
    assert [b["displayName"] for b in bodies] == [u.display_name for u in sim.tenant.users[:3]]
    assert len(waits) == 1 and waits[0] > 0  # backed off before asking again
    items = [r.path for r in sim.requests if r.batch_item]
    assert items.count(f"/v1.0/users/{target.id}") == 2 and len(items) == 4


@pytest.mark.timeout(60)
def test_an_item_whose_answer_is_always_lost_fails_within_the_budget(
    sim: GraphSimulator, store_path: str
) -> None:
    target = sim.tenant.users[2]
    sim.faults.add("omit", path_prefix=f"/v1.0/users/{target.id}")
    client = GraphClient(simulator_settings(sim, store_path), retry=FAST)
    with pytest.raises(GraphError) as err:
        _in_thread(lambda: client.batch_get(_paths(sim, 5)), 30)
    assert str(err.value) == "Graph failed for $batch after 4 attempts: its answer left out 1 request(s)."
    assert [r.path for r in sim.requests if r.batch_item].count(f"/v1.0/users/{target.id}") == 4


def test_a_write_whose_answer_is_lost_is_unknown_and_never_resent(
    sim: GraphSimulator, store_path: str
) -> None:
    visio, changes = _visio_changes(sim, 3)
    lost = changes[1][0]
    sim.faults.add("omit", path_prefix=f"/v1.0/users/{lost.id}/assignLicense")
    # The first change is throttled once: it alone is resent, beside the lost one.
    sim.faults.add(
        "throttle", path_prefix=f"/v1.0/users/{changes[0][0].id}/assignLicense", first=1, retry_after=0.05
    )
    # Which app writes is not the point here: the read app is granted the write permissions.
    sim.set_permissions(sim.permissions("read") | sim.permissions("write"))
    client = GraphClient(simulator_settings(sim, store_path), retry=FAST)
    outcomes = client.batch_write([c for _u, c in changes])
    assert [o.status for o in outcomes] == [200, None, 200]
    unknown = outcomes[1]
    assert not unknown.ok and unknown.body is None and unknown.request_id
    assert unknown.error is not None and "unknown" in unknown.error and "not resent" in unknown.error
    sent = [w.path for w in sim.write_requests()]
    assert sent.count(f"/v1.0/users/{lost.id}/assignLicense") == 1
    assert sent.count(f"/v1.0/users/{changes[0][0].id}/assignLicense") == 2
    assert all(visio in u.held_skus() for u, _c in changes)  # the lost answer's write was applied


def test_a_throttled_batch_of_writes_is_resent_whole(sim: GraphSimulator, store_path: str) -> None:
    visio, changes = _visio_changes(sim, 2)
    sim.faults.add("throttle", path_prefix="/v1.0/$batch", first=2, retry_after=0.05)
    waits: list[float] = []
    client = GraphClient(
        simulator_settings(sim, store_path), identity="write", retry=FAST, sleep=waits.append
    )
    outcomes = client.batch_write([c for _u, c in changes])
    assert [o.status for o in outcomes] == [200, 200] and waits == [0.05, 0.05]
    assert [w.status for w in sim.write_requests()] == [429, 429, 200, 200]


def test_writes_still_throttled_after_the_budget_are_reported_not_applied(
    sim: GraphSimulator, store_path: str
) -> None:
    visio, changes = _visio_changes(sim, 1)
    sim.faults.add("throttle", path_prefix="/v1.0/users/", retry_after=0.01)
    client = GraphClient(simulator_settings(sim, store_path), identity="write", retry=FAST)
    (outcome,) = client.batch_write([c for _u, c in changes])
    assert outcome.status == 429 and outcome.error == "Graph kept throttling this change; it was not applied."
    assert [w.status for w in sim.write_requests()] == [429] * 4
    assert visio not in changes[0][0].held_skus()


def test_retry_counts_in_errors_are_the_failing_requests_own(sim: GraphSimulator, store_path: str) -> None:
    settings = simulator_settings(sim, store_path)
    # Earlier requests retry too (subscribedSkus twice): the message must not count those.
    sim.faults.add("throttle", path_prefix="/v1.0/subscribedSkus", first=2, retry_after=0.01)
    sim.faults.add("throttle", path_prefix="/v1.0/users", retry_after=0.01)
    client = GraphClient(settings, retry=FAST)
    with pytest.raises(ThrottledError) as err:
        run_collection(settings, client=client)
    assert "kept throttling /v1.0/users (429) after 3 retries;" in str(err.value)
    assert client.stats.retries == 5  # the client's running total is still kept for the snapshot record
