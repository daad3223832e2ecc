"""``license-desk report tenants``: the portfolio, one row per registered tenant
(``analysis.portfolio.portfolio_table``, read by ``store.portfolio``)."""

from __future__ import annotations

import click

from analysis.portfolio import portfolio_table
from cli.common import emit
from licensedesk.config import Settings
from store.db import open_store
from store.portfolio import portfolio_inputs

# What a person scans across customers; CSV and JSON keep every column.
_TABLE_HIDES = ("domain", "snapshot_id", "seats_available", "users_in_error", "expiring_seats", "last_run_at",
                "last_error")  # fmt: skip


def report_tenants(settings: Settings, fmt: str, show_ids: bool) -> None:
    """Print the portfolio of every registered tenant (disabled ones too: their figures still stand)."""
    with open_store(settings.store, readonly=True) as registry:
        inputs = portfolio_inputs(registry, settings.store, inactive_days=settings.inactive_days)
    if not inputs:
        click.echo(
            "license-desk: no tenant is registered; `license-desk tenants add` registers one.", err=True
        )
    frame = portfolio_table(inputs)
    emit(frame, fmt, show_ids=show_ids, keep=("tenant_id",), hide=() if show_ids else _TABLE_HIDES)
