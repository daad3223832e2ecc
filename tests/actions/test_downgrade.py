"""Downgrade plans (E5 -> E3) against the simulator over HTTPS and a real SQLite store: one
assignLicense per user adding the target and removing the source, seats checked, audited.

The tenant (``tests/helpers/downgrade_tenant.py``): three direct E5 holders with unused premium
plans (a, b, c in UPN order) and exactly two available E3 seats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest

from actions.apply import apply_plan
from actions.plan import Plan, plan_downgrade, plan_remove
from analysis.downgrade_savings import downgrade_savings
from collectors.graph import GraphClient
from collectors.runner import run_collection
from store import queries
from store.audit import audit_entries
from store.db import open_store
from store.prices import load_prices
from tests.helpers.downgrade_tenant import TEAMS, DowngradeTenant, downgrade_tenant
from tests.helpers.plans import plan_inputs


@pytest.fixture
def tenant(store_path: str) -> Iterator[DowngradeTenant]:
    with downgrade_tenant(store_path) as built:
        yield built


def _plan(t: DowngradeTenant) -> Plan:
    skus, users, licenses = plan_inputs(t.settings.store)
    with open_store(t.settings.store) as store:
        plans = queries.service_plans(store, queries.resolve_snapshot(store))
    targets = [(upn, "SPE_E5", "spe_e3") for upn in t.upns]
    return plan_downgrade(targets, skus=skus, users=users, licenses=licenses, service_plans=plans)


def _direct(store_url: str, user_id: str) -> dict[str, str]:
    """sku part number -> disabled plans of the user's direct licences in the latest snapshot."""
    with open_store(store_url) as store:
        mine = queries.user_licenses_of(store, queries.resolve_snapshot(store), user_id=user_id)
    direct = mine[mine["assigned_by_group"] == ""]
    return dict(zip(direct["sku_part_number"], direct["disabled_plans"], strict=True))


def test_preview_plans_what_the_seats_allow_and_says_how_many_are_missing(tenant: DowngradeTenant) -> None:
    t = tenant
    plan = _plan(t)
    a, b, c = t.upns
    # Two E3 seats for three downgrades: a and b (UPN order) fit, c is left out, 3 - 2 = 1 missing.
    assert [ch.describe() for ch in plan.changes] == [
        f"downgrade {a} from SPE_E5 to SPE_E3",
        f"downgrade {b} from SPE_E5 to SPE_E3",
    ]
    assert [s.reason for s in plan.skipped] == [
        f"{c} is not downgraded: SPE_E3 has 2 available seat(s) for 3 downgrade(s), 1 seat(s) missing; "
        "buy 1 more or downgrade fewer."
    ]
    assert plan.ok and not plan.refused
    # a has Defender, Power BI Pro and Teams off in E5: only Teams exists in E3, so only it stays off.
    # b has Defender and Power BI Pro off: neither is in E3, so E3 comes with every plan on.
    assert [ch.disabled_plans for ch in plan.changes] == [(TEAMS,), ()]
    seats = {s.sku_part_number: (s.available_before, s.available_after) for s in plan.seats}
    assert seats["SPE_E3"] == (2, 0)  # two taken
    assert seats["SPE_E5"][1] - seats["SPE_E5"][0] == 2  # two freed
    assert t.sim.write_requests() == []  # planning sends nothing
    with open_store(t.settings.store) as store:
        prices = load_prices(store)
    pairs = [(str(ch.from_sku_id), str(ch.sku_id)) for ch in plan.changes]
    saving = downgrade_savings(pairs, prices, on=pd.Timestamp(t.sim.tenant.now).date())
    # 2 x (USD 57.00 - USD 36.00) = USD 42.00 a month, in minor units.
    assert saving.to_dict(orient="records") == [{"currency": "USD", "downgrades": 2, "saving": 4200}]


