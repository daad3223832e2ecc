"""Reclaim -> Assign & fix for downgrades, in AppTest on the simulator over HTTPS: the chosen E5
downgrades open as a plan with its monthly saving, and applying it moves the users to E3.

The tenant (``tests/helpers/downgrade_tenant.py``): three direct E5 holders with unused premium
plans (a, b, c in UPN order), two available E3 seats, E5 USD 57.00 and E3 USD 36.00 a month.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from store.audit import audit_entries
from store.db import open_store
from tests.helpers.apptest import APP, table
from tests.helpers.downgrade_tenant import DowngradeTenant, downgrade_tenant


@pytest.fixture
def tenant(store_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DowngradeTenant]:
    with downgrade_tenant(store_path) as built:
        for key, value in built.settings.environ().items():
            monkeypatch.setenv(key, value)
        yield built


def _reclaim_with_downgrades_chosen(t: DowngradeTenant) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/reclaim.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="reclaim_downgrade").disabled  # nothing chosen yet
    shown = table(at, "user_principal_name", "display_name", "sku")
    rows = [i for i, reason in enumerate(shown["reason"]) if reason == "premium plans unused"]
    assert [shown["user_principal_name"][i] for i in rows] == t.upns
    # Phone System unused because Teams was never used: said as "never", not as a missing value.
    assert "Phone System unused (Teams never)" in shown["evidence"][rows[0]]
    at.session_state["reclaim_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    return at


def test_chosen_downgrades_preview_with_their_saving_then_apply(tenant: DowngradeTenant) -> None:
    t = tenant
    at = _reclaim_with_downgrades_chosen(t)
    button = at.button(key="reclaim_downgrade")
    assert button.label == "Plan downgrade for 3 selected candidate(s)" and not button.disabled
    assert at.button(key="reclaim_plan").disabled  # downgrades are never a removal
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Assign & fix"
    assert at.radio(key="fix_source").value == "Reclaim downgrades"
    a, b, c = t.upns
    changes = table(at, "change", "user_principal_name")
    assert changes["change"].tolist() == [
        f"downgrade {a} from SPE_E5 to SPE_E3",
        f"downgrade {b} from SPE_E5 to SPE_E3",
    ]
    # Two E3 seats for three: c is left out with the one seat missing.
    skipped = [x.value for x in at.caption if str(x.value).startswith("Skipped:")]
    assert skipped == [
        f"Skipped: {c} is not downgraded: SPE_E3 has 2 available seat(s) for 3 downgrade(s), 1 seat(s) "
        "missing; buy 1 more or downgrade fewer."
    ]
    # 2 x (USD 57.00 - USD 36.00) a month.
    saving = table(at, "currency", "downgrades", "saving")
    assert saving.values.tolist() == [["USD", 2, "USD 42.00"]]
    assert t.sim.write_requests() == []

    # AppTest reruns the page it was switched to last (Reclaim), not the one st.switch_page opened.
    at.switch_page("app_pages/fix.py").run()
    at.checkbox(key="fix_confirm").check().run()
    at.button(key="fix_apply").click().run()
    assert not at.exception, [e.value for e in at.exception]
    results = at.dataframe[0].value  # the last apply's results come first
    assert results["status"].tolist() == ["succeeded", "succeeded"]
    assert "2 succeeded, 0 failed" in at.success[0].value
    assert [(w.method, w.status) for w in t.sim.write_requests() if w.batch_item] == [("POST", 200)] * 2
    for upn in (a, b):
        user = t.sim.tenant.user(upn)
        assert user is not None and set(user.direct) == {t.e3}
    with open_store(t.settings.store) as store:
        log = audit_entries(store)
    assert sorted(zip(log["action"], log["user_principal_name"], log["status"], strict=True)) == [
        ("downgrade", a, "succeeded"), ("downgrade", b, "succeeded"),
    ]  # fmt: skip
