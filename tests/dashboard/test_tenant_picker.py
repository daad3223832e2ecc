"""The tenant picker and roles per tenant (issue 16): three simulated tenants collected with
``collect_tenants`` into their own stores beside a registry, then read through the dashboard."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.pricebook import PriceRow
from cli.demo_tenant import simulator_settings
from collectors.many import collect_tenants
from dashboard.access import Role, may_open
from dashboard.tenancy import PICKER_KEY, QUERY_PARAM
from dashboard.ui import DOWNGRADE_TARGETS_KEY, RECLAIM_TARGETS_KEY
from graphsim.server import GraphSimulator
from graphsim.tenant import Tenant
from licensedesk.tenants import TenantEntry
from store import prices
from store.db import open_store
from store.tenants import load_tenants, save_tenants, schema_name, tenant_store
from tests.dashboard.test_access import SECRETS, signed_in
from tests.helpers.apptest import APP, download_labels, metrics, open_app, texts
from tests.helpers.plans import WRITE, assignable, plan_inputs

NAMES = ("Alpha Corp", "Beta Ltd", "Gamma plc")  # the registry sorts by name: Alpha is first
PAGES = sorted(p.stem for p in (Path(APP).parent / "app_pages").glob("*.py"))


@dataclass
class Portfolio:
    sim: GraphSimulator
    registry: str
    entries: list[TenantEntry]


def _build(sim: GraphSimulator, registry: str) -> list[TenantEntry]:
    entries = [TenantEntry(t.tenant_id, n, t.domain) for t, n in zip(sim.tenants, NAMES, strict=True)]
    with open_store(registry) as store:
        save_tenants(store, entries)
    outcomes = collect_tenants(simulator_settings(sim, registry), entries, workers=2)
    assert [o.status for o in outcomes] == ["complete"] * 3, [o.error for o in outcomes]
    return entries


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portfolio]:
    with GraphSimulator(users=40, seed=4, tenants=3) as sim:
        sim.set_permissions(WRITE)
        registry = str(tmp_path_factory.mktemp("portfolio") / "store.sqlite")
        yield Portfolio(sim, registry, _build(sim, registry))


def _in_group_error(tenant: Tenant) -> int:
    """Distinct users with a group assignment in state Error, read from the simulator's own state."""
    return len({u.id for u in tenant.users if any(g.state == "Error" for g in u.group_licenses.values())})


def _tenant_caption(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith("Tenant: ")]


def test_choosing_tenant_b_shows_b_on_overview(portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch) -> None:
    alpha, beta, _gamma = portfolio.sim.tenants
    # Hand-check: the simulator's tenants differ here (12 and 10 users in error for seed 4), so
    # showing the wrong store cannot pass.
    assert _in_group_error(alpha) != _in_group_error(beta)
    at = open_app(monkeypatch, portfolio.registry)
    picker = at.sidebar.selectbox(key=PICKER_KEY)
    assert picker.options == [
        "Alpha Corp (contoso.onmicrosoft.com)", "Beta Ltd (customer2.onmicrosoft.com)",
        "Gamma plc (customer3.onmicrosoft.com)",
    ]  # fmt: skip
    assert _tenant_caption(at) == ["Tenant: Alpha Corp (contoso.onmicrosoft.com)"]
    assert metrics(at)["Users in group-licence error"] == str(_in_group_error(alpha))
    picker.set_value(beta.tenant_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert _tenant_caption(at) == ["Tenant: Beta Ltd (customer2.onmicrosoft.com)"]
    assert any(f"of tenant {beta.tenant_id}" in c for c in texts(at))
    assert metrics(at)["Users in group-licence error"] == str(_in_group_error(beta))
    assert at.query_params[QUERY_PARAM] == beta.tenant_id  # a copied link shows the same tenant
    # The choice is remembered on the next page.
    at.switch_page("app_pages/users.py").run()
    assert _tenant_caption(at) == ["Tenant: Beta Ltd (customer2.onmicrosoft.com)"]


@pytest.fixture
def registry_url(store_url: str, portfolio: Portfolio) -> Iterator[str]:
    """The three tenants collected again into a registry on each engine (PostgreSQL: a schema
    per tenant beside the registry's, dropped afterwards)."""
    _build(portfolio.sim, store_url)
    yield store_url
    if store_url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store_url.split("?")[0], autocommit=True) as conn:
            for t in portfolio.sim.tenants:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema_name(store_url, t.tenant_id)}" CASCADE')


