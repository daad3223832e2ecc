"""``license-desk check``: exit 1 and say what needs attention. ``run_check`` is also what
``license-desk notify`` sends digests of."""

from __future__ import annotations

import sys

import click
import pandas as pd

from analysis.renewals import downscale_window, subscription_terms
from analysis.seats import seat_table
from analysis.thresholds import KINDS, Finding, check_findings
from cli.common import format_option, settings_of
from cli.output import json_text
from store import queries
from store.db import Store, open_store
from store.prices import load_prices, load_thresholds, subscription_lifecycles
from store.usage import load_usage_reports

EXPIRING_DAYS = 30
DOWNSCALE_DAYS = 90


@click.command()
@format_option("text", "json", default="text")
@click.pass_context
def check(ctx: click.Context, fmt: str) -> None:
    """Exit 1 and say what needs attention: thresholds, group errors, expiring subscriptions,
    concealed usage reports."""
    with open_store(settings_of(ctx).store, readonly=True) as store:
        snapshot_id, started_at, findings = run_check(store)
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
                   f"nothing expiring within {EXPIRING_DAYS} days.")  # fmt: skip
    if findings:
        sys.stdout.flush()
        ctx.exit(1)


def run_check(store: Store) -> tuple[int, str, list[Finding]]:
    """(snapshot id, its start time, findings) for the latest complete snapshot."""
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
    return sid, started, findings
