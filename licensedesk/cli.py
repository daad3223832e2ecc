"""The ``license-desk`` command line (a contract: see DESIGN §8 and the README).

Errors are one sentence on stderr with exit code 1 (2 for usage and configuration); ``--debug``
adds the traceback. Nothing here computes a number: reports come from ``analysis``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
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
from licensedesk.output import json_text
from licensedesk.params import PORT, SERVER_PORT, SNAPSHOT_ID
from licensedesk.serve import StopRequested
from store.db import describe

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
        except StopRequested as stop:  # SIGTERM/SIGHUP before the dashboard was serving (the demo's build)
            click.echo(f"license-desk: stopped ({stop}); nothing was published.", err=True)
            ctx.exit(128 + stop.signum)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (`report users | head`): nothing left to say, and nowhere to
            # say it. Point stdout at devnull so the interpreter's last flush does not fail too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                _unexpected(ctx, exc)
            # Another process held the store's write lock longer than the busy timeout.
            obj = ctx.obj if isinstance(ctx.obj, dict) else {}
            settings = obj.get("settings")
            where = f" at {describe(settings.store)}" if isinstance(settings, Settings) else ""
            _fail(ctx, exc, f"The store{where} is locked: another License Desk process (a collection, an "
                  "import or applied changes) is writing to it; try again when it has finished.", 1)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - last line of defence: still one sentence
            _unexpected(ctx, exc)


def _unexpected(ctx: click.Context, exc: Exception) -> None:
    _fail(ctx, exc, f"Unexpected error ({exc.__class__.__name__}: {exc}); run with --debug for details.", 1)


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
    from collectors.runner import run_collection

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
        if interactive:  # cron and CI logs get only the summary and warnings
            click.echo(
                f"collect: {progress.step}" + (f" ({progress.users:,} users)" if progress.users else ""),
                err=True,
            )

    return show


# -- report ----------------------------------------------------------------------------------
REPORTS = ["skus", "users", "errors", "subscriptions", "costs", "groups", "reclaim", "renewals"]


@cli.command()
@click.argument("what", type=click.Choice(REPORTS))
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option(
    "--snapshot", "snapshot_id", type=SNAPSHOT_ID, help="A complete snapshot id (default: the latest)."
)
@click.option("--show-ids", is_flag=True, help="Keep the id (GUID) columns in --format table.")
@click.pass_context
def report(ctx: click.Context, what: str, fmt: str, snapshot_id: int | None, show_ids: bool) -> None:
    """Print a report of the latest (or a given) complete snapshot."""
    from analysis import reports
    from store import queries
    from store.db import open_store

    settings = _settings(ctx)
    with open_store(settings.store, readonly=True) as store:
        sid = queries.resolve_snapshot(store, snapshot_id)
        from licensedesk import cli_finance

        if what == "costs":
            cli_finance.report_costs(ctx, store, sid, fmt, show_ids)
        elif what == "reclaim":
            cli_finance.report_reclaim(ctx, store, sid, fmt, show_ids)
        elif what == "renewals":
            cli_finance.report_renewals(ctx, store, sid, fmt, show_ids)
        elif what == "skus":
            _emit(reports.sku_report(queries.sku_counts(store, sid)), fmt, show_ids=show_ids)
        elif what == "errors":
            _emit(reports.error_report(queries.group_errors(store, sid)), fmt, show_ids=show_ids)
        elif what == "subscriptions":
            _emit(reports.subscription_report(queries.subscriptions(store, sid)), fmt, show_ids=show_ids)
        elif what == "groups":
            from analysis.seats import seat_table

            groups = reports.group_report(
                queries.licensed_groups(store, sid),
                queries.license_states(store, sid),
                seat_table(queries.sku_counts(store, sid)),
            )
            # Finding a group's id is what this report is for: the table keeps it.
            _emit(groups, fmt, show_ids=show_ids, keep=("group_id",))
        else:
            rows = reports.user_report(queries.users(store, sid), queries.user_licenses(store, sid))
            if fmt == "json":
                click.echo(json_text(rows))
            else:
                _emit(reports.flatten_users(rows), fmt, show_ids=show_ids)


def _emit(
    frame: pd.DataFrame,
    fmt: str,
    *,
    show_ids: bool = False,
    hide: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> None:
    """Print a report: JSON (every column, strict), CSV (every column) or a table for people
    (friendly labels; no id columns unless ``show_ids`` or named in ``keep``; ``hide`` left out)."""
    from licensedesk.output import csv_text, records, table_text

    if fmt == "json":
        click.echo(json_text(records(frame)))
    elif fmt == "csv":
        click.echo(csv_text(frame), nl=False)
    else:
        click.echo(table_text(frame, show_ids=show_ids, hide=hide, keep=keep))


# -- actions ---------------------------------------------------------------------------------
def _plan_inputs(settings: Settings) -> tuple[Any, Any, Any]:
    from analysis.seats import seat_table
    from store import queries
    from store.db import open_store

    with open_store(settings.store, readonly=True) as store:
        sid = queries.resolve_snapshot(store)
        return (
            seat_table(queries.sku_counts(store, sid)),
            queries.users(store, sid),
            queries.user_licenses(store, sid),
        )


def _service_plans(settings: Settings) -> Any:
    """The latest snapshot's service plans per SKU (what --disable-plan is checked against)."""
    from store import queries
    from store.db import open_store

    with open_store(settings.store, readonly=True) as store:
        return queries.service_plans(store, queries.resolve_snapshot(store))