def test_applying_sends_one_assign_license_per_user_and_audits_each(tenant: DowngradeTenant) -> None:
    t = tenant
    plan = _plan(t)
    with open_store(t.settings.store) as store:
        result = apply_plan(plan, settings=t.settings, client=GraphClient(t.settings, identity="write"),
                            store=store, actor="test")  # fmt: skip
        log = audit_entries(store)
    assert [r.status for r in result.results] == ["succeeded", "succeeded"]
    writes = t.sim.write_requests()
    # One request per user (two if the add and the remove were sent apart), each answered 200.
    assert (
        sorted((w.method, w.path.rsplit("/", 1)[-1], w.status) for w in writes if w.batch_item)
        == [("POST", "assignLicense", 200)] * 2
    )
    a, b, c = (t.sim.tenant.user(u) for u in t.upns)
    assert a is not None and b is not None and c is not None
    assert {s: lic.disabled_plans for s, lic in a.direct.items()} == {t.e3: (TEAMS,)}
    assert {s: lic.disabled_plans for s, lic in b.direct.items()} == {t.e3: ()}
    assert set(c.direct) == {t.e5}  # left out for lack of a seat
    run_collection(t.settings)  # the next collection sees it
    assert _direct(t.settings.store, t.user_ids[0]) == {"SPE_E3": TEAMS}
    assert _direct(t.settings.store, t.user_ids[1]) == {"SPE_E3": ""}
    assert set(_direct(t.settings.store, t.user_ids[2])) == {"SPE_E5"}
    rows = log.sort_values("user_principal_name")
    assert rows["action"].tolist() == ["downgrade", "downgrade"]
    assert rows["user_principal_name"].tolist() == t.upns[:2]
    assert rows["sku_part_number"].tolist() == ["SPE_E3", "SPE_E3"]
    assert rows["status"].tolist() == ["succeeded", "succeeded"] and rows["request_id"].notna().all()
    details = [json.loads(d) for d in rows["detail"]]
    assert {(d["from_sku_part_number"], d["to_sku_part_number"]) for d in details} == {("SPE_E5", "SPE_E3")}


def test_a_failed_write_leaves_a_failed_audit_row_and_the_user_unchanged(tenant: DowngradeTenant) -> None:
    t = tenant
    plan = _plan(t)
    # Graph fails the first user's call with a 500; the second goes through.
    t.sim.faults.add("server_error", path_prefix=f"/v1.0/users/{t.user_ids[0]}/assignLicense")
    with open_store(t.settings.store) as store:
        result = apply_plan(plan, settings=t.settings, client=GraphClient(t.settings, identity="write"),
                            store=store, actor="test")  # fmt: skip
        log = audit_entries(store).set_index("user_principal_name")
    assert result.summary().startswith("1 succeeded, 1 failed")
    first, second = t.upns[:2]
    assert log.loc[first, "status"] == "failed" and log.loc[first, "http_status"] == 500
    assert log.loc[first, "error"]
    assert log.loc[second, "status"] == "succeeded"
    user = t.sim.tenant.user(first)
    assert user is not None and set(user.direct) == {t.e5}  # still licensed, with what it had


def test_an_inherited_source_licence_is_refused_as_removal_refuses_it(tenant: DowngradeTenant) -> None:
    t = tenant
    skus, users, licenses = plan_inputs(t.settings.store)
    with open_store(t.settings.store) as store:
        plans = queries.service_plans(store, queries.resolve_snapshot(store))
    inherited = licenses[(licenses["sku_part_number"] == "SPE_E3") & (licenses["assigned_by_group"] != "")
                         & ~licenses["user_id"].isin(licenses[licenses["assigned_by_group"] == ""]["user_id"])]  # fmt: skip
    uid = str(inherited.iloc[0]["user_id"])
    plan = plan_downgrade([(uid, "SPE_E3", "ENTERPRISEPACK")], skus=skus, users=users, licenses=licenses,
                          service_plans=plans)  # fmt: skip
    removal = plan_remove("SPE_E3", [uid], skus=skus, users=users, licenses=licenses)
    assert not plan.ok and not plan.changes
    assert [r.reason for r in plan.refused] == [r.reason for r in removal.refused]
    assert plan.refused[0].reason.endswith(
        "inherits SPE_E3 from a group; remove the user from the group instead."
    )
