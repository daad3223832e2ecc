"""The portfolio table on three hand-made tenants; every expected figure is worked out by hand.

Alpha: E3 10 bought, 7 held (one by a disabled user), USD 36.00/month; E5 5 bought, 5 held,
EUR 54.00/month. Beta: E3 2 bought, 3 held (over-assigned), USD 36.00/month; a free FLOW_FREE
of 10,000 (never a seat); two group errors of one user; a trial ending and two annual renewals.
Gamma: registered, never collected.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.costs import sku_costs
from analysis.portfolio import (
    NEVER_COLLECTED,
    PORTFOLIO_COLUMNS,
    TenantInputs,
    portfolio_table,
    portfolio_waste,
    waste_column,
)
from analysis.renewals import subscription_terms
from analysis.seats import seat_table

DAY = dt.date(2026, 3, 1)
NOW = pd.Timestamp("2026-03-01T06:00:00Z")
E3, E5, FLOW = "e3-sku", "e5-sku", "flow-sku"


def _seats(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    return seat_table(pd.DataFrame(
        [{"sku_id": s, "sku_part_number": p, "enabled": n, "warning": 0, "suspended": 0, "locked_out": 0,
          "consumed": c} for s, p, n, c in rows]
    ))  # fmt: skip


def _prices(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"sku_id": s, "currency": c, "unit_price_minor": u, "period": "month", "effective_from": "2026-01-01"}
         for s, c, u in rows]
    )  # fmt: skip


def _holders(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"user_id": u, "sku_id": s, "idle": "disabled", "guest": False} for u, s in rows],
                        columns=["user_id", "sku_id", "idle", "guest"])  # fmt: skip


NO_SUBS = pd.DataFrame(columns=["sku_id", "is_trial", "status", "total_licenses"])


def _sub(sid: str, status: str, trial: bool, seats: int, created: str, nxt: str) -> dict[str, object]:
    return {"subscription_id": sid, "sku_id": E3, "sku_part_number": "SPE_E3", "status": status, "is_trial": trial,
            "total_licenses": seats, "created_at": created, "next_lifecycle_at": nxt}  # fmt: skip


def tenants() -> list[TenantInputs]:
    alpha_seats = _seats([(E3, "SPE_E3", 10, 7), (E5, "SPE_E5", 5, 5)])
    alpha = TenantInputs(
        "alpha.onmicrosoft.com", "Alpha", "alpha.onmicrosoft.com", last_run_at="2026-03-01T06:10:00Z",
        last_status="complete", snapshot_id=4, collected_at="2026-03-01T06:05:00Z", seats=alpha_seats,
        costs=sku_costs(alpha_seats, _prices([(E3, "USD", 3600), (E5, "EUR", 5400)]), _holders([("u1", E3)]),
                        NO_SUBS, on=DAY, unused=set()),  # usage data: nobody idle in it
        errors=pd.DataFrame(columns=["user_id"]), terms=subscription_terms(pd.DataFrame(columns=list(_sub(
            "x", "Enabled", False, 1, "", ""))), now=NOW),
    )  # fmt: skip
    beta_seats = _seats([(E3, "SPE_E3", 2, 3), (FLOW, "FLOW_FREE", 10000, 3)])
    subs = pd.DataFrame([
        _sub("trial", "Enabled", True, 25, "2026-02-09T00:00:00Z", "2026-03-11T06:00:00Z"),  # ends in 10 days
        _sub("soon", "Enabled", False, 2, "2025-03-21T06:00:00Z", "2026-03-21T06:00:00Z"),  # annual, in 20 days
        _sub("later", "Enabled", False, 2, "2025-04-10T06:00:00Z", "2026-04-10T06:00:00Z"),  # annual, in 40 days
    ])  # fmt: skip
    beta = TenantInputs(
        "beta.onmicrosoft.com", "Beta", None, snapshot_id=1, collected_at="2026-03-01T06:02:00Z",
        seats=beta_seats, costs=sku_costs(beta_seats, _prices([(E3, "USD", 3600)]), _holders([]), NO_SUBS, on=DAY,
                                          signin_available=False),
        errors=pd.DataFrame({"user_id": ["u9", "u9"]}), terms=subscription_terms(subs, now=NOW),
        last_status="failed", last_error="Consent was revoked.",
    )  # fmt: skip
    gamma = TenantInputs("gamma.onmicrosoft.com", "Gamma", enabled=False)
    return [alpha, beta, gamma]


def test_one_row_per_tenant_with_hand_worked_figures() -> None:
    table = portfolio_table(tenants())
    assert list(table.columns) == [*PORTFOLIO_COLUMNS, "waste_monthly_eur", "waste_monthly_usd"]
    alpha, beta, gamma = table.to_dict(orient="records")
    # Alpha: 15 bought, 12 held: 3 free, 12 / 15 = 80.0 %. USD waste: 3 unassigned + 1 disabled
    # E3 seats x 36.00 = 144.00; E5 fully held by active users: EUR 0.00.
    assert (alpha["seats_purchased"], alpha["seats_assigned"], alpha["seats_available"]) == (15, 12, 3)
    assert alpha["utilization_percent"] == 80.0
    assert (alpha["waste_monthly_usd"], alpha["waste_monthly_eur"]) == ("144.00", "0.00")
    assert (alpha["group_errors"], alpha["users_in_error"], alpha["expiring_subscriptions"]) == (0, 0, 0)
    assert alpha["collected_at"] == "2026-03-01T06:05:00Z" and alpha["note"] is None
    # Beta: FLOW_FREE is no seat, so 2 bought and 3 held: -1 free, 3 / 2 = 150.0 %. Its 2 paid E3 seats
    # are both held: USD 0.00 (known part: no sign-in data); no EUR price at all: None, never 0.
    assert (beta["seats_purchased"], beta["seats_assigned"], beta["seats_available"]) == (2, 3, -1)
    assert beta["utilization_percent"] == 150.0
    assert (beta["waste_monthly_usd"], beta["waste_monthly_eur"]) == ("0.00", None)
    assert (beta["group_errors"], beta["users_in_error"]) == (2, 1)
    # Within 30 days: the trial ends (25 seats); the annual term renewing in 20 days renews (not an
    # ending); the one in 40 days is outside.
    assert (beta["expiring_subscriptions"], beta["expiring_seats"], beta["renewing_subscriptions"]) == (
        1,
        25,
        1,
    )
    assert (beta["last_status"], beta["last_error"]) == ("failed", "Consent was revoked.")
    # Gamma: the registry's facts, no figures, and why.
    assert gamma["display_name"] == "Gamma" and gamma["enabled"] is False
    assert gamma["note"] == NEVER_COLLECTED and gamma["waste_monthly_usd"] is None
    assert all(pd.isna(gamma[c]) for c in ("snapshot_id", "seats_purchased", "utilization_percent"))


def test_waste_long_form_per_currency_never_summed() -> None:
    waste = portfolio_waste(tenants())
    got = {(r["tenant_id"][:4], r["currency"]): (r["unassigned_minor"], r["waste_minor"], r["waste_known"])
           for r in waste.to_dict(orient="records")}  # fmt: skip
    # Alpha's 3 unassigned E3 seats x 3600 = 10800; with the disabled one 4 x 3600 = 14400. Beta has
    # no sign-in data: its inactive share is unknown, so its waste is known only in part.
    assert got == {
        ("alph", "EUR"): (0, 0, True), ("alph", "USD"): (10800, 14400, True), ("beta", "USD"): (0, 0, False),
    }  # fmt: skip
    assert waste_column("USD") == "waste_monthly_usd"


def test_a_longer_horizon_counts_more_renewals() -> None:
    beta = portfolio_table(tenants(), expiring_days=45).iloc[1]
    assert beta["renewing_subscriptions"] == 2 and beta["expiring_subscriptions"] == 1
