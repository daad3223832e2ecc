"""GET /users and /groups: paging, $select, $top, $filter, shapes of members, guests and sign-ins."""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from graphsim.payloads import USER_DEFAULT
from graphsim.server import GraphSimulator
from tests.helpers.graph_client import READ, Graph

FULL_SELECT = (
    "id,displayName,userPrincipalName,mail,accountEnabled,userType,usageLocation,department,companyName,"
    "jobTitle,officeLocation,country,city,createdDateTime,employeeId,givenName,surname,proxyAddresses,"
    "assignedLicenses,assignedPlans,licenseAssignmentStates,signInActivity,onPremisesSyncEnabled,"
    "businessPhones,mobilePhone,preferredLanguage"
)


@pytest.fixture(scope="module")
def shared(shared_sim: GraphSimulator) -> Iterator[Graph]:
    client = Graph(shared_sim)
    yield client
    client.close()


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["$skiptoken"][0]


def test_paging_with_top_covers_every_user_once(shared: Graph, shared_sim: GraphSimulator) -> None:
    bodies = shared.pages("users", {"$select": "id,userPrincipalName", "$top": "37"})
    n = len(shared_sim.tenant.users)
    assert len(bodies) == -(-n // 37) and all(len(b["value"]) == 37 for b in bodies[:-1])
    ids = [u["id"] for b in bodies for u in b["value"]]
    assert len(ids) == len(set(ids)) == n
    link = bodies[0]["@odata.nextLink"]
    assert link.startswith(f"{shared_sim.graph_url}/users?") and "$select=id,userPrincipalName" in link
    assert bodies[0]["@odata.context"] == f"{shared_sim.graph_url}/$metadata#users(id,userPrincipalName)"


def test_default_page_is_100_and_page_cap_bounds_it() -> None:
    with GraphSimulator(users=150, seed=2, page_cap=40) as sim:
        graph = Graph(sim)
        assert [len(b["value"]) for b in graph.pages("users", {"$top": "999"})] == [40, 40, 40, 30]
        graph.close()


def test_default_page_size(shared: Graph) -> None:
    assert len(shared.get("users").json()["value"]) == 100


def test_skiptoken_is_opaque_and_tamper_proof(shared: Graph) -> None:
    first = shared.get("users", params={"$select": "id", "$top": "50"}).json()
    token = _token(first["@odata.nextLink"])
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert struct.pack(">Q", 50) not in raw and b"50" not in raw  # the offset is masked, not readable
    again = shared.get("users", params={"$select": "id", "$top": "50"}).json()
    assert _token(again["@odata.nextLink"]) == token  # stable for the same query
    tampered = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for params in (
        {"$select": "id", "$top": "50", "$skiptoken": tampered},
        {"$select": "id,displayName", "$top": "50", "$skiptoken": token},  # another query
        {"$select": "id", "$top": "50", "$skiptoken": "not-a-token"},
    ):
        response = shared.get("users", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "Request_BadRequest"
    group_link = shared.get("groups", params={"$top": "2"}).json()["@odata.nextLink"]
    foreign = shared.get("users", params={"$top": "2", "$skiptoken": _token(group_link)})
    assert foreign.status_code == 400
    with GraphSimulator(users=150, seed=11) as other:
        other_graph = Graph(other)
        assert (
            other_graph.get("users", params={"$select": "id", "$top": "50", "$skiptoken": token}).status_code
            == 400
        )
        other_graph.close()


def test_select_limits_fields_and_default_fields(shared: Graph) -> None:
    default = shared.get("users", params={"$top": "5"}).json()["value"]
    assert all(set(u) == set(USER_DEFAULT) for u in default)
    chosen = shared.get("users", params={"$select": "DisplayName,usageLocation", "$top": "5"}).json()["value"]
    assert all(set(u) == {"id", "displayName", "usageLocation"} for u in chosen)
    full = shared.get("users", params={"$select": FULL_SELECT, "$top": "999"})
    assert full.status_code == 200
    assert 1000 < len(full.content) / len(full.json()["value"]) < 5000


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"$top": "1000"}, "Request_BadRequest", "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."),
        ({"$top": "0"}, "Request_BadRequest", "Invalid page size specified: '0'. Must be between 1 and 999 inclusive."),
        ({"$select": "id,shoeSize"}, "Request_BadRequest", "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."),
        ({"$filter": "department eq 'Sales'"}, "Request_UnsupportedQuery", None),
        ({"$filter": "startswith(displayName,'A')"}, "Request_UnsupportedQuery", None),
        ({"$orderby": "displayName"}, "Request_BadRequest", None),
    ],
)  # fmt: skip
def test_bad_queries_are_400(shared: Graph, params: dict[str, str], code: str, message: str | None) -> None:
    response = shared.get("users", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    if message:
        assert error["message"] == message


def test_filters(shared: Graph, shared_sim: GraphSimulator) -> None:
    tenant = shared_sim.tenant
    e3 = tenant.sku_id("SPE_E3")
    holders = shared.all("users", {"$filter": f"assignedLicenses/any(x:x/skuId eq {e3})", "$select": "id"})
    assert len(holders) == tenant.seat_counts()[e3].consumed
    disabled = shared.all("users", {"$filter": "accountEnabled eq false", "$select": "id,accountEnabled"})
    assert disabled and all(u["accountEnabled"] is False for u in disabled)
    assert len(disabled) == sum(not u.account_enabled for u in tenant.users)
    guests = shared.all("users", {"$filter": "userType eq 'Guest'", "$select": "id,userType"})
    assert len(guests) == sum(u.is_guest for u in tenant.users) > 0
    us = shared.all("users", {"$filter": "usageLocation eq 'US'", "$select": "id,usageLocation"})
    assert us and {u["usageLocation"] for u in us} == {"US"}
    picked = [tenant.users[3].id, tenant.users[77].id]
    quoted = ",".join(f"'{i}'" for i in picked)
    assert [u["id"] for u in shared.all("users", {"$filter": f"id in ({quoted})"})] == picked


def test_single_user_by_id_and_by_guest_upn(shared: Graph, shared_sim: GraphSimulator) -> None:
    guest = next(u for u in shared_sim.tenant.users if u.is_guest)
    assert "#EXT#@contoso.onmicrosoft.com" in guest.upn
    body = shared.get(f"users/{quote(guest.upn)}", params={"$select": "id,userType,department,mail"}).json()
    assert body["id"] == guest.id and body["userType"] == "Guest" and body["department"] is None
    assert body["@odata.context"].endswith("$metadata#users(id,userType,department,mail)/$entity")
    assert shared.get(f"users/{guest.id}").json()["userPrincipalName"] == guest.upn
    missing = shared.get("users/00000000-0000-0000-0000-00000000abcd")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_sign_in_activity_shapes(shared: Graph) -> None:
    users = shared.all("users", {"$select": "id,signInActivity,createdDateTime", "$top": "999"})
    activity = [u.get("signInActivity") for u in users]
    assert any(a is None for a in activity)  # never signed in: absent or null
    assert any("signInActivity" not in u for u in users) and any(
        "signInActivity" in u and u["signInActivity"] is None for u in users
    )
    present = [a for a in activity if a]
    assert any(a["lastNonInteractiveSignInDateTime"] == "0001-01-01T00:00:00Z" for a in present)
    assert all(a["lastNonInteractiveSignInRequestId"] == "" for a in present if a["lastNonInteractiveSignInDateTime"].startswith("0001"))  # fmt: skip
    assert set(present[0]) == {
        "lastSignInDateTime", "lastSignInRequestId", "lastNonInteractiveSignInDateTime",
        "lastNonInteractiveSignInRequestId", "lastSuccessfulSignInDateTime", "lastSuccessfulSignInRequestId",
    }  # fmt: skip


def test_sign_in_activity_needs_auditlog_and_premium(sim: GraphSimulator) -> None:
    params = {"$select": "id,signInActivity"}
    without = Graph(sim, READ - {"AuditLog.Read.All"})
    response = without.get("users", params=params)
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"
    assert without.get("users", params={"$select": "id"}).status_code == 200
    sim.tenant.has_premium = False
    denied = Graph(sim).get("users", params=params)
    assert denied.status_code == 403
    assert denied.json()["error"]["message"] == "Neither tenant is B2C or tenant doesn't have premium license"
    without.close()


def test_guests_and_members_look_real(shared: Graph) -> None:
    users = shared.all("users", {"$select": FULL_SELECT, "$top": "999"})
    guests = [u for u in users if u["userType"] == "Guest"]
    members = [u for u in users if u["userType"] == "Member"]
    assert all(
        g["department"] is None and g["companyName"] is None and "#EXT#" in g["userPrincipalName"]
        for g in guests
    )
    upns = [u["userPrincipalName"] for u in members]
    assert len(set(upns)) == len(upns) and all(u.endswith("@contoso.onmicrosoft.com") for u in upns)
    assert {m["companyName"] for m in members} == {"Contoso Ltd", "Fabrikam Inc"}
    assert len({m["department"] for m in members}) >= 8 and len({m["usageLocation"] for m in members}) >= 8
    states = [s for u in users for s in u["licenseAssignmentStates"]]
    assert {s["error"] for s in states if s["state"] == "Active"} == {"None"}
    for user in users:  # assignedLicenses lists only working licenses
        working = {s["skuId"] for s in user["licenseAssignmentStates"] if s["state"] == "Active"}
        assert {a["skuId"] for a in user["assignedLicenses"]} == working


def test_groups_listing_and_filters(shared: Graph, shared_sim: GraphSimulator) -> None:
    tenant = shared_sim.tenant
    groups = shared.all(
        "groups", {"$select": "id,displayName,assignedLicenses,licenseProcessingState,securityEnabled"}
    )
    assert len(groups) == len(tenant.groups)
    assert any(not g["assignedLicenses"] for g in groups) and all(
        g["licenseProcessingState"] == {"state": "ProcessingComplete"} for g in groups
    )
    assert "assignedLicenses" not in shared.get("groups").json()["value"][0]  # $select only
    errors = shared.all(
        "groups", {"$filter": "hasMembersWithLicenseErrors eq true", "$select": "id,displayName"}
    )
    assert errors and all(set(g) == {"id", "displayName"} for g in errors)
    for headers, params in (({"ConsistencyLevel": "eventual"}, {}), ({}, {"$count": "true"})):
        refused = shared.get(
            "groups", headers=headers, params={"$filter": "hasMembersWithLicenseErrors eq true", **params}
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["message"] == (
            "Unsupported or invalid query filter clause specified for property 'hasMembersWithLicenseErrors' "
            "of resource 'Group'."
        )
    bi = tenant.sku_id("POWER_BI_PRO")
    licensed = shared.all("groups", {"$filter": f"assignedLicenses/any(x:x/skuId eq {bi})"})
    assert [g["displayName"] for g in licensed] == ["Licensing - Power BI Pro"]


def test_members_with_license_errors(shared: Graph, shared_sim: GraphSimulator) -> None:
    tenant = shared_sim.tenant
    group = next(g for g in tenant.groups if g.display_name == "Licensing - Power BI Pro")
    members = shared.all(
        f"groups/{group.id}/membersWithLicenseErrors", {"$select": "id,licenseAssignmentStates", "$top": "2"}
    )
    assert len(members) >= 3
    for member in members:
        assert member["@odata.type"] == "#microsoft.graph.user"
        mine = [s for s in member["licenseAssignmentStates"] if s["assignedByGroup"] == group.id]
        assert mine and all(s["state"] == "Error" and s["error"] == "CountViolation" for s in mine)
    everyone = shared.all(f"groups/{group.id}/members", {"$select": "id"})
    assert len(everyone) == len(group.members)


def test_count_needs_consistency_level(shared: Graph, shared_sim: GraphSimulator) -> None:
    params = {"$count": "true", "$select": "id", "$top": "5", "$filter": "userType eq 'Guest'"}
    counted = shared.get("users", params=params, headers={"ConsistencyLevel": "eventual"}).json()
    assert counted["@odata.count"] == sum(u.is_guest for u in shared_sim.tenant.users)
    assert "@odata.count" not in shared.get("users", params=params).json()  # ignored without the header


def test_single_items(shared: Graph, shared_sim: GraphSimulator) -> None:
    tenant = shared_sim.tenant
    group = tenant.groups[0]
    body = shared.get(f"groups/{group.id}", params={"$select": "displayName,assignedLicenses"}).json()
    assert body["displayName"] == group.display_name and body["id"] == group.id
    sku = tenant.skus[0]
    item = shared.get(f"subscribedSkus/{tenant.tenant_id}_{sku.sku_id}").json()
    assert item["skuPartNumber"] == sku.part_number
    sub = tenant.subscriptions[0]
    assert shared.get(f"directory/subscriptions/{sub.id}").json()["totalLicenses"] == sub.total_licenses
    assert shared.get("groups/00000000-0000-0000-0000-000000000000").status_code == 404
    assert shared.get("nothingHere").json()["error"]["code"] == "BadRequest"
