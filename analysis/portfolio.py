"""The portfolio: one row per registered tenant, from each tenant's own latest complete snapshot.

A managed service provider looks across customers first and opens one second, so each row holds
what the single-tenant pages say at the top: seats, utilization, waste, group errors, what ends
soon, and whether the numbers are fresh. Every figure comes from the single-tenant definitions:

- seats and utilization: ``analysis.seats.seat_totals`` (SKUs that count as seats only);
- waste: ``analysis.costs.cost_totals`` of ``sku_costs`` on the month basis, per currency: the
  Costs page's waste (unassigned + disabled + inactive + never signed in + unused seats, the part
  that is known without sign-in or usage data); currencies are never added together;
- expiring: ``analysis.thresholds.expiry_findings`` (a trial, grace period or suspension ending,
  or a term unknown), as ``check`` counts them; renewing: annual or longer terms renewing;
- group errors: ``store.queries.group_errors`` rows (assignments in error) and their users.

A tenant without a complete snapshot (registered but never collected, or its store unreadable)
keeps its row with the registry's facts, its figures missing and ``note`` saying why.

Pure pandas: no Streamlit, HTTP or database here (``store.portfolio`` reads the inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.costs import cost_totals, exact_int64, none_for_missing
from analysis.money import amount_text
from analysis.seats import seat_totals
from analysis.thresholds import expiry_findings

EXPIRING_DAYS = 30
PORTFOLIO_COLUMNS = [
    "tenant_id", "display_name", "domain", "enabled", "snapshot_id", "collected_at", "seats_purchased",
    "seats_assigned", "seats_available", "utilization_percent", "group_errors", "users_in_error",
    "expiring_subscriptions", "expiring_seats", "renewing_subscriptions", "unpriced_skus", "last_run_at",
    "last_status", "last_error", "note",
]  # fmt: skip
"""The fixed columns of ``portfolio_table``, in order; ``waste_monthly_<currency>`` columns follow."""
WASTE_COLUMNS = ["tenant_id", "display_name", "currency", "unassigned_minor", "waste_minor", "waste_known"]
_COUNTS = [
    "snapshot_id", "seats_purchased", "seats_assigned", "seats_available", "group_errors", "users_in_error",
    "expiring_subscriptions", "expiring_seats", "renewing_subscriptions", "unpriced_skus",
]  # fmt: skip
NEVER_COLLECTED = "Never collected: run `license-desk collect --all`."
NO_COMPLETE_SNAPSHOT = "No collection has completed yet: `license-desk tenants list` shows the last error."


@dataclass(frozen=True)
class TenantInputs:
    """One registered tenant: its registry row and, when it has one, its latest complete snapshot.

    ``seats`` is ``analysis.seats.seat_table`` output, ``costs`` ``analysis.costs.sku_costs``
    output on the month basis, ``errors`` ``store.queries.group_errors`` rows, ``terms``
    ``analysis.renewals.subscription_terms`` output (days counted from the snapshot's start).
    They are all None when ``snapshot_id`` is; ``problem`` then says why (None: never collected).
    """

    tenant_id: str
    display_name: str
    domain: str | None = None
    enabled: bool = True
    last_run_at: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    snapshot_id: int | None = None
    collected_at: str | None = None
    seats: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    errors: pd.DataFrame | None = None
    terms: pd.DataFrame | None = None
    problem: str | None = None


def waste_column(currency: str) -> str:
    """The ``portfolio_table`` column of one currency's monthly waste (``waste_monthly_eur``)."""
    return f"waste_monthly_{currency.lower()}"


def portfolio_waste(tenants: Sequence[TenantInputs]) -> pd.DataFrame:
    """Monthly waste per tenant and currency, long form (currencies are never summed together).

    Returns:
        ``WASTE_COLUMNS``: ``tenant_id``, ``display_name``, ``currency``, ``unassigned_minor`` and
        ``waste_minor`` (Int64 minor units per month of the SKUs priced in that currency;
        ``waste_minor`` is the known part when sign-in or usage data is missing), ``waste_known``
        (False when part of it is unknown for want of sign-in or usage data). One row per
        currency a tenant's price book prices; a tenant without prices or a snapshot has none.
    """
    rows: list[dict[str, Any]] = []
    for tenant in tenants:
        if tenant.costs is None:
            continue
        for total in cost_totals(tenant.costs).to_dict(orient="records"):
            if not isinstance(total["currency"], str):
                continue  # no SKU priced at all: nothing to say in any currency
            known = not any(
                pd.isna(total[c]) for c in ("inactive_cost", "never_signed_in_cost", "unused_cost")
            )
            rows.append({
                "tenant_id": tenant.tenant_id, "display_name": tenant.display_name, "currency": total["currency"],
                "unassigned_minor": int(total["unassigned_cost"]), "waste_minor": int(total["waste_cost"]),
                "waste_known": known,
            })  # fmt: skip
    out = pd.DataFrame(rows, columns=WASTE_COLUMNS)
    for column in ("unassigned_minor", "waste_minor"):
        out[column] = exact_int64([r[column] for r in rows])
    out["waste_known"] = out["waste_known"].astype(bool)
    return out


def portfolio_table(tenants: Sequence[TenantInputs], *, expiring_days: int = EXPIRING_DAYS) -> pd.DataFrame:
    """One row per tenant, in the order given (the registry's: by display name).

    Returns:
        ``PORTFOLIO_COLUMNS`` then one ``waste_monthly_<currency>`` column per currency any tenant
        is priced in (sorted; ``waste_column``), each the tenant's monthly waste in that currency
        as exact decimal text (``"123.45"``), None when it has no price in that currency:

        - ``tenant_id``, ``display_name``, ``domain``, ``enabled``: the registry's;
        - ``snapshot_id``: its latest complete snapshot (in its own store), ``collected_at`` when
          that snapshot finished: the last successful collection (None: none yet);
        - ``seats_purchased``, ``seats_assigned`` (consumed), ``seats_available`` (purchased -
          assigned, negative when over-assigned) over SKUs that count as seats;
          ``utilization_percent`` = assigned / purchased x 100, one decimal (None: nothing bought);
        - ``group_errors``: group-based assignments in error; ``users_in_error``: distinct users;
        - ``expiring_subscriptions`` / ``expiring_seats``: subscriptions ending within
          ``expiring_days`` of the snapshot (as ``check``'s expiring findings) and their seats;
          ``renewing_subscriptions``: annual or longer terms renewing in that time;
        - ``unpriced_skus``: SKUs without a price in force (in no waste figure);
        - ``last_run_at``, ``last_status`` (``complete``/``failed``), ``last_error``: how the
          registry says its latest ``collect --all`` ended (None: never run);
        - ``note``: one sentence when there are no figures (never collected, store unreadable).

        Counts are Int64, missing (NA) for a tenant without a snapshot.
    """
    waste = portfolio_waste(tenants)
    currencies = sorted(waste["currency"].unique())
    rows = [_row(t, expiring_days) for t in tenants]
    for row, tenant in zip(rows, tenants, strict=True):
        mine = waste[waste["tenant_id"] == tenant.tenant_id]
        for currency in currencies:
            found = mine[mine["currency"] == currency]["waste_minor"]
            row[waste_column(currency)] = None if found.empty else amount_text(int(found.iloc[0]), currency)
    out = pd.DataFrame(rows, columns=[*PORTFOLIO_COLUMNS, *(waste_column(c) for c in currencies)])
    for column in _COUNTS:
        out[column] = pd.array([r[column] for r in rows], dtype="Int64")
    out["utilization_percent"] = out["utilization_percent"].astype("Float64")
    out["enabled"] = out["enabled"].astype(bool)
    return none_for_missing(
        out, "domain", "collected_at", "last_run_at", "last_status", "last_error", "note",
        *(waste_column(c) for c in currencies),
    )  # fmt: skip


def _row(tenant: TenantInputs, expiring_days: int) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(PORTFOLIO_COLUMNS)
    row.update(
        tenant_id=tenant.tenant_id, display_name=tenant.display_name, domain=tenant.domain,
        enabled=bool(tenant.enabled), last_run_at=tenant.last_run_at, last_status=tenant.last_status,
        last_error=tenant.last_error,
    )  # fmt: skip
    if tenant.snapshot_id is None or tenant.seats is None:
        row["note"] = tenant.problem or NEVER_COLLECTED
        return row
    totals = seat_totals(tenant.seats)
    purchased, assigned = totals["purchased"], totals["consumed"]
    row.update(
        snapshot_id=tenant.snapshot_id, collected_at=tenant.collected_at, seats_purchased=purchased,
        seats_assigned=assigned, seats_available=purchased - assigned,
        utilization_percent=round(assigned / purchased * 100, 1) if purchased > 0 else None,
    )  # fmt: skip
    if tenant.errors is not None:
        row.update(group_errors=len(tenant.errors), users_in_error=int(tenant.errors["user_id"].nunique()))
    if tenant.terms is not None:
        ending = expiry_findings(tenant.terms, expiring_days=expiring_days)
        row.update(
            expiring_subscriptions=len(ending), expiring_seats=sum(int(f.detail["seats"]) for f in ending),
            renewing_subscriptions=int(_renewing(tenant.terms, expiring_days).sum()),
        )  # fmt: skip
    if tenant.costs is not None:
        row["unpriced_skus"] = int((tenant.costs["status"] == "no price").sum())
    return row


def _renewing(terms: pd.DataFrame, days: int) -> pd.Series:
    """Annual (or longer) Enabled, non-trial terms whose renewal falls within ``days``: the
    renewals a downscale must be decided before (monthly rollovers come every month)."""
    due = terms["days_left"].notna() & (terms["days_left"] >= 0) & (terms["days_left"] <= days)
    trial = terms["is_trial"].fillna(False).astype(bool)
    return due & (terms["status"] == "Enabled") & ~trial & terms["term"].isin(("annual", "multi-year"))