def _read_users_file(path: str) -> list[str]:
    from actions.plan import parse_user_list
    from licensedesk.errors import InputError

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"The users file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise InputError(f"The users file {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"The users file {path} cannot be read ({exc.strerror}).") from None
    users = parse_user_list(text, source=f"The users file {path}")
    if not users:
        raise InputError(f"The users file {path} names no users.")
    return users


def _preview_or_apply(ctx: click.Context, plan: Any, *, apply: bool, fmt: str) -> None:
    from actions.apply import ApplyInterrupted, apply_plan, default_actor, record_refusal
    from collectors.graph import GraphClient
    from collectors.runner import run_collection
    from store.db import open_store

    settings = _settings(ctx)
    if fmt == "json" and not apply:
        click.echo(json_text(plan.as_json()))
    else:
        _print_plan(plan)
    if not plan.ok:
        if plan.refused:
            for refusal in plan.refused:
                click.echo(f"license-desk: refused: {refusal.reason}", err=True)
            if apply:  # the audit log holds what was refused as well as what was sent
                with open_store(settings.store) as store:
                    record_refusal(plan, settings=settings, store=store, actor=default_actor())
            ctx.exit(1)
        click.echo("Nothing to do.", err=True)
        return
    if not apply:
        click.echo(
            "Preview only: nothing was sent. Add --apply (with LICENSE_DESK_ALLOW_WRITES=true) to send it.",
            err=True,
        )
        return
    settings.require_tenant()
    client = GraphClient(settings, identity="write")  # the live seat re-check and the writes

    def show(r: Any) -> None:
        click.echo(f"{r.status:>9}  {r.change.describe()}" + (f"  ({r.error})" if r.error else ""), err=True)

    try:
        with open_store(settings.store) as store:
            result = apply_plan(
                plan, settings=settings, client=client, store=store, actor=default_actor(), on_result=show,
                on_wait=lambda: click.echo("Waiting for another plan being applied from this store to finish...", err=True),
            )  # fmt: skip
    except ApplyInterrupted as exc:
        for r in exc.result.results:
            if r.status == "unknown":
                show(r)
        click.echo(
            f"license-desk: interrupted: plan {exc.result.plan_id}: {exc.result.summary()}; no snapshot was taken.",
            err=True,
        )
        ctx.exit(130)
    except KeyboardInterrupt:
        click.echo("license-desk: interrupted before anything was sent.", err=True)
        ctx.exit(130)
    click.echo(f"Applied plan {result.plan_id}: {result.summary()}.", err=True)
    summary = run_collection(settings)
    click.echo(f"Snapshot {summary.snapshot_id} taken after the changes.", err=True)
    if fmt == "json":
        click.echo(json_text({"plan_id": result.plan_id, "results": [
            {"change": r.change.describe(), "status": r.status, "http_status": r.http_status,
             "request_id": r.request_id, "error": r.error} for r in result.results]}))  # fmt: skip
    if not result.complete:
        ctx.exit(1)


def _print_plan(plan: Any) -> None:
    for change in plan.changes:
        click.echo(f"  + {change.describe()}")
    for skipped in plan.skipped:
        click.echo(f"  = {skipped.reason}")
    for seat in plan.seats:
        click.echo(
            f"  {seat.sku_part_number}: {seat.purchased} purchased, {seat.consumed_before} -> {seat.consumed_after} "
            f"assigned, {seat.available_before} -> {seat.available_after} available"
        )


