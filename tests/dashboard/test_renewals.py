"""Renewals page on the finance tenant (tests/analysis/finance_tenant.py): every figure worked out by hand.

The snapshot starts 2026-03-01T06:00Z; days left are whole days from then. Terms from the created date
to the next lifecycle date (no renewal seen yet):
    sub-e5-trial  E5 1 seat    trial, 02-10 -> 03-12: monthly    10 days   trial ends
    sub-e3-b      E3 4 seats   12-15 -> 03-15: 3 months, monthly 13 days   renews (a rollover)
    sub-e5-paid   E5 2 seats   annual                            18 days
    sub-e5-grace  E5 1 seat    Warning: no term                  19 days   grace period ends
    sub-partner   add-on 2     13 months: monthly, no price      20 days   renews (a rollover)
    sub-e3-a      E3 6 seats   24 months: annual                 39 days   (E3 costs 40.00 from 04-01)
    sub-visio     Visio 4      annual                            60 days
    sub-aad 121 days, sub-storage 183, sub-flow 305: beyond 90 days.
Free seats: E5 4 - 2 = 2, E3 10 - 7 = 3, Visio 4 - 2 = 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from store.db import open_store
from store.snapshots import SnapshotWriter
from tests.helpers.apptest import metric_list, open_app, rows, table, texts

ALERTS = [
    "A SPE_E5 subscription of 1 seat: its trial ends on 2026-03-12 (in 10 days).",
    "A SPE_E5 subscription of 1 seat: its grace period ends and it is suspended on 2026-03-21 (in 19 days).",
    "A SPE_E5 subscription of 2 seats renews on 2026-03-20 (in 18 days) while 2 seats are free: lower its "
    "quantity by up to 2 before then.",
    "A SPE_E3 subscription of 6 seats renews on 2026-04-10 (in 39 days) while 3 seats are free: lower its "
    "quantity by up to 3 before then.",
    "A VISIOCLIENT subscription of 4 seats renews on 2026-05-01 (in 60 days) while 2 seats are free: lower its "
    "quantity by up to 2 before then.",
]


def test_windows_and_what_needs_attention(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "renewals")
    assert metric_list(at)[:3] == [("Next 30 days", "5"), ("In 31–60 days", "2"), ("In 61–90 days", "0")]
    first = at.metric[0]
    # 1 + 4 + 2 + 1 + 2 seats; sub-e3-b and sub-partner roll over monthly
    assert first.proto.help == (
        "Subscriptions renewing or ending: 10 seats; 2 of them monthly rollovers (listed, never alerts)."
    )
    # The monthly rollovers (sub-e3-b, sub-partner) are in the calendar but are never alerts.
    assert [w.value for w in at.warning] == ALERTS
    at.radio(key="renewals_horizon").set_value(30).run()
    assert [w.value for w in at.warning] == ALERTS[:3]


def test_calendar_with_seats_and_cost(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "renewals")
    calendar = table(at, "window", "next_lifecycle_at", "days_left")
    assert rows(calendar, "window", "days_left", "event", "sku_part_number", "term", "seats", "monthly_cost",
                "term_cost", "rollover") == [
        ["30 days", 10, "trial ends", "SPE_E5", "monthly", 1, "USD 0.00", "USD 0.00", False],  # a trial: nothing billed
        ["30 days", 13, "renews", "SPE_E3", "monthly", 4, "USD 144.00", "USD 144.00", True],  # 4 x 36.00
        ["30 days", 18, "renews", "SPE_E5", "annual", 2, "USD 114.00", "USD 1,368.00", False],  # 2 x 684.00
        ["30 days", 19, "grace period ends", "SPE_E5", "unknown", 1, "USD 57.00", "—", False],
        ["30 days", 20, "renews", "CONTOSO_PARTNER_ADDON", "monthly", 2, "—", "—", True],  # no price: not free
        # renews 2026-04-10 at the 40.00 price of that day: 6 x 40.00 = 240.00 a month, 2,880.00 a year
        ["60 days", 39, "renews", "SPE_E3", "annual", 6, "USD 240.00", "USD 2,880.00", False],
        ["60 days", 60, "renews", "VISIOCLIENT", "annual", 4, "EUR 33.33", "EUR 400.00", False],
    ]  # fmt: skip
    at.radio(key="renewals_horizon").set_value(30).run()
    short = table(at, "window", "next_lifecycle_at", "days_left")
    assert short["days_left"].tolist() == [10, 13, 18, 19, 20]


def test_downscale_window(finance_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, finance_store, "renewals")
    # USD: E5 2 x 684.00 + E3 3 x 480.00 (12 x 40.00 on its renewal day) = 2,808.00; EUR: Visio 2 x 100.00
    assert metric_list(at)[3:] == [("Annual saving", "EUR 200.00"), ("Annual saving", "USD 2,808.00")]
    window = table(at, "sku", "sku_part_number", "next_lifecycle_at", "days_left")
    assert rows(
        window, "sku_part_number", "days_left", "seats", "free_seats", "droppable_seats", "annual_saving"
    ) == [
        ["SPE_E5", 18, 2, 2, 2, "USD 1,368.00"],
        ["SPE_E3", 39, 6, 3, 3, "USD 1,440.00"],
        ["VISIOCLIENT", 60, 4, 2, 2, "EUR 200.00"],
    ]  # sub-e3-b is monthly: never here
    at.radio(key="renewals_horizon").set_value(30).run()
    assert metric_list(at)[3:] == [("Annual saving", "USD 1,368.00")]


def test_subscriptions_with_term_trial_status_and_days_left(
    finance_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, finance_store, "renewals")
    subs = table(at, "sku", "sku_part_number", "status", "is_trial")
    assert rows(subs, "subscription_id", "status", "is_trial", "term", "days_left", "event") == [
        ["sub-e5-trial", "Enabled", True, "monthly", 10, "trial ends"],
        ["sub-e3-b", "Enabled", False, "monthly", 13, "renews"],
        ["sub-e5-paid", "Enabled", False, "annual", 18, "renews"],
        ["sub-e5-grace", "Warning", False, "unknown", 19, "grace period ends"],
        ["sub-partner", "Enabled", False, "monthly", 20, "renews"],
        ["sub-e3-a", "Enabled", False, "annual", 39, "renews"],
        ["sub-visio", "Enabled", False, "annual", 60, "renews"],
        ["sub-aad", "Enabled", False, "annual", 121, "renews"],  # 36 months
        ["sub-storage", "Enabled", False, "annual", 183, "renews"],
        ["sub-flow", "Enabled", False, "annual", 305, "renews"],  # 306 days less 6 hours
    ]


def test_without_prices_the_calendar_has_seats_but_no_cost(
    unpriced_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, unpriced_store, "renewals")
    assert [i.value for i in at.info] == [
        "The price book is empty, so the calendar has seats but no cost. Add prices on the Costs page or run "
        "`license-desk prices import FILE`."
    ]
    calendar = table(at, "window", "next_lifecycle_at", "days_left")
    assert set(calendar["monthly_cost"]) == {"—"} and calendar["seats"].tolist() == [1, 4, 2, 1, 2, 6, 4]
    assert metric_list(at)[3:] == [("Annual saving", "unknown (no price)")]


def test_a_snapshot_without_subscriptions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "nosubs.sqlite")
    with open_store(path) as store, SnapshotWriter(store, "contoso", "2026-03-01T06:00:00Z") as writer:
        writer.stage("stage_skus", [("c5928f49-12ba-48f7-ada3-0d743a3601d5", "VISIOCLIENT", "User", "Enabled", 3,
                                     0, 0, 0, 0)])  # fmt: skip
        writer.complete()
    at = open_app(monkeypatch, path, "renewals")
    assert [i.value for i in at.info] == [
        "This snapshot lists no commerce subscriptions, so there is nothing to renew."
    ]
    assert not at.metric and "Calendar" not in " ".join(texts(at))
