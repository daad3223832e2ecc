"""The finance reports of ``license-desk report``: ``costs``, ``reclaim`` and ``renewals``.

Their rows come from the same reads and analysis as the dashboard's Costs, Reclaim and Renewals
pages; this module loads the inputs, calls ``analysis`` and prints. Money leaves as exact decimal
text (``"1234.50"``).
"""

from __future__ import annotations

import click
import pandas as pd

from analysis.costs import sku_costs, snapshot_date
from analysis.holders import seat_holders
from analysis.labels import group_names
from analysis.reclaim import REASONS, filter_candidates, reclaim_candidates, reclaim_savings
from analysis.reclaim_usage import unused_pairs
from analysis.renewals import (
    HORIZONS,
    calendar_totals,
    downscale_totals,
    downscale_window,
    renewal_calendar,
    subscription_terms,
)
from analysis.reports import FinanceInputs, cost_report, reclaim_report, renewal_report
from analysis.seats import seat_table
from cli.common import emit
from cli.output import records, table_text
from licensedesk.config import Settings
from store import queries
from store.db import Store
from store.finance import finance_inputs
from store.prices import load_exemptions, load_prices, subscription_lifecycles
from store.usage import usage_if_collected

RENEWAL_DAYS = 90


def load_finance_inputs(store: Store, snapshot_id: int, settings: Settings) -> FinanceInputs:
    """Read one snapshot's seats, seat holders, subscriptions and the price book (``store.finance``)."""
    return finance_inputs(store, snapshot_id, inactive_days=settings.inactive_days)


def _print_cost_table(frame: pd.DataFrame) -> None:
    skus = frame[frame["kind"] == "sku"]
    if skus.empty:
        click.echo("(no rows)")
        return
    shown = skus[["sku_part_number", "status", "currency", "unit_price", "period", "paid_seats",
                  "unassigned_seats", "purchased_cost_monthly", "waste_cost_monthly"]]  # fmt: skip
    click.echo(table_text(shown))
    for total in records(frame[frame["kind"] == "total"]):
        currency = total["currency"]
        if currency is None:
            continue
        click.echo(
            f"\n{currency}: purchased {total['purchased_cost_monthly']}/month ({total['purchased_cost_annual']}/year), "
            f"assigned {total['assigned_cost_monthly']}/month; waste {total['waste_cost_monthly']}/month: "
            f"unassigned {total['unassigned_cost_monthly']}, disabled {total['disabled_cost_monthly']}, "
            f"inactive {total['inactive_cost_monthly'] or 'unknown'}, never signed in "
            f"{total['never_signed_in_cost_monthly'] or 'unknown'}, unused (signs in, uses none of its apps) "
            f"{total['unused_cost_monthly'] or 'unknown'}; licensed guests {total['guest_cost_monthly']}/month."
        )
    unpriced = skus[skus["status"] == "no price"]["sku_part_number"].tolist()
    if unpriced:
        click.echo(
            f"\n{len(unpriced)} SKU(s) have no price and are in no total: {', '.join(unpriced)} "
            "(`license-desk prices import FILE`)."
        )


def report_costs(store: Store, snapshot_id: int, settings: Settings, fmt: str, show_ids: bool) -> None:
    """``license-desk report costs``: spend and waste per SKU and per currency."""
    frame = cost_report(load_finance_inputs(store, snapshot_id, settings))
    if fmt == "table" and not show_ids:
        _print_cost_table(frame)
    else:
        emit(frame, fmt, show_ids=show_ids)


def reclaim_rows(store: Store, snapshot_id: int, settings: Settings) -> pd.DataFrame:
    """``report reclaim`` rows (``analysis.reports.reclaim_report``): the Reclaim page's candidates
    and savings, from the same reads and analysis the page uses (``dashboard.loaders``)."""
    info = queries.snapshot_info(store, snapshot_id)
    now, signin = pd.Timestamp(info["started_at"]), bool(info["signin_available"])
    held = queries.held_licenses(store, snapshot_id)
    holders = seat_holders(queries.holder_inputs(store, snapshot_id), held, now=now,
                           inactive_days=settings.inactive_days, signin_available=signin)  # fmt: skip
    seats = seat_table(queries.sku_counts(store, snapshot_id))
    groups = queries.licensed_groups(store, snapshot_id)
    plans, usage = queries.service_plans(store, snapshot_id), usage_if_collected(store, snapshot_id)
    found = reclaim_candidates(
        holders, held, seats, plans, load_exemptions(store), groups,
        now=now, inactive_days=settings.inactive_days, include_exempt=True, usage=usage,
    )  # fmt: skip
    unused = (
        None
        if usage is None
        else unused_pairs(holders, held, plans, usage, usage_days=settings.inactive_days)
    )
    active = filter_candidates(found, None)  # as the page shows it unfiltered: exempt rows left out
    prices, subscriptions = load_prices(store), queries.subscriptions(store, snapshot_id)
    savings = {
        basis: reclaim_savings(
            active,
            sku_costs(seats, prices, holders, subscriptions, on=snapshot_date(str(info["started_at"])),
                      basis=basis, signin_available=signin, unused=unused),
            basis=basis,
        )
        for basis in ("month", "year")
    }  # fmt: skip
    return reclaim_report(active, savings, seats, group_names(groups) if not groups.empty else {})


