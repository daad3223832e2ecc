"""POST /$batch: items run through the same router, faults and logs as direct calls."""

from __future__ import annotations

from typing import Any

from graphsim.server import GraphSimulator
from tests.helpers.graph_client import Graph


def _by_id(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["responses"]}


def test_batch_of_gets(sim: GraphSimulator, graph: Graph) -> None:
    user = sim.tenant.users[0]
    requests = [
        {"id": "1", "method": "GET", "url": "/subscribedSkus?$select=skuId"},
        {"id": "2", "method": "GET", "url": f"users/{user.id}?$select=id,displayName"},
        {"id": "3", "method": "GET", "url": "/users?$top=1000"},
        {"id": "4", "method": "GET", "url": "/users?$select=id,signInActivity&$top=2"},
    ]
    items = _by_id(graph.post("$batch", {"requests": requests}))
    assert items["1"]["status"] == 200 and len(items["1"]["body"]["value"]) == len(sim.tenant.skus)
    assert items["2"]["body"]["displayName"] == user.display_name
    assert items["3"]["status"] == 400 and items["3"]["body"]["error"]["code"] == "Request_BadRequest"
    assert items["4"]["status"] == 200 and "@odata.nextLink" in items["4"]["body"]
    assert items["1"]["headers"]["Content-Type"].startswith("application/json")
    assert [r.batch_item for r in sim.requests if r.batch_item] == [r["url"] for r in requests]
    assert sim.write_requests() == []


def test_batch_limits_and_ids(graph: Graph) -> None:
    many = [{"id": str(i), "method": "GET", "url": "/subscribedSkus"} for i in range(21)]
    too_many = graph.post("$batch", {"requests": many})
    assert too_many.status_code == 400
    assert len(_by_id(graph.post("$batch", {"requests": many[:20]}))) == 20
    dup = graph.post("$batch", {"requests": [many[0], many[0]]})
    assert dup.status_code == 400
    assert graph.post("$batch", {"nope": []}).status_code == 400


def test_depends_on_failure_gives_424(graph: Graph) -> None:
    items = _by_id(
        graph.post(
            "$batch",
            {
                "requests": [
                    {"id": "a", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"},
                    {"id": "b", "method": "GET", "url": "/subscribedSkus", "dependsOn": ["a"]},
                    {"id": "c", "method": "GET", "url": "/subscribedSkus", "dependsOn": ["b"]},
                ]
            },
        )  # fmt: skip
    )
    assert [items[k]["status"] for k in "abc"] == [404, 424, 424]


def test_a_throttled_item_has_its_own_retry_after(sim: GraphSimulator, graph: Graph) -> None:
    sim.faults.add("throttle", path_prefix="/v1.0/users", nth=[2], retry_after=2.5)
    requests = [{"id": str(i), "method": "GET", "url": "/users?$select=id&$top=1"} for i in range(1, 4)]
    items = _by_id(graph.post("$batch", {"requests": requests}))
    assert [items[str(i)]["status"] for i in range(1, 4)] == [200, 429, 200]
    assert items["2"]["headers"]["Retry-After"] == "2.5"
    assert items["2"]["body"]["error"]["code"] == "TooManyRequests"


def test_writes_in_a_batch_need_permission_and_are_logged(
    sim: GraphSimulator, graph: Graph, writer: Graph
) -> None:
    user = next(u for u in sim.tenant.users if u.usage_location and not u.is_guest)
    sku = sim.tenant.sku_id("FLOW_FREE")
    item = {
        "id": "1", "method": "POST", "url": f"/users/{user.id}/assignLicense",
        "headers": {"Content-Type": "application/json"},
        "body": {"addLicenses": [{"skuId": sku, "disabledPlans": []}], "removeLicenses": []},
    }  # fmt: skip
    denied = _by_id(graph.post("$batch", {"requests": [item]}))["1"]
    assert denied["status"] == 403 and denied["body"]["error"]["code"] == "Authorization_RequestDenied"
    no_type = {**item, "id": "2", "headers": {}}
    done = _by_id(writer.post("$batch", {"requests": [item, no_type]}))
    assert done["1"]["status"] == 200 and done["2"]["status"] == 400
    assert sku in user.held_skus()
    writes = sim.write_requests()
    assert [(w.method, w.path, w.status) for w in writes] == [
        ("POST", f"/v1.0/users/{user.id}/assignLicense", 403),
        ("POST", f"/v1.0/users/{user.id}/assignLicense", 200),
        ("POST", f"/v1.0/users/{user.id}/assignLicense", 400),
    ]
    sim.faults.add("throttle", path_prefix="/v1.0/$batch")
    assert writer.post("$batch", {"requests": [item]}).status_code == 429
    assert sim.write_requests()[-1].path == "/v1.0/$batch"  # a refused batch of writes still counts


def test_omit_leaves_an_item_out_of_the_answer_after_running_it(sim: GraphSimulator) -> None:
    writer = Graph(sim, app="write")
    user = next(u for u in sim.tenant.users if u.usage_location and not u.is_guest)
    visio = sim.tenant.sku_id("VISIOCLIENT")
    assert visio not in user.held_skus()
    rule = sim.faults.add("omit", path_prefix=f"/v1.0/users/{user.id}/assignLicense")
    requests = [
        {"id": "1", "method": "GET", "url": "/subscribedSkus?$select=skuId"},
        {"id": "2", "method": "POST", "url": f"/users/{user.id}/assignLicense", "headers": {"Content-Type": "application/json"},
         "body": {"addLicenses": [{"skuId": visio, "disabledPlans": []}], "removeLicenses": []}},
    ]  # fmt: skip
    items = _by_id(writer.post("$batch", {"requests": requests}))
    assert list(items) == ["1"] and items["1"]["status"] == 200
    assert visio in user.held_skus()  # the write ran: only its answer was lost
    assert rule.fired == 1 and [w.status for w in sim.write_requests()] == [200]
    # Outside a $batch there is no answer to leave an item out of: omit never applies.
    direct = writer.post(f"users/{user.id}/assignLicense", {"addLicenses": [], "removeLicenses": [visio]})
    assert direct.status_code == 200 and visio not in user.held_skus()
    assert rule.seen == 1
