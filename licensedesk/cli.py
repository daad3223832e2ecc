"""The ``license-desk`` command line (a contract: see DESIGN §8 and the README).

Errors are one sentence on stderr with exit code 1 (2 for usage and configuration); ``--debug``
adds the traceback. Nothing here computes a number: reports come from ``analysis``.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import pandas as pd

from licensedesk.config import DEFAULT_DEMO_STORE, Settings, load_settings
from licensedesk.errors import LicenseDeskError, redact

FORMATS = click.Choice(["table", "csv", "json"])


class _Group(click.Group):
    """Turns LicenseDeskError into one line on stderr and the right exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LicenseDeskError as exc:
            _fail(ctx, exc, str(exc), exc.exit_code)
        except KeyboardInterrupt:
            click.echo("license-desk: interrupted; nothing was published.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence: still one sentence
            _fail(
                ctx,
                exc,
                f"Unexpected error ({exc.__class__.__name__}: {exc}); run with --debug for details.",
                1,
            )


def _fail(ctx: click.Context, exc: BaseException, message: str, code: int) -> None:
    secrets: Sequence[str] = ()
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    settings = obj.get("settings")
    if isinstance(settings, Settings):
        secrets = settings.secrets
    if obj.get("debug"):
        click.echo(redact("".join(traceback.format_exception(exc)), *secrets), err=True)
    click.echo(f"license-desk: error: {redact(message, *secrets)}", err=True)
    ctx.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="TOML configuration file.")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="license-desk")
@click.pass_context
def cli(ctx: click.Context, config_file: str | None, debug: bool) -> None:
    """License Desk: Microsoft 365 license inventory, history and repair."""
    ctx.obj = {"config_file": config_file, "debug": debug}


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_object(dict) or {}
    if "settings" not in obj:
        obj["settings"] = load_settings(config_file=obj.get("config_file"))
    settings = obj["settings"]
    assert isinstance(settings, Settings)
    return settings


# -- collect ---------------------------------------------------------------------------------
@cli.command()
@click.pass_context
def collect(ctx: click.Context) -> None:
    """Take one snapshot of the configured tenant (progress on stderr)."""
    from licensedesk.runner import run_collection

    settings = _settings(ctx)
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
    from tqdm import tqdm

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
        click.echo(
            f"collect: {progress.step}" + (f" ({progress.users:,} users)" if progress.users else ""), err=True
        )

    return show


# -- report ----------------------------------------------------------------------------------
@cli.command()
@click.argument("what", type=click.Choice(["skus", "users", "errors", "subscriptions"]))
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--snapshot", "snapshot_id", type=int, help="A complete snapshot id (default: the latest).")
@click.pass_context
def report(ctx: click.Context, what: str, fmt: str, snapshot_id: int | None) -> None:
    """Print a report of the latest (or a given) complete snapshot."""
    from analysis import reports
    from store import queries
    from store.db import open_store

    settings = _settings(ctx)
    with open_store(settings.store, create=False) as store:
        sid = queries.resolve_snapshot(store, snapshot_id)
        if what == "skus":
            _emit(reports.sku_report(queries.sku_counts(store, sid)), fmt)
        elif what == "errors":
            _emit(reports.error_report(queries.group_errors(store, sid)), fmt)
        elif what == "subscriptions":
            _emit(reports.subscription_report(queries.subscriptions(store, sid)), fmt)
        else:
            rows = reports.user_report(queries.users(store, sid), queries.user_licenses(store, sid))
            if fmt == "json":
                click.echo(json.dumps(rows, indent=1, default=_jsonable))
            else:
                _emit(reports.flatten_users(rows), fmt)


def _emit(frame: pd.DataFrame, fmt: str) -> None:
    if fmt == "json":
        records = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        click.echo(json.dumps(records, indent=1, default=_jsonable))
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif frame.empty:
        click.echo("(no rows)")
    else:
        click.echo(frame.to_string(index=False))


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def _jsonable(value: Any) -> Any:
    return _plain(value) if hasattr(value, "item") else str(value)


# -- catalog ---------------------------------------------------------------------------------
@cli.group()
def catalog() -> None:
    """The SKU catalog (friendly names and service plans)."""