def report_reclaim(store: Store, snapshot_id: int, settings: Settings, fmt: str, show_ids: bool) -> None:
    """``license-desk report reclaim``: whose seat could be taken back, why, and what it saves."""
    frame = reclaim_rows(store, snapshot_id, settings)
    if fmt != "table":
        emit(frame, fmt, show_ids=show_ids)
        return
    candidates = frame[frame["kind"] == "candidate"]
    if candidates.empty:
        click.echo("No reclaim candidate in this snapshot.")
        return
    shown = candidates.assign(reason=candidates["reason"].map(REASONS))[
        ["user_principal_name", "display_name", "sku_part_number", "reason", "frees_seat", "action", "evidence",
         "group_names", *(("user_id", "sku_id", "group_ids") if show_ids else ())]
    ]  # fmt: skip
    click.echo(table_text(shown, show_ids=show_ids))
    freeing = candidates[candidates["frees_seat"].astype(bool)]
    seats = len(freeing.drop_duplicates(["user_id", "sku_id"]))
    tidy = len(candidates) - len(freeing)
    click.echo(
        f"\n{len(candidates)} candidate(s), {candidates['user_id'].nunique()} user(s), {seats} seat(s) to free, "
        f"{tidy} tidy-up(s) that free no seat."
    )
    for total in records(frame[frame["kind"] == "total"]):
        if total["currency"] is None:
            click.echo(
                f"The saving of {total['seats_to_free']} seat(s) is unknown: their SKUs have no price."
            )
        else:
            click.echo(
                f"{total['currency']}: freeing {total['seats_to_free']} seat(s) saves {total['saving_monthly']}/month "
                f"({total['saving_annual']}/year)."
            )


def renewal_rows(store: Store, snapshot_id: int) -> pd.DataFrame:
    """``report renewals`` rows (``analysis.reports.renewal_report``): the Renewals page's figures
    for its default look-ahead of 90 days, from the same reads and analysis the page uses."""
    info = queries.snapshot_info(store, snapshot_id)
    terms = subscription_terms(
        queries.subscriptions(store, snapshot_id), subscription_lifecycles(store),
        now=pd.Timestamp(info["started_at"]),
    )  # fmt: skip
    seats, book = seat_table(queries.sku_counts(store, snapshot_id)), load_prices(store)
    window = downscale_window(terms, seats, book, within_days=RENEWAL_DAYS)
    return renewal_report(
        renewal_calendar(terms, book, horizon_days=RENEWAL_DAYS),
        window,
        calendar_totals(renewal_calendar(terms, book, horizon_days=max(HORIZONS))),
        downscale_totals(window),
        seats,
    )


def report_renewals(store: Store, snapshot_id: int, fmt: str, show_ids: bool) -> None:
    """``license-desk report renewals``: what renews or ends in the next 90 days, and what could be dropped."""
    frame = renewal_rows(store, snapshot_id)
    if fmt != "table":
        emit(frame, fmt, show_ids=show_ids)
        return
    due = frame[frame["kind"] == "renewal"]
    if due.empty:
        click.echo(f"Nothing renews or ends in the next {RENEWAL_DAYS} days.")
    else:
        click.echo(table_text(due[[
            "next_lifecycle_at", "days_left", "event", "sku_part_number", "status", "is_trial", "term", "seats",
            "currency", "monthly_cost", "term_cost", "droppable_seats", "annual_saving",
            *(("subscription_id", "sku_id") if show_ids else ()),
        ]], show_ids=show_ids))  # fmt: skip
    bands = records(frame[frame["kind"] == "window"])
    click.echo("\n" + "; ".join(
        f"{b['window']}: {b['subscriptions']} subscription(s), {b['seats']} seat(s) ({b['rollovers']} monthly rollover(s))"
        for b in bands
    ) + ".")  # fmt: skip
    for total in records(frame[frame["kind"] == "total"]):
        saving = (
            f"{total['currency']} {total['annual_saving']}/year"
            if total["currency"]
            else "unknown (no price)"
        )
        click.echo(
            f"Downscale window: {total['droppable_seats']} seat(s) of {total['subscriptions']} annual subscription(s) "
            f"could be dropped at renewal, saving {saving}."
        )
