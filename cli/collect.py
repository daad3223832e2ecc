"""``license-desk collect``: one snapshot of the configured tenant, progress on stderr."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from tqdm import tqdm

from cli.common import settings_of
from cli.params import SHARD
from collectors.runner import run_collection
from licensedesk.errors import InputError


@click.command()
@click.option(
    "--all", "all_tenants", is_flag=True, help="Every enabled registered tenant, each into its own store."
)
@click.option(
    "--workers", type=click.IntRange(1, 64), default=4, show_default=True, help="With --all: tenants at once."
)
@click.option("--shard", type=SHARD, help="With --all: collect only shard K of N (K/N), split by tenant id.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="With --all.")
@click.pass_context
def collect(
    ctx: click.Context, all_tenants: bool, workers: int, shard: tuple[int, int] | None, fmt: str
) -> None:
    """Take one snapshot of the configured tenant, or with --all of every registered one (progress on stderr)."""
    if all_tenants:
        from cli.tenants import collect_all  # the registry's reports and pandas, only for --all

        with fewer_gc_passes():
            return collect_all(ctx, workers, shard, fmt)
    if shard is not None or fmt != "table":
        raise InputError("--shard and --format belong to collect --all.")
    settings = settings_of(ctx)
    settings.require_tenant()
    with fewer_gc_passes():
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


@contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """The cyclic garbage collector, rarely, while a collection runs in this command's process.

    A collection allocates rows by the hundred thousand, nearly all freed by reference counting,
    and CPython ran ~1,100 collector passes over them per 100,000 users (0.18-0.22 s; measured with
    ``gc.callbacks``). With what the imports made frozen out of its sight and a young generation
    of 50,000 it runs ~80 (0.04-0.07 s). Set for the command only, and restored, since a caller
    may run the command inside its own process (click's CliRunner, the tests)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
