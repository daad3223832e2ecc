"""Data: the snapshot log with the failed attempt, the catalog check, and "Collect now"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import metrics, open_app, table, texts


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
