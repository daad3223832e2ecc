"""Users: the filters and one user's licences, on the hand-written tenant."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.dashboard.tenant import E3
from tests.helpers.apptest import open_app, table, texts


def _upns(at: Any) -> list[str]:
    return [u.split("@")[0] for u in table(at, "user_principal_name", "display_name")["user_principal_name"]]


def _select(at: Any, user_id: str) -> None:
    """Click the row of one user in the users table (AppTest: the selection goes in session state)."""
    rows = table(at, "user_principal_name", "display_name")["user_id"].tolist()
    at.session_state["users_table"] = {
        "selection": {"rows": [rows.index(user_id)], "columns": [], "cells": []}
    }
    at.run()
    assert not at.exception


def test_all_users_with_their_licences(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    users = table(at, "user_principal_name", "display_name").set_index("user_principal_name")
    assert len(users) == 15  # pat left before the latest snapshot
    assert any(t.startswith("15 of 15 users.") for t in texts(at))
    assert users.loc["ben@contoso.com", "licenses"] == "Microsoft 365 E3; Power Automate Free"
    assert users.loc["ben@contoso.com", "assignment"] == "Direct + group"
    assert users.loc["gus@contoso.com", "licenses"] == ""  # waiting in CountViolation: no seat
    assert users.loc["gus@contoso.com", "errors"] == "CountViolation"
    assert users.index[~users["enabled"].astype(bool)].tolist() == ["dan@contoso.com"]
    assert users.loc["dan@contoso.com", "activity"] == "disabled account"
    assert users.loc["cat@contoso.com", "activity"] == "inactive"
    # Users without sign-in data: no date, and a label rather than an error.
    assert users.loc[["eve@contoso.com", "ned@contoso.com", "oli@contoso.com"], "activity"].tolist() == [
        "never signed in",
        "never signed in",
        "new, not signed in yet",
    ]
    assert users.loc[["eve@contoso.com", "ned@contoso.com", "oli@contoso.com"], "last_sign_in"].isna().all()
    assert users.loc["ann@contoso.com", "last_sign_in"] == pd.Timestamp("2025-05-20T08:00:00Z")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({"users_departments": ["Sales"]}, ["ann", "ben", "gus", "oli"]),
        ({"users_departments": ["(none)"]}, ["hal", "ned"]),
        ({"users_countries": ["FR", "(none)"]}, ["jon", "lea", "max", "ned"]),
        ({"users_guest": "Yes"}, ["ned"]),
        ({"users_enabled": "No"}, ["dan"]),
        ({"users_search": "EV"}, ["eve"]),
        ({"users_sku": E3, "users_path": "Group"}, ["ann", "ben", "cat", "eve", "gus", "hal"]),
        ({"users_sku": E3, "users_path": "Direct"}, ["dan", "eve", "fay"]),
        ({"users_path": "Direct", "users_departments": ["Marketing"]}, ["kim"]),
    ],
)
def test_filters(
    state: dict[str, Any], expected: list[str], tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    assert _upns(at) == expected
    assert any(t.startswith(f"{len(expected)} of 15 users.") for t in texts(at))


def test_one_users_licences(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    assert "Select a user in the table (the box at the start of a row) to see their licences." in texts(at)
    _select(at, "eve")
    detail = table(at, "sku", "source", "state")
    assert detail[["sku", "source", "state", "plans_disabled"]].values.tolist() == [
        ["Microsoft 365 E3", "Direct", "Active", 0],
        ["Microsoft 365 E3", "via E3 Staff", "Active", 1],
    ]
    assert "**Eve** · IT · DE · never signed in · last sign-in —" in texts(at)


def test_user_with_an_error_and_no_usage_location(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    _select(at, "jon")
    detail = table(at, "sku", "source", "state")
    assert detail[["sku", "source", "state"]].values.tolist() == [
        ["Teams Domestic Calling Plan", "via Calling", "Error (ProhibitedInUsageLocationViolation)"]
    ]
    assert "**Jon** · Support · no usage location · active · last sign-in 2025-05-18 08:00 UTC" in texts(at)


def test_no_match_says_so(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "users")
    at.text_input(key="users_search").set_value("nobody-here").run()
    assert "No user matches the filters." in texts(at)
    assert len(table(at, "user_principal_name", "display_name")) == 0
