"""The delivery commands: ``notify`` (digests of ``check``'s findings), ``export`` (flat report
files, optionally mailed) and ``deliveries`` (the delivery audit).

The findings are ``check``'s own (``cli.check.run_check``); what a digest holds is decided in
``analysis.digest``, the files' rows in ``analysis.flat_reports``; sending is ``notify``.
"""

from __future__ import annotations

import json
import os
import tempfile
from email.utils import parseaddr
from pathlib import Path

import click
import pandas as pd

from analysis import flat_reports as flat
from analysis.costs import snapshot_date
from analysis.digest import Digest
from analysis.flat_reports import FORMATS, REPORTS, file_bytes
from analysis.messages import email_text
from analysis.reclaim import reclaim_candidates
from analysis.renewals import downscale_window, renewal_calendar, subscription_terms
from analysis.reports import cost_report
from analysis.seats import seat_table
from cli.check import run_check
from cli.common import REPORT_FORMATS, emit, format_option, settings_of
from cli.finance import load_finance_inputs
from licensedesk.config import Settings
from licensedesk.errors import ConfigError, InputError
from notify.config import CHANNELS, NotifyConfig, load_notify_config
from notify.deliver import mail_report, notify_channels
from store import queries
from store.db import Store, open_store
from store.notifications import deliveries as load_deliveries
from store.prices import load_exemptions, load_prices, subscription_lifecycles

MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _notify_config(ctx: click.Context) -> NotifyConfig:
    obj = ctx.find_object(dict) or {}
    if "notify_config" not in obj:
        obj["notify_config"] = load_notify_config(config_file=obj.get("config_file"))
    config = obj["notify_config"]
    assert isinstance(config, NotifyConfig)
    return config


# -- notify ----------------------------------------------------------------------------------
@click.command()
@click.option(
    "--dry-run", is_flag=True, help="Print what each channel would get (with finding ids); send nothing."
)
@click.option(
    "--channel", "only", multiple=True, type=click.Choice(CHANNELS), help="Only this channel (repeatable)."
)
@click.pass_context
def notify(ctx: click.Context, dry_run: bool, only: tuple[str, ...]) -> None:
    """Send check's new or changed findings as one digest per configured channel."""
    settings = settings_of(ctx)
    config = _notify_config(ctx)
    if not config.channels:
        raise ConfigError(
            f"No notification channel is configured: add {config.add_hint('[notify.email], [notify.teams] or [notify.webhook]')} "
            "(see the README, Alerts and scheduled reports)."
        )
    missing = [name for name in only if name not in {c.name for c in config.channels}]
    if missing:
        raise ConfigError(f"--channel {missing[0]}: add {config.add_hint(f'[notify.{missing[0]}]')}.")
    with open_store(settings.store, create=False) as store:
        snapshot_id, started_at, findings = run_check(store, stale_hours=settings.stale_hours)
        results = notify_channels(
            store, config, findings, snapshot_id=snapshot_id, snapshot_started_at=started_at,
            only=only, dry_run=dry_run,
        )  # fmt: skip
    failed = 0
    for result in results:
        digest = result.digest
        assert digest is not None
        if result.status == "dry run":
            click.echo(f"{result.channel} ({result.destination}) would get: {result.subject}")
            click.echo(email_text(digest, dashboard_url=config.dashboard_url, tenant=config.tenant_name))
        elif result.status == "quiet":
            click.echo(f"{result.channel}: nothing new to send ({_quiet(digest)}).")
        elif result.status == "sent":
            click.echo(
                f'{result.channel}: sent "{result.subject}" to {result.destination} ({result.answer}).'
            )
        else:
            failed += 1
            click.echo(
                f"license-desk: error: {result.channel}: {result.error} It was not delivered and stays due for the next run.",
                err=True,
            )
    if dry_run:
        click.echo("Dry run: nothing was sent.", err=True)
    if failed:
        ctx.exit(1)


def _quiet(digest: Digest) -> str:
    if digest.all_clear:
        return "all clear" + (f", {digest.excluded} excluded" if digest.excluded else "")
    return f"{digest.open_findings} open finding(s) already notified" + (
        f", {digest.excluded} excluded" if digest.excluded else ""
    )


