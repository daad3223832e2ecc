"""The finance tables: price book, alert thresholds and reclaim exemptions (migration 3).

Every write is one transaction (``Store.atomic``): an import that fails half-way leaves the price
book exactly as it was. Validation of what goes in lives in ``analysis.pricebook`` (pure); the
tables' CHECK constraints are the last line of defence. Imports no Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from analysis.pricebook import PriceRow, SkuIndex, parse_price_csv
from licensedesk.errors import InputError
from store.catalog import CatalogProduct, ensure_builtin_catalog
from store.db import Store, utcnow

PRICE_COLUMNS = [
    "sku_id", "sku_part_number", "unit_price_minor", "currency", "period", "effective_from", "source",
    "note", "updated_at",
]  # fmt: skip
EXEMPTION_KINDS = ("user", "sku")


def _frame(store: Store, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    return store.frame(sql, params)


# -- prices ----------------------------------------------------------------------------------
def load_prices(store: Store) -> pd.DataFrame:
    """The whole price book, every effective date: ``sku_id``, ``sku_part_number``,
    ``unit_price_minor`` (int), ``currency``, ``period``, ``effective_from``, ``source``, ``note``,
    ``updated_at``; sorted by part number, currency and date."""
    return _frame(
        store,
        f"SELECT {', '.join(PRICE_COLUMNS)} FROM prices ORDER BY sku_part_number, sku_id, currency, effective_from",
    )


_UPSERT = """INSERT INTO prices (sku_id, sku_part_number, unit_price_minor, currency, period, effective_from,
        source, note, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sku_id, currency, effective_from) DO UPDATE SET
        sku_part_number = excluded.sku_part_number, unit_price_minor = excluded.unit_price_minor,
        period = excluded.period, source = excluded.source, note = excluded.note,
        updated_at = excluded.updated_at"""
_DELETE = "DELETE FROM prices WHERE sku_id = ? AND currency = ? AND effective_from = ?"


def _upsert(tx: Any, rows: Sequence[PriceRow], source: str, note: str | None) -> None:
    now = utcnow()
    tx.executemany(
        _UPSERT,
        [
            (r.sku_id, r.sku_part_number, r.unit_price_minor, r.currency, r.period, r.effective_from,
             source, note, now)
            for r in rows
        ],
    )  # fmt: skip


def save_prices(
    store: Store, rows: Sequence[PriceRow], *, replace: bool, source: str, note: str | None = None
) -> tuple[int, int]:
    """Write validated rows in one transaction; returns (rows written, rows removed).

    Args:
        replace: True makes ``rows`` the whole price book (rows not in it are removed); False
            adds them, a row with the same (SKU, currency, effective_from) being overwritten.
        source: where the rows came from (a file name, "dashboard", "list prices ..."): shown
            beside each price so nobody mistakes an example for a negotiated price.
    """
    with store.atomic() as tx:
        removed = tx.execute("DELETE FROM prices").rowcount if replace else 0
        _upsert(tx, rows, source, note)
    return len(rows), int(removed)


def delete_prices(store: Store, keys: Iterable[tuple[str, str, str]]) -> int:
    """Remove price rows by (sku_id, currency, effective_from) in one transaction; returns how many."""
    with store.atomic() as tx:
        return sum(int(tx.execute(_DELETE, key).rowcount) for key in keys)


def edit_prices(
    store: Store, save: Sequence[PriceRow], delete: Iterable[tuple[str, str, str]], *, source: str
) -> tuple[int, int]:
    """Save some rows and delete others in one transaction (an edited price book, see
    ``analysis.pricebook.price_book_changes``); returns (rows written, rows removed)."""
    with store.atomic() as tx:
        removed = sum(int(tx.execute(_DELETE, key).rowcount) for key in delete)
        _upsert(tx, save, source, None)
    return len(save), removed


def sku_index(store: Store, *more: pd.DataFrame) -> SkuIndex:
    """What a price's ``sku`` cell may name: the latest complete snapshot's SKUs, then the
    catalog's, then ``more`` (frames of ``sku_id``, ``sku_part_number``: the shipped table of
    common SKUs, before it is in the store), then SKUs already in the price book (so an exported
    book always imports again)."""
    latest = _frame(
        store,
        """SELECT sku_id, sku_part_number FROM sku_counts
           WHERE snapshot_id = (SELECT MAX(id) FROM snapshots WHERE status = 'complete')""",
    )
    catalog = _frame(store, "SELECT sku_id, sku_part_number FROM catalog_products")
    priced = _frame(store, "SELECT DISTINCT sku_id, sku_part_number FROM prices")
    return SkuIndex.build(latest, catalog, *more, priced)


def import_price_text(
    store: Store, text: str, *, source: str, replace: bool, builtin: Sequence[CatalogProduct]
) -> tuple[int, int]:
    """Validate a price-book CSV and write it in one transaction; (written, removed).

    ``builtin`` is the shipped table of common SKUs: its part numbers resolve even before the
    first collection, and it is written into the store only once the file is known to be good.

    Raises:
        InputError: one sentence per bad row (naming the row), joined by newlines; nothing written.
    """
    rows = price_rows(text, sku_index(store, product_frame(builtin)), source)
    ensure_builtin_catalog(store, builtin)
    return save_prices(store, rows, replace=replace, source=source)


def price_rows(text: str, skus: SkuIndex, source: str) -> list[PriceRow]:
    """The price rows of ``text``, or InputError naming the bad rows (the first 20 and how many
    more, as ``parse_price_csv`` gives them, so a bad 200,000-row file is one screen)."""
    rows, problems = parse_price_csv(text, skus, source=source)
    if problems:
        raise InputError("\n".join(problems) + ("\nNothing was imported." if len(problems) > 1 else ""))
    return rows


def product_frame(products: Iterable[CatalogProduct]) -> pd.DataFrame:
    """``sku_id``, ``sku_part_number`` of catalog products (what ``sku_index`` takes)."""
    listed = list(products)
    return pd.DataFrame(
        {"sku_id": [p.sku_id for p in listed], "sku_part_number": [p.sku_part_number for p in listed]}
    )


# -- thresholds ------------------------------------------------------------------------------
def load_thresholds(store: Store) -> pd.DataFrame:
    """Per-SKU alert thresholds: ``sku_id``, ``sku_part_number``, ``min_free_seats`` and
    ``max_utilization_percent`` (nullable Int64: NA = not checked), ``note``, ``updated_at``."""
    frame = _frame(
        store,
        "SELECT sku_id, sku_part_number, min_free_seats, max_utilization_percent, note, updated_at "
        "FROM thresholds ORDER BY sku_part_number, sku_id",
    )
    for column in ("min_free_seats", "max_utilization_percent"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _threshold_problem(
    part: str, min_free_seats: int | None, max_utilization_percent: int | None
) -> str | None:
    if min_free_seats is not None and min_free_seats < 0:
        return f"The minimum free seats for {part} must be 0 or more, not {min_free_seats}."
    if max_utilization_percent is not None and not 0 <= max_utilization_percent <= 100:
        return f"The utilization limit for {part} must be a percentage from 0 to 100, not {max_utilization_percent}."
    return None


def _write_threshold(
    tx: Any, sku_id: str, part: str, minimum: int | None, ceiling: int | None, note: str | None
) -> None:
    if minimum is None and ceiling is None:
        tx.execute("DELETE FROM thresholds WHERE sku_id = ?", (sku_id,))
        return
    tx.execute(
        """INSERT INTO thresholds (sku_id, sku_part_number, min_free_seats, max_utilization_percent, note, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (sku_id) DO UPDATE SET sku_part_number = excluded.sku_part_number,
               min_free_seats = excluded.min_free_seats,
               max_utilization_percent = excluded.max_utilization_percent, note = excluded.note,
               updated_at = excluded.updated_at""",
        (sku_id, part, minimum, ceiling, note, utcnow()),
    )


def save_threshold(
    store: Store,
    sku_id: str,
    sku_part_number: str,
    *,
    min_free_seats: int | None,
    max_utilization_percent: int | None,
    note: str | None = None,
) -> None:
    """Set (or replace) one SKU's thresholds; both None removes them.

    Raises:
        InputError: a negative seat count or a percentage outside 0-100.
    """
    problem = _threshold_problem(sku_part_number, min_free_seats, max_utilization_percent)
    if problem:
        raise InputError(problem)
    with store.atomic() as tx:
        _write_threshold(tx, sku_id, sku_part_number, min_free_seats, max_utilization_percent, note)


def save_thresholds(store: Store, changes: Iterable[Mapping[str, Any]]) -> int:
    """Set several SKUs' thresholds in one transaction (all or none); returns how many.

    Args:
        changes: mappings with ``sku_id``, ``sku_part_number``, ``min_free_seats`` and
            ``max_utilization_percent`` (None = not checked; both None removes the SKU's row),
            e.g. ``analysis.thresholds.threshold_changes``.

    Raises:
        InputError: one sentence per bad value, joined by newlines; nothing was written.
    """
    wanted = list(changes)
    problems = [
        p for c in wanted
        if (p := _threshold_problem(str(c["sku_part_number"]), c["min_free_seats"], c["max_utilization_percent"]))
    ]  # fmt: skip
    if problems:
        raise InputError("\n".join(problems))
    with store.atomic() as tx:
        for c in wanted:
            _write_threshold(tx, str(c["sku_id"]), str(c["sku_part_number"]), c["min_free_seats"],
                             c["max_utilization_percent"], None)  # fmt: skip
    return len(wanted)


# -- exemptions ------------------------------------------------------------------------------
def load_exemptions(store: Store) -> pd.DataFrame:
    """Reclaim exemptions: ``kind`` (user/sku), ``target_id`` (user id or UPN; skuId or part
    number), ``label`` (a name for people), ``note`` (why), ``created_at``."""
    return _frame(
        store,
        "SELECT kind, target_id, label, note, created_at FROM exemptions ORDER BY kind, label, target_id",
    )


def add_exemption(store: Store, kind: str, target_id: str, *, note: str, label: str | None = None) -> None:
    """Exempt a user or a SKU from reclaim (replacing an earlier note for the same target).

    Raises:
        InputError: an unknown kind, an empty target, or no note (an exemption must say why).
    """
    if kind not in EXEMPTION_KINDS:
        raise InputError(f"An exemption is for a user or a sku, not {kind!r}.")
    if not target_id.strip():
        raise InputError("An exemption needs the user or SKU it exempts.")
    if not note.strip():
        raise InputError(f"Say why {label or target_id} is exempt from reclaim: the note is empty.")
    with store.atomic() as tx:
        tx.execute(
            """INSERT INTO exemptions (kind, target_id, label, note, created_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (kind, target_id) DO UPDATE SET label = excluded.label, note = excluded.note""",
            (kind, target_id.strip(), label, note.strip(), utcnow()),
        )


def remove_exemption(store: Store, kind: str, target_id: str) -> bool:
    """Remove one exemption; True when there was one."""
    with store.atomic() as tx:
        cur = tx.execute("DELETE FROM exemptions WHERE kind = ? AND target_id = ?", (kind, target_id))
        return bool(cur.rowcount)


# -- subscriptions over time (for renewal terms) ---------------------------------------------
def subscription_lifecycles(store: Store) -> pd.DataFrame:
    """Each distinct (subscription, status, next lifecycle date) seen in complete snapshots, with
    the first snapshot time it was seen: ``subscription_id``, ``status``, ``next_lifecycle_at``,
    ``first_seen``. A renewal shows as the date moving on by one term."""
    return _frame(
        store,
        """SELECT s.subscription_id, s.status, s.next_lifecycle_at, MIN(sn.started_at) AS first_seen
           FROM subscriptions s JOIN snapshots sn ON sn.id = s.snapshot_id
           WHERE sn.status = 'complete' AND s.next_lifecycle_at IS NOT NULL
           GROUP BY s.subscription_id, s.status, s.next_lifecycle_at
           ORDER BY s.subscription_id, first_seen""",
    )
