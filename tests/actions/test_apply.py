"""Applying plans against the simulator over real HTTPS: opt-in, live seat check, audit, results."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner

from actions.apply import apply_plan
from actions.plan import plan_assign, plan_reprocess
from cli.main import cli
from collectors.graph import GraphClient
from collectors.runner import run_collection
from licensedesk.config import Settings
from licensedesk.errors import ActionRefused
from store import queries
from store.audit import audit_entries
from store.db import open_store
from tests.helpers.plans import WRITE, plan_inputs


def _inputs(store_url: str) -> tuple[Any, Any, Any]:
    return plan_inputs(store_url)


def _env(settings: Settings) -> dict[str, str]:
    return settings.environ()


def _over_capacity(store_url: str) -> tuple[str, str, str, list[str]]:
    """(group id, group name, sku part number, users in CountViolation) of the most short group."""
    with open_store(store_url) as store:
        errors = queries.group_errors(store, queries.resolve_snapshot(store))
    count = errors[errors["error"] == "CountViolation"]
    top = count.groupby(["group_id", "group_name", "sku_part_number"]).size().sort_values(ascending=False)
    (gid, name, part), _n = next(iter(top.items()))
    members = sorted(count[(count["group_id"] == gid) & (count["sku_part_number"] == part)]["user_id"])
    return gid, name, part, members


def test_group_over_capacity_is_fixed_end_to_end(tenant: Any) -> None:
    sim, settings = tenant
    gid, name, part, waiting = _over_capacity(settings.store)
    assert len(waiting) >= 2
    # The admin buys exactly the missing seats (Entra does not reprocess by itself).
    free_now = sim.tenant.free_seats(sim.tenant.sku_id(part))
    sim.tenant.buy_seats(part, len(waiting) - max(free_now, 0), process=False)
    run_collection(settings)  # the dashboard's view after the purchase

    preview = CliRunner().invoke(cli, ["reprocess", "--group", name, "--format", "json"], env=_env(settings))
    assert preview.exit_code == 0, preview.output
    plan = json.loads(preview.stdout)
    assert sorted(c["user_id"] for c in plan["changes"] if c["sku_part_number"] == part) == waiting
    assert plan["seats"][part]["available_after"] == 0
    assert sim.write_requests() == []  # a preview sends nothing

    applied = CliRunner().invoke(cli, ["reprocess", "--group", name, "--apply"], env=_env(settings))
    assert applied.exit_code == 0, applied.output
    writes = sim.write_requests()
    assert writes and all(w.path.endswith("/reprocessLicenseAssignment") for w in writes)

    with open_store(settings.store) as store:
        sid = queries.resolve_snapshot(store)
        errors = queries.group_errors(store, sid)
        still = errors[(errors["group_id"] == gid) & (errors["error"] == "CountViolation")]
        assert still.empty
        counts = queries.sku_counts(store, sid).set_index("sku_part_number")
        assert counts.loc[part, "consumed"] == counts.loc[part, "enabled"]  # every bought seat in use
        log = audit_entries(store)
        assert set(log["status"]) == {"succeeded"}
        assert log["request_id"].notna().all()
        assert sorted(log["user_id"]) == sorted({c["user_id"] for c in plan["changes"]})


def test_overdraw_is_refused_before_anything_is_sent(tenant: Any) -> None:
    sim, settings = tenant
    _gid, _name, part, waiting = _over_capacity(settings.store)
    skus, users, licenses = _inputs(settings.store)
    plan = plan_assign(part, waiting, skus=skus, users=users, licenses=licenses, usage_location="US")
    assert not plan.ok and "free or buy" in plan.refused[-1].reason
    with open_store(settings.store) as store, pytest.raises(ActionRefused, match="nothing was sent"):
        apply_plan(plan, settings=settings, client=GraphClient(settings), store=store, actor="test")
    assert sim.write_requests() == []
    with open_store(settings.store) as store:
        log = audit_entries(store)
    assert log["status"].tolist() == ["refused"]


def test_two_plans_that_together_overdraw_second_is_refused_live(tenant: Any) -> None:
    sim, settings = tenant
    skus, users, licenses = _inputs(settings.store)
    sku = skus[(skus["available"] >= 2) & skus["counts_as_unused"]].sort_values("available").iloc[0]
    free = int(sku["available"])
    holders = set(licenses[licenses["sku_id"] == sku["sku_id"]]["user_id"])
    candidates = users[
        (~users["user_id"].isin(holders)) & users["usage_location"].notna() & (users["account_enabled"] == 1)
    ]["user_principal_name"].tolist()
    first = plan_assign(sku["sku_part_number"], candidates[:free], skus=skus, users=users, licenses=licenses)
    second = plan_assign(
        sku["sku_part_number"], candidates[free : free + 1], skus=skus, users=users, licenses=licenses
    )
    assert first.ok and second.ok  # each fits the snapshot on its own
    client = GraphClient(settings)
    with open_store(settings.store) as store:
        done = apply_plan(first, settings=settings, client=client, store=store, actor="alice")
        assert done.succeeded == free
        with pytest.raises(ActionRefused, match="has 0 free seat"):
            apply_plan(second, settings=settings, client=client, store=store, actor="bob")
        log = audit_entries(store)
    assert len(sim.write_requests()) == free
    assert log["status"].tolist() == ["refused"] + ["succeeded"] * free
    assert log.iloc[0]["actor"] == "bob"


def test_graph_failure_is_reported_per_item_and_the_rest_applied(tenant: Any) -> None:
    sim, settings = tenant
    skus, users, licenses = _inputs(settings.store)
    sku = skus[(skus["available"] >= 3) & skus["counts_as_unused"]].iloc[0]
    holders = set(licenses[licenses["sku_id"] == sku["sku_id"]]["user_id"])
    targets = users[
        (~users["user_id"].isin(holders)) & users["usage_location"].notna() & (users["account_enabled"] == 1)
    ]["user_principal_name"].tolist()[:3]
    plan = plan_assign(sku["sku_part_number"], targets, skus=skus, users=users, licenses=licenses)
    # Someone clears the middle user's usage location after the snapshot: Graph refuses that one.
    with sim.tenant.lock:
        sim.tenant.user(targets[1]).usage_location = None
    with open_store(settings.store) as store:
        result = apply_plan(plan, settings=settings, client=GraphClient(settings), store=store, actor="test")
        log = audit_entries(store).sort_values("id")
    assert [r.status for r in result.results] == ["succeeded", "failed", "succeeded"]
    assert "invalid usage location" in (result.results[1].error or "")
    assert log["status"].tolist() == ["succeeded", "failed", "succeeded"]
    assert "invalid usage location" in log.iloc[1]["error"]
    assert log.iloc[1]["http_status"] == 400


def test_missing_write_permission_stops_and_names_it(tenant: Any) -> None:
    sim, settings = tenant
    sim.set_permissions(WRITE - {"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"})
    _gid, name, _part, _waiting = _over_capacity(settings.store)
    skus, users, licenses = _inputs(settings.store)
    gid = _over_capacity(settings.store)[0]
    plan = plan_reprocess(group_id=gid, skus=skus, users=users, licenses=licenses)
    if not plan.ok:  # not enough seats: pick the mutually exclusive members instead
        plan = plan_reprocess(
            sorted(set(licenses[licenses["error"] == "MutuallyExclusiveViolation"]["user_id"]))[:2],
            skus=skus, users=users, licenses=licenses,
        )  # fmt: skip
    with open_store(settings.store) as store:
        result = apply_plan(plan, settings=settings, client=GraphClient(settings), store=store, actor="test")
    # The first batch (up to 20 changes) is refused as a whole; nothing after it is sent.
    statuses = [r.status for r in result.results]
    assert set(statuses) == {"failed"} and len(statuses) <= 20
    assert all("User.ReadWrite.All" in (r.error or "") for r in result.results)
    assert len(sim.write_requests()) == len(statuses)


def test_writes_disabled_no_code_path_sends_a_write(tenant: Any) -> None:
    sim, settings = tenant
    off = replace(settings, allow_writes=False)
    _gid, name, part, waiting = _over_capacity(settings.store)
    for args in (
        ["reprocess", "--group", name, "--apply"],
        ["assign", "--sku", part, "--user", waiting[0], "--apply"],
    ):
        result = CliRunner().invoke(cli, args, env=_env(off))
        assert result.exit_code != 0
        assert "LICENSE_DESK_ALLOW_WRITES=true" in result.stderr or "refused" in result.stderr
    skus, users, licenses = _inputs(settings.store)
    with open_store(settings.store) as store, pytest.raises(ActionRefused, match="Writes are disabled"):
        apply_plan(plan_reprocess(waiting, skus=skus, users=users, licenses=licenses), settings=off,
                   client=GraphClient(off), store=store, actor="test")  # fmt: skip
    assert sim.write_requests() == []


def test_changes_go_in_batches_of_20_and_throttled_items_alone_are_resent(tenant: Any) -> None:
    sim, settings = tenant
    sim.tenant.buy_seats("VISIOCLIENT", 40, process=False)
    run_collection(settings)
    skus, users, licenses = _inputs(settings.store)
    holders = set(licenses[licenses["sku_id"] == sim.tenant.sku_id("VISIOCLIENT")]["user_id"])
    targets = users[
        (~users["user_id"].isin(holders)) & users["usage_location"].notna() & (users["account_enabled"] == 1)
    ]["user_principal_name"].tolist()[:25]
    assert len(targets) == 25
    plan = plan_assign("VISIOCLIENT", targets, skus=skus, users=users, licenses=licenses)
    sim.clear_log()
    sim.faults.add("throttle", path_prefix="/v1.0/users/", first=3, retry_after=0.05)
    with open_store(settings.store) as store:
        result = apply_plan(plan, settings=settings, client=GraphClient(settings), store=store, actor="test")
        log = audit_entries(store)
    assert [r.status for r in result.results] == ["succeeded"] * 25, [
        r.error for r in result.results if r.error
    ]
    batches = [r for r in sim.requests if r.path == "/v1.0/$batch"]
    assert len(batches) == 3  # 20 + 5, then the 3 throttled items resent on their own
    item_statuses = sorted(w.status for w in sim.write_requests())
    assert item_statuses == [200] * 25 + [429] * 3
    assert len(log) == 25 and set(log["status"]) == {"succeeded"}
    assert log["request_id"].notna().all()
    assert all(sim.tenant.sku_id("VISIOCLIENT") in sim.tenant.user(upn).direct for upn in targets)


def test_adding_a_sku_to_a_group_previews_seats_then_applies(tenant: Any) -> None:
    sim, settings = tenant
    group = next(g for g in sim.tenant.groups if not g.licenses and len(g.members) >= 3)
    members = len(group.members)
    preview = CliRunner().invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--group", group.id, "--format", "json"],
                                 env=_env(settings))  # fmt: skip
    free = sim.tenant.free_seats(sim.tenant.sku_id("VISIOCLIENT"))
    if members > free:
        assert preview.exit_code == 1 and "free or buy" in preview.stderr
        sim.tenant.buy_seats("VISIOCLIENT", members - free, process=False)
        run_collection(settings)
        preview = CliRunner().invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--group", group.id, "--format", "json"],
                                     env=_env(settings))  # fmt: skip
    assert preview.exit_code == 0, preview.output
    plan = json.loads(preview.stdout)
    (change,) = plan["changes"]
    assert change["kind"] == "group_assign" and change["seats"] <= members
    assert sim.write_requests() == []
    applied = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--group", group.id, "--apply"], env=_env(settings)
    )
    assert applied.exit_code == 0, applied.output
    (write,) = sim.write_requests()
    assert write.path == f"/v1.0/groups/{group.id}/assignLicense" and write.status == 202
    with open_store(settings.store) as store:
        sid = queries.resolve_snapshot(store)
        lic = queries.user_licenses(store, sid)
        log = audit_entries(store)
    from_group = lic[(lic["assigned_by_group"] == group.id.lower()) & (lic["state"] == "Active")]
    assert len(from_group) == members
    assert log.iloc[0]["action"] == "group_assign" and log.iloc[0]["group_id"] == group.id


def test_two_operators_at_the_same_moment_cannot_overdraw(tenant: Any) -> None:
    import threading

    sim, settings = tenant
    skus, users, licenses = _inputs(settings.store)
    sku_id = sim.tenant.sku_id("VISIOCLIENT")
    free = sim.tenant.free_seats(sku_id)
    if free < 3:
        sim.tenant.buy_seats("VISIOCLIENT", 3 - free, process=False)
        run_collection(settings)
        skus, users, licenses = _inputs(settings.store)
        free = 3
    holders = set(licenses[licenses["sku_id"] == sku_id]["user_id"])
    pool = users[
        (~users["user_id"].isin(holders)) & users["usage_location"].notna() & (users["account_enabled"] == 1)
    ]
    names = pool["user_principal_name"].tolist()
    # Each plan alone fits the free seats; together they need 2 more than exist.
    half = (free + 2 + 1) // 2
    plans = [
        plan_assign("VISIOCLIENT", names[:half], skus=skus, users=users, licenses=licenses),
        plan_assign("VISIOCLIENT", names[half : free + 2], skus=skus, users=users, licenses=licenses),
    ]
    assert all(p.ok for p in plans)
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def operator(name: str, plan: Any) -> None:
        barrier.wait()
        with open_store(settings.store) as store:
            try:
                results[name] = apply_plan(
                    plan, settings=settings, client=GraphClient(settings), store=store, actor=name
                )
            except ActionRefused as exc:  # the live check saw the other operator's seats first
                results[name] = exc

    consumed_before = sim.tenant.seat_counts()[sku_id].consumed
    threads = [threading.Thread(target=operator, args=(f"op{i}", p)) for i, p in enumerate(plans)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2, results  # neither operator died of anything but a refusal
    counts = sim.tenant.seat_counts()[sku_id]
    assert counts.consumed <= counts.enabled + counts.warning  # never overdrawn
    succeeded = sum(r.succeeded for r in results.values() if not isinstance(r, ActionRefused))
    assert counts.consumed == consumed_before + succeeded  # what we report is what Graph did
    # The apply lock runs one live check after the other operator's writes: it sees too few
    # seats and sends nothing, and the other plan goes through whole.
    (loser,) = [name for name, r in results.items() if isinstance(r, ActionRefused)]
    assert "Nothing was sent" in str(results[loser])
    (winner,) = set(results) - {loser}
    assert succeeded == len(plans[int(winner[-1])].changes) <= free
    with open_store(settings.store) as store:
        log = audit_entries(store)
    assert (log["status"] == "succeeded").sum() == succeeded
    assert (log["status"] == "refused").sum() == 1 and "failed" not in set(log["status"])