# -- export ----------------------------------------------------------------------------------
@click.command()
@click.option("--report", "report", type=click.Choice(REPORTS), required=True, help="Which report.")
@format_option(*FORMATS, default="csv")
@click.option(
    "--output", "-o", "output", type=click.Path(dir_okay=False),
    help="File to write (default: license-desk-<report>-<snapshot date>.<format> in this directory).",
)  # fmt: skip
@click.option(
    "--email",
    "recipients",
    multiple=True,
    help="Mail the file to this address (repeatable), through [notify.email].",
)
@click.option("--snapshot", "snapshot_id", type=int, help="A complete snapshot id (default: the latest).")
@click.pass_context
def export(
    ctx: click.Context,
    report: str,
    fmt: str,
    output: str | None,
    recipients: tuple[str, ...],
    snapshot_id: int | None,
) -> None:
    """Write a flat report file (one row per line) for billing audits; optionally mail it."""
    settings = settings_of(ctx)
    channel = None
    if recipients:
        to = _addresses(recipients)
        config = _notify_config(ctx)
        if config.email is None:
            raise ConfigError(
                f"--email needs an SMTP server: add {config.add_hint('[notify.email]')} "
                "(see the README, Alerts and scheduled reports)."
            )
        channel = config.email.with_recipients(to)
    # Read-only unless the file is mailed: the mailing is audited in the store.
    with open_store(settings.store, readonly=channel is None, create=False) as store:
        sid = queries.resolve_snapshot(store, snapshot_id)
        started = str(queries.snapshot_info(store, sid)["started_at"])
        frame = report_frame(store, report, sid, settings)
        data = file_bytes(frame, fmt, title=report)
        path = Path(output or f"license-desk-{report}-{started[:10]}.{fmt}")
        _write_atomically(path, data)
        click.echo(f"Wrote {len(frame):,} row(s) of the {report} report (snapshot {sid}) to {path}.")
        if channel is None:
            return
        result = mail_report(
            store, channel,
            subject=f"License Desk report: {report}, snapshot {sid} ({started[:10]})",
            text=(f"Attached: {path.name}, {len(frame):,} row(s) of the {report} report from snapshot {sid} "
                  f"(taken {started}).\n\nSent by `license-desk export`.\n"),
            attachment=(path.name, data, MIME[fmt]), snapshot_id=sid, rows=len(frame),
        )  # fmt: skip
    if result.status == "sent":
        click.echo(f"email: sent {path.name} to {result.destination} ({result.answer}).")
        return
    click.echo(f"license-desk: error: email: {result.error} {path} was written but not mailed.", err=True)
    ctx.exit(1)


def _addresses(recipients: tuple[str, ...]) -> tuple[str, ...]:

    for address in recipients:
        local, at, domain = parseaddr(address)[1].rpartition("@")
        if not (at and local and "." in domain):
            raise click.UsageError(f"--email {address!r} is not an e-mail address.")
    return recipients


def _write_atomically(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temporary file beside it, renamed into place."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise InputError(f"Cannot write {path} ({exc.strerror}).") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise InputError(f"Cannot write {path} ({exc.strerror}).") from None


def report_frame(store: Store, report: str, snapshot_id: int, settings: Settings) -> pd.DataFrame:
    """The rows of one ``export`` report of a snapshot (``analysis.flat_reports``)."""
    started = str(queries.snapshot_info(store, snapshot_id)["started_at"])
    on = snapshot_date(started)
    if report == "users-licences":
        return flat.user_licence_rows(
            queries.users(store, snapshot_id),
            queries.user_licenses(store, snapshot_id),
            seat_table(queries.sku_counts(store, snapshot_id)),
            queries.licensed_groups(store, snapshot_id),
            load_prices(store),
            on=on,
        )
    if report == "renewals":
        prices = load_prices(store)
        terms = subscription_terms(
            queries.subscriptions(store, snapshot_id),
            subscription_lifecycles(store),
            now=pd.Timestamp(started),
        )
        seats = seat_table(queries.sku_counts(store, snapshot_id))
        return flat.renewal_rows(
            renewal_calendar(terms, prices, horizon_days=90),
            downscale_window(terms, seats, prices, within_days=90),
        )
    inputs = load_finance_inputs(store, snapshot_id, settings)
    if report == "costs":
        frame = cost_report(inputs)
        money = ["unit_price", *(c for c in frame.columns if c.endswith(("_monthly", "_annual")))]
        return flat.cost_rows(frame, money)
    candidates = reclaim_candidates(
        inputs.holders,
        queries.held_licenses(store, snapshot_id),
        inputs.seats,
        queries.service_plans(store, snapshot_id),
        load_exemptions(store),
        queries.licensed_groups(store, snapshot_id),
        now=pd.Timestamp(started),
        inactive_days=settings.inactive_days,
    )
    return flat.reclaim_rows(candidates, inputs.holders, inputs.seats, inputs.prices, on=on)


# -- deliveries ------------------------------------------------------------------------------
@click.command()
@format_option(*REPORT_FORMATS)
@click.pass_context
def deliveries(ctx: click.Context, fmt: str) -> None:
    """The delivery audit: every digest and report sent (or not), where, when, and the answer."""
    with open_store(settings_of(ctx).store, readonly=True) as store:
        frame = load_deliveries(store)
    if fmt == "json":
        frame = frame.assign(content=[json.loads(text) for text in frame["content"]])
    elif fmt == "table":
        frame = frame.drop(columns=["run_id", "content", "finished_at"])
    emit(frame, fmt)
