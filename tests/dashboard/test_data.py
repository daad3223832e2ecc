"""Data: the snapshot log with the failed attempt, the catalog check, and "Collect now"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from graphsim.server import GraphSimulator
from store.db import open_store
from store.queries import complete_snapshot_ids
from tests.dashboard.test_access import SECRETS, signed_in
from tests.helpers.apptest import APP, metrics, open_app, table, texts


def test_snapshot_log_shows_failed_attempts(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "data")
    log = table(at, "id", "status", "started")
    assert log[
        ["id", "status", "duration_seconds", "request_count", "retry_count", "user_count", "error"]
    ].astype(object).where(log.notna(), None).values.tolist() == [
        [4, "complete", 90.0, 12, 1, 15, ""],
        [3, "failed", None, None, None, None, "page 3 failed"],
        [2, "complete", 90.0, 12, 1, 12, ""],
        [1, "complete", 90.0, 12, 1, 12, ""],
    ]
    assert any(t.startswith("4 attempts, 1 failed.") for t in texts(at))


def test_catalog_status_lists_unknown_skus(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "data")
    shown = metrics(at)
    assert shown["Built-in SKUs"] == "46"  # collectors/data/common_skus.csv
    assert (shown["Imported SKUs"], shown["Last import"]) == ("0", "never")
    unknown = table(at, "sku_part_number", "sku_id")
    assert unknown.values.tolist() == [
        ["CONTOSO_PARTNER_ADDON", "45715bb8-13f9-4bf6-927f-ef96c102d394", 2, 1]
    ]
    assert at.warning[0].value.startswith("1 SKU(s) of the latest snapshot are not in the catalog")


def test_collect_now_takes_a_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("graphsim.server", reason="the Graph simulator (graphsim/server.py) is not built yet")
    from graphsim.server import GraphSimulator

    store = str(tmp_path / "collect.sqlite")
    with GraphSimulator(users=40, seed=5) as sim:
        details: dict[str, Any] = {
            "TENANT_ID": sim.tenant_id,
            "CLIENT_ID": sim.client_id,
            "CLIENT_SECRET": sim.client_secret,
            "GRAPH_URL": sim.graph_url,
            "AUTHORITY_URL": sim.authority_url,
            "CA_BUNDLE": sim.ca_bundle,
            "STORE": store,
        }
        for name, value in details.items():
            monkeypatch.setenv(f"LICENSE_DESK_{name}", str(value))
        at = open_app(monkeypatch, store, "data")
        assert any(i.value.startswith("No snapshot yet") for i in at.info)
        at.button(key="collect_now").click().run(timeout=120)
    assert not at.exception
    assert at.success[0].value.startswith("Snapshot 1 collected: 40 users")
    log = table(at, "id", "status", "started")
    assert log[["id", "status"]].values.tolist() == [[1, "complete"]]


def _signed_in_app(
    monkeypatch: pytest.MonkeyPatch, store: str, email: str, script: str | None = None
) -> AppTest:
    monkeypatch.setenv("LICENSE_DESK_STORE", store)
    at = AppTest.from_file(script or APP, default_timeout=60)
    for key, value in SECRETS.items():
        at.secrets[key] = value
    at.user = signed_in(email=email)
    return at


def test_a_viewer_gets_no_collect_now_button(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "TENANT_ID": "contoso.onmicrosoft.com",
        "CLIENT_ID": "app",
        "CLIENT_SECRET": "x",
    }.items():
        monkeypatch.setenv(f"LICENSE_DESK_{name}", value)  # a tenant is configured: collecting is possible
    viewer = _signed_in_app(monkeypatch, tenant_store, "viewer@contoso.com").run()
    viewer.switch_page("app_pages/data.py").run()
    assert not viewer.exception
    assert [b.key for b in viewer.button if b.key == "collect_now"] == []
    assert "Collecting from here needs the admin role." in texts(viewer)
    assert table(viewer, "id", "status", "started") is not None  # the rest of the page is there
    admin = _signed_in_app(monkeypatch, tenant_store, "ada@contoso.com").run()
    admin.switch_page("app_pages/data.py").run()
    assert [b.label for b in admin.button if b.key == "collect_now"] == ["Collect now"]


def _collect_as_session_person() -> None:
    """A page that calls the Collect-now action directly, as a forged click would."""
    import streamlit as st

    from dashboard import data
    from licensedesk.errors import LicenseDeskError

    settings, _problem = data.settings()
    assert settings is not None
    try:
        summary = data.collect(settings, lambda progress: None)
    except LicenseDeskError as exc:
        st.error(str(exc))
    else:
        st.success(f"Snapshot {summary.snapshot_id} collected")


def test_the_collect_action_itself_refuses_a_viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = str(tmp_path / "collect.sqlite")
    with GraphSimulator(users=20, seed=5) as sim:
        details: dict[str, Any] = {
            "TENANT_ID": sim.tenant_id, "CLIENT_ID": sim.client_id, "CLIENT_SECRET": sim.client_secret,
            "GRAPH_URL": sim.graph_url, "AUTHORITY_URL": sim.authority_url, "CA_BUNDLE": sim.ca_bundle, "STORE": store,
        }  # fmt: skip
        for name, value in details.items():
            monkeypatch.setenv(f"LICENSE_DESK_{name}", str(value))
        for email, shown in (("viewer@contoso.com", "error"), ("ada@contoso.com", "success")):
            at = AppTest.from_function(_collect_as_session_person, default_timeout=60)
            for key, value in SECRETS.items():
                at.secrets[key] = value
            at.user = signed_in(email=email)
            at.run()
            assert not at.exception
            if shown == "error":
                assert [e.value for e in at.error] == [
                    "Collecting now needs the admin role; ask a License Desk administrator."
                ]
                assert not os.path.exists(store)  # nothing was collected, not even a store created
            else:
                assert [s.value for s in at.success] == ["Snapshot 1 collected"]
    with open_store(store) as opened:
        assert complete_snapshot_ids(opened) == [1]
