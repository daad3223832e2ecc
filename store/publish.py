"""Publishing a snapshot into the store: each page of users as it arrives, the rest at the end.

Users, licences, sign-ins and usage are kept as intervals of snapshot ids. A page's changes
(``store.current.PageChanges``; its users' usage, ``publish_usage``) are written into the
history as soon as the page is compared: the rows it replaces are closed (``valid_to = sid``) and
its new rows opened (``valid_from = sid``). Every reader queries as of a complete snapshot S < sid (``valid_from <= S AND (valid_to
IS NULL OR valid_to > S)``), so an opened row is invisible and a closed one still visible until
the snapshot is marked complete: the page writes need no transaction of the snapshot's own, and
the sweep's waits on Graph hide them. Only one collection writes a store's history at a time
(``store.locks.COLLECT``), and the rows of a collection that never completes are undone
(``undo``) before anything else is published.

At the end, in the snapshot's one transaction: the users who left are closed (and the usage of
users given none), the per-snapshot facts (SKU counts, plans, subscriptions, groups) copied as
they are, and the status set.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, cast

from store.current import IDS_PER_QUERY, PageChanges
from store.db import Connection, Dialect
from store.staging import STAGING
from store.usage import USAGE_COLUMNS

if TYPE_CHECKING:  # psycopg is imported only where a PostgreSQL store is opened (store.db)
    from store.postgres import PostgresConnection

# The history table each per-user row type is published into, and its columns.
HISTORY = {"stage_users": "users", "stage_licenses": "user_licenses", "stage_signins": "user_signins"}
_COLUMNS = {name: (*STAGING[name].columns, "valid_from") for name in HISTORY}
USAGE = "user_usage"  # usage rows (store.usage), published as they are joined, like pages
_USAGE_COLUMNS = (*USAGE_COLUMNS, "valid_from")
_KEY = " AND ".join(f"{c} = ?" for c in ("user_id", "sku_id", "assigned_by_group"))
# Rows bound per INSERT on SQLite: 64 (50-100 measured alike), fewer where a table's rows would
# pass 999 values, the oldest SQLite's limit on variables in one statement.
_MOST_ROWS_PER_INSERT = 64


def publish_page(tx: Connection, sid: int, dialect: Dialect, changes: PageChanges) -> None:
    """Close the current rows the page replaces, and open its new rows."""
    _close(tx, "users", sid, changes.closing_users)
    _close(tx, "user_signins", sid, changes.closing_signins)
    tx.executemany(
        f"UPDATE user_licenses SET valid_to = ? WHERE {_KEY} AND valid_to IS NULL",
        [(sid, *key) for key in changes.closing_licenses],
    )
    for name, rows in (
        ("stage_users", changes.users), ("stage_licenses", changes.licenses), ("stage_signins", changes.signins),
    ):  # fmt: skip
        # In key order, so neighbouring rows share index pages (keys are unique within a page, so
        # sorting whole tuples never compares the nullable columns after them).
        _insert(tx, dialect, HISTORY[name], _COLUMNS[name], [(*row, sid) for row in sorted(rows)])


def publish_usage(
    tx: Connection, sid: int, dialect: Dialect, opening: Sequence[tuple[Any, ...]], closing: Sequence[str]
) -> None:
    """Close the current usage rows of the users ``closing`` and open the rows ``opening``."""
    _close(tx, USAGE, sid, closing)
    _insert(tx, dialect, USAGE, _USAGE_COLUMNS, [(*row, sid) for row in sorted(opening)])


def close_usage_of_the_rest(tx: Connection, sid: int, kept: set[str]) -> None:
    """Close the current usage rows from before this snapshot, but those of the users ``kept``
    (given the same usage in it): the others left, dropped out of the reports, were given a new
    row, or the snapshot has no usage at all (no Reports.Read.All, concealed names). Old usage is
    never shown as if it were the snapshot's. None kept: one statement, however many rows."""
    if not kept:
        tx.execute(f"UPDATE {USAGE} SET valid_to = ? WHERE valid_to IS NULL AND valid_from < ?", (sid, sid))
        return
    current = tx.execute(f"SELECT user_id FROM {USAGE} WHERE valid_to IS NULL AND valid_from < ?", (sid,))
    _close(tx, USAGE, sid, sorted({row[0] for row in current.fetchall()} - kept))


def _close(tx: Connection, table: str, sid: int, user_ids: Sequence[str]) -> None:
    if not user_ids:
        return
    tx.executemany(
        f"UPDATE {table} SET valid_to = ? WHERE user_id = ? AND valid_to IS NULL",
        [(sid, user_id) for user_id in user_ids],
    )


