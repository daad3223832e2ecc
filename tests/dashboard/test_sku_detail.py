"""SKU detail: units, subscriptions, holders and service plans of one SKU, computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.tenant import E3, EXO1, PARTNER, PBI
from tests.helpers.apptest import metrics, open_app, table, texts


def _pick(monkeypatch: pytest.MonkeyPatch, store: str, sku_id: str) -> AppTest:
    at = open_app(monkeypatch, store, "sku_detail")
    at.selectbox(key="sku_detail_sku").set_value(sku_id).run()
    assert not at.exception
    return at


def test_default_is_the_biggest_counted_sku(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Exchange Online (Plan 1) and Microsoft 365 E3 both have 5 purchased; the name breaks the tie.
    at = open_app(monkeypatch, tenant_store, "sku_detail")
    assert at.selectbox(key="sku_detail_sku").value == EXO1


def test_over_assigned_sku(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _pick(monkeypatch, tenant_store, E3)
    assert at.header[0].value == "Microsoft 365 E3"
    assert metrics(at) == {
        "Enabled": "4", "Warning": "1", "Suspended": "2", "Locked out": "0", "Purchased": "5",
        "Consumed": "6", "Available": "-1", "Utilization": "120%",
    }  # fmt: skip
    assert "Over-assigned: 6 assigned but only 5 purchased (-1 available)." in texts(at)

    subs = table(at, "subscription_id", "status")
    assert subs[["subscription_id", "status", "trial", "total_licenses"]].values.tolist() == [
        ["sub-e3-b", "Warning", False, 1],  # next lifecycle 2025-06-01 first
        ["sub-e3-a", "Enabled", False, 4],
    ]
    assert list(subs["next_lifecycle"]) == [
        pd.Timestamp("2025-06-01", tz="UTC"),
        pd.Timestamp("2026-01-31", tz="UTC"),
    ]

    holders = table(at, "user_principal_name", "display_name", "department", "source")
    assert holders[["user_principal_name", "source", "state", "holds_seat"]].values.tolist() == [
        ["ann@contoso.com", "via E3 Staff", "Active", True],
        ["ben@contoso.com", "via E3 Staff", "Active", True],
        ["cat@contoso.com", "via E3 Staff", "Active", True],
        ["dan@contoso.com", "Direct", "Active", True],
        ["eve@contoso.com", "Direct", "Active", True],
        ["eve@contoso.com", "via E3 Staff", "Active", True],
        ["fay@contoso.com", "Direct", "Active", True],
        ["gus@contoso.com", "via E3 Staff", "Error (CountViolation)", False],
        ["hal@contoso.com", "via E3 Staff", "Error (CountViolation)", False],
    ]

    plans = table(at, "service_plan_name", "provisioning_status")
    # Six holders. The group switches Teams off for ann, ben, cat; eve also holds E3 directly with
    # Teams on, so only three have it off. dan's direct assignment switches the Office apps off.
    assert plans[["service_plan_name", "holders", "disabled_for", "enabled_for"]].values.tolist() == [
        ["EXCHANGE_S_ENTERPRISE", 6, 0, 6],
        ["OFFICESUBSCRIPTION", 6, 1, 5],
        ["TEAMS1", 6, 3, 3],
    ]
    assert len(at.get("plotly_chart")) == 1


def test_sku_with_nothing_purchased(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _pick(monkeypatch, tenant_store, PBI)
    shown = metrics(at)
    assert (shown["Purchased"], shown["Suspended"], shown["Available"], shown["Utilization"]) == (
        "0",
        "5",
        "0",
        "n/a",
    )
    assert "Nothing is purchased (no enabled or warning units), so utilization is undefined." in texts(at)
    assert "Nobody is assigned this SKU." in texts(at)
    subs = table(at, "subscription_id", "status")
    assert subs[["subscription_id", "status", "total_licenses"]].values.tolist() == [
        ["sub-pbi", "Suspended", 5]
    ]
    assert pd.isna(subs["next_lifecycle"].iloc[0])


def test_unknown_sku_is_shown_by_part_number(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _pick(monkeypatch, tenant_store, PARTNER)
    assert at.header[0].value == "CONTOSO_PARTNER_ADDON"
    assert any(t.startswith("CONTOSO_PARTNER_ADDON is not in the SKU catalog") for t in texts(at))
    assert "No commerce subscription is listed for this SKU." in texts(at)
    holders = table(at, "user_principal_name", "display_name", "department", "source")
    assert holders[["user_principal_name", "source"]].values.tolist() == [["kim@contoso.com", "Direct"]]
