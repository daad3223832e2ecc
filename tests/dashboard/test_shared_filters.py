"""Filters that make sense across pages (SKU, department) carry over from one page to the next."""

from __future__ import annotations

import pytest

from dashboard.ui import ALL_SKUS
from tests.dashboard.tenant import E3, EXO1, VISIO
from tests.helpers.apptest import open_app, table


def test_sku_chosen_on_one_page_is_preselected_on_the_others(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store, "sku_detail")
    at.selectbox(key="sku_detail_sku").set_value(VISIO).run()
    at.switch_page("app_pages/users.py").run()
    assert at.selectbox(key="users_sku").value == VISIO
    at.switch_page("app_pages/group_errors.py").run()
    assert at.selectbox(key="errors_sku").value == VISIO
    at.selectbox(key="errors_sku").set_value(E3).run()
    at.switch_page("app_pages/trends.py").run()
    assert at.multiselect(key="trends_skus").value == [E3]
    at.switch_page("app_pages/sku_detail.py").run()
    assert at.selectbox(key="sku_detail_sku").value == E3
    assert at.header[0].value == "Microsoft 365 E3"
    assert not at.exception


def test_department_carries_from_users_to_group_errors(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    at.multiselect(key="users_departments").select("Support").run()
    at.switch_page("app_pages/group_errors.py").run()
    assert at.multiselect(key="errors_departments").value == ["Support"]
    members = [f.value for f in at.dataframe if "detail" in f.value.columns]
    assert [m["user_principal_name"].tolist() for m in members] == [["ida@contoso.com", "jon@contoso.com"]]


def test_a_pages_own_default_is_not_shared(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # SKU detail picks a SKU by itself; only a person's choice should filter the other pages.
    at = open_app(monkeypatch, tenant_store, "sku_detail")
    assert at.selectbox(key="sku_detail_sku").value == EXO1
    at.switch_page("app_pages/users.py").run()
    assert at.selectbox(key="users_sku").value == ALL_SKUS
    assert len(table(at, "user_principal_name", "display_name")) == 15


def test_all_skus_chosen_on_one_page_clears_the_others(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    at.selectbox(key="users_sku").set_value(VISIO).run()
    at.selectbox(key="users_sku").set_value(ALL_SKUS).run()
    at.switch_page("app_pages/group_errors.py").run()
    assert at.selectbox(key="errors_sku").value == ALL_SKUS
    at.switch_page("app_pages/sku_detail.py").run()
    assert at.selectbox(key="sku_detail_sku").value == EXO1  # back to the page's own default
