"""``license-desk prices import|export`` (the price book) and ``license-desk catalog import``
(Microsoft's product and service plan CSV)."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.pricebook import SkuIndex, price_book_csv
from analysis.user_files import read_file
from cli.common import settings_of
from collectors.catalog import load_common_skus, parse_microsoft_catalog
from licensedesk.errors import InputError
from store.catalog import ensure_builtin_catalog, import_catalog
from store.db import describe, open_store, store_exists
from store.prices import import_price_text, load_prices, price_rows, product_frame, sku_index


@click.group()
def prices() -> None:
    """The price book: unit price per SKU, currency, billing period and effective date."""


@prices.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--merge", is_flag=True, help="Add to the price book instead of replacing it.")
@click.pass_context
def prices_import(ctx: click.Context, file: str, merge: bool) -> None:
    """Load a price book CSV (sku,unit_price,currency,period,effective_from); all rows or none."""
    settings = settings_of(ctx)
    text = read_file(file)
    if not store_exists(settings.store):
        # Checked before the store is created, so a bad file leaves nothing behind but its error.
        price_rows(text, SkuIndex.build(product_frame(load_common_skus())), Path(file).name)
    with open_store(settings.store) as store:
        written, removed = import_price_text(
            store, text, source=Path(file).name, replace=not merge, builtin=load_common_skus()
        )
    verb = "Added" if merge else "Replaced the price book with"
    click.echo(
        f"{verb} {written} price row(s) from {file}"
        + (f" ({removed} old row(s) removed)." if removed else ".")
    )


@prices.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.pass_context
def prices_export(ctx: click.Context, file: str | None) -> None:
    """Write the price book as CSV to FILE (or standard output)."""
    with open_store(settings_of(ctx).store, readonly=True) as store:
        text = price_book_csv(load_prices(store), sku_index(store))
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        Path(file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write {file} ({exc.strerror}).") from None
    click.echo(f"Wrote {text.count(chr(10)) - 1} price row(s) to {file}.", err=True)


@click.group()
def catalog() -> None:
    """The SKU catalog (friendly names and service plans)."""


@catalog.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def catalog_import(ctx: click.Context, file: str) -> None:
    """Load Microsoft's "Product names and service plan identifiers for licensing" CSV."""
    parsed = parse_microsoft_catalog(file)
    settings = settings_of(ctx)
    with open_store(settings.store) as store:
        ensure_builtin_catalog(store, load_common_skus())
        products, plans = import_catalog(store, parsed.products, parsed.plans)
    for warning in parsed.warnings:
        click.echo(f"license-desk: warning: {warning}", err=True)
    click.echo(
        f"Imported {products:,} products and {plans:,} service plan rows into {describe(settings.store)}."
    )