@cli.command()
@click.option("--sku", required=True, help="Part number (SPE_E3) or skuId.")
@click.option("--user", "users", multiple=True, help="User principal name or object id (repeatable).")
@click.option("--users-file", type=click.Path(dir_okay=False), help="CSV or text file of users.")
@click.option(
    "--group-errors", "group", help="Assign to the members of this group (id or name) that are in error."
)
@click.option(
    "--group", "to_group", help="Add the SKU to this group itself (id, or name of a licensed group)."
)
@click.option(
    "--disable-plan", "disabled", multiple=True, help="Service plan name or id to disable (repeatable)."
)
@click.option(
    "--usage-location",
    help="Country code to set first for users who have none (with --group-errors, also for members "
    "whose location the SKU is not available in).",
)
@click.option("--apply", is_flag=True, help="Send the changes (needs LICENSE_DESK_ALLOW_WRITES=true).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def assign(ctx: click.Context, sku: str, users: tuple[str, ...], users_file: str | None, group: str | None,
           to_group: str | None, disabled: tuple[str, ...], usage_location: str | None, apply: bool,
           fmt: str) -> None:  # fmt: skip
    """Assign a SKU to users directly, or to a group; preview by default.

    With --group-errors, only the members a direct assignment can help are planned (those waiting
    for a seat, while seats last; with --usage-location, those blocked by their usage location);
    the preview says why each other member is left out.
    """
    from actions.groups import group_id, members_in_error
    from actions.plan import plan_assign, plan_group_assign, plan_group_errors_assign

    sources = sum(bool(x) for x in (users, users_file, group, to_group))
    if sources != 1:
        raise click.UsageError("Give exactly one of --user, --users-file, --group-errors or --group.")
    skus, user_frame, licenses = _plan_inputs(_settings(ctx))
    plans = _service_plans(_settings(ctx)) if disabled else None
    if to_group:
        from collectors.graph import GraphClient
        from collectors.groups import fetch_group_members

        settings = _settings(ctx)
        settings.require_tenant()
        # Any group will do here: a name the snapshot does not know (it keeps licensed groups only)
        # is looked up in Graph, and the members are read live.
        gid = group_id(to_group, _licensed_groups(settings), graph=GraphClient(settings))
        members = fetch_group_members(GraphClient(settings), gid)
        plan = plan_group_assign(
            sku, gid, to_group, members, skus=skus, licenses=licenses, disabled_plans=disabled,
            service_plans=plans,
        )  # fmt: skip
        _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)
        return
    location = usage_location.upper() if usage_location else None
    if group:
        gid = group_id(group, _licensed_groups(_settings(ctx)))
        members_in_error(gid, group, licenses)  # none in error: say so rather than plan nothing
        plan = plan_group_errors_assign(sku, gid, skus=skus, users=user_frame, licenses=licenses,
                                        disabled_plans=disabled, service_plans=plans, usage_location=location)  # fmt: skip
        _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)
        return
    targets = list(users) or _read_users_file(users_file or "")
    plan = plan_assign(sku, targets, skus=skus, users=user_frame, licenses=licenses, disabled_plans=disabled,
                       service_plans=plans, usage_location=location)  # fmt: skip
    _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)


def _licensed_groups(settings: Settings) -> Any:
    """The latest snapshot's licensed groups (what a group name is looked up in)."""
    from store import queries
    from store.db import open_store

    with open_store(settings.store, readonly=True) as store:
        return queries.licensed_groups(store, queries.resolve_snapshot(store))


