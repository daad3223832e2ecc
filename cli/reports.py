"""``license-desk report`` (every report of a complete snapshot) and ``license-desk audit``."""

from __future__ import annotations

import click

from analysis import reports
from analysis.seats import seat_table
from cli import finance
from cli.common import REPORT_FORMATS, emit, format_option, settings_of, show_ids_option
from cli.output import json_text
from cli.params import SNAPSHOT_ID
from cli.portfolio import report_tenants
from cli.tenant_scope import tenant_option, tenant_scope
from store import queries
from store.audit import audit_entries
from store.db import open_store

REPORTS = ["skus", "users", "errors", "subscriptions", "costs", "groups", "reclaim", "renewals", "tenants"]


@click.command()
@click.argument("what", type=click.Choice(REPORTS))
@format_option(*REPORT_FORMATS)
@click.option(
    "--snapshot", "snapshot_id", type=SNAPSHOT_ID, help="A complete snapshot id (default: the latest)."
)
@show_ids_option
@tenant_option
@click.pass_context
def report(
    ctx: click.Context, what: str, fmt: str, snapshot_id: int | None, show_ids: bool, tenant: str | None
) -> None:
    """Print a report of the latest (or a given) complete snapshot (of one registered tenant's
    store with --tenant); `report tenants` is the portfolio, one row per registered tenant."""
    settings = settings_of(ctx)
    if what == "tenants":
        if snapshot_id is not None or tenant is not None:
            raise click.UsageError(
                "`report tenants` covers every tenant's latest snapshot: it takes no --snapshot or --tenant."
            )
        report_tenants(settings, fmt, show_ids)
        return
    if tenant is not None:
        settings, _entry = tenant_scope(settings, tenant)
    with open_store(settings.store, readonly=True) as store:
        sid = queries.resolve_snapshot(store, snapshot_id)
        if what == "costs":
            finance.report_costs(store, sid, settings, fmt, show_ids)
        elif what == "reclaim":
            finance.report_reclaim(store, sid, settings, fmt, show_ids)
        elif what == "renewals":
            finance.report_renewals(store, sid, fmt, show_ids)
        elif what == "skus":
            emit(reports.sku_report(queries.sku_counts(store, sid)), fmt, show_ids=show_ids)
        elif what == "errors":
            emit(reports.error_report(queries.group_errors(store, sid)), fmt, show_ids=show_ids)
        elif what == "subscriptions":
            emit(reports.subscription_report(queries.subscriptions(store, sid)), fmt, show_ids=show_ids)
        elif what == "groups":
            groups = reports.group_report(
                queries.licensed_groups(store, sid),
                queries.license_states(store, sid),
                seat_table(queries.sku_counts(store, sid)),
            )
            # Finding a group's id is what this report is for: the table keeps it.
            emit(groups, fmt, show_ids=show_ids, keep=("group_id",))
        else:
            rows = reports.user_report(queries.users(store, sid), queries.user_licenses(store, sid))
            if fmt == "json":
                click.echo(json_text(rows))
            else:
                emit(reports.flatten_users(rows), fmt, show_ids=show_ids)


@click.command()
@format_option(*REPORT_FORMATS)
@show_ids_option
@click.pass_context
def audit(ctx: click.Context, fmt: str, show_ids: bool) -> None:
    """The audit log of changes License Desk sent (or refused to send)."""
    with open_store(settings_of(ctx).store, readonly=True) as store:
        frame = audit_entries(store)
    # Pending and refused changes have no HTTP status: keep the others whole numbers.
    frame["http_status"] = frame["http_status"].astype("Int64")
    emit(frame, fmt, show_ids=show_ids, hide=("detail",))
