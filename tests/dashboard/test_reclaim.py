"""Reclaim page on the finance tenant (tests/analysis/finance_tenant.py): every figure worked out by hand.

Candidates (snapshot 2026-03-01 06:00 UTC, inactive after 90 days):
    E3     bob disabled (direct), cat inactive (last sign-in 2025-11-15, via the group only), dan never signed
           in (created 2025-06-01, direct), ann direct and through the group (frees no seat), fay overlapping
           suite (E3 next to E5, via the group only)
    AAD    fay: every AAD plan is also in her E3 (direct)
    Visio  bob disabled (direct), gus a guest (direct)
Not candidates: eve (never signed in, 14 days old), ivy's AAD (her E3 has AAD_PREMIUM off), hal's AAD (E5 has
P2, not P1), anyone's free Flow, the partner add-on holder hal (active).

Seats freed: E3 bob cat dan fay = 4, AAD fay = 1, Visio bob gus = 2: 7. Savings per month: USD 4 x 36.00 +
6.00 = 150.00; EUR 2 x 100.00 / 12 = 16.67. Per year: USD 4 x 432.00 + 72.00 = 1,800.00; EUR 200.00.
"""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from store.db import open_store
from store.prices import load_exemptions
from tests.analysis import finance_tenant as t
from tests.helpers.apptest import metric_list, open_app, rows, table, texts

CANDIDATES = [
    ["bob@contoso.com", "Microsoft 365 E3", "disabled account", True],
    ["cat@contoso.com", "Microsoft 365 E3", "inactive", True],
    ["dan@contoso.com", "Microsoft 365 E3", "never signed in", True],
    ["ann@contoso.com", "Microsoft 365 E3", "direct and through a group", False],
    ["fay@contoso.com", "Microsoft 365 E3", "overlapping suite", True],
    ["fay@contoso.com", "Microsoft Entra ID P1", "contained in another SKU", True],
    ["bob@contoso.com", "Visio Plan 2", "disabled account", True],
    ["gus@contoso.com", "Visio Plan 2", "licensed guest", True],
]


def _candidates(at: AppTest) -> list[list[Any]]:
    return rows(table(at, "user_principal_name", "display_name", "sku"), "user_principal_name", "sku", "reason",
                "frees_seat")  # fmt: skip


def test_headline_and_savings(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "reclaim")
    assert metric_list(at) == [
        ("Candidates", "8"),
        ("Users", "6"),  # ann bob cat dan fay gus
        ("Seats to free", "7"),
        ("Tidy-ups", "1"),  # ann
        ("Saving per month", "EUR 16.67"),
        ("Saving per month", "USD 150.00"),
    ]
    at.radio(key="reclaim_basis").set_value("Per year").run()
    assert metric_list(at)[4:] == [("Saving per year", "EUR 200.00"), ("Saving per year", "USD 1,800.00")]


def test_summary_by_sku_and_reason(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "reclaim")
    assert rows(table(at, "sku", "reason", "users"), "sku", "reason", "users", "seats_freed") == [
        ["Microsoft 365 E3", "direct and through a group", 1, 0],
        ["Microsoft 365 E3", "disabled account", 1, 1],
        ["Microsoft 365 E3", "inactive", 1, 1],
        ["Microsoft 365 E3", "never signed in", 1, 1],
        ["Microsoft 365 E3", "overlapping suite", 1, 1],
        ["Microsoft Entra ID P1", "contained in another SKU", 1, 1],
        ["Visio Plan 2", "disabled account", 1, 1],
        ["Visio Plan 2", "licensed guest", 1, 1],
    ]
    assert rows(table(at, "sku", "currency", "seats"), "sku", "currency", "seats", "saving") == [
        ["Visio Plan 2", "EUR", 2, "EUR 16.67"],
        ["Microsoft 365 E3", "USD", 4, "USD 144.00"],
        ["Microsoft Entra ID P1", "USD", 1, "USD 6.00"],
    ]


