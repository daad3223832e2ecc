"""`report groups`, `report reclaim` and `report renewals` on the hand-written finance tenant
(tests/analysis/finance_tenant.py: every expected number below is worked out from its rows), and
groups named by name or id for assign/reprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.analysis import finance_tenant as t


@pytest.fixture(scope="module")
def tenant_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("reports") / "store.sqlite")
    t.build(path)
    return path


def _run(store: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"LICENSE_DESK_STORE": store})


def _json(store: str, *args: str) -> Any:
    result = _run(store, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_report_groups(tenant_store: str) -> None:
    rows = _json(tenant_store, "report", "groups")
    # E3 Staff assigns SPE_E3 to ann, cat, fay (Active) and jon (CountViolation).
    assert rows == [
        {"group_id": t.G_E3, "group_name": "E3 Staff", "sku_part_numbers": ["SPE_E3"], "sku_ids": [t.E3],
         "members": 4, "members_in_error": 1, "processing_state": "ProcessingComplete"},
    ]  # fmt: skip
    table = _run(tenant_store, "report", "groups").output.splitlines()
    assert table[0].split() == ["Group", "ID", "Group", "SKUs", "assigned", "Members", "Members", "in", "error",
                                "Processing", "state"]  # fmt: skip
    assert table[1].split() == [t.G_E3, "E3", "Staff", "SPE_E3", "4", "1", "ProcessingComplete"]


def test_report_reclaim_candidates_and_savings(tenant_store: str) -> None:
    rows = _json(tenant_store, "report", "reclaim")
    candidates = [r for r in rows if r["kind"] == "candidate"]
    assert sorted((r["user_id"], r["sku_part_number"], r["reason"], r["frees_seat"]) for r in candidates) == [
        ("ann", "SPE_E3", "direct_and_group", False),  # holds it through E3 Staff too: frees nothing
        ("bob", "SPE_E3", "disabled", True),
        ("bob", "VISIOCLIENT", "disabled", True),
        ("cat", "SPE_E3", "inactive", True),  # last sign-in 2025-11-15: 106 days
        ("dan", "SPE_E3", "never", True),  # created 2025-06-01, never signed in
        ("fay", "AAD_PREMIUM", "contained", True),  # her E3 has the AAD_PREMIUM plan
        ("fay", "SPE_E3", "overlapping_suite", True),  # E5 covers 4 of E3's 5 user plans
        ("gus", "VISIOCLIENT", "guest", True),
    ]
    cat = next(r for r in candidates if r["user_id"] == "cat")
    assert (cat["direct"], cat["group_ids"], cat["group_names"]) == (False, [t.G_E3], ["E3 Staff"])
    assert cat["last_sign_in"] == "2025-11-15T06:00:00Z" and cat["currency"] is None
    fay = next(r for r in candidates if r["reason"] == "contained")
    assert (fay["other_sku_id"], fay["other_sku_part_number"]) == (t.E3, "SPE_E3")
    # E3 frees bob, cat, dan, fay: 4 x 36.00 a month; Entra ID P1 frees fay: 6.00; Visio frees bob
    # and gus: 2 x 100.00 a year, 200.00 / 12 = 16.67 a month.
    skus = [(r["sku_part_number"], r["currency"], r["seats_to_free"], r["saving_monthly"], r["saving_annual"])
            for r in rows if r["kind"] == "sku"]  # fmt: skip
    assert skus == [
        ("VISIOCLIENT", "EUR", 2, "16.67", "200.00"),
        ("SPE_E3", "USD", 4, "144.00", "1728.00"),
        ("AAD_PREMIUM", "USD", 1, "6.00", "72.00"),
    ]
    totals = [(r["currency"], r["seats_to_free"], r["saving_monthly"], r["saving_annual"])
              for r in rows if r["kind"] == "total"]  # fmt: skip
    assert totals == [("EUR", 2, "16.67", "200.00"), ("USD", 5, "150.00", "1800.00")]
    table = _run(tenant_store, "report", "reclaim").output
    assert "8 candidate(s), 6 user(s), 7 seat(s) to free, 1 tidy-up(s) that free no seat." in table
    assert "USD: freeing 5 seat(s) saves 150.00/month (1800.00/year)." in table


def test_report_reclaim_leaves_exempt_users_out(tenant_store: str, tmp_path: Path) -> None:
    from store.db import open_store
    from store.prices import add_exemption

    path = str(tmp_path / "exempt.sqlite")
    t.build(path)
    with open_store(path) as store:
        add_exemption(store, "user", "dan@contoso.com", note="on parental leave")
    rows = _json(path, "report", "reclaim")
    assert not any(r["user_id"] == "dan" for r in rows if r["kind"] == "candidate")
    usd = next(r for r in rows if r["kind"] == "total" and r["currency"] == "USD")
    assert (usd["seats_to_free"], usd["saving_monthly"]) == (4, "114.00")  # 150.00 less dan's 36.00


def test_report_renewals(tenant_store: str) -> None:
    rows = _json(tenant_store, "report", "renewals")
    due = [
        (r["subscription_id"], r["window"], r["days_left"], r["seats"], r["currency"], r["monthly_cost"],
         r["term_cost"], r["rollover"], r["free_seats"], r["droppable_seats"], r["annual_saving"])
        for r in rows if r["kind"] == "renewal"
    ]  # fmt: skip
    assert due == [
        # a trial's end bills nothing; E5 has 4 purchased and 2 held: 2 free
        ("sub-e5-trial", "30 days", 10, 1, "USD", "0.00", "0.00", False, 2, 0, None),
        ("sub-e3-b", "30 days", 13, 4, "USD", "144.00", "144.00", True, 3, 0, None),  # monthly: never dropped
        ("sub-e5-paid", "30 days", 18, 2, "USD", "114.00", "1368.00", False, 2, 2, "1368.00"),
        ("sub-e5-grace", "30 days", 19, 1, "USD", "57.00", None, False, 2, 0, None),  # no term in grace
        ("sub-partner", "30 days", 20, 2, None, None, None, True, 1, 0, None),  # no price
        # renews 2026-04-10 at the new E3 price of 40.00: 6 x 40.00; 3 free seats x 480.00 a year
        ("sub-e3-a", "60 days", 39, 6, "USD", "240.00", "2880.00", False, 3, 3, "1440.00"),
        ("sub-visio", "60 days", 60, 4, "EUR", "33.33", "400.00", False, 2, 2, "200.00"),
    ]
    windows = [
        (r["window"], r["subscriptions"], r["seats"], r["rollovers"]) for r in rows if r["kind"] == "window"
    ]
    assert windows == [("30 days", 5, 10, 2), ("60 days", 2, 10, 0), ("90 days", 0, 0, 0)]
    totals = [(r["currency"], r["subscriptions"], r["droppable_seats"], r["annual_saving"])
              for r in rows if r["kind"] == "total"]  # fmt: skip
    assert totals == [("EUR", 1, 2, "200.00"), ("USD", 2, 5, "2808.00")]  # 1368.00 + 1440.00
    table = _run(tenant_store, "report", "renewals").output
    assert "30 days: 5 subscription(s), 10 seat(s) (2 monthly rollover(s))" in table
    assert "could be dropped at renewal, saving USD 2808.00/year." in table


def test_the_reports_match_the_dashboard_pages(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Reclaim and Renewals pages, rendered from the same store, show the reports' numbers."""
    from streamlit.testing.v1 import AppTest

    from tests.helpers.paths import REPO

    monkeypatch.setenv("LICENSE_DESK_STORE", tenant_store)
    app = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    app.run()
    app.switch_page("app_pages/reclaim.py").run()
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["Candidates"], metrics["Users"], metrics["Seats to free"], metrics["Tidy-ups"]) == (
        "8", "6", "7", "1",
    )  # fmt: skip
    app.switch_page("app_pages/renewals.py").run()
    bands = {m.label: m.value for m in app.metric}
    assert (bands["Next 30 days"], bands["In 31–60 days"], bands["In 61–90 days"]) == ("5", "2", "0")


