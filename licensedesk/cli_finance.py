"""The finance commands: ``prices import|export``, ``check`` and ``report costs`` (DESIGN §8).

Registered on the main group by ``licensedesk.cli`` (``register(cli)``). Like the rest of the CLI,
nothing here computes a number: the figures come from ``analysis``; this module loads the
inputs, calls the analysis and prints. Money leaves as exact decimal text (``"1234.50"``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from analysis.reports import FinanceInputs, cost_report
from licensedesk.config import Settings
from licensedesk.errors import InputError
from licensedesk.output import json_text, records, table_text

EXPIRING_DAYS = 30
DOWNSCALE_DAYS = 90


def load_finance_inputs(store: Any, snapshot_id: int, settings: Settings) -> FinanceInputs:
    """Read one snapshot's seats, seat holders, subscriptions and the price book."""
    from analysis.holders import seat_holders
    from analysis.seats import seat_table
    from store import queries
    from store.prices import load_prices

    info = queries.snapshot_info(store, snapshot_id)
    signin = bool(info.get("signin_available", 1))
    holders = seat_holders(
        queries.users(store, snapshot_id),
        queries.user_licenses(store, snapshot_id),
        now=pd.Timestamp(info["started_at"]),
        inactive_days=settings.inactive_days,
        signin_available=signin,
    )
    return FinanceInputs(
        snapshot_id=snapshot_id,
        started_at=str(info["started_at"]),
        seats=seat_table(queries.sku_counts(store, snapshot_id)),
        holders=holders,
        subscriptions=queries.subscriptions(store, snapshot_id),
        prices=load_prices(store),
        signin_available=signin,
    )


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
            f"{total['never_signed_in_cost_monthly'] or 'unknown'}; licensed guests {total['guest_cost_monthly']}/month."
        )
    unpriced = skus[skus["status"] == "no price"]["sku_part_number"].tolist()
    if unpriced:
        click.echo(
            f"\n{len(unpriced)} SKU(s) have no price and are in no total: {', '.join(unpriced)} "
            "(`license-desk prices import FILE`)."
        )


def report_costs(ctx: click.Context, store: Any, snapshot_id: int, fmt: str, show_ids: bool = False) -> None:
    """``license-desk report costs``: spend and waste per SKU and per currency."""
    from licensedesk.cli import _emit, _settings

    frame = cost_report(load_finance_inputs(store, snapshot_id, _settings(ctx)))
    if fmt == "table" and not show_ids:
        _print_cost_table(frame)
    else:
        _emit(frame, fmt, show_ids=show_ids)


def reclaim_rows(store: Any, snapshot_id: int, settings: Settings) -> pd.DataFrame:
    """``report reclaim`` rows (``analysis.reports.reclaim_report``): the Reclaim page's candidates
    and savings, from the same reads and analysis the page uses (``dashboard.data``)."""
    from analysis.costs import sku_costs, snapshot_date
    from analysis.holders import seat_holders
    from analysis.labels import group_names
    from analysis.reclaim import filter_candidates, reclaim_candidates, reclaim_savings
    from analysis.reports import reclaim_report
    from analysis.seats import seat_table
    from store import queries
    from store.prices import load_exemptions, load_prices

    info = queries.snapshot_info(store, snapshot_id)
    now, signin = pd.Timestamp(info["started_at"]), bool(info["signin_available"])
    held = queries.held_licenses(store, snapshot_id)
    holders = seat_holders(queries.holder_inputs(store, snapshot_id), held, now=now,
                           inactive_days=settings.inactive_days, signin_available=signin)  # fmt: skip
    seats = seat_table(queries.sku_counts(store, snapshot_id))
    groups = queries.licensed_groups(store, snapshot_id)
    found = reclaim_candidates(
        holders, held, seats, queries.service_plans(store, snapshot_id), load_exemptions(store), groups,
        now=now, inactive_days=settings.inactive_days, include_exempt=True,
    )  # fmt: skip
    active = filter_candidates(found, None)  # as the page shows it unfiltered: exempt rows left out
    prices, subscriptions = load_prices(store), queries.subscriptions(store, snapshot_id)
    savings = {
        basis: reclaim_savings(
            active,
            sku_costs(seats, prices, holders, subscriptions, on=snapshot_date(str(info["started_at"])),
                      basis=basis, signin_available=signin),
            basis=basis,
        )
        for basis in ("month", "year")
    }  # fmt: skip
    return reclaim_report(active, savings, seats, group_names(groups) if not groups.empty else {})


def report_reclaim(
    ctx: click.Context, store: Any, snapshot_id: int, fmt: str, show_ids: bool = False
) -> None:
    """``license-desk report reclaim``: whose seat could be taken back, why, and what it saves."""
    from licensedesk.cli import _emit, _settings

    frame = reclaim_rows(store, snapshot_id, _settings(ctx))
    if fmt != "table":
        _emit(frame, fmt, show_ids=show_ids)
        return
    from analysis.reclaim import REASONS

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


RENEWAL_DAYS = 90


