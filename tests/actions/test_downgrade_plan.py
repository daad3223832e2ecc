"""The downgrade planner's refusals and skips, and what a downgrade saves, on hand-built frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from actions.plan import Plan, plan_downgrade
from analysis.downgrade_savings import downgrade_savings
from analysis.reclaim import downgrade_targets
from analysis.seats import seat_table

E5, E3, F3 = "e5-id", "e3-id", "f3-id"
SKUS = seat_table(
    pd.DataFrame(
        # part, id, enabled, warning, consumed -> available: E5 0, E3 5, F3 0
        [("SPE_E5", E5, 4, 0, 4), ("SPE_E3", E3, 10, 0, 5), ("SPE_F1", F3, 2, 0, 2)],
        columns=["sku_part_number", "sku_id", "enabled", "warning", "consumed"],
    ).assign(suspended=0, locked_out=0, applies_to="User", catalog_name=None, catalog_kind=None)
)
PLANS = pd.DataFrame(
    [(E5, "p-exo"), (E5, "p-phone"), (E3, "p-exo"), (F3, "p-exo")], columns=["sku_id", "service_plan_id"]
)
USERS = pd.DataFrame(
    [("u-ann", "ann@contoso.com", "US"), ("u-bob", "bob@contoso.com", "DE"), ("u-cat", "cat@contoso.com", None),
     ("u-dan", "dan@contoso.com", "US")],
    columns=["user_id", "user_principal_name", "usage_location"],
)  # fmt: skip
LICENSES = pd.DataFrame(
    [
        ("u-ann", E5, "", "Active", "p-exo,p-phone"),  # direct E5, two plans off
        ("u-bob", E5, "grp", "Active", ""),  # inherits E5
        ("u-cat", E5, "", "Active", ""),  # direct E5, no usage location
        ("u-dan", E5, "", "Active", ""),  # direct E5 and already E3
        ("u-dan", E3, "", "Active", ""),
    ],
    columns=["user_id", "sku_id", "assigned_by_group", "state", "disabled_plans"],
).assign(error="")


def _plan(*targets: tuple[str, str, str]) -> Plan:
    return plan_downgrade(targets, skus=SKUS, users=USERS, licenses=LICENSES, service_plans=PLANS)


def test_one_downgrade_keeps_only_the_disabled_plans_the_target_has() -> None:
    plan = _plan(("ann@contoso.com", "SPE_E5", "SPE_E3"))
    (change,) = plan.changes
    assert change.describe() == "downgrade ann@contoso.com from SPE_E5 to SPE_E3"
    assert change.disabled_plans == ("p-exo",)  # p-phone is not in E3
    seats = {s.sku_part_number: (s.consumed_before, s.consumed_after) for s in plan.seats}
    assert seats == {"SPE_E5": (4, 3), "SPE_E3": (5, 6)}


def test_refusals_and_skips_each_say_why() -> None:
    plan = _plan(
        ("bob@contoso.com", "SPE_E5", "SPE_E3"),
        ("cat@contoso.com", "SPE_E5", "SPE_E3"),
        ("dan@contoso.com", "SPE_E5", "SPE_E3"),
        ("ann@contoso.com", "SPE_E3", "SPE_F1"),
        ("ann@contoso.com", "SPE_E5", "SPE_E5"),
        ("nobody", "SPE_E5", "SPE_E3"),
        ("ann@contoso.com", "SPE_E5", "NOPE"),
    )
    assert not plan.ok and not plan.changes
    # Names and SKUs are checked first, then each user's licences, in the order given.
    assert [r.reason for r in plan.refused] == [
        "SPE_E5 cannot be downgraded to itself.",
        "There is no user 'nobody' in the latest snapshot.",
        "There is no SKU 'NOPE' in the latest snapshot.",
        "bob@contoso.com inherits SPE_E5 from a group; remove the user from the group instead.",
        "cat@contoso.com has no usage location, which Graph requires to assign SPE_E3; set one first.",
    ]
    assert [s.reason for s in plan.skipped] == [
        "dan@contoso.com already holds SPE_E3: removing SPE_E5 is enough.",
        "ann@contoso.com does not hold SPE_E3.",
    ]


def test_a_target_without_seats_leaves_everyone_out_with_the_count_missing() -> None:
    plan = _plan(("ann@contoso.com", "SPE_E5", "SPE_F1"))
    assert plan.ok is False and not plan.refused
    assert [s.reason for s in plan.skipped] == [
        "ann@contoso.com is not downgraded: SPE_F1 has 0 available seat(s) for 1 downgrade(s), 1 seat(s) "
        "missing; buy 1 more or downgrade fewer."
    ]


def test_downgrade_targets_are_direct_priced_not_exempt() -> None:
    candidates = pd.DataFrame(
        [
            ("u-ann", E5, "premium_unused", E3, True, False),
            ("u-bob", E5, "premium_unused", E3, False, False),  # inherited only
            ("u-cat", E5, "premium_unused", E3, True, True),  # exempt
            ("u-dan", E3, "desktop_unused", None, True, False),  # target not bought
            ("u-eve", E3, "desktop_unused", F3, True, False),
            ("u-eve", E3, "inactive", None, True, False),  # a removal, not a downgrade
        ],
        columns=["user_id", "sku_id", "reason", "other_sku_id", "direct", "exempt"],
    )
    assert downgrade_targets(candidates) == [("u-ann", E5, E3), ("u-eve", E3, F3)]


def test_savings_per_currency_with_yearly_prices_rounded_once_and_unknown_apart() -> None:
    prices = pd.DataFrame(
        [
            (E5, "USD", 5700, "month", "2020-01-01"),
            (E3, "USD", 3600, "month", "2020-01-01"),
            (E5, "EUR", 60000, "year", "2020-01-01"),
            (E3, "EUR", 39000, "year", "2020-01-01"),
            (E5, "USD", 9900, "month", "2030-01-01"),  # not in force yet
        ],
        columns=["sku_id", "currency", "unit_price_minor", "period", "effective_from"],
    )
    pairs = [(E5, E3)] * 3 + [(E3, F3)]
    out = downgrade_savings(pairs, prices, on=dt.date(2026, 3, 1))
    # EUR: 3 x 600.00/12 = 150.00 taken, 3 x 390.00/12 = 97.50 given: 52.50 a month.
    # USD: 3 x (57.00 - 36.00) = 63.00. E3 -> F3: F3 has no price anywhere, so unknown.
    assert out.astype(object).where(out.notna(), None).values.tolist() == [
        ["EUR", 3, 5250], ["USD", 3, 6300], [None, 1, None],
    ]  # fmt: skip