def test_groups_by_name_or_id(tenant_store: str) -> None:
    by_name = _json(tenant_store, "reprocess", "--group", "  e3 STAFF ")
    by_id = _json(tenant_store, "reprocess", "--group", t.G_E3.upper())
    assert [c["user_id"] for c in by_name["changes"]] == ["jon"] == [c["user_id"] for c in by_id["changes"]]
    errors = _json(tenant_store, "assign", "--sku", "SPE_E3", "--group-errors", "E3 Staff")
    assert [c["user_id"] for c in errors["changes"]] == ["jon"]
    # Any group by id: one that licenses nobody simply has nobody in error.
    other = _run(
        tenant_store, "assign", "--sku", "SPE_E3", "--group-errors", "bbbbbbbb-0000-0000-0000-000000000002"
    )
    assert other.exit_code == 1
    assert other.stderr.strip().endswith("has no members in error in the latest snapshot.")
    unknown = _run(tenant_store, "reprocess", "--group", "Sales")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == (
        "license-desk: error: There is no group named 'Sales' among the licensed groups of the latest snapshot; "
        "`license-desk report groups` lists the licensed ones, and any group can be given by its id."
    )


def test_assign_to_an_unlicensed_group_by_name(tmp_path: Path) -> None:
    """The store keeps licensed groups only: a name it does not know is looked up in Graph."""
    from cli.demo_tenant import simulator_settings
    from collectors.runner import run_collection
    from graphsim.server import GraphSimulator

    store = str(tmp_path / "s.sqlite")
    with GraphSimulator(users=60, seed=1) as sim:
        settings = simulator_settings(sim, store)
        sim.tenant.buy_seats("POWER_BI_PRO", 10)
        run_collection(settings)
        team = next(g for g in sim.tenant.groups if g.display_name == "Sales Team")
        assert not team.licenses
        env = settings.environ()
        plan = CliRunner().invoke(
            cli, ["assign", "--sku", "POWER_BI_PRO", "--group", "sales team", "--format", "json"], env=env
        )
        assert plan.exit_code == 0, plan.output
        assert [c["group_id"] for c in json.loads(plan.stdout)["changes"]] == [team.id]
        assert not sim.write_requests()  # a preview sends nothing

        from dataclasses import replace

        sim.tenant.add_group(replace(team, id="cccccccc-0000-0000-0000-000000000003", members={}))
        twice = CliRunner().invoke(cli, ["assign", "--sku", "POWER_BI_PRO", "--group", "Sales Team"], env=env)
        assert twice.exit_code == 1
        ids = ", ".join(sorted([team.id, "cccccccc-0000-0000-0000-000000000003"]))
        assert twice.stderr.strip() == (
            f"license-desk: error: 2 groups are named 'Sales Team' ({ids}): give the id of the one you mean."
        )
