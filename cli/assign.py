"""``license-desk assign``, ``reprocess`` and ``downgrade``: a plan of licence changes, previewed
by default and sent with ``--apply`` (``actions.apply``: opt-in, re-checked, audited), then a
fresh snapshot."""

from __future__ import annotations

from typing import Any

import click
import pandas as pd

from actions.apply import ApplyInterrupted, ChangeResult, apply_plan, default_actor, record_refusal
from actions.groups import group_id, members_in_error
from actions.plan import (
    Plan,
    downgrade_pairs,
    plan_assign,
    plan_downgrade,
    plan_group_assign,
    plan_group_errors_assign,
    plan_reprocess,
)
from actions.user_list import read_users_file
from analysis.costs import snapshot_date
from analysis.downgrade_savings import downgrade_savings
from analysis.money import amount_text
from analysis.reclaim import downgrade_targets
from analysis.seats import seat_table
from cli.common import PLAN_FORMATS, apply_option, format_option, settings_of, users_option
from cli.finance import reclaim_found
from cli.output import json_text
from collectors.graph import GraphClient
from collectors.groups import fetch_group_members
from collectors.runner import run_collection
from licensedesk.config import Settings
from store import queries
from store.db import open_store
from store.prices import load_prices


@click.command()
@click.option("--sku", required=True, help="Part number (SPE_E3) or skuId.")
@users_option
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
@apply_option
@format_option(*PLAN_FORMATS)
@click.pass_context
def assign(ctx: click.Context, sku: str, users: tuple[str, ...], users_file: str | None, group: str | None,
           to_group: str | None, disabled: tuple[str, ...], usage_location: str | None, apply: bool,
           fmt: str) -> None:  # fmt: skip
    """Assign a SKU to users directly, or to a group; preview by default.

    With --group-errors, only the members a direct assignment can help are planned (those waiting
    for a seat, while seats last; with --usage-location, those blocked by their usage location);
    the preview says why each other member is left out.
    """
    sources = sum(bool(x) for x in (users, users_file, group, to_group))
    if sources != 1:
        raise click.UsageError("Give exactly one of --user, --users-file, --group-errors or --group.")
    settings = settings_of(ctx)
    skus, user_frame, licenses = _plan_inputs(settings)
    plans = _service_plans(settings) if disabled else None
    if to_group:
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
        gid = group_id(group, _licensed_groups(settings))
        members_in_error(gid, group, licenses)  # none in error: say so rather than plan nothing
        plan = plan_group_errors_assign(sku, gid, skus=skus, users=user_frame, licenses=licenses,
                                        disabled_plans=disabled, service_plans=plans, usage_location=location)  # fmt: skip
        _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)
        return
    targets = list(users) or read_users_file(users_file or "")
    plan = plan_assign(sku, targets, skus=skus, users=user_frame, licenses=licenses, disabled_plans=disabled,
                       service_plans=plans, usage_location=location)  # fmt: skip
    _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)


@click.command()
@users_option
@click.option("--group", help="Reprocess every member of this group (id or name) that is in error.")
@apply_option
@format_option(*PLAN_FORMATS)
@click.pass_context
def reprocess(ctx: click.Context, users: tuple[str, ...], group: str | None, apply: bool, fmt: str) -> None:
    """Reprocess group-based licences of users in error; preview by default."""
    if bool(users) == bool(group):
        raise click.UsageError("Give either --user or --group.")
    settings = settings_of(ctx)
    skus, user_frame, licenses = _plan_inputs(settings)
    gid = group_id(group, _licensed_groups(settings)) if group else None
    plan = plan_reprocess(list(users) or None, group_id=gid, skus=skus, users=user_frame, licenses=licenses)
    _preview_or_apply(ctx, plan, apply=apply, fmt=fmt)


