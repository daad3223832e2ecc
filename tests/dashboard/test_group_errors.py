"""Group errors: every error kind of the hand-written tenant, with its cause, fix and seat numbers."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.ui import ALL_SKUS
from tests.dashboard.tenant import VISIO
from tests.helpers.apptest import metrics, open_app, table, texts

EXCHANGE_FIX = (
    'Find the duplicate proxy address in Exchange (Get-Recipient -Filter "EmailAddresses -eq '
    "'smtp:<address>'\"), remove it from the other object, then reprocess the user."
)


def test_counts_by_kind(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "group_errors")
    assert metrics(at) == {
        "Users in error": "9",
        "Groups": "5",
        "Count": "2",  # gus, hal
        "Location": "2",  # ida (IN), jon (none)
        "Exclusive": "2",  # ann, fay
        "Dependency": "1",  # kim
        "Uniqueness": "1",  # lea
        "Other": "1",  # max
    }


def test_summary_with_seat_numbers(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "group_errors")
    summary = table(at, "group_name", "sku", "error", "members")
    rows = summary[
        ["group_name", "sku", "error", "members", "seats_short", "seats_free", "seats_needed", "users"]
    ]
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["Calling", "Teams Domestic Calling Plan", "ProhibitedInUsageLocationViolation", 2, None, None, None,
         "ida@contoso.com (IN), jon@contoso.com (none)"],
        ["Copilot Pilot", "Microsoft 365 Copilot", "DependencyViolation", 1, None, None, None, "kim@contoso.com"],
        # 2 waiting, E3 has -1 available (over-assigned), so 3 seats are needed.
        ["E3 Staff", "Microsoft 365 E3", "CountViolation", 2, 2, -1, 3, "gus@contoso.com, hal@contoso.com"],
        ["Exchange Basic", "Exchange Online (Plan 1)", "MutuallyExclusiveViolation", 2, None, None, None,
         "ann@contoso.com, fay@contoso.com"],
        ["Visio Users", "Visio Plan 2", "Other", 1, None, None, None, "max@contoso.com"],
        ["Visio Users", "Visio Plan 2", "UniquenessViolation", 1, None, None, None, "lea@contoso.com"],
    ]  # fmt: skip
    fixes = dict(zip(summary["error"], summary["fix"], strict=True))
    # cat (inactive), dan (disabled) and eve (never signed in) hold E3 seats that could be reclaimed.
    assert fixes["CountViolation"] == (
        "No seat is free (-1 available, and the SKU is over-assigned by 1): free or buy 3, then reprocess "
        "the group. 3 seats of this SKU are held by inactive or disabled users and could be reclaimed."
    )
    assert fixes["UniquenessViolation"] == EXCHANGE_FIX
    assert fixes["Other"] == EXCHANGE_FIX
    causes = dict(zip(summary["error"], summary["cause"], strict=True))
    assert (
        causes["Other"] == "Graph reported Other without more detail; most often a duplicate proxy address."
    )
    assert causes["CountViolation"] == (
        "E3 Staff assigns Microsoft 365 E3 to more members than there are free seats: 2 members of all "
        "groups wait for a seat, 2 of them in this group."
    )


def test_member_details_name_the_cause(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "group_errors")
    details: dict[str, Any] = {}
    for frame in at.dataframe:
        value = frame.value
        if "detail" in value.columns:
            details.update(
                zip(
                    value["user_principal_name"], zip(value["detail"], value["fix"], strict=True), strict=True
                )
            )
    assert details["ann@contoso.com"] == (
        "Conflicts with Microsoft 365 E3, held via E3 Staff (plan EXCHANGE_S_ENTERPRISE against EXCHANGE_S_STANDARD).",
        "Microsoft 365 E3 comes from group E3 Staff: remove the user from one of the two groups, or switch off "
        "EXCHANGE_S_ENTERPRISE in one group's assignment, then reprocess the user.",
    )
    assert details["fay@contoso.com"] == (
        "Conflicts with Microsoft 365 E3, held directly (plan EXCHANGE_S_ENTERPRISE against EXCHANGE_S_STANDARD).",
        "Remove the direct Microsoft 365 E3 licence (or switch off EXCHANGE_S_ENTERPRISE in it), then reprocess the user.",
    )
    assert details["kim@contoso.com"][0] == (
        "M365_COPILOT_APPS needs Microsoft 365 Apps for enterprise (OFFICESUBSCRIPTION) or Microsoft 365 Apps for "
        "business (OFFICE_BUSINESS), which Microsoft 365 E3 include; the user holds none of them."
    )
    assert details["ida@contoso.com"][0] == "Usage location IN."
    assert details["jon@contoso.com"] == (
        "No usage location is set.",
        "Set the user's usage location, then reprocess the user.",
    )
    assert details["lea@contoso.com"] == (
        "Duplicate proxy address (Graph: UniquenessViolation).",
        EXCHANGE_FIX,
    )
    assert details["max@contoso.com"] == ("Graph reported Other.", EXCHANGE_FIX)
    headings = [t for t in texts(at) if t.startswith("#### ")]
    assert headings == [
        "#### Not enough seats (CountViolation) — 2",
        "#### Usage location (ProhibitedInUsageLocationViolation) — 2",
        "#### Conflicting licences (MutuallyExclusiveViolation) — 2",
        "#### Missing prerequisite (DependencyViolation) — 1",
        "#### Duplicate proxy address (UniquenessViolation) — 1",
        "#### Other errors — 1",
    ]


def test_sku_and_department_filters(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store, "group_errors")
    at.session_state["errors_sku"] = VISIO
    at.run()
    summary = table(at, "group_name", "sku", "error", "members")
    assert summary["error"].tolist() == ["Other", "UniquenessViolation"]
    at.session_state["errors_sku"] = ALL_SKUS
    at.session_state["errors_departments"] = ["Support"]
    at.run()
    members = [f.value for f in at.dataframe if "detail" in f.value.columns]
    assert [m["user_principal_name"].tolist() for m in members] == [["ida@contoso.com", "jon@contoso.com"]]


def test_department_picker_offers_every_users_department(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store, "group_errors")
    # Every user's department, not only those in error (nobody in Finance is): hal and ned have none.
    assert at.multiselect(key="errors_departments").options == [
        "Finance", "IT", "Marketing", "Sales", "Support", "(none)",
    ]  # fmt: skip
    at.session_state["errors_departments"] = ["(none)"]
    at.run()
    members = [f.value for f in at.dataframe if "detail" in f.value.columns]
    # hal waits for an E3 seat; ned has no department but no error.
    assert [m["user_principal_name"].tolist() for m in members] == [["hal@contoso.com"]]
    at.session_state["errors_departments"] = ["Finance"]
    at.run()
    assert not [f for f in at.dataframe if "detail" in f.value.columns]
    assert "No member in error matches the filters." in texts(at)


def test_no_errors_is_good_news(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from store.db import open_store
    from store.snapshots import SnapshotWriter

    path = str(Path(str(tmp_path)) / "clean.sqlite")
    with open_store(path) as store, SnapshotWriter(store, "contoso", "2025-05-21T06:00:00Z") as writer:
        writer.stage("stage_skus", [(VISIO, "VISIOCLIENT", "User", "Enabled", 3, 0, 0, 0, 0)])
        writer.complete()
    at = open_app(monkeypatch, path, "group_errors")
    assert [s.value for s in at.success] == [
        "No group-based licence assignment is in error in this snapshot."
    ]
