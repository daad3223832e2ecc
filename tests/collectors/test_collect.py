"""Collecting a simulated tenant end to end, over real HTTPS, into a real SQLite file."""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.graph import GraphClient, RetryPolicy
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from licensedesk.config import Settings
from licensedesk.errors import GraphError, GraphPermissionError, ThrottledError
from store import queries
from store.db import open_store

FAST = RetryPolicy(max_attempts=8, max_total_wait=30.0, max_single_wait=2.0, base_backoff=0.01)


def _env(settings: Settings) -> dict[str, str]:
    return settings.environ()


def _cli(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=_env(settings), catch_exceptions=False)


def _report(settings: Settings, what: str) -> Any:
    result = _cli(settings, "report", what, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("users", "seed"), [(150, 3), (400, 8), (3100, 5)])
def test_report_skus_equals_the_simulators_own_counts(users: int, seed: int, store_url: str) -> None:
    with GraphSimulator(users=users, seed=seed) as sim:
        settings = simulator_settings(sim, store_url)
        result = _cli(settings, "collect")
        assert result.exit_code == 0, result.output
        expected = sim.tenant.seat_counts()
        user_pages = [r for r in sim.requests if r.path == "/v1.0/users" and r.status == 200]
        # $batch sub-requests are logged too; count only what went over the wire.
        total_graph = [r for r in sim.requests if r.path.startswith("/v1.0/") and r.batch_item is None]
        user_count = len(sim.tenant.users)
    report = {row["sku_id"]: row for row in _report(settings, "skus")}
    assert set(report) == set(expected)
    for sku_id, counts in expected.items():
        row = report[sku_id]
        assert (row["enabled"], row["warning"], row["suspended"], row["locked_out"], row["consumed"]) == (
            counts.enabled,
            counts.warning,
            counts.suspended,
            counts.locked_out,
            counts.consumed,
        ), row["sku_part_number"]
        assert row["purchased"] == counts.enabled + counts.warning
        assert row["available"] == counts.enabled + counts.warning - counts.consumed
    # No request per user: one page per 999 users, plus a handful of others.
    assert len(user_pages) == math.ceil(user_count / 999)
    # + admin/reportSettings and the four v1.0 usage reports (the Copilot one is on /beta).
    assert len(total_graph) <= math.ceil(user_count / 999) + 8 + 5
    assert len(_report(settings, "users")) == user_count


def test_per_user_counts_equal_consumed_units(shared_sim: Any, store_url: str) -> None:
    settings = simulator_settings(shared_sim, store_url)
    summary = run_collection(settings)
    with open_store(store_url) as store:
        counts = queries.sku_counts(store, summary.snapshot_id)
    assert (counts["users_in_store"] == counts["consumed"]).all(), counts[
        ["sku_part_number", "consumed", "users_in_store"]
    ]
    assert not [w for w in summary.warnings if "consumed units" in w]


def test_users_report_shape_guests_and_license_sources(shared_sim: Any, store_url: str) -> None:
    settings = simulator_settings(shared_sim, store_url)
    run_collection(settings)
    users = _report(settings, "users")
    by_id = {u["id"]: u for u in users}
    tenant_users = {u.id.lower(): u for u in shared_sim.tenant.users}
    assert set(by_id) == set(tenant_users)
    guests = [u for u in users if u["user_type"] == "Guest"]
    assert guests, "the simulated tenant has guests"
    assert all("#EXT#" in g["user_principal_name"] for g in guests)
    keys = {"id", "user_principal_name", "display_name", "account_enabled", "user_type", "usage_location",
            "department", "last_sign_in", "licenses"}  # fmt: skip
    assert keys <= set(users[0])
    sources = {lic["assigned_by_group"] is None for u in users for lic in u["licenses"]}
    assert sources == {True, False}, "both direct and group-based licences appear"
    states = {lic["error"] for u in users for lic in u["licenses"]}
    assert None in states and "CountViolation" in states


def test_group_errors_cover_every_error_type_and_match_graphs_member_lists(
    shared_sim: Any, store_url: str
) -> None:
    settings = simulator_settings(shared_sim, store_url)
    summary = run_collection(settings)
    errors = _report(settings, "errors")
    kinds = {e["error"] for e in errors}
    assert {"CountViolation", "MutuallyExclusiveViolation", "DependencyViolation",
            "ProhibitedInUsageLocationViolation"} <= kinds  # fmt: skip
    assert {"group_id", "group_name", "user_id", "user_principal_name", "sku_id", "error"} <= set(errors[0])
    assert all(e["group_name"] for e in errors)
    with open_store(store_url) as store:
        graph_lists = queries.group_error_members(store, summary.snapshot_id)
    ours = {(e["group_id"], e["user_id"]) for e in errors}
    theirs = set(map(tuple, graph_lists[["group_id", "user_id"]].values.tolist()))
    assert ours == theirs


