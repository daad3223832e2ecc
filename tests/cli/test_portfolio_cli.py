"""``report tenants``, ``report ... --tenant`` and ``check --all`` on three simulated tenants
collected over HTTPS by ``collect --all`` (both engines), one tenant whose sign-in fails and one
registered after the collection (never collected).

Expected figures are worked out from the simulator's own state (what its /subscribedSkus and
user licences serve), never from License Desk's output: see ``_expected``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from click.testing import CliRunner, Result

from analysis.portfolio import NEVER_COLLECTED, NO_COMPLETE_SNAPSHOT
from cli.demo_tenant import simulator_settings
from cli.main import cli
from graphsim.server import GraphSimulator
from graphsim.tenant import Tenant
from store.db import open_store
from store.tenants import prepare_tenant_store, tenant_store

NAMES = ("Alpha", "Beta", "Gamma")
GONE = "0b0b0b0b-0000-4000-8000-000000000009"  # served by no simulator: its sign-in fails
LATE = "delta.onmicrosoft.com"  # registered after the collection
EMPTY = "epsilon.onmicrosoft.com"  # its store was made, but no collection into it completed
# The simulator's SKUs that are no seats: free/viral (FLOW_FREE, POWER_BI_STANDARD) and Company ones.
NOT_SEATS = {"FLOW_FREE", "POWER_BI_STANDARD", "SHAREPOINTSTORAGE"}
PRICES = {"Alpha": ("USD", "36.00", 3600), "Beta": ("EUR", "12.50", 1250)}  # one idle SKU each, per month


def _run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def sim() -> Iterator[GraphSimulator]:
    with GraphSimulator(users=30, seed=4, tenants=3) as served:
        yield served


@dataclass
class Portfolio:
    env: dict[str, str]
    store_url: str
    tenants: dict[str, Tenant]
    priced: dict[str, str]  # display name -> the part number priced in its store


def _idle_sku(tenant: Tenant) -> str:
    """A SKU that counts as seats, with paid seats and none held: its whole paid part is waste
    (unassigned), whoever signs in or not."""
    counts = tenant.seat_counts()
    for sku in tenant.skus:
        c = counts[sku.sku_id]
        if sku.part_number not in NOT_SEATS and c.consumed == 0 and _paid(tenant, sku.sku_id) > 0:
            return sku.part_number
    raise AssertionError("the simulated tenant has no idle SKU to price")


def _paid(tenant: Tenant, sku_id: str) -> int:
    """Seats paid for: Enabled and Warning units of subscriptions that are not trials."""
    return sum(
        s.total_licenses for s in tenant.subscriptions
        if s.sku_id == sku_id and s.status in ("Enabled", "Warning") and not s.is_trial
    )  # fmt: skip


@pytest.fixture
def portfolio(store_url: str, sim: GraphSimulator, tmp_path_factory: pytest.TempPathFactory) -> Portfolio:
    env = simulator_settings(sim, store_url).environ()
    tenants = dict(zip(NAMES, sim.tenants, strict=True))
    for name, tenant in tenants.items():
        assert (
            _run(env, "tenants", "add", tenant.tenant_id, "--name", name, "--domain", tenant.domain).exit_code
            == 0
        )
    assert _run(env, "tenants", "add", GONE, "--name", "Gone Ltd").exit_code == 0
    assert _run(env, "collect", "--all", "--workers", "3").exit_code == 1  # Gone Ltd failed
    assert _run(env, "tenants", "add", LATE, "--name", "Delta").exit_code == 0
    assert _run(env, "tenants", "add", EMPTY, "--name", "Epsilon").exit_code == 0
    with open_store(store_url) as registry:  # as a collection does before it fails part-way
        prepare_tenant_store(registry, store_url, EMPTY)
    with open_store(tenant_store(store_url, EMPTY)):
        pass
    priced = {}
    for name, (currency, price, _minor) in PRICES.items():
        part = priced[name] = _idle_sku(tenants[name])
        book = tmp_path_factory.mktemp("prices") / "prices.csv"
        book.write_text(
            f"sku,unit_price,currency,period,effective_from\n{part},{price},{currency},month,2020-01-01\n"
        )
        own = {**env, "LICENSE_DESK_STORE": tenant_store(store_url, tenants[name].tenant_id)}
        assert _run(own, "prices", "import", str(book)).exit_code == 0
    return Portfolio(env, store_url, tenants, priced)


def _expected(tenant: Tenant) -> dict[str, object]:
    """Seats over SKUs that count (enabled + warning units; consumed), and group assignments in error."""
    counts = {s.sku_id: c for s, c in ((s, tenant.seat_counts()[s.sku_id]) for s in tenant.skus)
              if s.part_number not in NOT_SEATS}  # fmt: skip
    purchased = sum(c.enabled + c.warning for c in counts.values())
    assigned = sum(c.consumed for c in counts.values())
    errors = [
        (u.id, key) for u in tenant.users for key, lic in u.group_licenses.items() if lic.state != "Active"
    ]
    return {
        "seats_purchased": purchased, "seats_assigned": assigned, "seats_available": purchased - assigned,
        "utilization_percent": round(assigned / purchased * 100, 1), "group_errors": len(errors),
        "users_in_error": len({uid for uid, _ in errors}),
    }  # fmt: skip


def test_report_tenants_json_one_row_per_tenant(portfolio: Portfolio) -> None:
    answer = _run(portfolio.env, "report", "tenants", "--format", "json")
    assert answer.exit_code == 0, answer.output
    rows = {r["display_name"]: r for r in json.loads(answer.stdout)}
    assert list(rows) == ["Alpha", "Beta", "Delta", "Epsilon", "Gamma", "Gone Ltd"]  # by display name
    for name, tenant in portfolio.tenants.items():
        row = rows[name]
        assert row["tenant_id"] == tenant.tenant_id and row["domain"] == tenant.domain
        assert {k: row[k] for k in _expected(tenant)} == _expected(tenant), name
        assert row["snapshot_id"] == 1 and row["collected_at"] and row["last_status"] == "complete"
        assert row["note"] is None
    # Waste per currency, never added together: the priced idle SKU's paid seats x its monthly price.
    for name, (currency, _price, minor) in PRICES.items():
        tenant = portfolio.tenants[name]
        seats = _paid(tenant, tenant.sku(portfolio.priced[name]).sku_id)
        key = f"waste_monthly_{currency.lower()}"
        assert rows[name][key] == f"{seats * minor // 100}.{seats * minor % 100:02d}", name
    assert rows["Alpha"]["waste_monthly_eur"] is None and rows["Beta"]["waste_monthly_usd"] is None
    assert rows["Gamma"]["waste_monthly_usd"] is None and rows["Gamma"]["unpriced_skus"] > 0
    # Registered, never collected: its row, no figures, and why.
    delta = rows["Delta"]
    assert delta["snapshot_id"] is None and delta["seats_purchased"] is None and delta["last_status"] is None
    assert delta["note"] == NEVER_COLLECTED
    assert rows["Epsilon"]["note"] == NO_COMPLETE_SNAPSHOT and rows["Epsilon"]["seats_purchased"] is None
    gone = rows["Gone Ltd"]
    assert gone["last_status"] == "failed" and gone["last_error"] and gone["seats_purchased"] is None


def test_report_tenants_csv_and_table(portfolio: Portfolio) -> None:
    csv = _run(portfolio.env, "report", "tenants", "--format", "csv").stdout.splitlines()
    header = csv[0].split(",")
    assert header[:3] == ["tenant_id", "display_name", "domain"] and "waste_monthly_usd" in header
    alpha = next(line.split(",") for line in csv if ",Alpha," in line)
    expected = _expected(portfolio.tenants["Alpha"])
    assert alpha[header.index("seats_purchased")] == str(expected["seats_purchased"])  # whole, not "99.0"
    delta = next(line.split(",") for line in csv if ",Delta," in line)
    assert delta[header.index("seats_purchased")] == ""
    table = _run(portfolio.env, "report", "tenants").stdout
    assert "Alpha" in table and portfolio.tenants["Alpha"].tenant_id in table and "Never collected" in table


def test_report_with_tenant_is_that_tenants_store(portfolio: Portfolio) -> None:
    alpha, beta = portfolio.tenants["Alpha"], portfolio.tenants["Beta"]

    def consumed(tenant: Tenant) -> dict[str, int]:
        return {s.part_number: tenant.seat_counts()[s.sku_id].consumed for s in tenant.skus}

    assert consumed(alpha) != consumed(beta)  # else this test could not tell them apart
    for key in (beta.domain.upper(), beta.tenant_id):
        answer = _run(portfolio.env, "report", "skus", "--tenant", key, "--format", "json")
        assert answer.exit_code == 0, answer.output
        assert {r["sku_part_number"]: r["consumed"] for r in json.loads(answer.stdout)} == consumed(beta)
    users = json.loads(
        _run(portfolio.env, "report", "users", "--tenant", beta.domain, "--format", "json").stdout
    )
    assert len(users) == 30 and all(u["user_principal_name"].endswith(beta.domain) for u in users)
    costs = json.loads(
        _run(portfolio.env, "report", "costs", "--tenant", beta.domain, "--format", "json").stdout
    )
    assert {r["currency"] for r in costs if r["kind"] == "total"} == {"EUR"}  # Beta's price book, not Alpha's
    never = _run(portfolio.env, "report", "skus", "--tenant", LATE)
    assert never.exit_code == 1 and "Delta" in never.output and "not been collected" in never.output
    empty = _run(portfolio.env, "report", "skus", "--tenant", EMPTY)
    assert empty.exit_code == 1 and empty.output.count("\n") == 1 and "Epsilon" in empty.output


def test_an_unknown_tenant_is_one_sentence_and_exit_2(portfolio: Portfolio) -> None:
    answer = _run(portfolio.env, "report", "skus", "--tenant", "nowhere.onmicrosoft.com")
    assert answer.exit_code == 2
    assert (
        answer.output.count("\n") == 1 and "No tenant nowhere.onmicrosoft.com is registered" in answer.output
    )
    assert "Traceback" not in answer.output


def test_check_all_names_the_tenant_of_every_finding(portfolio: Portfolio) -> None:
    answer = _run(portfolio.env, "check", "--all", "--format", "json")
    assert answer.exit_code == 1
    report = json.loads(answer.stdout)
    assert report["status"] == "attention"
    ids = {name: t.tenant_id for name, t in portfolio.tenants.items()} | {
        "Gone Ltd": GONE,
        "Delta": LATE,
        "Epsilon": EMPTY,
    }
    assert sorted(t["tenant_name"] for t in report["tenants"]) == sorted(ids)
    findings = report["findings"]
    assert all(ids[f["tenant_name"]] == f["tenant_id"] for f in findings)
    for name, tenant in portfolio.tenants.items():
        # One group_error finding per (group, SKU, error) with members in error.
        keys = {
            (g, s, lic.error)
            for u in tenant.users
            for (g, s), lic in u.group_licenses.items()
            if lic.state != "Active"
        }
        mine = [f for f in findings if f["tenant_name"] == name and f["kind"] == "group_error"]
        assert len(mine) == len(keys) > 0, name
        assert {(f["detail"]["group_id"], f["detail"]["sku_id"], f["detail"]["error"]) for f in mine} == keys
    never = [f for f in findings if f["tenant_id"] == LATE]
    assert [(f["kind"], f["subject"]) for f in never] == [("collection", "never collected")]
    empty = [f for f in findings if f["tenant_id"] == EMPTY]
    assert [(f["kind"], f["subject"]) for f in empty] == [("collection", "never collected")]
    gone = [f for f in findings if f["tenant_id"] == GONE]
    # Its store may exist (the attempt opened it) but holds no complete snapshot: never collected too.
    assert [(f["kind"], f["subject"]) for f in gone] == [("collection", "never collected")]
    assert "double check your tenant" in gone[0]["message"]
    assert report["counts"]["collection"] == 3
    text = _run(portfolio.env, "check", "--all")
    assert text.exit_code == 1
    lines = text.stdout.splitlines()
    assert len(lines) == len(findings)
    assert all(any(line.startswith(f"{n} ({i}): ") for n, i in ids.items()) for line in lines)
    assert f"Delta ({LATE}): collection: " in text.stdout