@cli.command()
@click.option("--user", "users", multiple=True, help="User principal name or object id (repeatable).")
@click.option("--group", help="Reprocess every member of this group (id or name) that is in error.")
@click.option("--apply", is_flag=True, help="Send the changes (needs LICENSE_DESK_ALLOW_WRITES=true).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def reprocess(ctx: click.Context, users: tuple[str, ...], group: str | None, apply: bool, fmt: str) -> None:
    """Reprocess group-based licences of users in error; preview by default."""
    from actions.groups import group_id
    from actions.plan import plan_reprocess

    if bool(users) == bool(group):
        raise click.UsageError("Give either --user or --group.")
    skus, user_frame, licenses = _plan_inputs(_settings(ctx))
    gid = group_id(group, _licensed_groups(_settings(ctx))) if group else None
    plan = plan_reprocess(list(users) or None, group_id=gid, skus=skus, users=user_frame, licenses=licenses)
    _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--show-ids", is_flag=True, help="Keep the id (GUID) columns in --format table.")
@click.pass_context
def audit(ctx: click.Context, fmt: str, show_ids: bool) -> None:
    """The audit log of changes License Desk sent (or refused to send)."""
    from store.audit import audit_entries
    from store.db import open_store

    with open_store(_settings(ctx).store, readonly=True) as store:
        frame = audit_entries(store)
    # Pending and refused changes have no HTTP status: keep the others whole numbers.
    frame["http_status"] = frame["http_status"].astype("Int64")
    _emit(frame, fmt, show_ids=show_ids, hide=("detail",))


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
    from store.db import describe, open_store

    parsed = parse_microsoft_catalog(file)
    settings = _settings(ctx)
    with open_store(settings.store) as store:
        ensure_builtin_catalog(store, load_common_skus())
        products, plans = import_catalog(store, parsed.products, parsed.plans)
    for warning in parsed.warnings:
        click.echo(f"license-desk: warning: {warning}", err=True)
    click.echo(
        f"Imported {products:,} products and {plans:,} service plan rows into {describe(settings.store)}."
    )


# -- simulator, demo, dashboard ---------------------------------------------------------------
@cli.command()
@click.option("--port", type=SERVER_PORT, default=0, show_default=True, help="0 picks a free port.")
@click.option("--users", type=click.IntRange(1, 1_000_000), default=500, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--days", type=click.IntRange(0, 3650), default=0, help="Simulated days to advance before serving."
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False),
    help="Also write the ready line to this file (whole, once listening; removed on exit).",
)
def simulator(port: int, users: int, seed: int, days: int, ready_file: str | None) -> None:
    """Serve a simulated tenant over HTTPS on 127.0.0.1; prints one JSON line when ready."""
    from datetime import UTC, datetime, timedelta

    from graphsim.server import GraphSimulator
    from graphsim.tenant import build_tenant
    from licensedesk.errors import InputError

    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=days)
    tenant = build_tenant(users=users, seed=seed, start=start)
    for _ in range(days):
        tenant.advance_day()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sim = GraphSimulator(tenant, port=port)
    try:
        sim.start()
    except OSError as exc:
        raise InputError(
            f"The simulator cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})."
        ) from None
    with sim:
        click.echo(json.dumps(sim.ready_info()))
        sys.stdout.flush()
        if ready_file:
            _write_ready_file(Path(ready_file), sim.ready_info())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if ready_file:
                Path(ready_file).unlink(missing_ok=True)


def _write_ready_file(path: Path, info: dict[str, str]) -> None:
    """Write the ready line whole: a reader polling for the file never sees half of it."""
    import tempfile

    from licensedesk.errors import InputError

    try:
        # Created 0600 beside the target (os.replace is atomic only within one file system):
        # the line holds the simulated app's secret.
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise InputError(f"Cannot write the ready file {path} ({exc.strerror or exc}).") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(info) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@cli.command()
@click.option("--port", type=PORT, default=8501, show_default=True)
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
    from licensedesk.serve import stop_on_signals

    if not build_only:
        _check_port(port)  # before the build, not a minute later
    with stop_on_signals():
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
@click.option("--port", type=PORT, default=8501, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open a browser window.")
@click.pass_context
def dashboard(ctx: click.Context, port: int, no_browser: bool) -> None:
    """Start the dashboard on the configured store."""
    from licensedesk.serve import stop_on_signals

    settings = _settings(ctx)
    _check_port(port)
    with stop_on_signals():
        _run_dashboard({"LICENSE_DESK_STORE": settings.store}, port=port, browser=not no_browser)


def _check_port(port: int) -> None:
    from licensedesk.errors import InputError
    from licensedesk.serve import port_problem

    problem = port_problem(port)
    if problem:
        raise InputError(problem)


def _run_dashboard(env: dict[str, str], *, port: int, browser: bool) -> None:
    """Serve the dashboard until Streamlit exits or we are stopped; a Streamlit that dies is an
    error with its exit code (its own messages are above ours)."""
    from licensedesk.serve import has_display, run_dashboard

    def ready(url: str) -> None:
        click.echo(f"Dashboard: {url}  (Ctrl+C to stop)", err=True)

    code = run_dashboard(env, port=port, open_browser=browser and has_display(), on_ready=ready)
    if code == 0:
        return
    how = f"was killed by signal {-code}" if code < 0 else f"stopped with exit code {code}"
    error = LicenseDeskError(f"The dashboard (Streamlit) {how}; its messages are above.")
    error.exit_code = code if code > 0 else 1
    raise error


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="license-desk")


from licensedesk.cli_finance import register  # noqa: E402 - the finance commands join the group defined above

register(cli)

from licensedesk.cli_notify import register as register_notify  # noqa: E402 - notify, export, deliveries

register_notify(cli)
