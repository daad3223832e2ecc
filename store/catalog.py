"""The SKU catalog in the store: friendly names and service plans, joined on skuId.

Our shipped table of common SKUs is loaded as ``source='builtin'``; Microsoft's full CSV,
imported with ``license-desk catalog import``, replaces names as ``source='imported'``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from store.db import Store, utcnow


class CatalogProduct(Protocol):
    """What the store needs of a product (``collectors.catalog.CatalogProduct`` fits)."""

    @property
    def sku_id(self) -> str: ...
    @property
    def sku_part_number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> str | None: ...


class CatalogPlan(Protocol):
    """What the store needs of a service plan row."""

    @property
    def sku_id(self) -> str: ...
    @property
    def service_plan_id(self) -> str: ...
    @property
    def service_plan_name(self) -> str: ...
    @property
    def friendly_name(self) -> str: ...


def ensure_builtin_catalog(store: Store, products: Iterable[CatalogProduct]) -> int:
    """Add shipped SKUs the store does not know yet; never overrides an imported name."""
    now = utcnow()
    with store.atomic() as tx:
        cur = tx.executemany(
            """INSERT INTO catalog_products (sku_id, sku_part_number, name, kind, source, updated_at)
               VALUES (?, ?, ?, ?, 'builtin', ?) ON CONFLICT (sku_id) DO NOTHING""",
            [(p.sku_id, p.sku_part_number, p.name, p.kind, now) for p in products],
        )
        return int(cur.rowcount)


def import_catalog(
    store: Store, products: Iterable[CatalogProduct], plans: Iterable[CatalogPlan]
) -> tuple[int, int]:
    """Upsert a parsed Microsoft catalog in one transaction; returns (products, plans) written.

    A SKU's kind from our shipped table (e.g. ``free``) is kept: Microsoft's file has no such column.
    """
    now = utcnow()
    product_rows = [(p.sku_id, p.sku_part_number, p.name, p.kind, now) for p in products]
    plan_rows = [(p.sku_id, p.service_plan_id, p.service_plan_name, p.friendly_name) for p in plans]
    with store.atomic() as tx:
        tx.executemany(
            """INSERT INTO catalog_products (sku_id, sku_part_number, name, kind, source, updated_at)
               VALUES (?, ?, ?, ?, 'imported', ?)
               ON CONFLICT (sku_id) DO UPDATE SET sku_part_number = excluded.sku_part_number,
                   name = excluded.name, kind = COALESCE(catalog_products.kind, excluded.kind),
                   source = 'imported', updated_at = excluded.updated_at""",
            product_rows,
        )
        tx.executemany(
            """INSERT INTO catalog_plans (sku_id, service_plan_id, service_plan_name, friendly_name)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (sku_id, service_plan_id) DO UPDATE SET service_plan_name = excluded.service_plan_name,
                   friendly_name = excluded.friendly_name""",
            plan_rows,
        )
    return len(product_rows), len(plan_rows)


def catalog_status(store: Store) -> dict[str, int | str | None]:
    """How many SKUs the catalog knows by source, and when it was last imported."""
    rows = dict(
        store.conn.execute("SELECT source, COUNT(*) FROM catalog_products GROUP BY source").fetchall()
    )
    last = store.conn.execute(
        "SELECT MAX(updated_at) FROM catalog_products WHERE source = 'imported'"
    ).fetchone()[0]
    return {
        "builtin": int(rows.get("builtin", 0)),
        "imported": int(rows.get("imported", 0)),
        "last_import": last,
    }