def _insert(
    tx: Connection, dialect: Dialect, table: str, columns: Sequence[str], stamped: Sequence[Sequence[Any]]
) -> None:
    if not stamped:
        return
    if dialect.copy:
        cast("PostgresConnection", tx).copy_rows(table, columns, stamped)
        return
    # Many rows per INSERT: executemany steps and resets the statement once per row, and a first
    # collection opens 500,000 rows (200,000 licence rows: 0.35 s this way against 0.56 s).
    per_insert = min(_MOST_ROWS_PER_INSERT, 999 // len(columns))
    one = f"({', '.join('?' for _ in columns)})"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    whole = len(stamped) - len(stamped) % per_insert
    if whole:
        sql = head + ", ".join([one] * per_insert)
        for start in range(0, whole, per_insert):
            tx.execute(sql, list(chain.from_iterable(stamped[start : start + per_insert])))
    if whole < len(stamped):
        tx.executemany(head + one, stamped[whole:])


def close_leavers(tx: Connection, sid: int, seen: set[str]) -> tuple[int, int]:
    """Close the rows of users current before this snapshot and not in it, and their licences:
    (users, licences) closed. Their sign-in rows stay open: a returning user's activity carries
    on from what was last seen (the users table decides who is in a snapshot)."""
    current = tx.execute("SELECT user_id FROM users WHERE valid_to IS NULL AND valid_from < ?", (sid,))
    left = sorted({row[0] for row in current.fetchall()} - seen)
    if not left:
        return 0, 0
    _close(tx, "users", sid, left)
    # Counted before closing: executemany's rowcount is not the same on both engines' drivers.
    licenses = 0
    for start in range(0, len(left), IDS_PER_QUERY):
        chunk = left[start : start + IDS_PER_QUERY]
        marks = ", ".join("?" for _ in chunk)
        licenses += int(
            tx.execute(
                f"SELECT COUNT(*) FROM user_licenses WHERE valid_to IS NULL AND user_id IN ({marks})", chunk
            ).fetchone()[0]
        )
    _close(tx, "user_licenses", sid, left)
    return len(left), licenses


# The per-user indexes keyed by user id, as the migrations left them (tests/store/test_paged_publish.py
# checks they still match). Rows arrive in random id order, so keeping these up to date row by row
# was most of a first collection's writing; a first collection, whose history starts empty, builds
# them once at the end instead (``defer_key_indexes``).
KEY_INDEXES = {
    "users_current": "users (user_id) WHERE valid_to IS NULL",
    "users_by_id": "users (user_id, valid_from)",
    "user_licenses_current": "user_licenses (user_id, sku_id, assigned_by_group) WHERE valid_to IS NULL",
    "user_signins_current": "user_signins (user_id) WHERE valid_to IS NULL",
    "user_signins_by_id": "user_signins (user_id, valid_from)",
}


def defer_key_indexes(tx: Connection) -> bool:
    """Drop the key indexes when the history is empty (they are built by ``build_key_indexes``);
    else make sure they exist (a first collection that was killed left them dropped)."""
    if tx.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None:
        build_key_indexes(tx)
        return False
    for name in KEY_INDEXES:
        tx.execute(f"DROP INDEX IF EXISTS {name}")
    return True


def build_key_indexes(tx: Connection) -> None:
    for name, definition in KEY_INDEXES.items():
        tx.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def undo(tx: Connection, sids: Sequence[int]) -> None:
    """Take out what snapshots that never completed wrote into the history: their opened rows are
    deleted and the rows they closed are open again (neither was ever visible to a reader)."""
    if not sids:
        return
    marks = ", ".join("?" for _ in sids)
    for table in (*HISTORY.values(), USAGE):
        tx.execute(f"DELETE FROM {table} WHERE valid_from IN ({marks})", tuple(sids))
        tx.execute(f"UPDATE {table} SET valid_to = NULL WHERE valid_to IN ({marks})", tuple(sids))


def reconcile(tx: Connection, t: str) -> list[str]:
    """Compare the per-user count of each SKU (``stage_holders``) with Graph's consumedUnits; explain any gap."""
    rows = tx.execute(
        f"""SELECT s.sku_part_number, s.consumed, COALESCE(h.holders, 0)
           FROM {t}stage_skus s LEFT JOIN {t}stage_holders h ON h.sku_id = s.sku_id
           WHERE s.consumed <> COALESCE(h.holders, 0) ORDER BY s.sku_part_number"""
    ).fetchall()
    notes = [
        f"{part}: Graph reports {consumed} consumed units but {holders} users hold it in this snapshot "
        f"({'more' if consumed > holders else 'fewer'} consumed than held: deleted users keep their licences "
        "for 30 days in the recycle bin, and assignments that changed during the collection also differ)."
        for part, consumed, holders in rows
    ]
    orphans = tx.execute(
        f"SELECT COUNT(*) FROM {t}stage_holders WHERE sku_id NOT IN (SELECT sku_id FROM {t}stage_skus)"
    ).fetchone()[0]
    if orphans:
        notes.append(f"{orphans} SKU(s) held by users are missing from subscribedSkus.")
    return notes


def copy_facts(tx: Connection, sid: int, t: str) -> None:
    tx.execute(
        f"""INSERT INTO sku_counts (snapshot_id, sku_id, sku_part_number, applies_to, capability_status,
               enabled, warning, suspended, locked_out, consumed, users_in_store)
           SELECT ?, s.sku_id, s.sku_part_number, s.applies_to, s.capability_status, s.enabled, s.warning,
               s.suspended, s.locked_out, s.consumed, COALESCE(h.holders, 0)
           FROM {t}stage_skus s LEFT JOIN {t}stage_holders h ON h.sku_id = s.sku_id""",
        (sid,),
    )
    for staged in STAGING.values():
        if staged.fact:
            columns = ", ".join(staged.columns)
            tx.execute(
                f"INSERT INTO {staged.fact} (snapshot_id, {columns}) SELECT ?, {columns} FROM {t}{staged.name}",
                (sid,),
            )
