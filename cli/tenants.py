"""``license-desk tenants add|list|remove|test`` (the registry of customer tenants) and
``license-desk collect --all`` (every enabled tenant, each into its own store).

Output follows every command's conventions (``cli.output``): ``--format json`` is an array of
objects with snake_case keys, a table for people otherwise; a failure is one sentence and exit 1.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pandas as pd

from cli.common import PLAN_FORMATS, REPORT_FORMATS, emit, format_option, settings_of
from collectors.graph import GraphClient
from collectors.many import TenantOutcome, collect_tenants
from licensedesk.errors import InputError, LicenseDeskError, redact
from licensedesk.tenants import TenantEntry, check_entry, in_shard, read_tenants_toml, tenant_settings
from store.db import open_store
from store.tenants import load_tenants, remove_tenant, save_tenants, tenant_entries


@click.group()
def tenants() -> None:
    """The customer tenants `collect --all` collects (a managed service provider's registry)."""


@tenants.command("add")
@click.argument("tenant_id", required=False)
@click.option("--name", "display_name", help="Display name (required unless --file).")
@click.option("--domain", help="The tenant's primary domain, e.g. fabrikam.onmicrosoft.com.")
@click.option("--client-id", help="A per-tenant app's client id (default: the configured multi-tenant app).")
@click.option("--credential", help="Where that app's credential is: env:NAME, file:PATH or secret:NAME.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--disabled", is_flag=True, help="Register it, but leave it out of collect --all.")
@click.option(
    "--file", "toml_file", type=click.Path(dir_okay=False), help="Add every [[tenants]] of a TOML file."
)
@click.pass_context
def add(
    ctx: click.Context, tenant_id: str | None, display_name: str | None, domain: str | None,
    client_id: str | None, credential: str | None, tags: tuple[str, ...], disabled: bool, toml_file: str | None,
) -> None:  # fmt: skip
    """Register a tenant (or update it), or every tenant of a TOML file (all or none)."""
    settings = settings_of(ctx)
    if toml_file:
        if tenant_id or display_name:
            raise InputError("Give either --file or a tenant id with --name, not both.")
        entries = read_tenants_toml(Path(toml_file))
    else:
        if not tenant_id or not display_name:
            raise InputError("Give the tenant's id (its GUID or domain) and --name (or --file FILE).")
        entry = TenantEntry(tenant_id, display_name, domain, client_id, credential, not disabled, tags)
        entries = [check_entry(entry)]
    with open_store(settings.store) as store:
        updated = save_tenants(store, entries)
    for entry, was in zip(entries, updated, strict=True):
        click.echo(f"{'Updated' if was else 'Added'} tenant {entry.display_name} ({entry.tenant_id}).")


@tenants.command("list")
@format_option(*REPORT_FORMATS)
@click.pass_context
def list_(ctx: click.Context, fmt: str) -> None:
    """The registered tenants, with how their latest collection ended."""
    settings = settings_of(ctx)
    with open_store(settings.store, readonly=True) as store:
        frame = load_tenants(store)
    emit(frame, fmt, keep=["tenant_id", "client_id", "last_snapshot_id"])


@tenants.command("remove")
@click.argument("tenant_id")
@click.pass_context
def remove(ctx: click.Context, tenant_id: str) -> None:
    """Take a tenant off the registry (its store and history are kept)."""
    settings = settings_of(ctx)
    with open_store(settings.store) as store:
        remove_tenant(store, tenant_id)
    click.echo(f"Removed tenant {tenant_id.lower()} from the registry; its store was left as it is.")


@tenants.command("test")
@click.argument("tenant_ids", nargs=-1)
@format_option(*PLAN_FORMATS)
@click.pass_context
def test(ctx: click.Context, tenant_ids: tuple[str, ...], fmt: str) -> None:
    """Sign in to each tenant (all enabled ones by default) and read its SKUs; exit 1 if any fails."""
    settings = settings_of(ctx)
    with open_store(settings.store, readonly=True) as store:
        known = {e.tenant_id: e for e in tenant_entries(store)}
    wanted = [t.lower() for t in tenant_ids] or [t for t, e in known.items() if e.enabled]
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise InputError(
            f"No tenant {unknown[0]} is registered; `license-desk tenants list` shows those that are."
        )
    rows = []
    for tenant_id in wanted:
        entry, skus, error = known[tenant_id], None, None
        try:
            client = GraphClient(tenant_settings(settings, entry))
            client.sign_in()
            skus = len(client.get_json("subscribedSkus", {"$select": "skuId"}).get("value") or [])
        except LicenseDeskError as exc:
            error = redact(str(exc), *settings.secrets)
        rows.append({"tenant_id": tenant_id, "display_name": entry.display_name, "ok": error is None,
                     "skus": skus, "error": error})  # fmt: skip
    emit(
        pd.DataFrame(rows, columns=["tenant_id", "display_name", "ok", "skus", "error"]),
        fmt,
        keep=["tenant_id"],
    )
    if any(r["error"] for r in rows):
        ctx.exit(1)


def collect_all(ctx: click.Context, workers: int, shard: tuple[int, int] | None, fmt: str) -> None:
    """``collect --all``: each enabled tenant (of this shard) into its own store; exit 1 if any failed."""
    settings = settings_of(ctx)
    with open_store(settings.store) as store:
        entries = in_shard(tenant_entries(store, enabled_only=True), shard)
    shared = [e for e in entries if not e.client_id]
    if shared:  # the multi-tenant app must be configured (the tenant id is each tenant's own)
        dataclasses.replace(settings, tenant_id=shared[0].tenant_id).require_tenant()
    if not entries:
        where = f" in shard {shard[0]}/{shard[1]}" if shard else ""
        click.echo(f"license-desk: no enabled tenant is registered{where}; nothing to collect.", err=True)
        emit(_outcomes([]), fmt, keep=["tenant_id", "snapshot_id"])
        return

    def progress(outcome: TenantOutcome) -> None:
        said = f"snapshot {outcome.snapshot_id}" if outcome.error is None else f"failed: {outcome.error}"
        click.echo(f"collect: {outcome.display_name} ({outcome.tenant_id}): {said}", err=True)

    outcomes = collect_tenants(settings, entries, workers=workers, on_done=progress)
    emit(_outcomes(outcomes), fmt, keep=["tenant_id", "snapshot_id"])
    failed = sum(o.error is not None for o in outcomes)
    click.echo(f"Collected {len(outcomes) - failed} of {len(outcomes)} tenants ({failed} failed).", err=True)
    if failed:
        ctx.exit(1)


def _outcomes(outcomes: list[TenantOutcome]) -> pd.DataFrame:
    columns = list(TenantOutcome.__dataclass_fields__)
    frame = pd.DataFrame([[getattr(o, c) for c in columns] for o in outcomes], columns=columns)
    for count in ("snapshot_id", "users", "licenses"):  # whole numbers, missing for a failed tenant
        frame[count] = frame[count].astype("Int64")
    return frame