@click.command()
@click.option("--from", "source", help="The SKU to take away (part number or skuId), with --to.")
@click.option("--to", "target", help="The cheaper SKU to give instead (part number or skuId), with --from.")
@users_option
@click.option("--users-file", type=click.Path(dir_okay=False), help="CSV or text file of users.")
@click.option(
    "--reclaim", is_flag=True,
    help="Every downgrade the Reclaim advice proposes (premium plans or desktop apps unused), exempt ones left out.",
)  # fmt: skip
@apply_option
@format_option(*PLAN_FORMATS)
@click.pass_context
def downgrade(ctx: click.Context, source: str | None, target: str | None, users: tuple[str, ...],
              users_file: str | None, reclaim: bool, apply: bool, fmt: str) -> None:  # fmt: skip
    """Move users to a cheaper SKU in one call each (the new SKU added, the old one removed); preview by default.

    Users who would need more seats of the new SKU than are available are left out, each saying how
    many seats are missing; the others can still be applied.
    """
    if reclaim == bool(users or users_file) or (users and users_file):
        raise click.UsageError("Give exactly one of --user, --users-file or --reclaim.")
    if reclaim and (source or target):
        raise click.UsageError("--reclaim takes the SKUs from the advice: leave out --from and --to.")
    if not reclaim and not (source and target):
        raise click.UsageError("Give both --from and --to.")
    settings = settings_of(ctx)
    skus, user_frame, licenses = _plan_inputs(settings)
    with open_store(settings.store, readonly=True) as store:
        sid = queries.resolve_snapshot(store)
        plans = queries.service_plans(store, sid)
        prices = load_prices(store)
        on = snapshot_date(str(queries.snapshot_info(store, sid)["started_at"]))
        found = reclaim_found(store, sid, settings) if reclaim else None
    if found is not None:
        targets = downgrade_targets(found)
        if not targets:
            click.echo("The Reclaim advice proposes no downgrade in the latest snapshot.", err=True)
    else:
        names = list(users) or read_users_file(users_file or "")
        targets = [(name, str(source), str(target)) for name in names]
    plan = plan_downgrade(targets, skus=skus, users=user_frame, licenses=licenses, service_plans=plans)
    pairs = downgrade_pairs(plan)
    savings = [
        {"currency": r["currency"], "downgrades": int(r["downgrades"]),
         "saving_monthly": None if r["currency"] is None else amount_text(int(r["saving"]), str(r["currency"]))}
        for r in downgrade_savings(pairs, prices, on=on).to_dict(orient="records")
    ]  # fmt: skip
    notes = [
        f"  saving per month: {s['currency']} {s['saving_monthly']} ({s['downgrades']} downgrade(s))"
        if s["currency"] is not None
        else f"  saving per month: unknown for {s['downgrades']} downgrade(s) (no price; see `prices import`)"
        for s in savings
    ]
    _preview_or_apply(ctx, plan, apply=apply, fmt=fmt, extra={"savings": savings}, notes=notes)


# -- inputs ----------------------------------------------------------------------------------
def _plan_inputs(settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    with open_store(settings.store, readonly=True) as store:
        sid = queries.resolve_snapshot(store)
        return (
            seat_table(queries.sku_counts(store, sid)),
            queries.users(store, sid),
            queries.user_licenses(store, sid),
        )


def _service_plans(settings: Settings) -> pd.DataFrame:
    """The latest snapshot's service plans per SKU (what --disable-plan is checked against)."""
    with open_store(settings.store, readonly=True) as store:
        return queries.service_plans(store, queries.resolve_snapshot(store))


def _licensed_groups(settings: Settings) -> pd.DataFrame:
    """The latest snapshot's licensed groups (what a group name is looked up in)."""
    with open_store(settings.store, readonly=True) as store:
        return queries.licensed_groups(store, queries.resolve_snapshot(store))


# -- preview or apply ------------------------------------------------------------------------
def _preview_or_apply(ctx: click.Context, plan: Plan, *, apply: bool, fmt: str,
                      extra: dict[str, Any] | None = None, notes: list[str] | None = None) -> None:  # fmt: skip
    """``extra`` joins the JSON preview's keys; ``notes`` are printed after the table preview."""
    settings = settings_of(ctx)
    if fmt == "json" and not apply:
        click.echo(json_text({**plan.as_json(), **(extra or {})}))
    else:
        _print_plan(plan)
        for note in notes or []:
            click.echo(note)
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

    def show(r: ChangeResult) -> None:
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


def _print_plan(plan: Plan) -> None:
    for change in plan.changes:
        click.echo(f"  + {change.describe()}")
    for skipped in plan.skipped:
        click.echo(f"  = {skipped.reason}")
    for seat in plan.seats:
        click.echo(
            f"  {seat.sku_part_number}: {seat.purchased} purchased, {seat.consumed_before} -> {seat.consumed_after} "
            f"assigned, {seat.available_before} -> {seat.available_after} available"
        )
