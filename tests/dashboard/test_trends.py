"""Trends: run-out forecast and change ledger of the hand-written tenant."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.helpers.apptest import metrics, open_app, table, texts


def test_runout_forecast(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "trends")
    forecast = table(at, "sku", "purchased", "consumed", "waiting")
    # The 30-day window starts at snapshot 1 (20 days before the latest).
    #   E3: 5 - 6 - 2 waiting = -3 free: out now.  Power BI: nothing purchased.
    #   Calling and Visio: 0 -> 1 in 20 days = 0.05/day; 2 free / 0.05 = 40 days -> 2025-06-30.
    #   The rest: flat.
    rows = forecast[
        ["sku", "purchased", "consumed", "waiting", "free_after_waiting", "outlook"]
    ].values.tolist()
    assert rows == [
        ["Microsoft 365 E3", 5, 6, 2, -3, "no free seats now (2 waiting)"],
        ["Power BI Pro", 0, 0, 0, 0, "nothing purchased"],
        ["Teams Domestic Calling Plan", 3, 1, 0, 2, "runs out in 40 days"],
        ["Visio Plan 2", 3, 1, 0, 2, "runs out in 40 days"],
        ["CONTOSO_PARTNER_ADDON", 2, 1, 0, 1, "no run-out: assignments flat or falling"],
        ["Exchange Online (Plan 1)", 5, 0, 0, 5, "no run-out: assignments flat or falling"],
        ["Microsoft 365 Copilot", 2, 0, 0, 2, "no run-out: assignments flat or falling"],
    ]
    visio = forecast.set_index("sku").loc["Visio Plan 2"]
    assert math.isclose(visio["rate_per_day"], 0.05) and math.isclose(visio["days_left"], 40.0)
    assert visio["runout_date"] == pd.Timestamp("2025-06-30T06:00:00Z")
    assert math.isnan(forecast.set_index("sku").loc["Microsoft 365 Copilot", "days_left"])
    assert "Power Automate Free" not in forecast["sku"].tolist()  # free SKUs are not forecast


def test_a_short_window_has_too_little_history(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "trends")
    at.slider(key="trends_window").set_value(7).run()
    forecast = table(at, "sku", "purchased", "consumed", "waiting").set_index("sku")
    # Only the latest snapshot is within 7 days: no rate.
    assert forecast.loc["Visio Plan 2", "outlook"] == "no run-out: not enough history"
    assert forecast.loc["Microsoft 365 E3", "outlook"] == "no free seats now (2 waiting)"


def test_change_ledger_between_the_last_two_snapshots(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store, "trends")
    assert at.selectbox(key="ledger_from").value == 2
    assert at.selectbox(key="ledger_to").value == 4
    assert at.selectbox(key="ledger_from").options == [
        "#1 · 2025-05-01 06:00 UTC",
        "#2 · 2025-05-11 06:00 UTC",
    ]
    shown = metrics(at)
    assert (shown["Licences gained"], shown["Licences lost"], shown["Licences changed"]) == ("2", "1", "1")
    assert shown["Assignments in error"] == "7"
    ledger = table(at, "user_principal_name", "display_name", "sku", "change")
    assert ledger[["user_principal_name", "sku", "change", "before", "after"]].values.tolist() == [
        ["eve@contoso.com", "Microsoft 365 E3", "changed", "Direct: Active", "Direct: Active; via E3 Staff: Active"],
        ["oli@contoso.com", "Teams Domestic Calling Plan", "gained", "—", "Direct: Active"],
        ["cat@contoso.com", "Visio Plan 2", "gained", "—", "Direct: Active"],
        ["ann@contoso.com", "Exchange Online (Plan 1)", "in error", "—",
         "via Exchange Basic: Error (MutuallyExclusiveViolation)"],
        ["fay@contoso.com", "Exchange Online (Plan 1)", "in error", "—",
         "via Exchange Basic: Error (MutuallyExclusiveViolation)"],
        ["kim@contoso.com", "Microsoft 365 Copilot", "in error", "—", "via Copilot Pilot: Error (DependencyViolation)"],
        ["hal@contoso.com", "Microsoft 365 E3", "in error", "—", "via E3 Staff: Error (CountViolation)"],
        ["ida@contoso.com", "Teams Domestic Calling Plan", "in error", "—",
         "via Calling: Error (ProhibitedInUsageLocationViolation)"],
        ["jon@contoso.com", "Teams Domestic Calling Plan", "in error", "—",
         "via Calling: Error (ProhibitedInUsageLocationViolation)"],
        ["max@contoso.com", "Visio Plan 2", "in error", "—", "via Visio Users: Error (Other)"],
        ["pat@contoso.com", "Microsoft 365 E3", "lost", "Direct: Active", "—"],
    ]  # fmt: skip
    people = table(at, "user_id", "user_principal_name", "display_name", "change")
    assert people[["user_id", "change"]].values.tolist() == [
        ["hal", "added"], ["ida", "added"], ["jon", "added"], ["oli", "added"], ["pat", "removed"],
    ]  # fmt: skip
    assert len(at.get("plotly_chart")) == 2  # seats over time, errors over time


def test_change_ledger_between_chosen_snapshots(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "trends")
    at.selectbox(key="ledger_from").set_value(1).run()
    at.selectbox(key="ledger_to").set_value(2).run()
    ledger = table(at, "user_principal_name", "display_name", "sku", "change")
    assert ledger[["user_principal_name", "sku", "change", "after"]].values.tolist() == [
        ["eve@contoso.com", "Microsoft 365 E3", "gained", "Direct: Active"],
        ["lea@contoso.com", "Visio Plan 2", "in error", "via Visio Users: Error (UniquenessViolation)"],
    ]
    assert "**Users added or removed** — 0" in texts(at)


def test_one_snapshot_is_not_a_trend(single_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, single_store, "trends")
    assert (
        at.info[0].value == "Trends need at least two snapshots; this store has one. Collect again tomorrow."
    )
    assert "The ledger compares two snapshots; there is only one." in texts(at)
    forecast = table(at, "sku", "purchased", "consumed", "waiting").set_index("sku")
    assert forecast.loc["Visio Plan 2", "outlook"] == "no run-out: not enough history"