def test_candidates_with_reason_evidence_and_action(
    finance_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, finance_store, "reclaim")
    assert _candidates(at) == CANDIDATES
    shown = table(at, "user_principal_name", "display_name", "sku")
    evidence = dict(zip(shown["user_principal_name"] + " " + shown["sku"], shown["evidence"], strict=True))
    assert evidence["bob@contoso.com Microsoft 365 E3"] == (
        "Account disabled; last sign-in 2025-10-01 (151 days before the snapshot)."
    )
    assert evidence["cat@contoso.com Microsoft 365 E3"] == (
        "Last sign-in 2025-11-15 (106 days before the snapshot), past the 90-day limit."
    )
    assert evidence["dan@contoso.com Microsoft 365 E3"] == (
        "No sign-in recorded; account created 2025-06-01 (273 days before the snapshot)."
    )
    assert evidence["gus@contoso.com Visio Plan 2"] == (
        "Guest account holding a paid seat; last sign-in 2026-02-25 (4 days before the snapshot)."
    )
    actions = dict(zip(shown["user_principal_name"] + " " + shown["reason"], shown["action"], strict=True))
    assert actions["cat@contoso.com inactive"] == (
        "Remove the user from group 'E3 Staff' (a licence inherited from a group cannot be removed per user)."
    )
    assert actions["ann@contoso.com direct and through a group"] == (
        "Remove the direct assignment (the group keeps granting the licence)."
    )
    assert not [b for b in at.button if b.key == "reclaim_plan"]  # writes are off: nothing to plan
    assert any(c.startswith("Nothing is removed from this page.") for c in texts(at))


