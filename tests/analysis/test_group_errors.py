"""Cause and fix of group licence errors (DESIGN §6) on hand-built frames."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.group_errors import error_counts, error_summary, explain_errors, filter_errors
from analysis.seats import seat_table

SKUS = pd.DataFrame(
    [
        ("e3", "SPE_E3", "Microsoft 365 E3", 10, 0, 12),
        ("e1", "STANDARDPACK", "Office 365 E1", 5, 0, 1),
        ("exo1", "EXCHANGESTANDARD", "Exchange Online (Plan 1)", 5, 0, 0),
        ("cop", "Microsoft_365_Copilot", "Microsoft 365 Copilot", 5, 0, 0),
        ("call", "MCOPSTN1", "Teams Domestic Calling Plan", 5, 0, 0),
        ("visio", "VISIOCLIENT", "Visio Plan 2", 3, 0, 0),
    ],
    columns=["sku_id", "sku_part_number", "catalog_name", "enabled", "warning", "consumed"],
).assign(suspended=0, locked_out=0, applies_to="User", catalog_kind=None)
PLANS = pd.DataFrame(
    [
        ("e3", "p-exo2", "EXCHANGE_S_ENTERPRISE"),
        ("e3", "p-apps", "OFFICESUBSCRIPTION"),
        ("e1", "p-exo1", "EXCHANGE_S_STANDARD"),
        ("exo1", "p-exo1", "EXCHANGE_S_STANDARD"),
        ("cop", "p-copapps", "M365_COPILOT_APPS"),
        ("call", "p-pstn", "MCOPSTN1"),
        ("visio", "p-visio", "VISIO_CLIENT_SUBSCRIPTION"),
    ],
    columns=["sku_id", "service_plan_id", "service_plan_name"],
)
GROUPS = pd.DataFrame(
    [
        ("g-e3", "E3 Staff"),
        ("g-exo", "Exchange"),
        ("g-cop", "Copilot"),
        ("g-call", "Calling"),
        ("g-vis", "Visio"),
    ],
    columns=["group_id", "group_name"],
)


def _licenses(*rows: tuple[str, str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["user_id", "sku_id", "assigned_by_group", "state", "error", "disabled_plans"]
    )


def _errors(licenses: pd.DataFrame, locations: dict[str, str | None] | None = None) -> pd.DataFrame:
    rows = licenses[licenses["error"] != ""]
    return pd.DataFrame(
        {
            "group_id": rows["assigned_by_group"],
            "group_name": None,
            "user_id": rows["user_id"],
            "user_principal_name": rows["user_id"] + "@x.com",
            "display_name": rows["user_id"],
            "usage_location": [(locations or {}).get(u, "US") for u in rows["user_id"]],
            "sku_id": rows["sku_id"],
            "error": rows["error"],
        }
    )


def _explain(licenses: pd.DataFrame, locations: dict[str, str | None] | None = None) -> pd.DataFrame:
    return explain_errors(_errors(licenses, locations), licenses, seat_table(SKUS), PLANS, GROUPS)


@pytest.mark.parametrize(
    ("other", "detail", "fix_start"),
    [
        (
            ("u", "e3", "", "Active", "", ""),
            "Conflicts with Microsoft 365 E3, held directly (plan EXCHANGE_S_ENTERPRISE against EXCHANGE_S_STANDARD).",
            "Remove the direct Microsoft 365 E3 licence",
        ),
        (
            ("u", "e3", "g-e3", "Active", "", ""),
            "Conflicts with Microsoft 365 E3, held via E3 Staff (plan EXCHANGE_S_ENTERPRISE against EXCHANGE_S_STANDARD).",
            "Microsoft 365 E3 comes from group E3 Staff",
        ),
        # Exchange Plan 2 switched off in the E3 assignment: no known conflict left to name.
        (
            ("u", "e3", "", "Active", "", "p-exo2"),
            "The conflicting plan could not be pinpointed; the user also holds Microsoft 365 E3 (Direct).",
            "Remove whichever of these conflicts",
        ),
    ],
)
def test_mutually_exclusive_names_the_conflicting_sku_and_its_source(
    other: tuple[str, str, str, str, str, str], detail: str, fix_start: str
) -> None:
    out = _explain(_licenses(other, ("u", "exo1", "g-exo", "Error", "MutuallyExclusiveViolation", "")))
    assert out["detail"].tolist() == [detail]
    assert out["fix"].iloc[0].startswith(fix_start)


def test_mutually_exclusive_without_any_other_licence() -> None:
    out = _explain(_licenses(("u", "exo1", "g-exo", "Error", "MutuallyExclusiveViolation", "")))
    assert out["detail"].tolist() == [
        "The conflicting licence is not in this snapshot (it may have been removed since)."
    ]


@pytest.mark.parametrize(
    ("held", "detail"),
    [
        (
            [],
            "M365_COPILOT_APPS needs Microsoft 365 Apps for enterprise (OFFICESUBSCRIPTION) or Microsoft 365 Apps "
            "for business (OFFICE_BUSINESS), which Microsoft 365 E3 include; the user holds none of them.",
        ),
        # E3 held but with the Office apps switched off: still missing.
        (
            [("u", "e3", "", "Active", "", "p-apps")],
            "M365_COPILOT_APPS needs Microsoft 365 Apps for enterprise (OFFICESUBSCRIPTION) or Microsoft 365 Apps "
            "for business (OFFICE_BUSINESS), which Microsoft 365 E3 include; the user holds none of them.",
        ),
        # The prerequisite is there: Graph's reason is something we cannot derive.
        (
            [("u", "e3", "", "Active", "", "")],
            "The prerequisite cannot be derived: Graph does not say which plan Microsoft 365 Copilot is missing, "
            "and the user's plans match no known dependency.",
        ),
    ],
)
def test_dependency_names_the_prerequisite_when_derivable(
    held: list[tuple[str, str, str, str, str, str]], detail: str
) -> None:
    out = _explain(_licenses(*held, ("u", "cop", "g-cop", "Error", "DependencyViolation", "")))
    assert out["detail"].tolist() == [detail]


def test_dependency_prerequisite_no_sku_of_the_tenant_has() -> None:
    out = _explain(_licenses(("u", "call", "g-call", "Error", "DependencyViolation", "")))
    assert out["detail"].tolist() == [
        "MCOPSTN1 needs Teams Phone (MCOEV), which no SKU in this tenant includes; the user holds none of them."
    ]


@pytest.mark.parametrize(
    ("location", "detail"),
    [("IN", "Usage location IN."), (None, "No usage location is set."), ("", "No usage location is set.")],
)
def test_usage_location(location: str | None, detail: str) -> None:
    out = _explain(
        _licenses(("u", "call", "g-call", "Error", "ProhibitedInUsageLocationViolation", "")), {"u": location}
    )
    assert out["detail"].tolist() == [detail]


@pytest.mark.parametrize(
    ("short", "available", "reclaimable", "fix"),
    [
        (2, 5, None, "5 seats free now, enough for all 2 waiting: reprocess the group to assign them."),
        (2, 2, 0, "2 seats free now, enough for all 2 waiting: reprocess the group to assign them."),
        (
            3, 1, 4,
            "1 seat free now for 3 waiting: reprocess the group to use them, and free or buy 2 more. "
            "4 seats of this SKU are held by inactive or disabled users and could be reclaimed.",
        ),
        (2, 0, None, "No seat is free (0 available): free or buy 2, then reprocess the group."),
        (
            2, -3, 1,
            "No seat is free (-3 available, and the SKU is over-assigned by 3): free or buy 5, then reprocess "
            "the group. 1 seat of this SKU is held by inactive or disabled users and could be reclaimed.",
        ),
    ],
)  # fmt: skip
def test_count_violation_seat_numbers(short: int, available: int, reclaimable: int | None, fix: str) -> None:
    skus = SKUS.assign(consumed=[10 - available, 1, 0, 0, 0, 0])  # E3: 10 enabled
    licenses = _licenses(*[(f"u{i}", "e3", "g-e3", "Error", "CountViolation", "") for i in range(short)])
    seats = seat_table(skus)
    explained = explain_errors(_errors(licenses), licenses, seats, PLANS, GROUPS)
    summary = error_summary(explained, seats, None if reclaimable is None else {"e3": reclaimable})
    row = summary.iloc[0]
    assert (row["seats_short"], row["seats_free"], row["seats_needed"]) == (
        short,
        available,
        max(0, short - available),
    )
    assert row["fix"] == fix


def test_seats_short_counts_members_of_all_groups_once() -> None:
    licenses = _licenses(
        ("u1", "e3", "g-e3", "Error", "CountViolation", ""),
        ("u2", "e3", "g-e3", "Error", "CountViolation", ""),
        ("u2", "e3", "g-exo", "Error", "CountViolation", ""),  # u2 waits through two groups
        ("u3", "e3", "g-exo", "Error", "CountViolation", ""),
    )
    seats = seat_table(SKUS)  # E3: 10 purchased, 12 consumed: -2
    summary = error_summary(explain_errors(_errors(licenses), licenses, seats, PLANS, GROUPS), seats)
    assert summary[
        ["group_name", "members", "seats_short", "seats_free", "seats_needed"]
    ].values.tolist() == [
        ["E3 Staff", 2, 3, -2, 5],
        ["Exchange", 2, 3, -2, 5],
    ]


def test_uniqueness_other_and_unknown_codes_point_to_exchange() -> None:
    out = _explain(
        _licenses(
            ("a", "visio", "g-vis", "Error", "UniquenessViolation", ""),
            ("b", "visio", "g-vis", "Error", "Other", ""),
            ("c", "visio", "g-vis", "Error", "Others", ""),  # older spelling
        )
    )
    assert out["detail"].tolist() == [
        "Graph reported Other.",
        "Graph reported Others.",
        "Duplicate proxy address (Graph: UniquenessViolation).",
    ]
    assert out["fix"].str.startswith("Find the duplicate proxy address in Exchange").all()
    counts = error_counts(out)
    assert (
        counts["UniquenessViolation"],
        counts["Other"],
        counts["Others"],
        counts["users"],
        counts["groups"],
    ) == (1, 1, 1, 3, 1)


def test_filter_by_sku_and_department() -> None:
    licenses = _licenses(
        ("a", "visio", "g-vis", "Error", "Other", ""),
        ("b", "call", "g-call", "Error", "ProhibitedInUsageLocationViolation", ""),
        ("c", "call", "g-call", "Error", "ProhibitedInUsageLocationViolation", ""),
    )
    users = pd.DataFrame({"user_id": ["a", "b", "c"], "department": ["Sales", None, "IT"]})
    out = _explain(licenses)
    assert filter_errors(out, users, sku_id="call")["user_id"].tolist() == ["b", "c"]
    assert filter_errors(out, users, departments=["(none)", "Sales"])["user_id"].tolist() == ["b", "a"]
    assert filter_errors(out, users, sku_id="visio", departments=["IT"]).empty


def test_licences_that_failed_together_point_to_the_one_with_the_conflict() -> None:
    # The group assigns Exchange Plan 1 and Visio; only Exchange conflicts (with E3), but Graph fails both.
    out = _explain(
        _licenses(
            ("u", "e3", "", "Active", "", ""),
            ("u", "exo1", "g-exo", "Error", "MutuallyExclusiveViolation", ""),
            ("u", "visio", "g-exo", "Error", "MutuallyExclusiveViolation", ""),
        )
    )
    details = dict(zip(out["sku_id"], out["detail"], strict=True))
    assert details["exo1"].startswith("Conflicts with Microsoft 365 E3, held directly")
    assert details["visio"] == (
        "Failed together with Exchange Online (Plan 1) from the same group: Graph assigns none of a group's "
        "licences to a member when one of them fails, so the cause is most likely there."
    )
