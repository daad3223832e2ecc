"""``license-desk check``: exit 1 and say what needs attention. ``run_check`` is also what
``license-desk notify`` sends digests of. ``check --all`` runs it on every enabled registered
tenant's own store and says whose each finding is."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click
import pandas as pd

from analysis.collection import collection_findings, snapshot_log
from analysis.renewals import downscale_window, subscription_terms
from analysis.seats import seat_table
from analysis.thresholds import KINDS, Finding, check_findings
from cli.common import format_option, settings_of
from cli.output import json_text
from licensedesk.errors import StoreError
from store import queries
from store.db import Store, open_store, store_exists
from store.prices import load_prices, load_thresholds, subscription_lifecycles
from store.tenants import load_tenants, tenant_store
from store.usage import load_usage_reports

EXPIRING_DAYS = 30
DOWNSCALE_DAYS = 90


@click.command()
@format_option("text", "json", default="text")
@click.option(
    "--stale-hours", type=click.IntRange(min=1), default=None,
    help="Report the latest complete snapshot when older than this [default: LICENSE_DESK_STALE_HOURS, 48].",
)  # fmt: skip
@click.option("--all", "all_tenants", is_flag=True, help="Every enabled registered tenant, one finding list.")
@click.pass_context
def check(ctx: click.Context, fmt: str, stale_hours: int | None, all_tenants: bool) -> None:
    """Exit 1 and say what needs attention: thresholds, group errors, expiring subscriptions,
    failing or stale collections, concealed usage reports (of every registered tenant with --all)."""
    settings = settings_of(ctx)
    if all_tenants:
        check_all(ctx, fmt, stale_hours or settings.stale_hours)
        return
    with open_store(settings.store, readonly=True) as store:
        snapshot_id, started_at, findings = run_check(store, stale_hours=stale_hours or settings.stale_hours)
    if fmt == "json":
        click.echo(json_text({
            "status": "attention" if findings else "ok", "snapshot_id": snapshot_id, "snapshot_started_at": started_at,
            "counts": {kind: sum(f.kind == kind for f in findings) for kind in KINDS},
            "findings": [f.as_json() for f in findings],
        }))  # fmt: skip
    elif findings:
        for finding in findings:
            click.echo(f"{finding.kind}: {finding.message}")
    else:
        click.echo(f"All clear (snapshot {snapshot_id}, {started_at}): no threshold breached, no group error, "
                   f"nothing expiring within {EXPIRING_DAYS} days, collections up to date.")  # fmt: skip
    if findings:
        sys.stdout.flush()
        ctx.exit(1)


def run_check(
    store: Store, *, stale_hours: int, now: pd.Timestamp | None = None
) -> tuple[int, str, list[Finding]]:
    """(snapshot id, its start time, findings) for the latest complete snapshot; ``now``
    (default: the clock) is when the snapshot's age is measured."""
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
        usage_reports=load_usage_reports(store, sid),
    )
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    findings += collection_findings(snapshot_log(queries.snapshots(store)), now, stale_hours=stale_hours)
    return sid, started, findings


def check_all(ctx: click.Context, fmt: str, stale_hours: int) -> None:
    """``check --all``: ``run_check`` on each enabled tenant's own store, one finding list in which
    every finding names its tenant; exit 1 if there is any. A tenant that cannot be checked (never
    collected, no complete snapshot, its store unreadable) is a ``collection`` finding of its own."""
    settings = settings_of(ctx)
    with open_store(settings.store, readonly=True) as registry:
        entries = load_tenants(registry)
    entries = entries[entries["enabled"]]
    tenants, findings = [], []
    for row in entries.to_dict(orient="records"):
        sid, started, found = _check_tenant(settings.store, row, stale_hours)
        who = {"tenant_id": row["tenant_id"], "tenant_name": row["display_name"]}
        tenants.append({**who, "snapshot_id": sid, "snapshot_started_at": started, "findings": len(found)})
        findings += [{**who, **f.as_json()} for f in found]
    if entries.empty:
        click.echo("license-desk: no enabled tenant is registered; nothing to check.", err=True)
    if fmt == "json":
        click.echo(json_text({
            "status": "attention" if findings else "ok", "tenants": tenants,
            "counts": {kind: sum(f["kind"] == kind for f in findings) for kind in KINDS}, "findings": findings,
        }))  # fmt: skip
    elif findings:
        for f in findings:
            click.echo(f"{f['tenant_name']} ({f['tenant_id']}): {f['kind']}: {f['message']}")
    elif not entries.empty:
        click.echo(f"All clear on {len(tenants)} tenant(s): no threshold breached, no group error, nothing "
                   f"expiring within {EXPIRING_DAYS} days, collections up to date.")  # fmt: skip
    if findings:
        sys.stdout.flush()
        ctx.exit(1)


def _check_tenant(
    location: str, row: dict[str, Any], stale_hours: int
) -> tuple[int | None, str | None, list[Finding]]:
    """(snapshot id, its start, findings) of one registered tenant (a registry row)."""
    own = tenant_store(location, str(row["tenant_id"]))
    failed = row["last_error"] if row["last_status"] == "failed" else None
    try:
        with contextlib.ExitStack() as stack:
            store = stack.enter_context(open_store(own, readonly=True)) if store_exists(own) else None
            if store is None or not queries.complete_snapshot_ids(store):
                return None, None, [_never_collected(row, failed)]
            sid, started, found = run_check(store, stale_hours=stale_hours)
    except StoreError as exc:  # a store this code cannot read (a newer schema, a server gone)
        return (
            None,
            None,
            [Finding("collection", "unreadable", f"{str(exc).rstrip('.')}.", {"error": failed})],
        )
    if failed and not any(f.kind == "collection" and f.subject == "failing" for f in found):
        # The attempt failed before it began a snapshot in the tenant's store (a sign-in refused):
        # only the registry knows, and the numbers shown are older than its last run.
        found.append(Finding("collection", "failing",
            f"The last collection, at {row['last_run_at']}, failed: {str(failed).rstrip('.')}. "
            f"The numbers shown are from snapshot {sid} of {started}.",
            {"last_run_at": row["last_run_at"], "error": failed, "snapshot_id": sid}))  # fmt: skip
    return sid, started, found


def _never_collected(row: dict[str, Any], failed: str | None) -> Finding:
    why = f" Its last attempt, at {row['last_run_at']}, failed: {str(failed).rstrip('.')}." if failed else ""
    return Finding("collection", "never collected",
        f"No collection of this tenant has completed yet: run `license-desk collect --all`.{why}",
        {"last_run_at": row["last_run_at"], "error": failed})  # fmt: skip
