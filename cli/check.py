"""``license-desk check``: exit 1 and say what needs attention. ``run_check`` is also what
``license-desk notify`` sends digests of."""

from __future__ import annotations

import sys

import click
import pandas as pd

from analysis.collection import collection_findings, snapshot_log
from analysis.renewals import downscale_window, subscription_terms
from analysis.seats import seat_table
from analysis.thresholds import KINDS, Finding, check_findings
from cli.common import format_option, settings_of
from cli.output import json_text
from store import queries
from store.db import Store, open_store
from store.prices import load_prices, load_thresholds, subscription_lifecycles

EXPIRING_DAYS = 30
DOWNSCALE_DAYS = 90


@click.command()
@format_option("text", "json", default="text")
@click.option(
    "--stale-hours", type=click.IntRange(min=1), default=None,
    help="Report the latest complete snapshot when older than this [default: LICENSE_DESK_STALE_HOURS, 48].",
)  # fmt: skip
@click.pass_context
def check(ctx: click.Context, fmt: str, stale_hours: int | None) -> None:
    """Exit 1 and say what needs attention: thresholds, group errors, expiring subscriptions,
    failing or stale collections."""
    settings = settings_of(ctx)
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
    )
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    findings += collection_findings(snapshot_log(queries.snapshots(store)), now, stale_hours=stale_hours)
    return sid, started, findings
