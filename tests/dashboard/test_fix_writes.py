"""Assign & fix on the write path's inputs: a pasted CSV with quoting, and a bad list (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from tests.helpers.apptest import APP
from tests.helpers.plans import WRITE, assignable, plan_inputs


@pytest.fixture
def writable(store_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GraphSimulator, str]]:
    with GraphSimulator(users=250, seed=4) as sim:
        sim.set_permissions(WRITE)
        run_collection(simulator_settings(sim, store_path))
        for key, value in sim.ready_info().items():
            monkeypatch.setenv(f"LICENSE_DESK_{key.upper()}", value)
        monkeypatch.setenv("LICENSE_DESK_STORE", store_path)
        monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
        yield sim, store_path


def _list_page(sku: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/fix.py").run()
    at.radio(key="fix_source").set_value("A list of users").run()
    at.selectbox(key="fix_sku").set_value(sku).run()
    return at


def test_a_pasted_csv_with_a_quoted_display_name_plans_the_named_user(writable: Any) -> None:
    sim, store = writable
    _skus, users, licenses = plan_inputs(store)
    manager, olga = assignable(users, licenses, sim.tenant.sku_id("SPE_E5"))[:2]
    at = _list_page("SPE_E5")
    at.text_area(key="fix_users").input(
        f'displayName,manager,userPrincipalName\n"Kim, Olga",{manager},{olga}'
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    changes = at.dataframe[0].value
    assert changes["user_principal_name"].tolist() == [olga]


def test_a_pasted_table_without_a_user_column_says_so(writable: Any) -> None:
    sim, _store = writable
    at = _list_page("SPE_E5")
    at.text_area(key="fix_users").input("displayName,department\nOlga Kim,Sales").run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = at.error
    assert error.value.startswith("The list has several columns ('displayName', 'department')")
    assert not [b for b in at.button if b.key == "fix_apply"]
    assert sim.write_requests() == []


def test_a_change_whose_answer_never_came_shows_as_unknown(writable: Any) -> None:
    sim, store = writable
    _skus, users, licenses = plan_inputs(store)
    (name,) = assignable(users, licenses, sim.tenant.sku_id("SPE_E5"))[:1]
    at = _list_page("SPE_E5")
    at.text_area(key="fix_users").input(name).run()
    at.checkbox(key="fix_confirm").check().run()
    sim.faults.add("drop", path_prefix="/v1.0/$batch", nth=1)  # the write's connection dies unanswered
    at.button(key="fix_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    results = at.dataframe[0].value
    assert results["status"].tolist() == ["unknown"]
    assert "0 succeeded, 0 failed, 1 outcome unknown, 0 not sent" in at.warning[0].value
    at.switch_page("app_pages/audit.py").run()
    assert at.dataframe[0].value["status"].tolist() == ["unknown"]
    assert any("**unknown**: sent, but Graph's answer never came" in c.value for c in at.caption)
