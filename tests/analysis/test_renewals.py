"""Terms, the renewal calendar, the downscale window and `check` findings, worked out by hand.

The snapshot starts 2026-03-01T06:00Z; ``days_left`` is whole days from then (floored).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.renewals import downscale_window, renewal_calendar, subscription_terms, whole_months
from analysis.reports import FinanceInputs
from analysis.thresholds import check_findings
from cli.finance import load_finance_inputs
from licensedesk.config import Settings
from store import queries
from store.db import open_store
from store.prices import load_thresholds, save_threshold, subscription_lifecycles
from tests.analysis import finance_tenant as t

NOW = pd.Timestamp(t.STARTED)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("renewals") / "store.sqlite")
    t.build(path)
    return path


@pytest.fixture(scope="module")
def inputs(store_path: str) -> FinanceInputs:
    with open_store(store_path) as store:
        return load_finance_inputs(store, 1, Settings(store=store_path))


@pytest.fixture(scope="module")
def terms(store_path: str, inputs: FinanceInputs) -> pd.DataFrame:
    with open_store(store_path) as store:
        return subscription_terms(inputs.subscriptions, subscription_lifecycles(store), now=NOW)


def test_terms_from_created_to_next_lifecycle(terms: pd.DataFrame) -> None:
    got = {
        r["subscription_id"]: (r["term"], r["term_months"] if not pd.isna(r["term_months"]) else None,
                               r["days_left"], r["event"])
        for r in terms.to_dict(orient="records")
    }  # fmt: skip
    assert got == {
        "sub-e5-trial": ("monthly", 1, 10, "trial ends"),  # 02-10 -> 03-12: a month (+2 days)
        "sub-e3-b": ("monthly", 3, 13, "renews"),  # 3 months: not a multiple of 12
        "sub-e5-paid": ("annual", 12, 18, "renews"),
        "sub-e5-grace": ("unknown", None, 19, "grace period ends"),  # Warning: no term derived
        "sub-partner": ("monthly", 13, 20, "renews"),
        "sub-e3-a": ("annual", 24, 39, "renews"),
        "sub-visio": ("annual", 12, 60, "renews"),
        "sub-aad": ("annual", 36, 121, "renews"),
        "sub-storage": ("annual", 12, 183, "renews"),
        "sub-flow": ("annual", 36, 305, "renews"),  # 306 days less 6 hours
    }
    assert list(terms["subscription_id"][:3]) == ["sub-e5-trial", "sub-e3-b", "sub-e5-paid"]


def test_a_renewal_seen_in_history_settles_the_term() -> None:
    subs = pd.DataFrame(
        [("s1", "X", "PART", "Enabled", 5, 0, "2024-03-10T00:00:00Z", "2026-03-10T00:00:00Z")],
        columns=["subscription_id", "sku_id", "sku_part_number", "status", "total_licenses", "is_trial",
                 "created_at", "next_lifecycle_at"],
    )  # fmt: skip
    assert subscription_terms(subs, None, now=NOW).loc[0, "term"] == "annual"  # 24 months: reads as annual
    history = pd.DataFrame(
        [("s1", "Enabled", "2026-02-10T00:00:00Z", "2026-01-20T06:00:00Z"),
         ("s1", "Enabled", "2026-03-10T00:00:00Z", "2026-02-11T06:00:00Z")],
        columns=["subscription_id", "status", "next_lifecycle_at", "first_seen"],
    )  # fmt: skip
    row = subscription_terms(subs, history, now=NOW).iloc[0]
    assert (row["term"], row["term_months"], row["term_source"]) == ("monthly", 1, "renewal seen")


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [("2025-01-31", "2025-02-28", 1), ("2025-03-30", "2025-04-28", 1), ("2024-04-10", "2026-04-10", 24),
     ("2025-01-01", "2025-01-20", None), ("2025-01-01", "2025-02-15", None), ("2025-02-01", "2025-01-01", None)],
)  # fmt: skip
def test_whole_months(start: str, end: str, months: int | None) -> None:
    assert whole_months(pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")) == months


def test_calendar_30_60_90_days_with_seats_and_cost(terms: pd.DataFrame, inputs: FinanceInputs) -> None:
    cal = renewal_calendar(terms, inputs.prices)
    rows = [
        (r["subscription_id"], r["window"], r["seats"], r["currency"],
         None if pd.isna(r["monthly_cost"]) else r["monthly_cost"],
         None if pd.isna(r["term_cost"]) else r["term_cost"], r["rollover"])
        for r in cal.to_dict(orient="records")
    ]  # fmt: skip
    assert rows == [
        (
            "sub-e5-trial",
            "30 days",
            1,
            "USD",
            0,
            0,
            False,
        ),  # a trial's end bills nothing (priced at 57.00 a month)
        ("sub-e3-b", "30 days", 4, "USD", 14400, 14400, True),  # 4 x 36.00, a monthly rollover
        ("sub-e5-paid", "30 days", 2, "USD", 11400, 136800, False),
        ("sub-e5-grace", "30 days", 1, "USD", 5700, None, False),
        ("sub-partner", "30 days", 2, None, None, None, True),  # no price: flagged, not free
        # renews 2026-04-10, when E3 costs 40.00: 6 x 40 = 240.00 a month, 2,880.00 a year
        ("sub-e3-a", "60 days", 6, "USD", 24000, 288000, False),
        ("sub-visio", "60 days", 4, "EUR", 3333, 40000, False),
    ]


def test_downscale_window_offers_free_seats_once_and_skips_monthly(
    terms: pd.DataFrame, inputs: FinanceInputs
) -> None:
    window = downscale_window(terms, inputs.seats, inputs.prices)
    rows = [
        (
            r["subscription_id"],
            r["seats"],
            r["free_seats"],
            r["droppable_seats"],
            r["currency"],
            r["annual_saving"],
        )
        for r in window.to_dict(orient="records")
    ]
    assert rows == [
        ("sub-e5-paid", 2, 2, 2, "USD", 136800),  # E5: 4 purchased, 2 held
        ("sub-e3-a", 6, 3, 3, "USD", 144000),  # 3 x 480.00 at the 40.00 price of its renewal day
        ("sub-visio", 4, 2, 2, "EUR", 20000),
    ]  # sub-e3-b (monthly) is never here; sub-aad renews in 121 days


def test_check_findings(store_path: str, terms: pd.DataFrame, inputs: FinanceInputs) -> None:
    with open_store(store_path) as store:
        save_threshold(store, t.E3, "SPE_E3", min_free_seats=5, max_utilization_percent=None)
        save_threshold(store, t.E5, "SPE_E5", min_free_seats=None, max_utilization_percent=40)
        save_threshold(store, t.AAD, "AAD_PREMIUM", min_free_seats=2, max_utilization_percent=None)
        thresholds = load_thresholds(store)
        errors = queries.group_errors(store, 1)
    window = downscale_window(terms, inputs.seats, inputs.prices)
    findings = check_findings(inputs.seats, thresholds, errors, terms, window)
    assert [(f.kind, f.message) for f in findings] == [
        ("threshold", "SPE_E3 has 3 free seats, below the minimum of 5."),
        ("threshold", "SPE_E5 is 50.0% used (2 of 4), above the limit of 40%."),
        ("group_error", "Group 'E3 Staff': 1 member cannot get SPE_E3 (CountViolation)."),
        ("expiring", "A SPE_E5 subscription of 1 seat: its trial ends on 2026-03-12 (in 10 days)."),
        ("expiring", "A SPE_E5 subscription of 1 seat: its grace period ends and it is suspended on 2026-03-21 (in 19 days)."),
        ("renewal", "A SPE_E5 subscription of 2 seats renews on 2026-03-20 (in 18 days) while 2 seats are free: "
                    "lower its quantity by up to 2 before then."),
    ]  # fmt: skip
    assert findings[0].detail == {"sku_id": t.E3, "available": 3, "purchased": 10, "min_free_seats": 5}


def test_nothing_to_report(inputs: FinanceInputs) -> None:
    empty_terms = subscription_terms(inputs.subscriptions.iloc[0:0], None, now=NOW)
    nothing = check_findings(
        inputs.seats, load_thresholds_empty(), pd.DataFrame(columns=["group_id", "group_name", "user_id", "sku_id",
        "sku_part_number", "error"]), empty_terms, downscale_window(empty_terms, inputs.seats, inputs.prices),
    )  # fmt: skip
    assert nothing == []


def load_thresholds_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["sku_id", "sku_part_number", "min_free_seats", "max_utilization_percent"])


def test_thresholds_are_validated(tmp_path: Path) -> None:
    from licensedesk.errors import InputError

    with open_store(tmp_path / "s.sqlite") as store:
        with pytest.raises(InputError, match="must be a percentage from 0 to 100, not 120"):
            save_threshold(store, t.E3, "SPE_E3", min_free_seats=None, max_utilization_percent=120)
        save_threshold(store, t.E3, "SPE_E3", min_free_seats=1, max_utilization_percent=None)
        save_threshold(store, t.E3, "SPE_E3", min_free_seats=None, max_utilization_percent=None)
        assert load_thresholds(store).empty


def test_calendar_totals_per_window(terms: pd.DataFrame, inputs: FinanceInputs) -> None:
    from analysis.renewals import calendar_totals

    totals = calendar_totals(renewal_calendar(terms, inputs.prices))
    # 30 days: e5-trial 1, e3-b 4 (rollover), e5-paid 2, e5-grace 1, partner 2 (rollover); 60: e3-a 6, visio 4
    assert totals.values.tolist() == [["30 days", 5, 10, 2], ["60 days", 2, 10, 0], ["90 days", 0, 0, 0]]


def test_downscale_totals_per_currency(terms: pd.DataFrame, inputs: FinanceInputs) -> None:
    from analysis.renewals import downscale_totals

    window = downscale_window(terms, inputs.seats, inputs.prices)
    # USD: E5 2 x 684.00 + E3 3 x 480.00 = 2,808.00; EUR: Visio 2 x 100.00
    assert downscale_totals(window).values.tolist() == [["EUR", 1, 2, 20000], ["USD", 2, 5, 280800]]
    unpriced = downscale_totals(downscale_window(terms, inputs.seats, inputs.prices.iloc[0:0]))
    assert unpriced["currency"].tolist() == [None]
    assert unpriced[["subscriptions", "droppable_seats"]].values.tolist() == [[3, 7]]
    assert pd.isna(unpriced["annual_saving"].iloc[0])