@catalog.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def catalog_import(ctx: click.Context, file: str) -> None:
    """Load Microsoft's "Product names and service plan identifiers for licensing" CSV."""
    from collectors.catalog import load_common_skus, parse_microsoft_catalog
    from store.catalog import ensure_builtin_catalog, import_catalog
    from store.db import open_store

    parsed = parse_microsoft_catalog(file)
    settings = _settings(ctx)
    with open_store(settings.store) as store:
        ensure_builtin_catalog(store, load_common_skus())
        products, plans = import_catalog(store, parsed.products, parsed.plans)
    for warning in parsed.warnings:
        click.echo(f"license-desk: warning: {warning}", err=True)
    click.echo(f"Imported {products:,} products and {plans:,} service plan rows into {settings.store}.")


# -- simulator, demo, dashboard ---------------------------------------------------------------
@cli.command()
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--users", type=click.IntRange(1, 1_000_000), default=500, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--days", type=click.IntRange(0, 3650), default=0, help="Simulated days to advance before serving."
)
def simulator(port: int, users: int, seed: int, days: int) -> None:
    """Serve a simulated tenant over HTTPS on 127.0.0.1; prints one JSON line when ready."""
    from datetime import UTC, datetime, timedelta

    from graphsim.server import GraphSimulator
    from graphsim.tenant import build_tenant

    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=days)
    tenant = build_tenant(users=users, seed=seed, start=start)
    for _ in range(days):
        tenant.advance_day()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with GraphSimulator(tenant, port=port) as sim:
        click.echo(json.dumps(sim.ready_info()))
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


@cli.command()
@click.option("--port", type=int, default=8501, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.option("--users", type=click.IntRange(20, 100_000), default=600, show_default=True)
@click.option("--days", type=click.IntRange(1, 400), default=42, show_default=True, help="Days of history.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--store", "store_path", default=DEFAULT_DEMO_STORE, show_default=True)
@click.option("--build-only", is_flag=True, help="Build the demo store and exit.")
def demo(
    port: int, no_browser: bool, users: int, days: int, seed: int, store_path: str, build_only: bool
) -> None:
    """Build the demo tenant's store (simulator + real collectors), then start the dashboard."""
    from licensedesk.demo import build_demo_store, serve_demo_simulator

    click.echo(f"Building the demo store: {users} simulated users, {days} days of history...", err=True)
    summary = build_demo_store(store_path, users=users, days=days, seed=seed, progress=_day_printer(days))
    click.echo(f"Demo store ready: {store_path} ({summary})", err=True)
    if build_only:
        return
    with serve_demo_simulator(users=users, days=days, seed=seed) as env:
        _run_dashboard({**env, "LICENSE_DESK_STORE": store_path}, port=port, browser=not no_browser)


def _day_printer(days: int) -> Callable[[int], None]:
    from tqdm import tqdm

    bar = tqdm(
        total=days + 1, desc="snapshots", unit=" day", file=sys.stderr, disable=not sys.stderr.isatty()
    )

    def step(done: int) -> None:
        bar.update(done - bar.n)
        if done >= days + 1:
            bar.close()

    return step


@cli.command()
@click.option("--port", type=int, default=8501, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.pass_context
def dashboard(ctx: click.Context, port: int, no_browser: bool) -> None:
    """Start the dashboard on the configured store."""
    settings = _settings(ctx)
    _run_dashboard({"LICENSE_DESK_STORE": settings.store}, port=port, browser=not no_browser)


def _run_dashboard(env: dict[str, str], *, port: int, browser: bool) -> None:
    # Located, not imported: the CLI and the dashboard are sibling interfaces.
    app = Path(str(importlib.resources.files("dashboard") / "app.py"))
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        f"--server.port={port}", "--server.address=127.0.0.1",
        f"--server.headless={'false' if browser else 'true'}", "--browser.gatherUsageStats=false",
    ]  # fmt: skip
    click.echo(f"Dashboard: http://127.0.0.1:{port}  (Ctrl+C to stop)", err=True)
    child_env = {**os.environ, **env}
    try:
        subprocess.run(command, env=child_env, check=False)  # noqa: S603 - our own interpreter and app
    except KeyboardInterrupt:
        pass


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="license-desk")