def test_unknown_sku_falls_back_to_part_number(shared_sim: Any, store_url: str) -> None:
    settings = simulator_settings(shared_sim, store_url)
    run_collection(settings)
    rows = _report(settings, "skus")
    unknown = [r for r in rows if not r["known"]]
    assert unknown, "the simulator carries a SKU that no catalog knows"
    assert all(r["name"] == r["sku_part_number"] for r in unknown)
    known = {r["sku_part_number"]: r["name"] for r in rows if r["known"]}
    assert known.get("SPE_E3") == "Microsoft 365 E3"


def _snapshot_view(settings: Settings) -> dict[str, Any]:
    users = sorted(_report(settings, "users"), key=lambda u: u["id"])
    for user in users:
        user["licenses"] = sorted(user["licenses"], key=lambda x: (x["sku_id"], x["assigned_by_group"] or ""))
    return {
        "skus": _report(settings, "skus"),
        "users": users,
        "errors": sorted(
            _report(settings, "errors"), key=lambda e: (e["group_id"], e["user_id"], e["sku_id"])
        ),
        "subscriptions": _report(settings, "subscriptions"),
    }


def test_throttling_and_server_faults_give_the_same_snapshot_as_a_clean_run(tmp_path: Any) -> None:
    with GraphSimulator(users=2200, seed=21) as clean:
        clean_settings = simulator_settings(clean, str(tmp_path / "clean.sqlite"))
        run_collection(clean_settings)
        expected = _snapshot_view(clean_settings)
    with GraphSimulator(users=2200, seed=21) as faulty:
        faulty.faults.add("throttle", path_prefix="/v1.0/", rate=0.25, seed=1, retry_after=0.02)
        faulty.faults.add("unavailable", path_prefix="/v1.0/", rate=0.15, seed=2)
        faulty.faults.add("drop", path_prefix="/v1.0/users", nth=[2])
        faulty.faults.add("truncate", path_prefix="/v1.0/users", nth=[4])
        settings = simulator_settings(faulty, str(tmp_path / "faulty.sqlite"))
        client = GraphClient(settings, retry=FAST)
        run_collection(settings, client=client)
        statuses = [r.status for r in faulty.requests]
    assert statuses.count(429) >= 1 and statuses.count(503) >= 1
    assert client.stats.retries >= 4
    assert _snapshot_view(settings) == expected


def test_retry_after_is_honoured_including_fractions(sim: Any, store_url: str) -> None:
    sim.faults.add("throttle", path_prefix="/v1.0/users", first=2, retry_after="0.35")
    settings = simulator_settings(sim, store_url)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    client = GraphClient(settings, retry=FAST, sleep=sleep)
    started = time.monotonic()
    run_collection(settings, client=client)
    elapsed = time.monotonic() - started
    assert waits == [0.35, 0.35]
    assert elapsed >= 0.7
    user_calls = [r.status for r in sim.requests if r.path == "/v1.0/users"]
    assert user_calls[:3] == [429, 429, 200]


def test_persistent_throttling_gives_up_within_budget_and_keeps_the_previous_snapshot(
    sim: Any, store_url: str
) -> None:
    settings = simulator_settings(sim, store_url)
    first = run_collection(settings).snapshot_id
    sim.faults.add("throttle", path_prefix="/v1.0/users", retry_after=0.05)
    client = GraphClient(settings, retry=replace(FAST, max_attempts=4))
    with pytest.raises(ThrottledError) as err:
        run_collection(settings, client=client)
    assert "kept throttling" in str(err.value) and "\n" not in str(err.value)
    assert [r.status for r in sim.requests if r.path == "/v1.0/users"][-4:] == [429] * 4
    with open_store(store_url) as store:
        assert queries.resolve_snapshot(store) == first
        assert queries.snapshots(store).iloc[0]["status"] == "failed"


def test_sign_in_activity_refused_is_collected_without_and_recorded(sim: Any, store_url: str) -> None:
    sim.set_permissions({"Organization.Read.All", "User.Read.All", "Group.Read.All"})
    settings = simulator_settings(sim, store_url)
    summary = run_collection(settings)
    assert summary.users == len(sim.tenant.users)
    assert any("Sign-in activity is unavailable" in w for w in summary.warnings)
    with open_store(store_url) as store:
        info = queries.snapshot_info(store, summary.snapshot_id)
        assert info["signin_available"] == 0
        assert queries.users(store, summary.snapshot_id)["last_sign_in_at"].isna().all()


def test_missing_user_permission_names_it_and_publishes_nothing(sim: Any, store_url: str) -> None:
    sim.set_permissions({"Organization.Read.All", "Group.Read.All", "AuditLog.Read.All"})
    settings = simulator_settings(sim, store_url)
    with pytest.raises(GraphPermissionError) as err:
        run_collection(settings)
    assert "User.Read.All" in str(err.value)
    with open_store(store_url) as store:
        assert queries.complete_snapshot_ids(store) == []


def test_next_link_to_another_host_is_refused(sim: Any, store_url: str) -> None:
    client = GraphClient(simulator_settings(sim, store_url))
    with pytest.raises(GraphError, match="link to another host"):
        next(client.iter_pages("https://attacker.example/v1.0/users?$skiptoken=x"))