def renewal_rows(store: Any, snapshot_id: int) -> pd.DataFrame:
    """``report renewals`` rows (``analysis.reports.renewal_report``): the Renewals page's figures
    for its default look-ahead of 90 days, from the same reads and analysis the page uses."""
    from analysis.renewals import (
        HORIZONS,
        calendar_totals,
        downscale_totals,
        downscale_window,
        renewal_calendar,
        subscription_terms,
    )  # fmt: skip
    from analysis.reports import renewal_report
    from analysis.seats import seat_table
    from store import queries
    from store.prices import load_prices, subscription_lifecycles

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


def report_renewals(
    ctx: click.Context, store: Any, snapshot_id: int, fmt: str, show_ids: bool = False
) -> None:
    """``license-desk report renewals``: what renews or ends in the next 90 days, and what could be dropped."""
    from licensedesk.cli import _emit

    frame = renewal_rows(store, snapshot_id)
    if fmt != "table":
        _emit(frame, fmt, show_ids=show_ids)
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


def register(cli: click.Group) -> None:
    """Add the finance commands to the ``license-desk`` group."""
    cli.add_command(prices)
    cli.add_command(check)


@click.group()
def prices() -> None:
    """The price book: unit price per SKU, currency, billing period and effective date."""


@prices.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--merge", is_flag=True, help="Add to the price book instead of replacing it.")
@click.pass_context
def prices_import(ctx: click.Context, file: str, merge: bool) -> None:
    """Load a price book CSV (sku,unit_price,currency,period,effective_from); all rows or none."""
    from analysis.pricebook import SkuIndex
    from collectors.catalog import load_common_skus
    from licensedesk.cli import _settings
    from store.db import open_store, store_exists
    from store.prices import import_price_text, price_rows, product_frame

    settings = _settings(ctx)
    text = _read_text(file)
    if not store_exists(settings.store):
        # Checked before the store is created, so a bad file leaves nothing behind but its error.
        price_rows(text, SkuIndex.build(product_frame(load_common_skus())), Path(file).name)
    with open_store(settings.store) as store:
        written, removed = import_price_text(
            store, text, source=Path(file).name, replace=not merge, builtin=load_common_skus()
        )
    verb = "Added" if merge else "Replaced the price book with"
    click.echo(
        f"{verb} {written} price row(s) from {file}"
        + (f" ({removed} old row(s) removed)." if removed else ".")
    )


def _read_text(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"The price book {path} does not exist.") from None
    except UnicodeDecodeError:
        raise InputError(f"The price book {path} is not UTF-8 text; save it as CSV UTF-8.") from None
    except OSError as exc:
        raise InputError(f"The price book {path} cannot be read ({exc.strerror}).") from None


@prices.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def prices_export(ctx: click.Context, file: str | None) -> None:
    """Write the price book as CSV to FILE (or standard output)."""
    from analysis.pricebook import price_book_csv
    from licensedesk.cli import _settings
    from store.db import open_store
    from store.prices import load_prices, sku_index

    with open_store(_settings(ctx).store, readonly=True) as store:
        text = price_book_csv(load_prices(store), sku_index(store))
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        Path(file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write {file} ({exc.strerror}).") from None
    click.echo(f"Wrote {text.count(chr(10)) - 1} price row(s) to {file}.", err=True)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def check(ctx: click.Context, fmt: str) -> None:
    """Exit 1 and say what needs attention: thresholds, group errors, expiring subscriptions."""
    from licensedesk.cli import _settings
    from store.db import open_store

    with open_store(_settings(ctx).store, readonly=True) as store:
        snapshot_id, started_at, findings = run_check(store)
    if fmt == "json":
        click.echo(json_text({
            "status": "attention" if findings else "ok", "snapshot_id": snapshot_id, "snapshot_started_at": started_at,
            "counts": {kind: sum(f.kind == kind for f in findings) for kind in _kinds()},
            "findings": [f.as_json() for f in findings],
        }))  # fmt: skip
    elif findings:
        for finding in findings:
            click.echo(f"{finding.kind}: {finding.message}")
    else:
        click.echo(f"All clear (snapshot {snapshot_id}, {started_at}): no threshold breached, no group error, "
                   f"nothing expiring within {EXPIRING_DAYS} days.")  # fmt: skip
    if findings:
        sys.stdout.flush()
        ctx.exit(1)


def _kinds() -> tuple[str, ...]:
    from analysis.thresholds import KINDS

    return KINDS


def run_check(store: Any) -> tuple[int, str, list[Any]]:
    """(snapshot id, its start time, findings) for the latest complete snapshot."""
    from analysis.renewals import downscale_window, subscription_terms
    from analysis.seats import seat_table
    from analysis.thresholds import check_findings
    from store import queries
    from store.prices import load_prices, load_thresholds, subscription_lifecycles

    sid = queries.resolve_snapshot(store)
    started = str(queries.snapshot_info(store, sid)["started_at"])
    seats = seat_table(queries.sku_counts(store, sid))
    terms = subscription_terms(
        queries.subscriptions(store, sid), subscription_lifecycles(store), now=pd.Timestamp(started)
    )
    window = downscale_window(terms, seats, load_prices(store), within_days=DOWNSCALE_DAYS)
    findings = check_findings(
        seats,
        load_thresholds(store),
        queries.group_errors(store, sid),
        terms,
        window,
        expiring_days=EXPIRING_DAYS,
    )
    return sid, started, findings