def test_on_each_engine_the_picker_and_tenant_access_hold(
    portfolio: Portfolio, registry_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, beta, _gamma = portfolio.sim.tenants
    at = open_app(monkeypatch, registry_url)
    at.sidebar.selectbox(key=PICKER_KEY).set_value(beta.tenant_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert metrics(at)["Users in group-licence error"] == str(_in_group_error(beta))
    viewer = _alpha_viewer(registry_url, monkeypatch, beta)
    assert not viewer.exception, [e.value for e in viewer.exception]
    assert metrics(viewer)["Users in group-licence error"] == str(_in_group_error(alpha))
    assert beta.tenant_id not in _shown(viewer).replace(
        f"({beta.tenant_id})", ""
    )  # only the refusal names it


def test_a_link_chooses_the_tenant(portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch) -> None:
    gamma = portfolio.sim.tenants[2]
    monkeypatch.setenv("LICENSE_DESK_STORE", portfolio.registry)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[QUERY_PARAM] = "CUSTOMER3.onmicrosoft.com"  # by domain, any case
    at.run()
    assert not at.exception and not at.warning
    assert _tenant_caption(at) == ["Tenant: Gamma plc (customer3.onmicrosoft.com)"]
    assert metrics(at)["Users in group-licence error"] == str(_in_group_error(gamma))


def _alpha_only() -> dict[str, Any]:
    secrets: dict[str, Any] = {**SECRETS, "license_desk": dict(SECRETS["license_desk"])}
    secrets["license_desk"]["tenant_access"] = {"contoso.onmicrosoft.com": ["viewer@contoso.com"]}
    return secrets


def _shown(at: AppTest) -> str:
    """Everything a page shows as text: tables (ids on), texts, metrics, titles, widget options."""
    parts = [frame.value.to_csv() for frame in at.dataframe]
    parts += texts(at) + [f"{m.label} {m.value}" for m in at.metric] + [t.value for t in at.title]
    parts += [str(box.options) for box in at.selectbox] + [str(box.options) for box in at.multiselect]
    return "\n".join(parts)


def _alpha_viewer(registry: str, monkeypatch: pytest.MonkeyPatch, beta: Tenant) -> AppTest:
    """The dashboard for a viewer allowed Alpha only, opened by a link to Beta with Beta left
    chosen in the session (as if the person's access had just been narrowed), ids shown."""
    monkeypatch.setenv("LICENSE_DESK_STORE", registry)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in _alpha_only().items():
        at.secrets[key] = value
    at.user = signed_in(email="viewer@contoso.com")
    at.query_params[QUERY_PARAM] = beta.tenant_id
    at.session_state[PICKER_KEY] = beta.tenant_id
    at.session_state["show_ids"] = True
    return at.run()


def test_a_viewer_of_alpha_never_reaches_beta(portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch) -> None:
    alpha, beta, gamma = portfolio.sim.tenants
    # Beta's and Gamma's marks: their ids, domains (every user name ends in one) and user ids.
    foreign = [beta.tenant_id, beta.domain, gamma.tenant_id, gamma.domain]
    foreign += [u.id for u in beta.users] + [u.id for u in gamma.users]
    at = _alpha_viewer(portfolio.registry, monkeypatch, beta)
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key=PICKER_KEY).options == ["Alpha Corp (contoso.onmicrosoft.com)"]
    assert [w.value for w in at.warning][:1] == [
        f"The link asks for a tenant you cannot see here ({beta.tenant_id}); showing Alpha Corp."
    ]
    opened = [p for p in PAGES if may_open(p, {Role.VIEWER})]
    assert {"overview", "users", "data", "portfolio"} <= set(opened) and "audit" not in opened
    for page in opened:
        # Every page's downloads are built from the very frames it shows (ui.downloads(frame)),
        # so what the tables show is what the downloads hold.
        at = _alpha_viewer(portfolio.registry, monkeypatch, beta)
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        shown = _shown(at)
        assert [mark for mark in foreign if mark in shown] == [], page
        if page == "portfolio":  # all the person's tenants: Alpha's row only
            assert at.dataframe[0].value["display_name"].tolist() == ["Alpha Corp"]
        else:
            assert _tenant_caption(at) == ["Tenant: Alpha Corp (contoso.onmicrosoft.com)"], page
        if page == "users":
            assert any(u.id in shown for u in alpha.users)  # it does show Alpha's data, ids on


def test_a_person_no_tenant_names_sees_nothing(portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LICENSE_DESK_STORE", portfolio.registry)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in _alpha_only().items():
        at.secrets[key] = value
    at.user = signed_in(email="fin@contoso.com")  # has the finance role, but no tenant names them
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "You may see none of the 3 registered tenant(s); ask a License Desk administrator."
    ]
    assert not at.metric and not at.dataframe and not at.selectbox


def test_an_unreadable_registry_closes_the_dashboard_when_tenants_are_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "store.sqlite"
    broken.write_bytes(b"this is not an SQLite file" * 100)
    monkeypatch.setenv("LICENSE_DESK_STORE", str(broken))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in _alpha_only().items():
        at.secrets[key] = value
    at.user = signed_in(email="viewer@contoso.com")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = at.error
    assert error.value.startswith(
        "The tenants registry cannot be read, so who may see which tenant cannot be told: "
    )
    assert not at.metric and not at.dataframe and not at.selectbox


def test_without_a_registry_there_is_no_picker(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store)
    assert not at.sidebar.selectbox and not _tenant_caption(at)
    assert QUERY_PARAM not in at.query_params
    # The Portfolio page is not in the navigation; run on its own, it says why it has nothing.
    alone = AppTest.from_file(APP.replace("app.py", "app_pages/portfolio.py"), default_timeout=60).run()
    assert not alone.exception and not alone.dataframe
    assert [i.value for i in alone.info] == [
        "No tenant is registered: `license-desk tenants add` registers your customers' tenants."
    ]


@pytest.fixture
def own_copy(portfolio: Portfolio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The registry and the tenants' stores copied, for a test that collects or applies; the
    simulator's settings in the environment, as the dashboard's host would have them."""
    registry = tmp_path / "store.sqlite"
    shutil.copy(portfolio.registry, registry)
    shutil.copytree(portfolio.registry + ".tenants", str(registry) + ".tenants")
    for key, value in portfolio.sim.ready_info().items():
        monkeypatch.setenv(f"LICENSE_DESK_{key.upper()}", value)
    monkeypatch.setenv("LICENSE_DESK_STORE", str(registry))
    return str(registry)


def _snapshots(location: str) -> int:
    with open_store(location) as store:
        return int(store.conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0])


def test_collect_now_collects_the_chosen_tenant(
    portfolio: Portfolio, own_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, beta, _gamma = portfolio.sim.tenants
    beta_store = tenant_store(own_copy, beta.tenant_id)
    before = {t.tenant_id: _snapshots(tenant_store(own_copy, t.tenant_id)) for t in (alpha, beta)}
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[QUERY_PARAM] = beta.tenant_id
    at.run()
    at.switch_page("app_pages/data.py").run()
    assert any(f"Collects tenant {beta.tenant_id} into {beta_store}" in c.value for c in at.caption)
    at.button(key="collect_now").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _snapshots(beta_store) == before[beta.tenant_id] + 1
    assert _snapshots(tenant_store(own_copy, alpha.tenant_id)) == before[alpha.tenant_id]  # untouched
    assert _snapshots(own_copy) == 0  # the registry's store holds no tenant's snapshot
    with open_store(own_copy) as store:
        row = load_tenants(store).set_index("tenant_id").loc[beta.tenant_id]
    assert row["last_status"] == "complete" and row["last_snapshot_id"] == before[beta.tenant_id] + 1


def test_assign_and_fix_applies_to_the_chosen_tenant_and_audits_it(
    portfolio: Portfolio, own_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, beta, _gamma = portfolio.sim.tenants
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    beta_store = tenant_store(own_copy, beta.tenant_id)
    seats, users, licenses = plan_inputs(beta_store)
    free = seats[(seats["available"] > 0) & (seats["counts_as_unused"])]
    sku_id, part = free.iloc[0]["sku_id"], free.iloc[0]["sku_part_number"]
    (name,) = assignable(users, licenses, sku_id)[:1]
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params[QUERY_PARAM] = beta.tenant_id
    at.run()
    at.switch_page("app_pages/fix.py").run()
    at.radio(key="fix_source").set_value("A list of users").run()
    at.selectbox(key="fix_sku").set_value(part).run()
    at.text_area(key="fix_users").input(name).run()
    assert at.checkbox(key="fix_confirm").label.endswith(f"to tenant {beta.tenant_id}")
    at.checkbox(key="fix_confirm").check().run()
    at.button(key="fix_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe[0].value["status"].tolist() == ["succeeded"]
    assert sku_id in beta.users_by_upn[name].direct  # the licence landed in Beta's directory
    with open_store(beta_store) as store:
        audited = store.frame("SELECT tenant_id, status FROM audit_log WHERE action != 'plan'")
    assert audited.values.tolist() == [[beta.tenant_id, "succeeded"]]
    with open_store(tenant_store(own_copy, alpha.tenant_id)) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == 0


def test_reclaim_candidates_stay_with_the_tenant_they_were_chosen_in(
    portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, beta, _gamma = portfolio.sim.tenants
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    at = open_app(monkeypatch, portfolio.registry)
    # As the Reclaim page leaves them: Alpha's users, chosen while Alpha was shown.
    alpha_user = alpha.users[0].id
    at.session_state[RECLAIM_TARGETS_KEY] = {"some-sku": [alpha_user]}
    at.session_state[DOWNGRADE_TARGETS_KEY] = [(alpha_user, "e5", "e3")]
    at.switch_page("app_pages/fix.py").run()
    assert "Reclaim candidates" in at.radio(key="fix_source").options  # still Alpha: offered
    at.sidebar.selectbox(key=PICKER_KEY).set_value(beta.tenant_id).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="fix_source").options == ["Group members in error", "A list of users"]
    # Back on Alpha they are gone too: a switch forgets them rather than keeping them per tenant.
    at.sidebar.selectbox(key=PICKER_KEY).set_value(alpha.tenant_id).run()
    assert at.radio(key="fix_source").options == ["Group members in error", "A list of users"]


def _group_errors(tenant: Tenant) -> int:
    """Group assignments (user, group, SKU) in state Error, from the simulator's own state."""
    return sum(g.state == "Error" for u in tenant.users for g in u.group_licenses.values())


def test_the_portfolio_has_a_row_per_tenant(portfolio: Portfolio, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, portfolio.registry)
    at.switch_page("app_pages/portfolio.py").run()
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    assert frame["display_name"].tolist() == list(NAMES)
    # Hand-checked against each simulated tenant's state (12/10/8 users in error for seed 4).
    expected = [(_group_errors(t), _in_group_error(t)) for t in portfolio.sim.tenants]
    assert list(zip(frame["group_errors"], frame["users_in_error"], strict=True)) == expected
    assert frame["last_status"].tolist() == ["complete"] * 3
    assert metrics(at)["Users in group-licence error"] == str(sum(u for _e, u in expected))
    assert download_labels(at) == ["Download CSV", "Download Excel"]
    gamma = portfolio.sim.tenants[2]
    at.selectbox(key="portfolio_open").set_value(gamma.tenant_id).run()
    at.button(key="portfolio_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _tenant_caption(at) == ["Tenant: Gamma plc (customer3.onmicrosoft.com)"]
    assert metrics(at)["Users in group-licence error"] == str(_in_group_error(gamma))


def test_portfolio_waste_is_for_finance_only(
    portfolio: Portfolio, own_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    beta = portfolio.sim.tenants[1]
    beta_store = tenant_store(own_copy, beta.tenant_id)
    seats, _users, _licenses = plan_inputs(beta_store)
    sku = seats.iloc[0]
    with open_store(beta_store) as store:  # only Beta has a price book
        prices.save_prices(
            store, [PriceRow(sku["sku_id"], sku["sku_part_number"], 1000, "EUR", "month", "2020-01-01")],
            replace=True, source="test",
        )  # fmt: skip
    seen = {}
    for who in ("fin@contoso.com", "viewer@contoso.com"):
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in SECRETS.items():
            at.secrets[key] = value
        at.user = signed_in(email=who)
        at.run().switch_page("app_pages/portfolio.py").run()
        assert not at.exception, [e.value for e in at.exception]
        seen[who] = at.dataframe[0].value
    finance = seen["fin@contoso.com"]
    assert finance["display_name"].tolist() == list(NAMES)
    # Beta has a price, so some waste figure in EUR (Alpha and Gamma: none, never zero).
    waste = finance["waste_monthly_eur"].tolist()
    assert pd.isna(waste[0]) and pd.isna(waste[2]) and not pd.isna(waste[1])
    assert not [
        c for c in seen["viewer@contoso.com"].columns if c.startswith("waste") or c == "unpriced_skus"
    ]
