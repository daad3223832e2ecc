"""``license-desk collect``: one snapshot of the configured tenant, progress on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click
from tqdm import tqdm

from cli.common import settings_of
from collectors.runner import run_collection


@click.command()
@click.pass_context
def collect(ctx: click.Context) -> None:
    """Take one snapshot of the configured tenant (progress on stderr)."""
    settings = settings_of(ctx)
    settings.require_tenant()
    summary = run_collection(settings, progress=_progress_printer())
    for warning in summary.warnings:
        click.echo(f"license-desk: warning: {warning}", err=True)
    click.echo(
        f"Snapshot {summary.snapshot_id} complete: {summary.users:,} users, {summary.licenses:,} license "
        f"assignments, {summary.skus} SKUs, {summary.groups} licensed groups "
        f"({summary.licenses_changed:,} license rows changed)."
    )


def _progress_printer() -> Callable[[Any], None]:
    bar: dict[str, Any] = {}
    interactive = sys.stderr.isatty()

    def show(progress: Any) -> None:
        if progress.step == "users":
            if "bar" not in bar:
                bar["bar"] = tqdm(desc="users", unit=" users", file=sys.stderr, disable=not interactive)
            b = bar["bar"]
            b.update(progress.users - b.n)
            return
        if "bar" in bar:
            bar.pop("bar").close()
        if interactive:  # cron and CI logs get only the summary and warnings
            click.echo(
                f"collect: {progress.step}" + (f" ({progress.users:,} users)" if progress.users else ""),
                err=True,
            )

    return show
