"""Assign & fix and Audit pages: preview, confirm, apply and results, against the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store
from tests.helpers.apptest import APP

WRITE = {
    "Organization.Read.All", "User.Read.All", "Group.Read.All", "AuditLog.Read.All", "Reports.Read.All",
    "LicenseAssignment.ReadWrite.All", "User.ReadWrite.All",
}  # fmt: skip


@pytest.fixture
def tenant(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    with GraphSimulator(users=250, seed=4) as sim:
        sim.set_permissions(WRITE)
        run_collection(simulator_settings(sim, store_url))
        for key, value in sim.ready_info().items():
            monkeypatch.setenv(f"LICENSE_DESK_{key.upper()}", value)
        monkeypatch.setenv("LICENSE_DESK_STORE", store_url)
        yield sim, store_url


def _short_group(store_url: str) -> tuple[str, str, list[str]]:
    with open_store(store_url) as store:
        errors = queries.group_errors(store, queries.resolve_snapshot(store))
    count = errors[errors["error"] == "CountViolation"]
    (gid, part), _ = next(
        iter(count.groupby(["group_id", "sku_part_number"]).size().sort_values(ascending=False).items())
    )
    return (
        gid,
        part,
        sorted(count[(count["group_id"] == gid) & (count["sku_part_number"] == part)]["user_id"]),
    )


def test_without_writes_the_page_is_not_offered_and_nothing_is_sent(tenant: Any) -> None:
    sim, _store = tenant
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    # Not in the navigation at all (with writes on, the same switch works: the tests below)...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/fix.py")
    # ...and the page itself, reached by its file, refuses too.
    fix = AppTest.from_file(APP.replace("app.py", "app_pages/fix.py"), default_timeout=60).run()
    assert "Writes are disabled" in fix.info[0].value
    assert sim.write_requests() == []


def test_preview_confirm_apply_results_and_audit(tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, store_url = tenant
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    gid, part, waiting = _short_group(store_url)
    sim.tenant.buy_seats(part, len(waiting) + 5, process=False)
    run_collection(simulator_settings(sim, store_url))  # the admin refreshed after buying

    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/fix.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="fix_group").set_value(gid).run()
    changes = at.dataframe[0].value  # tables: changes, seats (AppTest exposes no key for them)
    assert sorted(changes[changes["sku_part_number"] == part]["user_principal_name"]) == sorted(
        sim.tenant.user(u).upn for u in waiting
    )
    seats = at.dataframe[1].value.set_index("sku_part_number")
    assert seats.loc[part, "available_after"] == seats.loc[part, "available_before"] - len(waiting)
    apply = at.button(key="fix_apply")
    assert apply.disabled  # nothing can be sent before confirming
    assert sim.write_requests() == []

    at.checkbox(key="fix_confirm").check().run()
    at.button(key="fix_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    results = at.dataframe[0].value  # the results come first after an apply
    assert len(results) == len(changes.drop_duplicates("user_principal_name"))
    assert set(results["status"]) == {"succeeded"}
    assert results["request_id"].notna().all()
    assert "succeeded" in at.success[0].value
    assert len(sim.write_requests()) == len(results)
    with open_store(store_url) as store:
        errors = queries.group_errors(store, queries.resolve_snapshot(store))
    assert errors[(errors["group_id"] == gid) & (errors["error"] == "CountViolation")].empty

    at.switch_page("app_pages/audit.py").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Succeeded"] == str(len(results)) and shown["Failed"] == "0"
    log = at.dataframe[0].value
    assert set(log["actor"]) == {"dashboard:local"}


def test_a_refused_plan_offers_no_apply_button(tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, store_url = tenant
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    gid, part, waiting = _short_group(store_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/fix.py").run()
    at.selectbox(key="fix_group").set_value(gid).run()
    assert any(f"seat(s) of {part}" in e.value for e in at.error)
    assert "The plan is refused" in at.warning[0].value
    assert not [b for b in at.button if b.key == "fix_apply"]
    assert sim.write_requests() == []


def test_assign_from_a_pasted_list(tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sim, store_url = tenant
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    with open_store(store_url) as store:
        sid = queries.resolve_snapshot(store)
        users = queries.users(store, sid)
        held = set(
            queries.user_licenses(store, sid).query("sku_id == @sim.tenant.sku_id('SPE_E5')")["user_id"]
        )
    free = [
        u for u in users.itertuples() if u.user_id not in held and u.usage_location and u.account_enabled == 1
    ]
    names = [free[0].user_principal_name, "nobody@contoso.com"]
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/fix.py").run()
    at.radio(key="fix_source").set_value("A list of users").run()
    at.selectbox(key="fix_sku").set_value("SPE_E5").run()
    at.text_area(key="fix_users").input("\n".join(names)).run()
    assert [e.value for e in at.error] == ["There is no user 'nobody@contoso.com' in the latest snapshot."]
    at.text_area(key="fix_users").input(names[0]).run()
    assert not at.error
    at.checkbox(key="fix_confirm").check().run()
    at.button(key="fix_apply").click().run()
    results = at.dataframe[0].value  # the results come first after an apply
    assert results["status"].tolist() == ["succeeded"]
    assert sim.tenant.user(names[0]).direct.keys() >= {sim.tenant.sku_id("SPE_E5")}


def test_users_and_group_errors_pages_open_a_filled_in_plan(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, store_url = tenant
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/users.py").run()
    at.text_input(key="users_search").input("an").run()
    shown = at.dataframe[0].value
    at.button(key="users_fix").click().run()
    assert not at.exception, [e.value for e in at.exception]
    pasted = at.text_area(key="fix_users").value
    assert pasted is not None
    assert pasted.splitlines() == shown["user_principal_name"].tolist()
    assert sim.write_requests() == []

    gid, _part, _waiting = _short_group(store_url)
    at.switch_page("app_pages/group_errors.py").run()
    at.selectbox(key="errors_fix_group").set_value(gid).run()
    at.button(key="errors_fix").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="fix_source").value == "Group members in error"
    assert at.selectbox(key="fix_group").value == gid


def test_without_writes_no_page_offers_a_fix(tenant: Any) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/users.py").run()
    assert not [b for b in at.button if b.key == "users_fix"]
    at.switch_page("app_pages/group_errors.py").run()
    assert not [b for b in at.button if b.key == "errors_fix"]


def test_preview_shows_the_cost_difference_when_prices_exist(
    tenant: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    sim, store_url = tenant
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    prices = tmp_path / "prices.csv"
    prices.write_text("sku,unit_price,currency,period,effective_from\nSPE_E5,57.00,USD,month,2024-01-01\n")
    imported = CliRunner().invoke(
        cli, ["prices", "import", str(prices)], env={"LICENSE_DESK_STORE": store_url}
    )
    assert imported.exit_code == 0, imported.output
    with open_store(store_url) as store:
        sid = queries.resolve_snapshot(store)
        users = queries.users(store, sid)
        held = set(
            queries.user_licenses(store, sid).query("sku_id == @sim.tenant.sku_id('SPE_E5')")["user_id"]
        )
    names = [u.user_principal_name for u in users.itertuples()
             if u.user_id not in held and u.usage_location and u.account_enabled == 1][:2]  # fmt: skip
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/fix.py").run()
    at.radio(key="fix_source").set_value("A list of users").run()
    at.selectbox(key="fix_sku").set_value("SPE_E5").run()
    at.text_area(key="fix_users").input("\n".join(names)).run()
    assert not at.exception, [e.value for e in at.exception]
    costs = at.dataframe[2].value  # changes, seats, then the cost difference
    # 2 seats into use at USD 57.00 a month: 114.00 moves from unassigned to assigned.
    assert costs.values.tolist() == [["SPE_E5", "USD", 2, "USD 114.00", "USD -114.00"]]
