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


def test_pages_and_collect_now_use_the_store_the_configuration_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 19: the pages read LICENSE_DESK_STORE (else data/license-desk.sqlite) while "Collect
    # now" wrote the store of the TOML file, so a collection never showed on the pages.
    store = tmp_path / "a" / "store.sqlite"
    monkeypatch.chdir(tmp_path)  # where the default store would be created
    with GraphSimulator(users=40, seed=5) as sim:
        config = tmp_path / "license-desk.toml"
        config.write_text(
            "[license_desk]\n"
            f'store = "{store}"\n'
            f'tenant_id = "{sim.tenant_id}"\n'
            f'client_id = "{sim.client_id}"\n'
            f'graph_url = "{sim.graph_url}"\n'
            f'authority_url = "{sim.authority_url}"\n'
            f'ca_bundle = "{sim.ca_bundle}"\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("LICENSE_DESK_CONFIG", str(config))
        monkeypatch.setenv(
            "LICENSE_DESK_CLIENT_SECRET", str(sim.client_secret)
        )  # secrets stay in the environment
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("app_pages/data.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert [i.value for i in at.info if i.value.startswith("No snapshot yet")] == [
            f"No snapshot yet in {store}. Run `license-desk collect` for your tenant, "
            "or `license-desk demo` for the simulated demo tenant."
        ]
        assert f"Collects tenant {sim.tenant_id} into {store} (read-only calls to Microsoft Graph)." in texts(
            at
        )
        at.button(key="collect_now").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    assert at.success[0].value.startswith("Snapshot 1 collected: 40 users")
    assert table(at, "id", "status", "started")[["id", "status"]].values.tolist() == [[1, "complete"]]
    at.switch_page("app_pages/overview.py").run()
    assert [
        c.value for c in at.caption if c.value.startswith(f"Snapshot 1 of tenant {sim.tenant_id}, taken ")
    ]
    with open_store(str(store), readonly=True) as opened:
        assert complete_snapshot_ids(opened) == [1]
    assert not (tmp_path / "data").exists()  # nothing read or written at the default store


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

    from dashboard import services
    from dashboard.settings import current_settings
    from licensedesk.errors import LicenseDeskError

    settings, _problem = current_settings()
    assert settings is not None
    try:
        summary = services.collect(settings, lambda progress: None)
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
