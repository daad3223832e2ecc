"""`license-desk assign` from the command line against the simulator: what a user sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli.main import cli
from collectors.runner import run_collection
from tests.helpers.plans import assignable, plan_inputs


def test_users_file_with_a_quoted_display_name_plans_the_named_user(tenant: Any, tmp_path: Path) -> None:
    sim, settings = tenant
    _skus, users, licenses = plan_inputs(settings.store)
    manager, olga = assignable(users, licenses, sim.tenant.sku_id("VISIOCLIENT"))[:2]
    file = tmp_path / "users.csv"
    file.write_text(
        f'displayName,manager,userPrincipalName\n"Kim, Olga",{manager},{olga}\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--users-file", str(file), "--format", "json"],
        env=settings.environ(),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert [c["user_principal_name"] for c in plan["changes"]] == [olga]
    assert sim.write_requests() == []


def test_users_file_without_a_user_column_is_refused_in_one_sentence(tenant: Any, tmp_path: Path) -> None:
    sim, settings = tenant
    file = tmp_path / "people.csv"
    file.write_text("displayName,department\nOlga Kim,Sales\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--users-file", str(file)], env=settings.environ()
    )
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"license-desk: error: {file} has several columns")
    assert "'displayName', 'department'" in line and "userPrincipalName" in line
    assert sim.write_requests() == []


def test_disable_plan_by_name_or_id_reaches_graph_as_plan_ids(tenant: Any) -> None:
    sim, settings = tenant
    _skus, users, licenses = plan_inputs(settings.store)
    visio = sim.tenant.sku("VISIOCLIENT")
    online = next(p for p in visio.plans if p.name == "VISIOONLINE")
    onedrive = next(p for p in visio.plans if p.name == "ONEDRIVE_BASIC")
    (user,) = assignable(users, licenses, visio.sku_id)[:1]
    args = ["assign", "--sku", "VISIOCLIENT", "--user", user,
            "--disable-plan", "visioonline", "--disable-plan", onedrive.id.upper()]  # fmt: skip
    preview = CliRunner().invoke(cli, [*args, "--format", "json"], env=settings.environ())
    assert preview.exit_code == 0, preview.output
    (change,) = json.loads(preview.stdout)["changes"]
    assert change["disabled_plans"] == sorted([online.id, onedrive.id])
    applied = CliRunner().invoke(cli, [*args, "--apply"], env=settings.environ())
    assert applied.exit_code == 0, applied.output
    assert sim.tenant.user(user).direct[visio.sku_id].disabled_plans == tuple(
        sorted([online.id, onedrive.id])
    )


def test_an_unknown_disabled_plan_is_refused_naming_the_skus_plans(tenant: Any) -> None:
    sim, settings = tenant
    _skus, users, licenses = plan_inputs(settings.store)
    (user,) = assignable(users, licenses, sim.tenant.sku_id("VISIOCLIENT"))[:1]
    result = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--user", user, "--disable-plan", "Teams", "--apply"],
        env=settings.environ(),
    )  # fmt: skip
    assert result.exit_code == 1
    assert (
        "license-desk: refused: VISIOCLIENT has no service plan 'Teams'; its plans are EXCHANGE_S_FOUNDATION, "
        "ONEDRIVE_BASIC, VISIOONLINE, VISIO_CLIENT_SUBSCRIPTION (by name or id)."
    ) in result.stderr.splitlines()
    assert sim.write_requests() == []


def _staff_group_with_every_cause(sim: Any) -> tuple[Any, list[str], str]:
    """The E3 Staff group (proxy-address errors already) with a conflicting member and three more
    members than SPE_E3 has seats; then 2 seats are bought. Returns (group, waiting UPNs, conflicting UPN)."""
    tenant = sim.tenant
    e3, spb = tenant.sku_id("SPE_E3"), tenant.sku_id("SPB")
    group = next(g for g in tenant.groups if g.display_name == "Licensing - M365 E3 Staff")
    conflicting = next(u for u in tenant.users if spb in u.direct and u.id not in group.members)
    # Only Exchange Online plan 1 (EXCHANGESTANDARD, SPB) and SharePoint plan 1 (SPB) conflict with E3.
    conflicts = {spb, e3, tenant.sku_id("EXCHANGESTANDARD")}
    clean = [
        u for u in tenant.users
        if u.account_enabled and not u.is_guest and u.usage_location and u.proxy_conflict is None
        and not u.held_skus() & conflicts and u.id not in group.members
    ]  # fmt: skip
    newcomers = clean[: tenant.free_seats(e3) + 3]
    tenant.add_group_members(group.id, [conflicting.id] + [u.id for u in newcomers])
    waiting = sorted(u.upn for u in newcomers if u.group_licenses[(group.id, e3)].state == "Error")
    assert (
        len(waiting) == 3 and conflicting.group_licenses[(group.id, e3)].error == "MutuallyExclusiveViolation"
    )
    tenant.buy_seats("SPE_E3", 2, process=False)
    return group, waiting, conflicting.upn


def test_group_errors_plans_only_members_a_direct_assignment_can_fix(tenant: Any) -> None:
    sim, settings = tenant
    group, waiting, conflicting = _staff_group_with_every_cause(sim)
    run_collection(settings)
    proxy = sorted(
        sim.tenant.users_by_id[u].upn for u in group.members
        if sim.tenant.users_by_id[u].group_licenses[(group.id, sim.tenant.sku_id("SPE_E3"))].error in ("Other", "UniquenessViolation")
    )  # fmt: skip
    assert len(proxy) == 2
    args = ["assign", "--sku", "SPE_E3", "--group-errors", group.display_name]
    preview = CliRunner().invoke(cli, [*args, "--format", "json"], env=settings.environ())
    assert preview.exit_code == 0, preview.output
    plan = json.loads(preview.stdout)
    assert [(c["kind"], c["user_principal_name"]) for c in plan["changes"]] == [
        ("assign", waiting[0]),
        ("assign", waiting[1]),
    ]
    assert plan["refused"] == [] and plan["seats"]["SPE_E3"]["available_after"] == 0
    left = {s["target"]: s["reason"] for s in plan["skipped"]}
    assert sorted(left) == sorted([waiting[2], conflicting, *proxy])
    assert "no seat of SPE_E3 is left" in left[waiting[2]]
    assert "(MutuallyExclusiveViolation)" in left[conflicting]
    assert all("Exchange" in left[upn] for upn in proxy)
    table = CliRunner().invoke(cli, args, env=settings.environ())
    assert f"  = {left[conflicting]}" in table.stdout.splitlines()  # the preview says why, per member

    applied = CliRunner().invoke(cli, [*args, "--apply"], env=settings.environ())
    assert applied.exit_code == 0, applied.output
    writes = sim.write_requests()
    assert [w.status for w in writes] == [200, 200]  # nothing Graph would refuse was sent
    assert all(sim.tenant.sku_id("SPE_E3") in sim.tenant.user(upn).direct for upn in waiting[:2])


def test_group_errors_usage_location_members_only_with_a_location(tenant: Any) -> None:
    sim, settings = tenant
    calling = sim.tenant.sku_id("MCOPSTN1")
    group = next(g for g in sim.tenant.groups if g.display_name == "Licensing - Teams Calling")
    blocked = sorted(
        sim.tenant.users_by_id[u].upn for u in group.members
        if sim.tenant.users_by_id[u].group_licenses[(group.id, calling)].error == "ProhibitedInUsageLocationViolation"
        and sim.tenant.users_by_id[u].account_enabled
    )  # fmt: skip
    free = sim.tenant.free_seats(calling)
    assert len(blocked) > free >= 1
    args = ["assign", "--sku", "MCOPSTN1", "--group-errors", group.display_name]
    without = CliRunner().invoke(cli, [*args, "--format", "json"], env=settings.environ())
    assert without.exit_code == 0, without.output
    plan = json.loads(without.stdout)
    assert plan["changes"] == []
    left = {s["target"]: s["reason"] for s in plan["skipped"]}
    assert all(left[upn].endswith("; give a usage location to set first.") for upn in blocked)

    applied = CliRunner().invoke(cli, [*args, "--usage-location", "us", "--apply"], env=settings.environ())
    assert applied.exit_code == 0, applied.output
    fixed = blocked[:free]
    assert [(w.method, w.status) for w in sim.write_requests()] == [("PATCH", 204)] * free + [
        ("POST", 200)
    ] * free
    for upn in fixed:
        user = sim.tenant.user(upn)
        assert user.usage_location == "US" and calling in user.direct
    assert all(calling not in sim.tenant.user(upn).direct for upn in blocked[free:])