def test_a_long_candidate_list_shows_its_first_rows(
    finance_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tenant's 8 candidates stand for 180,000. That the download still holds every row is
    # test_browser.py's (only a browser can click it).
    monkeypatch.setenv("LICENSE_DESK_TABLE_ROWS", "3")
    at = open_app(monkeypatch, finance_store, "reclaim")
    assert _candidates(at) == CANDIDATES[:3]  # bob, cat, dan: the first in SKU, reason, user order
    assert (
        "Showing the first 3 of 8 candidates: narrow them with the filters, or download all of them below."
        in texts(at)
    )
    # The figures count every candidate, not the rows shown.
    assert metric_list(at)[:4] == [
        ("Candidates", "8"),
        ("Users", "6"),
        ("Seats to free", "7"),
        ("Tidy-ups", "1"),
    ]
    assert rows(table(at, "sku", "reason", "users"), "sku", "seats_freed") == [
        ["Microsoft 365 E3", 0], ["Microsoft 365 E3", 1], ["Microsoft 365 E3", 1], ["Microsoft 365 E3", 1],
        ["Microsoft 365 E3", 1], ["Microsoft Entra ID P1", 1], ["Visio Plan 2", 1], ["Visio Plan 2", 1],
    ]  # fmt: skip
    # Filtered down to what fits, the caption goes.
    at.multiselect(key="reclaim_reasons").set_value(["disabled"]).run()
    assert len(_candidates(at)) == 2
    assert not [t for t in texts(at) if t.startswith("Showing the first")]


def test_filters(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "reclaim")
    at.multiselect(key="reclaim_reasons").set_value(["disabled"]).run()
    assert [r[0] + " " + str(r[1]) for r in _candidates(at)] == [
        "bob@contoso.com Microsoft 365 E3",
        "bob@contoso.com Visio Plan 2",
    ]
    # 36.00 USD and 100.00 / 12 = 8.33 EUR
    assert metric_list(at)[2:] == [
        ("Seats to free", "2"), ("Tidy-ups", "0"), ("Saving per month", "EUR 8.33"), ("Saving per month", "USD 36.00"),
    ]  # fmt: skip
    at.multiselect(key="reclaim_reasons").set_value([]).run()
    at.multiselect(key="reclaim_departments").set_value(["Finance"]).run()
    assert [r[0] for r in _candidates(at)] == ["cat@contoso.com", "dan@contoso.com"]
    assert metric_list(at)[2:] == [
        ("Seats to free", "2"),
        ("Tidy-ups", "0"),
        ("Saving per month", "USD 72.00"),
    ]
    at.multiselect(key="reclaim_departments").set_value([]).run()
    at.selectbox(key="reclaim_sku").set_value(t.VISIO).run()
    assert [r[0] for r in _candidates(at)] == ["bob@contoso.com", "gus@contoso.com"]


def test_exemptions_hide_candidates_only_from_reclaim(
    finance_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, finance_copy, "reclaim")
    assert "No user or SKU is exempt." in texts(at)
    at.text_input(key="exempt_user").input("DAN@contoso.com")
    at.text_input(key="exempt_note").input("on parental leave")
    at.button(key="exempt_add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.success] == ["Dan is exempt from reclaim: on parental leave"]
    assert at.text_input(key="exempt_note").value == ""  # the form is emptied
    assert "dan@contoso.com" not in [r[0] for r in _candidates(at)]
    # dan's E3 was a seat to free for 36.00
    assert metric_list(at)[:3] == [("Candidates", "7"), ("Users", "5"), ("Seats to free", "6")]
    assert metric_list(at)[5] == ("Saving per month", "USD 114.00")
    exempt = table(at, "kind", "target_id", "label")
    assert rows(exempt, "kind", "target_id", "label", "note") == [
        ["user", "dan@contoso.com", "Dan", "on parental leave"]
    ]

    at.toggle(key="reclaim_show_exempt").set_value(True).run()
    shown = table(at, "user_principal_name", "display_name", "sku")
    dan = shown[shown["user_principal_name"] == "dan@contoso.com"]
    assert rows(dan, "reason", "exempt", "exemption_note") == [["never signed in", True, "on parental leave"]]
    assert metric_list(at)[0] == ("Candidates", "7")  # listed, still not counted

    # Elsewhere nothing is hidden: dan's seat is still never-signed-in waste on Costs.
    at.switch_page("app_pages/costs.py").run()
    assert dict(metric_list(at)[9:])["Never signed in"] == "USD 36.00"

    at.switch_page("app_pages/reclaim.py").run()
    at.button(key="exempt_remove").click().run()
    assert [s.value for s in at.success] == ["Dan is no longer exempt from reclaim."]
    assert metric_list(at)[0] == ("Candidates", "8")
    with open_store(finance_copy) as store:
        assert load_exemptions(store).empty


def test_a_sku_exemption(finance_copy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_copy, "reclaim")
    at.radio(key="exempt_kind").set_value("sku").run()
    at.selectbox(key="exempt_sku").set_value(t.VISIO)
    at.text_input(key="exempt_note").input("held for contractors")
    at.button(key="exempt_add").click().run()
    assert [s.value for s in at.success] == ["Visio Plan 2 is exempt from reclaim: held for contractors"]
    assert "Visio Plan 2" not in [r[1] for r in _candidates(at)]
    assert metric_list(at)[:4] == [
        ("Candidates", "6"),
        ("Users", "5"),
        ("Seats to free", "5"),
        ("Tidy-ups", "1"),
    ]
    assert [m for m in metric_list(at) if m[1].startswith("EUR")] == []


def test_an_exemption_needs_a_known_user_and_a_note(
    finance_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, finance_copy, "reclaim")
    at.text_input(key="exempt_user").input("nobody@contoso.com")
    at.text_input(key="exempt_note").input("why not")
    at.button(key="exempt_add").click().run()
    assert [e.value for e in at.error] == ["There is no user 'nobody@contoso.com' in the latest snapshot."]
    at.text_input(key="exempt_user").input("dan@contoso.com")
    at.text_input(key="exempt_note").input("  ")
    at.button(key="exempt_add").click().run()
    assert [e.value for e in at.error] == ["Say why Dan is exempt from reclaim: the note is empty."]
    with open_store(finance_copy) as store:
        assert load_exemptions(store).empty


def test_chosen_candidates_open_as_a_removal_plan_on_assign_and_fix(
    finance_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LICENSE_DESK_ALLOW_WRITES", "true")
    at = open_app(monkeypatch, finance_store, "reclaim")
    assert at.button(key="reclaim_plan").disabled  # nothing chosen yet
    # bob's E3 (direct), cat's E3 (through the group only: not in the plan), dan's E3, bob's Visio
    at.session_state["reclaim_table"] = {"selection": {"rows": [0, 1, 2, 6], "columns": [], "cells": []}}
    at.run()
    plan = at.button(key="reclaim_plan")
    assert plan.label == "Plan removal for 4 selected candidate(s)" and not plan.disabled
    plan.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Assign & fix"
    assert at.radio(key="fix_source").value == "Reclaim candidates"
    changes = table(at, "change", "user_principal_name")
    assert changes["change"].tolist() == [
        "remove SPE_E3 from bob@contoso.com",
        "remove SPE_E3 from dan@contoso.com",
        "remove VISIOCLIENT from bob@contoso.com",
    ]
    seats = table(at, "sku_part_number", "purchased", "assigned_before")
    assert rows(seats, "sku_part_number", "assigned_before", "assigned_after", "available_after") == [
        ["SPE_E3", 7, 5, 5],
        ["VISIOCLIENT", 2, 1, 3],
    ]
    assert at.button(key="fix_apply").disabled  # still only a preview: nothing sent without confirming
