"""Reclaim candidates on the hand-written finance tenant (see tests/analysis/finance_tenant.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from actions.plan import plan_remove
from analysis.reclaim import reclaim_candidates, reclaim_summary, removal_targets, seats_to_free
from cli.finance import load_finance_inputs
from licensedesk.config import Settings
from store import queries
from store.db import open_store
from store.prices import add_exemption, load_exemptions
from tests.analysis import finance_tenant as t


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = str(tmp_path / "store.sqlite")
    t.build(path)
    return path


def _candidates(path: str, **kw: object) -> pd.DataFrame:
    with open_store(path) as store:
        sid = queries.resolve_snapshot(store)
        inputs = load_finance_inputs(store, sid, Settings(store=path))
        return reclaim_candidates(
            inputs.holders, queries.user_licenses(store, sid), inputs.seats, queries.service_plans(store, sid),
            load_exemptions(store), queries.licensed_groups(store, sid), now=pd.Timestamp(t.STARTED),
            inactive_days=90, **kw,  # type: ignore[arg-type]
        )  # fmt: skip


def _by_key(frame: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, object]]:
    return {(r["user_id"], r["sku_part_number"], r["reason"]): r for r in frame.to_dict(orient="records")}


def test_every_candidate_with_its_reason(store_path: str) -> None:
    found = _candidates(store_path)
    assert sorted(_by_key(found)) == [
        ("ann", "SPE_E3", "direct_and_group"),
        ("bob", "SPE_E3", "disabled"),
        ("bob", "VISIOCLIENT", "disabled"),
        ("cat", "SPE_E3", "inactive"),
        ("dan", "SPE_E3", "never"),
        ("fay", "AAD_PREMIUM", "contained"),
        ("fay", "SPE_E3", "overlapping_suite"),
        ("gus", "VISIOCLIENT", "guest"),
    ]
    # Not candidates: eve (never signed in but 14 days old), ivy's Entra ID P1 (her E3 has the
    # AAD_PREMIUM plan disabled), hal's Entra ID P1 (E5 has P2, not P1), anyone's free Flow.


def test_people_evidence_names_the_dates(store_path: str) -> None:
    rows = _by_key(_candidates(store_path))
    assert rows[("bob", "SPE_E3", "disabled")]["evidence"] == (
        "Account disabled; last sign-in 2025-10-01 (151 days before the snapshot)."
    )
    assert rows[("cat", "SPE_E3", "inactive")]["evidence"] == (
        "Last sign-in 2025-11-15 (106 days before the snapshot), past the 90-day limit."
    )
    assert rows[("dan", "SPE_E3", "never")]["evidence"] == (
        "No sign-in recorded; account created 2025-06-01 (273 days before the snapshot)."
    )
    assert rows[("gus", "VISIOCLIENT", "guest")]["evidence"] == (
        "Guest account holding a paid seat; last sign-in 2026-02-25 (4 days before the snapshot)."
    )


def test_actions_say_how_the_seat_is_freed(store_path: str) -> None:
    rows = _by_key(_candidates(store_path))
    bob = rows[("bob", "SPE_E3", "disabled")]
    assert (bob["action"], bob["frees_seat"], bob["direct"], bob["groups"]) == (
        "Remove the direct assignment.", True, True, (),
    )  # fmt: skip
    cat = rows[("cat", "SPE_E3", "inactive")]
    assert cat["action"] == (
        "Remove the user from group 'E3 Staff' (a licence inherited from a group cannot be removed per user)."
    )
    assert (cat["direct"], cat["groups"]) == (False, (t.G_E3,))


def test_direct_and_group_is_redundant_but_frees_nothing(store_path: str) -> None:
    ann = _by_key(_candidates(store_path))[("ann", "SPE_E3", "direct_and_group")]
    assert ann["frees_seat"] is False
    assert ann["evidence"] == (
        "Holds SPE_E3 directly and through group 'E3 Staff'; removing the direct assignment tidies up "
        "but frees no seat."
    )


def test_overlap_is_decided_from_service_plans(store_path: str) -> None:
    rows = _by_key(_candidates(store_path))
    aad = rows[("fay", "AAD_PREMIUM", "contained")]
    assert aad["other_sku_id"] == t.E3
    assert aad["evidence"] == (
        "Every service plan AAD_PREMIUM gives this user (AAD_PREMIUM) is also switched on by SPE_E3, "
        "which the user holds."
    )
    # E3 (5 user plans) shares 4 with E5 (6): E3 is the lesser suite. The Company-level
    # EXCHANGE_S_FOUNDATION plan of E3 is not compared.
    e3 = rows[("fay", "SPE_E3", "overlapping_suite")]
    assert e3["other_sku_id"] == t.E5
    assert e3["evidence"] == (
        "Also holds the suite SPE_E5, which switches on 4 of the 5 service plans SPE_E3 gives "
        "(EXCHANGE_S_ENTERPRISE, OFFICESUBSCRIPTION, SHAREPOINTENTERPRISE, TEAMS1); removing SPE_E3 "
        "would lose AAD_PREMIUM."
    )


def test_exemptions_remove_candidates_only_from_reclaim(store_path: str) -> None:
    with open_store(store_path) as store:
        add_exemption(store, "user", "dan@contoso.com", note="on parental leave")
        add_exemption(store, "sku", "visioclient", note="licences held for contractors")
    kept = _by_key(_candidates(store_path))
    assert ("dan", "SPE_E3", "never") not in kept
    assert not any(part == "VISIOCLIENT" for _u, part, _r in kept)
    flagged = _by_key(_candidates(store_path, include_exempt=True))
    assert flagged[("dan", "SPE_E3", "never")]["exemption_note"] == "on parental leave"
    assert flagged[("gus", "VISIOCLIENT", "guest")]["exempt"] is True
    assert flagged[("bob", "SPE_E3", "disabled")]["exempt"] is False
    # Elsewhere nothing is hidden: dan's seat still counts as never-signed-in waste.
    from analysis.costs import sku_costs

    with open_store(store_path) as store:
        inputs = load_finance_inputs(store, 1, Settings(store=store_path))
    costs = sku_costs(
        inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions, on=pd.Timestamp(t.STARTED).date()
    )
    assert costs.set_index("sku_part_number").loc["SPE_E3", "never_seats"] == 1


def test_summary_and_seats_to_free(store_path: str) -> None:
    found = _candidates(store_path)
    summary = reclaim_summary(found)
    e3 = summary[summary["sku_id"] == t.E3].set_index("reason")
    assert e3["users"].to_dict() == {
        "direct_and_group": 1, "disabled": 1, "inactive": 1, "never": 1, "overlapping_suite": 1,
    }  # fmt: skip
    assert e3.loc["direct_and_group", "seats_freed"] == 0
    assert seats_to_free(found) == {t.E3: 4, t.VISIO: 2, t.AAD: 1}


def test_savings_of_the_seats_the_candidates_free(store_path: str) -> None:
    import datetime as dt

    from analysis.costs import sku_costs
    from analysis.reclaim import reclaim_savings

    found = _candidates(store_path)
    with open_store(store_path) as store:
        inputs = load_finance_inputs(store, 1, Settings(store=store_path))
    costs = sku_costs(
        inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions, on=dt.date(2026, 3, 1)
    )
    rows = reclaim_savings(found, costs)[["sku_id", "currency", "seats", "saving"]].values.tolist()
    # E3: bob, cat, dan, fay = 4 x 36.00; Entra ID P1: fay 6.00; Visio: bob, gus = 200.00/12 = 16.67 EUR.
    # ann's direct E3 frees nothing and is not counted.
    assert rows == [[t.VISIO, "EUR", 2, 1667], [t.E3, "USD", 4, 14400], [t.AAD, "USD", 1, 600]]


def test_candidates_are_a_gap_source_for_plan_remove(store_path: str) -> None:
    found = _candidates(store_path)
    targets = removal_targets(found)
    # Only direct assignments: cat and fay hold E3 through the group alone.
    assert targets == {t.E3: ["ann", "bob", "dan"], t.AAD: ["fay"], t.VISIO: ["bob", "gus"]}
    with open_store(store_path) as store:
        sid = queries.resolve_snapshot(store)
        inputs = load_finance_inputs(store, sid, Settings(store=store_path))
        plan = plan_remove(t.E3, targets[t.E3], skus=inputs.seats, users=queries.users(store, sid),
                           licenses=queries.user_licenses(store, sid))  # fmt: skip
    assert plan.ok
    # ann keeps E3 through the group (0 seats), bob and dan free one each: 7 -> 5.
    assert [c.seats for c in plan.changes] == [0, -1, -1]
    assert (plan.seats[0].consumed_before, plan.seats[0].consumed_after) == (7, 5)


def test_filters_by_reason_sku_and_department(store_path: str) -> None:
    from analysis.reclaim import filter_candidates

    found = _candidates(store_path)
    with open_store(store_path) as store:
        users = queries.users(store, 1)

    def keys(**kw: object) -> list[tuple[str, str, str]]:
        return sorted(_by_key(filter_candidates(found, users, **kw)))  # type: ignore[arg-type]

    assert keys(reasons=["disabled"]) == [("bob", "SPE_E3", "disabled"), ("bob", "VISIOCLIENT", "disabled")]
    assert keys(sku_id=t.VISIO) == [("bob", "VISIOCLIENT", "disabled"), ("gus", "VISIOCLIENT", "guest")]
    assert keys(departments=["Finance"]) == [("cat", "SPE_E3", "inactive"), ("dan", "SPE_E3", "never")]
    assert keys(departments=["(none)"]) == [("gus", "VISIOCLIENT", "guest")]  # gus has no department
    assert keys(reasons=["never"], departments=["Sales"]) == []


def test_exempt_rows_are_listed_only_on_request_and_never_targets(store_path: str) -> None:
    from analysis.reclaim import filter_candidates

    with open_store(store_path) as store:
        add_exemption(store, "user", "bob@contoso.com", note="legal hold")
        users = queries.users(store, 1)
    everything = _candidates(store_path, include_exempt=True)
    assert sorted(k for k in _by_key(filter_candidates(everything, users)) if k[0] == "bob") == []
    shown = filter_candidates(everything, users, include_exempt=True)
    assert sorted(k for k in _by_key(shown) if k[0] == "bob") == [
        ("bob", "SPE_E3", "disabled"),
        ("bob", "VISIOCLIENT", "disabled"),
    ]
    # bob holds E3 and Visio directly, but exempt rows never become removal targets.
    assert removal_targets(shown) == {t.E3: ["ann", "dan"], t.AAD: ["fay"], t.VISIO: ["gus"]}


def test_headline_and_saving_totals_per_currency(store_path: str) -> None:
    import datetime as dt

    from analysis.costs import sku_costs
    from analysis.reclaim import reclaim_headline, reclaim_savings, saving_totals

    found = _candidates(store_path)
    # 8 rows; ann bob cat dan fay gus; E3 bob cat dan fay + AAD fay + Visio bob gus; ann's row frees nothing
    assert reclaim_headline(found) == {"candidates": 8, "users": 6, "seats": 7, "tidy_ups": 1}
    with open_store(store_path) as store:
        inputs = load_finance_inputs(store, 1, Settings(store=store_path))
    args = (inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions)
    monthly = saving_totals(reclaim_savings(found, sku_costs(*args, on=dt.date(2026, 3, 1))))
    # USD: 4 x 36.00 + 6.00 = 150.00; EUR: 200.00 / 12 = 16.67
    assert monthly.values.tolist() == [["EUR", 2, 1667], ["USD", 5, 15000]]
    yearly = sku_costs(*args, on=dt.date(2026, 3, 1), basis="year")
    assert saving_totals(reclaim_savings(found, yearly, basis="year")).values.tolist() == [
        ["EUR", 2, 20000],
        ["USD", 5, 180000],  # 4 x 432.00 + 72.00
    ]


def test_unpriced_seats_are_a_saving_of_unknown_size() -> None:
    from analysis.reclaim import saving_totals

    savings = pd.DataFrame(
        {"sku_id": ["a", "b", "c"], "sku": ["A", "B", "C"], "currency": ["USD", None, "USD"],
         "seats": [1, 2, 3], "saving": pd.array([100, None, 50], dtype="Int64")}
    )  # fmt: skip
    totals = saving_totals(savings)
    assert totals["currency"].tolist() == ["USD", None]
    assert totals["seats"].tolist() == [4, 2]
    assert totals["saving"].iloc[0] == 150 and pd.isna(totals["saving"].iloc[1])


def test_one_plan_removes_several_skus(store_path: str) -> None:
    from actions.plan import plan_remove_many

    targets = removal_targets(_candidates(store_path))
    with open_store(store_path) as store:
        inputs = load_finance_inputs(store, 1, Settings(store=store_path))
        plan = plan_remove_many(targets, skus=inputs.seats, users=queries.users(store, 1),
                                licenses=queries.user_licenses(store, 1))  # fmt: skip
    assert plan.ok
    assert [(c.user_id, c.sku_part_number, c.seats) for c in plan.changes] == [
        ("ann", "SPE_E3", 0), ("bob", "SPE_E3", -1), ("dan", "SPE_E3", -1), ("fay", "AAD_PREMIUM", -1),
        ("bob", "VISIOCLIENT", -1), ("gus", "VISIOCLIENT", -1),
    ]  # fmt: skip
    assert [(s.sku_part_number, s.consumed_before, s.consumed_after) for s in plan.seats] == [
        ("SPE_E3", 7, 5), ("AAD_PREMIUM", 3, 2), ("VISIOCLIENT", 2, 0),
    ]  # fmt: skip
    nobody = plan_remove_many({"NOT_A_SKU": ["ann"]}, skus=inputs.seats, users=pd.DataFrame(),
                              licenses=pd.DataFrame())  # fmt: skip
    assert [r.reason for r in nobody.refused] == ["There is no SKU 'NOT_A_SKU' in the latest snapshot."]
