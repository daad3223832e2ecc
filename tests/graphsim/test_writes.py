"""Write calls follow Graph's rules: permissions, all-or-nothing checks, group processing afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from graphsim.model import User
from graphsim.server import GraphSimulator
from graphsim.tenant import Tenant
from tests.helpers.graph_client import READ, Graph


def _body(add: list[tuple[str, list[str]]] | None = None, remove: list[str] | None = None) -> dict[str, Any]:
    return {
        "addLicenses": [{"skuId": s, "disabledPlans": d} for s, d in add or []],
        "removeLicenses": remove or [],
    }


def _member(
    tenant: Tenant, *, where: str | None = "any", holds: str | None = None, lacks: str | None = None
) -> User:
    for user in tenant.users:
        if user.is_guest or not user.account_enabled:
            continue
        if where == "any" and not user.usage_location or where not in ("any", user.usage_location):
            continue
        held = user.held_skus()
        if holds and tenant.sku_id(holds) not in held or lacks and tenant.sku_id(lacks) in held:
            continue
        return user
    raise AssertionError("no such user in this tenant")


def _error(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == ("Request_BadRequest" if status == 400 else "Authorization_RequestDenied")
    return str(error["message"])


def test_writes_need_a_write_permission(sim: GraphSimulator, graph: Graph) -> None:
    tenant = sim.tenant
    user = _member(tenant, lacks="VISIOCLIENT")
    visio = tenant.sku_id("VISIOCLIENT")
    group = tenant.groups[0]
    before = tenant.seat_counts()
    _error(graph.post(f"users/{user.id}/assignLicense", _body([(visio, [])])), 403)
    _error(graph.post(f"users/{user.id}/reprocessLicenseAssignment"), 403)
    _error(graph.patch(f"users/{user.id}", {"usageLocation": "DE"}), 403)
    _error(graph.post(f"groups/{group.id}/assignLicense", _body([(visio, [])])), 403)
    assert tenant.seat_counts() == before and visio not in user.direct
    assert [(w.method, w.status) for w in sim.write_requests()] == [
        ("POST", 403),
        ("POST", 403),
        ("PATCH", 403),
        ("POST", 403),
    ]
    license_only = Graph(sim, READ | {"LicenseAssignment.ReadWrite.All"})
    assert license_only.post(f"users/{user.id}/assignLicense", _body([(visio, [])])).status_code == 200
    _error(license_only.post(f"users/{user.id}/reprocessLicenseAssignment"), 403)  # needs User.ReadWrite.All
    _error(license_only.patch(f"users/{user.id}", {"usageLocation": "DE"}), 403)
    license_only.close()


def test_assign_then_update_disabled_plans(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    visio = tenant.sku("VISIOCLIENT")
    user = _member(tenant, lacks="VISIOCLIENT")
    consumed = tenant.seat_counts()[visio.sku_id].consumed
    plan = visio.plans[2].id
    response = writer.post(f"users/{user.upn}/assignLicense", _body([(visio.sku_id.upper(), [plan])]))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user.id
    assert {"skuId": visio.sku_id, "disabledPlans": [plan]} in body["assignedLicenses"]
    assert plan not in {p["servicePlanId"] for p in body["assignedPlans"]}
    assert tenant.seat_counts()[visio.sku_id].consumed == consumed + 1
    again = writer.post(f"users/{user.id}/assignLicense", _body([(visio.sku_id, [])])).json()
    assert {"skuId": visio.sku_id, "disabledPlans": []} in again["assignedLicenses"]
    assert tenant.seat_counts()[visio.sku_id].consumed == consumed + 1
    assert writer.post(f"users/{user.id}/assignLicense", _body(remove=[visio.sku_id])).status_code == 200
    assert tenant.seat_counts()[visio.sku_id].consumed == consumed


def test_request_body_and_sku_checks(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    user = _member(tenant)
    missing = _error(writer.post(f"users/{user.id}/assignLicense", {"addLicenses": []}))
    assert "The missing parameters are: removeLicenses." in missing
    unknown = "11111111-1111-4111-8111-111111111111"
    assert "does not correspond to a valid company License" in _error(
        writer.post(f"users/{user.id}/assignLicense", _body([(unknown, [])]))
    )
    storage = tenant.sku_id("SHAREPOINTSTORAGE")
    assert "cannot be assigned to a user" in _error(
        writer.post(f"users/{user.id}/assignLicense", _body([(storage, [])]))
    )
    visio = tenant.sku_id("VISIOCLIENT")
    _error(writer.post(f"users/{user.id}/assignLicense", _body([(visio, ["not-a-guid"])])))
    assert writer.post("users/nobody@contoso.onmicrosoft.com/assignLicense", _body()).status_code == 404


def test_usage_location_rule_and_patch(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    user = next(u for u in tenant.users if not u.is_guest and u.usage_location is None)
    flow = tenant.sku_id("WORKPLACE_ANALYTICS")
    assert _error(writer.post(f"users/{user.id}/assignLicense", _body([(flow, [])]))) == (
        "License assignment cannot be done for user with invalid usage location."
    )
    for bad in ("XX", "USA", 7):
        _error(writer.patch(f"users/{user.id}", {"usageLocation": bad}))
    patched = writer.patch(f"users/{user.id}", {"usageLocation": "fr"})
    assert patched.status_code == 204 and patched.content == b""
    assert user.usage_location == "FR"
    assert writer.post(f"users/{user.id}/assignLicense", _body([(flow, [])])).status_code == 200


def test_no_free_seat(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    bi = tenant.sku_id("POWER_BI_PRO")
    assert tenant.free_seats(bi) <= 0
    user = _member(tenant, lacks="POWER_BI_PRO")
    before = dict(user.direct)
    message = _error(
        writer.post(f"users/{user.id}/assignLicense", _body([(tenant.sku_id("FLOW_FREE"), []), (bi, [])]))
    )
    assert message == f"Subscription with SKU {bi} does not have any available licenses."
    assert user.direct == before  # all or nothing: FLOW_FREE was not added either


def test_mutually_exclusive_plans(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    user = _member(tenant, holds="SPE_E3", lacks="EXCHANGESTANDARD")
    exo1 = tenant.sku("EXCHANGESTANDARD")
    message = _error(writer.post(f"users/{user.id}/assignLicense", _body([(exo1.sku_id, [])])))
    assert (
        "EXCHANGE_S_STANDARD" in message
        and "EXCHANGE_S_ENTERPRISE" in message
        and "mutually exclusive" in message
    )
    without_mailbox = [exo1.plans[0].id]
    assert (
        writer.post(f"users/{user.id}/assignLicense", _body([(exo1.sku_id, without_mailbox)])).status_code
        == 200
    )


def test_inherited_license_cannot_be_removed_but_direct_copy_can(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    e3 = tenant.sku_id("SPE_E3")
    inherited = next(u for u in tenant.users if e3 in u.held_skus() and e3 not in u.direct)
    assert _error(writer.post(f"users/{inherited.id}/assignLicense", _body(remove=[e3]))) == (
        "User license is inherited from a group membership and it cannot be removed directly from the user."
    )
    tenant.buy_seats("SPE_E3", 1)
    consumed = tenant.seat_counts()[e3].consumed
    assert writer.post(f"users/{inherited.id}/assignLicense", _body([(e3, [])])).status_code == 200
    assert tenant.seat_counts()[e3].consumed == consumed  # direct + group = one seat
    assert writer.post(f"users/{inherited.id}/assignLicense", _body(remove=[e3])).status_code == 200
    assert e3 in inherited.held_skus() and tenant.seat_counts()[e3].consumed == consumed


def test_prohibited_location_and_dependency(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    calling = tenant.sku_id("MCOPSTN1")
    tenant.buy_seats("MCOPSTN1", 2)
    indian = _member(tenant, where="IN", lacks="MCOPSTN1")
    assert "not available in that location" in _error(
        writer.post(f"users/{indian.id}/assignLicense", _body([(calling, [])]))
    )
    copilot = tenant.sku_id("Microsoft_365_Copilot")
    tenant.buy_seats(copilot, 2)
    no_apps = next(
        u for u in tenant.users
        if u.usage_location and not {tenant.sku_id(p) for p in ("SPE_E3", "SPE_E5", "ENTERPRISEPACK", "SPB")} & u.held_skus()
    )  # fmt: skip
    message = _error(writer.post(f"users/{no_apps.id}/assignLicense", _body([(copilot, [])])))
    assert "M365_COPILOT_APPS" in message and "OFFICESUBSCRIPTION" in message


def test_freed_seat_goes_to_a_count_violation_on_reprocess(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    group = next(g for g in tenant.groups if g.display_name == "Licensing - Power BI Pro")
    bi = tenant.sku_id("POWER_BI_PRO")
    waiting = [
        tenant.users_by_id[u]
        for u in group.members
        if tenant.users_by_id[u].group_licenses[(group.id, bi)].state == "Error"
    ]
    active = [
        tenant.users_by_id[u]
        for u in group.members
        if tenant.users_by_id[u].group_licenses[(group.id, bi)].state == "Active"
    ]
    assert len(waiting) >= 3
    tenant.remove_group_members(group.id, [active[0].id])  # frees one seat; nobody is reprocessed
    first = waiting[0]
    assert first.group_licenses[(group.id, bi)].error == "CountViolation"
    body = writer.post(f"users/{first.id}/reprocessLicenseAssignment").json()
    mine = [s for s in body["licenseAssignmentStates"] if s["assignedByGroup"] == group.id]
    assert mine[0]["state"] == "Active" and mine[0]["error"] == "None"
    assert bi in {a["skuId"] for a in body["assignedLicenses"]}
    counts = tenant.seat_counts()[bi]
    assert counts.consumed == counts.enabled
    second = waiting[1]
    tenant.buy_seats(bi, 1, process=False)  # as in Entra: the purchase alone reprocesses nobody
    assert second.group_licenses[(group.id, bi)].error == "CountViolation"
    assert writer.post(f"users/{second.id}/reprocessLicenseAssignment").status_code == 200
    assert second.group_licenses[(group.id, bi)].state == "Active"
    tenant.buy_seats(bi, len(waiting))  # the test helper's default also runs group processing
    assert all(u.group_licenses[(group.id, bi)].state == "Active" for u in waiting)


def test_group_assign_license_processes_members(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    group = next(g for g in tenant.groups if g.display_name == "Engineering")
    visio = tenant.sku_id("VISIOCLIENT")
    response = writer.post(f"groups/{group.id}/assignLicense", _body([(visio, [])]))
    assert response.status_code == 202
    body = response.json()
    assert body["licenseProcessingState"] == {"state": "ProcessingComplete"}
    assert body["assignedLicenses"] == [{"disabledPlans": [], "skuId": visio}]
    states = [tenant.users_by_id[u].group_licenses[(group.id, visio)] for u in group.members]
    counts = tenant.seat_counts()[visio]
    assert {s.error for s in states} <= {
        "None",
        "CountViolation",
    } and counts.consumed <= counts.enabled + counts.warning
    assert any(s.state == "Error" for s in states) and any(s.state == "Active" for s in states)
    assert writer.post(f"groups/{group.id}/assignLicense", _body(remove=[visio])).status_code == 202
    assert all((group.id, visio) not in tenant.users_by_id[u].group_licenses for u in group.members)
    assert (
        Graph(sim, READ | {"User.ReadWrite.All"})
        .post(f"groups/{group.id}/assignLicense", _body([(visio, [])]))
        .status_code
        == 403
    )


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_other_methods_are_not_allowed(sim: GraphSimulator, writer: Graph, method: str) -> None:
    response = writer.session.request(method, writer.url(f"users/{sim.tenant.users[0].id}"), json={})
    assert response.status_code == 405
    assert sim.write_requests()[-1].method == method


def test_add_group_members_helper_keeps_counts_consistent(sim: GraphSimulator) -> None:
    tenant = sim.tenant
    copilot = tenant.sku_id("Microsoft_365_Copilot")
    group = next(g for g in tenant.groups if g.display_name == "Licensing - Copilot pilot")
    e3 = tenant.sku_id("SPE_E3")
    newcomers = [u.id for u in tenant.users if e3 in u.held_skus() and u.id not in group.members][:10]
    free = tenant.free_seats(copilot)
    tenant.add_group_members(group.id, newcomers)
    states = [tenant.users_by_id[u].group_licenses[(group.id, copilot)] for u in newcomers]
    assert sum(s.state == "Active" for s in states) == free
    assert all(s.error == "CountViolation" for s in states if s.state == "Error")
    held = sum(copilot in u.held_skus() for u in tenant.users)
    assert tenant.seat_counts()[copilot].consumed == held


@pytest.mark.parametrize(
    ("group_name", "cause", "answer"),
    [
        (
            "Licensing - M365 E3 Sales",
            "MutuallyExclusiveViolation",
            "is mutually exclusive with service plan",
        ),
        ("Licensing - Copilot pilot", "DependencyViolation", "depends on one of the service plans"),
        ("Licensing - Teams Calling", "ProhibitedInUsageLocationViolation", "not available in that location"),
        ("Licensing - Power BI Pro", "CountViolation", None),  # a seat is bought first: then it succeeds
    ],
)
def test_direct_assignment_is_refused_for_the_same_cause_as_the_group(
    sim: GraphSimulator, writer: Graph, group_name: str, cause: str, answer: str | None
) -> None:
    tenant = sim.tenant
    group = next(g for g in tenant.groups if g.display_name == group_name)
    (sku,) = group.licenses
    member = next(
        tenant.users_by_id[u] for u in group.members
        if tenant.users_by_id[u].group_licenses[(group.id, sku)].error == cause
        and tenant.users_by_id[u].usage_location
    )  # fmt: skip
    tenant.buy_seats(sku, 1, process=False)  # so that the seat count is never the reason
    before = (dict(member.direct), tenant.seat_counts()[sku].consumed)
    response = writer.post(f"users/{member.id}/assignLicense", _body([(sku, [])]))
    if answer is None:
        assert response.status_code == 200 and sku in member.direct
        return
    assert answer in _error(response)
    assert (member.direct, tenant.seat_counts()[sku].consumed) == before


def test_direct_assignment_without_usage_location_is_refused_though_the_group_used_the_default(
    sim: GraphSimulator, writer: Graph
) -> None:
    tenant = sim.tenant
    e3 = tenant.sku_id("SPE_E3")
    member = next(
        u for u in tenant.users if u.usage_location is None and (e3 in u.held_skus()) and e3 not in u.direct
    )
    visio = tenant.sku_id("VISIOCLIENT")  # group licensing gave E3 with the tenant's location; direct cannot
    assert _error(writer.post(f"users/{member.id}/assignLicense", _body([(visio, [])]))) == (
        "License assignment cannot be done for user with invalid usage location."
    )


def test_one_request_adds_and_removes_so_a_downgrade_keeps_the_user_licensed(
    sim: GraphSimulator, writer: Graph
) -> None:
    tenant = sim.tenant
    e5, e3 = tenant.sku("SPE_E5"), tenant.sku("SPE_E3")
    user = next(
        u
        for u in tenant.users
        if u.usage_location and set(u.held_skus()) == {e5.sku_id} and e5.sku_id in u.direct
    )
    tenant.buy_seats("SPE_E3", 1)
    before = tenant.seat_counts()
    teams = next(p.id for p in e3.plans if p.name == "TEAMS1")
    response = writer.post(f"users/{user.id}/assignLicense", _body([(e3.sku_id, [teams])], [e5.sku_id]))
    assert response.status_code == 200, response.text
    assert response.json()["assignedLicenses"] == [{"skuId": e3.sku_id, "disabledPlans": [teams]}]
    after = tenant.seat_counts()
    # One E3 seat taken and one E5 seat freed by the same call.
    assert after[e3.sku_id].consumed == before[e3.sku_id].consumed + 1
    assert after[e5.sku_id].consumed == before[e5.sku_id].consumed - 1
    assert [(w.method, w.status) for w in sim.write_requests()] == [("POST", 200)]


def test_a_downgrade_graph_would_refuse_changes_nothing(sim: GraphSimulator, writer: Graph) -> None:
    tenant = sim.tenant
    e5, e3 = tenant.sku("SPE_E5"), tenant.sku("SPE_E3")
    user = next(
        u
        for u in tenant.users
        if u.usage_location and set(u.held_skus()) == {e5.sku_id} and e5.sku_id in u.direct
    )
    held = dict(user.direct)
    before = tenant.seat_counts()
    # No E3 seat free: the whole call is refused, the E5 is not removed either.
    taken = tenant.free_seats(e3.sku_id)
    subs = [s for s in tenant.subscriptions if s.sku_id == e3.sku_id and s.status == "Enabled"]
    max(subs, key=lambda s: s.total_licenses).total_licenses -= taken
    tenant.refresh_units()
    assert tenant.free_seats(e3.sku_id) == 0
    message = _error(writer.post(f"users/{user.id}/assignLicense", _body([(e3.sku_id, [])], [e5.sku_id])))
    assert message == f"Subscription with SKU {e3.sku_id} does not have any available licenses."
    tenant.buy_seats("SPE_E3", 1)
    # Removing a SKU the user does not hold, or holds only through a group, is refused as a whole.
    exo = tenant.sku_id("EXCHANGESTANDARD")
    assert _error(writer.post(f"users/{user.id}/assignLicense", _body([(e3.sku_id, [])], [exo]))) == (
        f"User does not have a corresponding license {exo} to remove."
    )
    inherited = next(
        u
        for u in tenant.users
        if e3.sku_id in u.held_skus() and e3.sku_id not in u.direct and u.usage_location
    )
    visio = tenant.sku_id("VISIOCLIENT")
    tenant.buy_seats("VISIOCLIENT", 1)
    assert "inherited from a group membership" in _error(
        writer.post(f"users/{inherited.id}/assignLicense", _body([(visio, [])], [e3.sku_id]))
    )
    assert visio not in inherited.direct
    # An E5 plan that E3 does not have cannot be disabled in E3.
    mcoev = next(p.id for p in e5.plans if p.name == "MCOEV")
    assert "is not part of the license" in _error(
        writer.post(f"users/{user.id}/assignLicense", _body([(e3.sku_id, [mcoev])], [e5.sku_id]))
    )
    assert user.direct == held
    assert tenant.seat_counts()[e5.sku_id].consumed == before[e5.sku_id].consumed
