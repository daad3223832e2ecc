"""Spend and waste on the hand-written finance tenant; every expected figure is worked out by hand.

Prices in force on 2026-03-01: E3 USD 36.00/month (30.00 is older, 40.00 not yet in force),
E5 USD 684.00/year (57.00 a month), AAD USD 6.00/month, VISIO EUR 100.00/year, storage USD 0.20/month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from analysis.costs import cost_totals, prices_in_force, sku_costs, snapshot_date, unpriced_skus
from analysis.money import format_money, parse_amount, seats_cost, to_decimal
from analysis.reports import FinanceInputs
from cli.finance import load_finance_inputs
from licensedesk.config import Settings
from store.db import open_store
from tests.analysis import finance_tenant as t


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> FinanceInputs:
    path = str(tmp_path_factory.mktemp("finance") / "store.sqlite")
    sid = t.build(path)
    with open_store(path) as store:
        return load_finance_inputs(store, sid, Settings(store=path))


def _costs(inputs: FinanceInputs, basis: str = "month", **kw: object) -> pd.DataFrame:
    args = (inputs.seats, inputs.prices, inputs.holders, inputs.subscriptions)
    return sku_costs(*args, on=dt.date(2026, 3, 1), basis=basis, **kw)  # type: ignore[arg-type]


def _row(costs: pd.DataFrame, part: str) -> dict[str, Any]:
    rows = costs[costs["sku_part_number"] == part].to_dict(orient="records")
    assert len(rows) == 1
    return rows[0]


def test_snapshot_date_is_the_utc_day() -> None:
    assert snapshot_date(t.STARTED) == dt.date(2026, 3, 1)
    assert snapshot_date("2026-02-28T23:30:00-02:00") == dt.date(2026, 3, 1)


def test_price_in_force_is_the_latest_on_or_before_the_day(inputs: FinanceInputs) -> None:
    e3 = prices_in_force(inputs.prices, dt.date(2026, 3, 1)).set_index("sku_id").loc[t.E3]
    assert (e3["unit_price_minor"], e3["effective_from"]) == (3600, "2026-01-01")
    later = prices_in_force(inputs.prices, dt.date(2026, 4, 1)).set_index("sku_id").loc[t.E3]
    assert later["unit_price_minor"] == 4000
    earlier = prices_in_force(inputs.prices, dt.date(2025, 12, 31)).set_index("sku_id")
    assert earlier.loc[t.E3, "unit_price_minor"] == 3000
    assert prices_in_force(inputs.prices, dt.date(2024, 12, 31)).empty


def test_e3_monthly_spend_and_waste(inputs: FinanceInputs) -> None:
    # 10 paid seats x 36.00 = 360.00; 3 unassigned = 108.00; held by bob (disabled), cat
    # (inactive: last of 2025-11-01 and 2025-11-15 is 106 days old), dan (never, created 273 days ago);
    # eve never signed in but is only 14 days old: not waste.
    e3 = _row(_costs(inputs), "SPE_E3")
    assert (e3["status"], e3["currency"], e3["unit_price_minor"], e3["period"]) == (
        "priced",
        "USD",
        3600,
        "month",
    )
    assert [e3[k] for k in ("purchased", "trial_seats", "paid_seats", "consumed", "assigned_seats",
                            "unassigned_seats")] == [10, 0, 10, 7, 7, 3]  # fmt: skip
    assert [e3[k] for k in ("disabled_seats", "inactive_seats", "never_seats", "guest_seats")] == [1, 1, 1, 0]
    assert [e3[k] for k in ("purchased_cost", "assigned_cost", "unassigned_cost", "disabled_cost",
                            "inactive_cost", "never_signed_in_cost", "guest_cost", "waste_cost")] == [
        36000, 25200, 10800, 3600, 3600, 3600, 0, 21600,
    ]  # fmt: skip


def test_annual_basis_is_twelve_months_exactly(inputs: FinanceInputs) -> None:
    e3 = _row(_costs(inputs, "year"), "SPE_E3")
    assert (e3["purchased_cost"], e3["unassigned_cost"], e3["waste_cost"]) == (432000, 129600, 259200)


def test_trial_seats_are_not_paid_for(inputs: FinanceInputs) -> None:
    # E5: 3 enabled + 1 warning = 4 purchased, 1 of them a trial seat -> 3 paid; 2 held -> 1 unassigned.
    # 684.00 a year: 3 seats = 2,052.00 a year = 171.00 a month; one seat 57.00 a month.
    e5 = _row(_costs(inputs), "SPE_E5")
    assert [e5[k] for k in ("purchased", "trial_seats", "paid_seats", "assigned_seats", "unassigned_seats")] == [
        4, 1, 3, 2, 1,
    ]  # fmt: skip
    assert (e5["purchased_cost"], e5["assigned_cost"], e5["unassigned_cost"], e5["waste_cost"]) == (
        17100, 11400, 5700, 5700,
    )  # fmt: skip
    assert _row(_costs(inputs, "year"), "SPE_E5")["purchased_cost"] == 205200


def test_yearly_price_rounds_once_per_line_and_rows_add_up(inputs: FinanceInputs) -> None:
    # VISIO EUR 100.00 a year: 4 seats = 400.00/12 = 33.333.. -> 33.33; 2 unassigned = 16.666.. -> 16.67;
    # assigned = 33.33 - 16.67 = 16.66; bob (disabled) 8.33; gus (guest) 8.33; waste 16.67 + 8.33 = 25.00.
    visio = _row(_costs(inputs), "VISIOCLIENT")
    assert visio["currency"] == "EUR"
    assert [visio[k] for k in ("purchased_cost", "unassigned_cost", "assigned_cost", "disabled_cost",
                               "guest_cost", "waste_cost")] == [3333, 1667, 1666, 833, 833, 2500]  # fmt: skip


def test_company_and_free_skus_are_spend_never_waste(inputs: FinanceInputs) -> None:
    costs = _costs(inputs)
    storage = _row(costs, "SHAREPOINTSTORAGE")
    assert (storage["counts_as_waste"], storage["purchased_cost"], storage["unassigned_cost"]) == (
        False,
        1000,
        0,
    )
    assert storage["waste_cost"] == 0
    flow = _row(costs, "FLOW_FREE")
    assert (flow["status"], flow["purchased_cost"], flow["waste_cost"]) == ("free", 0, 0)


def test_unpriced_sku_is_flagged_never_free(inputs: FinanceInputs) -> None:
    costs = _costs(inputs)
    partner = _row(costs, "CONTOSO_PARTNER_ADDON")
    assert partner["status"] == "no price"
    assert pd.isna(partner["purchased_cost"]) and pd.isna(partner["waste_cost"])
    assert unpriced_skus(costs)[["sku_part_number", "paid_seats"]].values.tolist() == [
        ["CONTOSO_PARTNER_ADDON", 2]
    ]


def test_totals_per_currency_are_never_summed_together(inputs: FinanceInputs) -> None:
    totals = cost_totals(_costs(inputs)).set_index("currency")
    assert sorted(totals.index) == ["EUR", "USD"]
    usd = totals.loc["USD"]
    # purchased 360.00 + 171.00 + 30.00 (AAD 5 x 6) + 10.00 (storage 50 x 0.20) = 571.00
    assert usd["purchased_cost"] == 57100
    # unassigned 108.00 + 57.00 + 12.00 (AAD 2 x 6) = 177.00
    assert (usd["unassigned_cost"], usd["assigned_cost"]) == (17700, 39400)
    assert [usd[k] for k in ("disabled_cost", "inactive_cost", "never_signed_in_cost", "guest_cost")] == [
        3600, 3600, 3600, 0,
    ]  # fmt: skip
    assert (usd["waste_cost"], usd["skus"], usd["unpriced_skus"]) == (28500, 4, 1)
    eur = totals.loc["EUR"]
    assert (eur["purchased_cost"], eur["waste_cost"], eur["guest_cost"], eur["skus"]) == (3333, 2500, 833, 1)


def test_without_sign_in_data_inactivity_is_unknown_not_zero(inputs: FinanceInputs, tmp_path: Path) -> None:
    from analysis.holders import seat_holders
    from store import queries

    path = str(tmp_path / "s.sqlite")
    sid = t.build(path)
    with open_store(path) as store:
        holders = seat_holders(
            queries.users(store, sid), queries.user_licenses(store, sid), now=pd.Timestamp(t.STARTED),
            inactive_days=90, signin_available=False,
        )  # fmt: skip
    costs = sku_costs(inputs.seats, inputs.prices, holders, inputs.subscriptions, on=dt.date(2026, 3, 1),
                      signin_available=False)  # fmt: skip
    e3 = _row(costs, "SPE_E3")
    assert pd.isna(e3["inactive_cost"]) and pd.isna(e3["never_signed_in_cost"])
    # still known: unassigned 108.00 and bob's disabled seat 36.00
    assert (e3["disabled_cost"], e3["waste_cost"]) == (3600, 14400)
    assert pd.isna(cost_totals(costs).set_index("currency").loc["USD", "inactive_cost"])


def test_shorter_inactivity_limit_moves_seats_into_waste(tmp_path: Path) -> None:
    # With a 3-day limit, recent sign-ins count as inactive too.
    path = str(tmp_path / "s.sqlite")
    sid = t.build(path)
    with open_store(path) as store:
        short = load_finance_inputs(store, sid, Settings(store=path, inactive_days=3))
    e3 = _row(_costs(short), "SPE_E3")
    # E3 holders: ann 9 days, cat 106, ivy 3 (exactly the limit: inactive), fay 1 day; dan never (273
    # days old), eve never (14 days old, now older than 3): disabled bob 1, inactive ann+cat+ivy 3, never 2.
    assert [e3[k] for k in ("disabled_seats", "inactive_seats", "never_seats")] == [1, 3, 2]


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("36", "USD", 3600), ("36.5", "USD", 3650), ("0.20", "USD", 20), ("36.000", "USD", 3600),
     ("1500", "JPY", 1500), ("1.234", "KWD", 1234)],
)  # fmt: skip
def test_parse_amount(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


def test_the_largest_price_accepted() -> None:
    assert parse_amount("100000000.00", "USD") == 10**10
    assert parse_amount("10000000000", "JPY") == 10**10
    assert parse_amount("0000000000000000001.00", "USD") == 100


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [("-1", "USD", "is negative"), ("abc", "USD", "is not a number"), ("1e3", "USD", "is not a number"),
     ("36,50", "USD", "use a dot"), ("1.5", "JPY", "more decimals than JPY allows (0)"),
     ("0.001", "USD", "more decimals than USD allows (2)"), ("NaN", "USD", "is not a number"),
     # Bounded, so every total stays an exact 64-bit integer (issue 14.19).
     ("1234567890123456789012345678901.00", "USD", "more than License Desk accepts (at most 100000000.00)"),
     ("90000000000000000.00", "USD", "more than License Desk accepts"), ("100000000.01", "USD", "at most"),
     ("10000000001", "JPY", "at most 10000000000)"), ("9" * 5000, "USD", "more than License Desk accepts")],
)  # fmt: skip
def test_parse_amount_refuses(text: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_amount(text, currency)


def test_money_formatting_and_rounding() -> None:
    assert format_money(123456789, "USD") == "USD 1,234,567.89"
    assert format_money(1500, "JPY") == "JPY 1,500"
    assert to_decimal(1234, "KWD") == Decimal("1.234")
    # 7 seats at 100.00 a year: 700.00 / 12 = 58.333.. -> 58.33 (not 7 x 8.33 = 58.31)
    assert seats_cost(10000, "year", 7, "month") == 5833
    # half-to-even on the line: 3 seats at 0.02/year -> 0.06/12 = 0.005 -> 0.00; 9 -> 0.015 -> 0.02
    assert (seats_cost(2, "year", 3, "month"), seats_cost(2, "year", 9, "month")) == (0, 2)
    assert seats_cost(3600, "month", 10, "year") == 432000


def test_seat_change_cost_prices_the_seats_a_plan_moves() -> None:
    import datetime as dt

    import pandas as pd

    from analysis.costs import seat_change_cost

    seats = pd.DataFrame(
        [("SPE_E3", "e3", 10, 13), ("VISIOCLIENT", "visio", 5, 3), ("NOPRICE", "np", 1, 2)],
        columns=["sku_part_number", "sku_id", "assigned_before", "assigned_after"],
    )
    prices = pd.DataFrame(
        [
            ("e3", "USD", 3600, "month", "2024-01-01"),  # USD 36.00 a month
            ("e3", "USD", 3900, "month", "2027-01-01"),  # not yet in force
            ("visio", "EUR", 18000, "year", "2024-01-01"),  # EUR 180.00 a year = 15.00 a month
        ],
        columns=["sku_id", "currency", "unit_price_minor", "period", "effective_from"],
    )
    got = seat_change_cost(seats, prices, on=dt.date(2026, 11, 24))
    # 3 E3 seats into use: 3 x 36.00 = 108.00 moves from unassigned to assigned;
    # 2 Visio seats freed: 2 x 15.00 = 30.00 moves the other way; NOPRICE is left out.
    assert got.values.tolist() == [
        ["SPE_E3", "USD", 3, 10800, -10800],
        ["VISIOCLIENT", "EUR", -2, -3000, 3000],
    ]


def test_large_costs_stay_exact(inputs: FinanceInputs) -> None:
    """Costs past 2**53 minor units (where a float64 column rounds) are exact integers, in every
    line and every total, beside an unpriced SKU whose missing costs once turned the columns into
    floats (issue 14.19: 1234567890123.45 a month came out .36 instead of .40 a year)."""
    unit = 9_999_999_999  # USD 99,999,999.99: just under the largest accepted price
    seats = inputs.seats.copy()
    e3 = seats["sku_part_number"] == "SPE_E3"
    seats.loc[e3, ["enabled", "purchased"]] = 1_000_003
    prices = inputs.prices[inputs.prices["sku_id"] != t.E3]
    e3_price = (
        inputs.prices[inputs.prices["sku_id"] == t.E3]
        .head(1)
        .assign(unit_price_minor=unit, period="month", effective_from="2026-01-01")
    )
    costs = sku_costs(
        seats,
        pd.concat([prices, e3_price]),
        inputs.holders,
        inputs.subscriptions,
        on=dt.date(2026, 3, 1),
        basis="year",
    )
    row = _row(costs, "SPE_E3")
    assert row["purchased_cost"] == unit * 12 * row["paid_seats"]
    assert row["purchased_cost"] > 2**53
    assert row["unassigned_cost"] == unit * 12 * row["unassigned_seats"]
    assert (costs["status"] == "no price").any()
    usd = cost_totals(costs).set_index("currency").loc["USD"]
    priced = costs[(costs["status"] == "priced") & (costs["currency"] == "USD")]
    assert usd["purchased_cost"] == sum(int(v) for v in priced["purchased_cost"])
    assert usd["purchased_cost"] > 2**53
