"""Writing one snapshot atomically.

A collection streams its rows into TEMP staging tables (private to this connection, so they
hold no lock on the store and vanish if the process dies). ``complete()`` then, in ONE
transaction, copies the per-snapshot facts, turns the staged user rows into interval changes
against the current history, and marks the snapshot complete. Readers only ever look at
complete snapshots, so a crash at any point leaves the previous snapshot as the latest.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from licensedesk.errors import StoreError
from store.db import SQLITE, Dialect, Store, utcnow
from store.postgres import PostgresConnection

# staging table -> columns, in the order rows arrive
_STAGING: dict[str, tuple[str, ...]] = {
    "stage_skus": (
        "sku_id", "sku_part_number", "applies_to", "capability_status",
        "enabled", "warning", "suspended", "locked_out", "consumed",
    ),
    "stage_plans": ("sku_id", "service_plan_id", "service_plan_name", "provisioning_status", "applies_to"),
    "stage_subscriptions": (
        "subscription_id", "commerce_subscription_id", "sku_id", "sku_part_number", "status",
        "total_licenses", "is_trial", "created_at", "next_lifecycle_at",
    ),
    "stage_groups": ("group_id", "display_name", "processing_state", "has_errors"),
    "stage_group_licenses": ("group_id", "sku_id", "disabled_plans"),
    "stage_error_members": ("group_id", "user_id"),
    "stage_users": (
        "user_id", "user_principal_name", "display_name", "account_enabled", "user_type",
        "usage_location", "department", "company_name", "job_title", "created_at",
    ),
    "stage_licenses": (
        "user_id", "sku_id", "assigned_by_group", "state", "error", "disabled_plans", "last_updated_at",
    ),
    "stage_assigned": ("user_id", "sku_id"),
    "stage_signins": ("user_id", "last_sign_in_at", "last_non_interactive_at", "last_successful_at"),
    # Licence keys whose current row is not staged identically: publishing closes them.
    "stage_closing_licenses": ("user_id", "sku_id", "assigned_by_group"),
}  # fmt: skip
# Per-user rows staged with ``stage_user_page`` carry a ``differs`` flag: 1 when no identical row
# is current in the history (so publishing opens it), worked out page by page while the next page
# downloads. Rows staged with ``stage`` keep the default 1 and are diffed at publish instead.
_FLAGGED = ("stage_users", "stage_licenses", "stage_signins")
_KEYS: dict[str, tuple[str, ...]] = {
    "stage_skus": ("sku_id",),
    "stage_plans": ("sku_id", "service_plan_id"),
    "stage_subscriptions": ("subscription_id",),
    "stage_groups": ("group_id",),
    "stage_group_licenses": ("group_id", "sku_id"),
    "stage_error_members": ("group_id", "user_id"),
    "stage_users": ("user_id",),
    "stage_licenses": ("user_id", "sku_id", "assigned_by_group"),
    "stage_assigned": ("user_id", "sku_id"),
    "stage_signins": ("user_id",),
    "stage_closing_licenses": ("user_id", "sku_id", "assigned_by_group"),
}
# Column types, for PostgreSQL's staging tables (SQLite's stay untyped, as they were tuned).
_INTEGERS = frozenset({
    "enabled", "warning", "suspended", "locked_out", "consumed", "total_licenses", "is_trial",
    "has_errors", "account_enabled", "differs",
})  # fmt: skip
USER_ATTRS = _STAGING["stage_users"][1:]
_BULK = frozenset(
    {"stage_users", "stage_licenses", "stage_assigned", "stage_signins", "stage_closing_licenses"}
)
# What makes a license row "the same" from one snapshot to the next (lastUpdated is carried along).
LICENSE_IDENTITY = ("user_id", "sku_id", "assigned_by_group", "state", "error", "disabled_plans")
_IDS_PER_QUERY = 500  # ids bound per VALUES list: well under every engine's parameter limit
# The stored rows a page of users is compared with (``stage_user_page``): for each id, its
# current user row (user_id NULL when none) and, when sign-ins are collected, its sign-in row, in
# the staged column order. The ids are a VALUES list that the joins keep as the outer loop, so
# each id is one index lookup; with "user_id IN (...)" and no table statistics SQLite read every
# current row through the valid_to index instead (~40x slower).
_USER_LOOKUP = (
    f"p.column1, u.user_id, {', '.join('u.' + c for c in USER_ATTRS)}{{signins}} FROM (VALUES {{ids}}) AS p "
    "LEFT JOIN users u ON u.user_id = p.column1 AND u.valid_to IS NULL{join}"
)
_CURRENT_USERS = "SELECT " + _USER_LOOKUP.format(signins="", ids="{ids}", join="")
_CURRENT_USERS_AND_SIGNINS = "SELECT " + _USER_LOOKUP.format(
    signins=", s.user_id, s.last_sign_in_at, s.last_non_interactive_at, s.last_successful_at",
    ids="{ids}",
    join=" LEFT JOIN user_signins s ON s.user_id = p.column1 AND s.valid_to IS NULL",
)
_CURRENT_LICENSES = (
    f"SELECT {', '.join('u.' + c for c in LICENSE_IDENTITY)} FROM (VALUES {{ids}}) AS p "
    "CROSS JOIN user_licenses u WHERE u.user_id = p.column1 AND u.valid_to IS NULL"
)


@dataclass
class SnapshotSummary:
    snapshot_id: int
    users: int
    licenses: int
    skus: int
    groups: int
    users_changed: int
    licenses_changed: int
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0


class SnapshotWriter:
    """Stage rows for one snapshot and publish them atomically with ``complete()``.

    Use as a context manager: leaving the block without ``complete()`` (an exception, a
    KeyboardInterrupt) marks the snapshot failed and publishes nothing.
    """

    def __init__(self, store: Store, tenant_id: str, started_at: str | None = None) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.started_at = started_at or utcnow()
        self.snapshot_id: int | None = None
        self._done = False
        # The latest complete snapshot when staging began: the page-by-page changes are relative
        # to it, and are only used if it is still the latest when publishing.
        self._base: int | None = None
        # False once per-user rows are staged without their changes (``stage`` on a per-user
        # table): publishing then diffs the whole staging against the history instead.
        self._paged = True
        self._holders: Counter[str] = Counter()  # users holding each SKU (stage_assigned)

    def __enter__(self) -> SnapshotWriter:
        conn, temp = self.store.conn, self.store.dialect.temp
        with self.store.atomic() as tx:
            _abandon_dead_runs(tx)
            cur = tx.execute(
                "INSERT INTO snapshots (tenant_id, started_at, status, host, pid) VALUES (?, ?, 'running', ?, ?) RETURNING id",
                (self.tenant_id, self.started_at, socket.gethostname(), os.getpid()),
            )
            self.snapshot_id = int(cur.fetchone()[0])
            self._base = tx.execute("SELECT MAX(id) FROM snapshots WHERE status = 'complete'").fetchone()[0]
        # Staging is rebuilt from Graph on any retry, and private to this connection, so it
        # holds no lock on the store and vanishes with the process.
        if self.store.dialect is SQLITE:
            conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"DROP TABLE IF EXISTS {temp}stage_holders")
        for table, columns in _STAGING.items():
            conn.execute(f"DROP TABLE IF EXISTS {temp}{table}")
            # Per-user tables are unique by construction (the collector drops repeated users) and
            # get their index once, in bulk, at complete(): a key maintained row by row costs ~3x.
            key = "" if table in _BULK else f", PRIMARY KEY ({', '.join(_KEYS[table])})"
            flag = f", {self._column('differs')} DEFAULT 1" if table in _FLAGGED else ""
            conn.execute(f"CREATE TEMP TABLE {table} ({', '.join(map(self._column, columns))}{flag}{key})")
        return self

    def _column(self, name: str) -> str:
        if self.store.dialect is SQLITE:
            return name
        return f"{name} {'INTEGER' if name in _INTEGERS else 'TEXT'}"

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        conn = self.store.conn
        if conn.in_transaction:
            conn.rollback()
        if not self._done and self.snapshot_id is not None:
            reason = str(exc) if exc else "the collection stopped before completing"
            try:
                with self.store.atomic() as tx:
                    tx.execute(
                        "UPDATE snapshots SET status = 'failed', finished_at = ?, error = ? WHERE id = ? AND status = 'running'",
                        (utcnow(), reason[:500], self.snapshot_id),
                    )
            except Exception:  # noqa: BLE001 - the original error matters more than this bookkeeping
                pass
        for table in (*_STAGING, "stage_holders"):
            conn.execute(f"DROP TABLE IF EXISTS {self.store.dialect.temp}{table}")

    def stage(self, table: str, rows: Iterable[Sequence[Any]]) -> None:
        """Add rows to a staging table.

        Small tables keep the first row of a repeated key. Per-user tables must be given each
        user once (``collectors.users`` guarantees it across pages); staging them here rather than
        with ``stage_user_page`` makes ``complete()`` diff all of them against the history.
        """
        if table in _BULK:
            self._paged = False
        self._in_transaction(lambda: self._insert(table, rows))

    def stage_user_page(
        self,
        users: Sequence[tuple[Any, ...]],
        licenses: Sequence[tuple[Any, ...]],
        assigned: Sequence[tuple[Any, ...]],
        signins: Sequence[tuple[Any, ...]],
    ) -> None:
        """Stage one page of users (each user once across pages) with their licences, assigned
        SKUs and sign-ins (rows of this page's users only), and work out what publishing them
        changes.

        The collector calls this while the next page downloads, so the comparison with the
        current history costs no wall-clock time and ``complete()`` only writes the changes.
        Reads the store (the current rows of this page's users) but writes only staging tables.
        """
        # No complete snapshot yet means nothing is current: every row is new, and the flag's
        # default (1) says so without rebuilding the rows.
        compared = self._base is not None
        closing: list[tuple[Any, ...]] = []
        if compared:
            # Sorted ids: neighbouring lookups share index pages (Graph's order is random).
            ids = sorted(row[0] for row in users)
            width = len(users[0]) if users else 0
            current = {
                row[0]: row[1:]
                for row in self._current(_CURRENT_USERS_AND_SIGNINS if signins else _CURRENT_USERS, ids)
            }
            # Stored rows come in the staged column order, so whole tuples compare.
            users = [(*row, int(current[row[0]][:width] != row)) for row in users]
            signins = [(*row, int(current[row[0]][width:] != row)) for row in signins]
            stored_licenses = set(self._current(_CURRENT_LICENSES, ids))
            staged = {row[:6] for row in licenses}
            closing = sorted({row[:3] for row in stored_licenses - staged})
            licenses = [(*row, int(row[:6] not in stored_licenses)) for row in licenses]

        def insert() -> None:
            for table, rows in (
                ("stage_users", users), ("stage_licenses", licenses), ("stage_assigned", assigned),
                ("stage_signins", signins), ("stage_closing_licenses", closing),
            ):  # fmt: skip
                if rows:
                    self._insert(table, rows, flagged=compared and table in _FLAGGED)

        self._in_transaction(insert)

    def _index(self, table: str) -> None:
        keys = ", ".join(_KEYS[table])
        if self.store.dialect is SQLITE:
            self.store.conn.execute(f"CREATE INDEX IF NOT EXISTS temp.{table}_key ON {table} ({keys})")
        else:
            self.store.conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_key ON pg_temp.{table} ({keys})")

    def _current(self, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (with an ``{ids}`` VALUES list) for these user ids, in chunks."""
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start : start + _IDS_PER_QUERY]
            rows = self.store.conn.execute(sql.format(ids=", ".join(["(?)"] * len(chunk))), chunk).fetchall()
            out.extend(map(tuple, rows))  # sqlite3 gives tuples already; the PostgreSQL adapter may not
        return out

    def _in_transaction(self, work: Callable[[], None]) -> None:
        # One transaction per call: in autocommit mode SQLite commits every row on its own (~40%
        # of staging time). Only TEMP tables are written, so it takes no lock on the store.
        conn = self.store.conn
        conn.execute("BEGIN")
        try:
            work()
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def _insert(self, table: str, rows: Iterable[Sequence[Any]], *, flagged: bool = False) -> None:
        columns = (*_STAGING[table], "differs") if flagged else _STAGING[table]
        if table == "stage_assigned":
            # Holders per SKU are counted as rows arrive (a GROUP BY at publish cost ~0.2 s/100k).
            rows = list(rows)
            self._holders.update(row[1] for row in rows)
        conn, temp = self.store.conn, self.store.dialect.temp
        if table in _BULK and isinstance(conn, PostgresConnection):
            conn.copy_rows(f"{temp}{table}", columns, rows)
            return
        marks = ", ".join("?" for _ in columns)
        conflict = "" if table in _BULK else " ON CONFLICT DO NOTHING"
        # Plain tuples: sqlite3 binds a tuple subclass (our NamedTuple rows) ~2.7x slower.
        conn.executemany(
            f"INSERT INTO {temp}{table} ({', '.join(columns)}) VALUES ({marks}){conflict}",
            map(tuple, rows),
        )

    def complete(
        self,
        *,
        finished_at: str | None = None,
        request_count: int = 0,
        retry_count: int = 0,
        duration_seconds: float | None = None,
        signin_available: bool = True,
        warnings: Sequence[str] = (),
        also: Sequence[Callable[[Any, int], None]] = (),
    ) -> SnapshotSummary:
        """Publish the snapshot: facts, interval changes and status in one transaction; ``also``
        are further publishers (e.g. ``store.usage.UsageStage.publish``) run in it."""
        sid = self.snapshot_id
        if sid is None:
            raise StoreError("Internal error: complete() called outside the snapshot block.")
        notes = list(warnings)
        conn, dialect = self.store.conn, self.store.dialect
        # Indexes only where publishing looks rows up: who is still in the tenant, and the few
        # licence keys to close. Whole-table reads need none (~0.3 s per 100k rows saved).
        for table in ("stage_users", "stage_closing_licenses"):
            self._index(table)
        conn.execute(f"CREATE TEMP TABLE stage_holders ({self._column('sku_id')}, holders INTEGER)")
        self._in_transaction(
            lambda: conn.executemany(
                f"INSERT INTO {dialect.temp}stage_holders (sku_id, holders) VALUES (?, ?)",
                sorted(self._holders.items()),
            )
        )
        if dialect is not SQLITE:
            # Autovacuum never analyses temporary tables: without statistics the planner
            # guesses their size and picks nested loops over 100k-row joins.
            for table in _BULK:
                conn.execute(f"ANALYZE pg_temp.{table}")
        t = dialect.temp
        with self.store.atomic() as tx:
            newer = tx.execute(
                "SELECT MAX(id) FROM snapshots WHERE status = 'complete'",
            ).fetchone()[0]
            if newer is not None and newer > sid:
                raise StoreError(
                    "Another collection finished while this one ran; this snapshot was discarded to keep history in order."
                )
            notes.extend(_reconcile(tx, t))
            _copy_facts(tx, sid, t)
            if self._paged and newer == self._base:
                users_changed = _publish_user_changes(tx, sid, dialect)
                licenses_changed = _publish_license_changes(tx, sid, t)
            else:
                # Staged without their changes, or another collection published since staging
                # began (the pages were compared with what it replaced): diff everything now.
                self._index("stage_licenses")
                users_changed = _apply_user_intervals(tx, sid, dialect)
                licenses_changed = _apply_license_intervals(tx, sid, t)
                if signin_available:
                    _flag_signin_changes(tx, dialect)
            if signin_available:
                _publish_signin_changes(tx, sid, t)
            for publish in also:
                publish(tx, sid)
            counts = {
                name: tx.execute(f"SELECT COUNT(*) FROM {t}{table}").fetchone()[0]
                for name, table in (
                    ("users", "stage_users"),
                    ("licenses", "stage_licenses"),
                    ("skus", "stage_skus"),
                    ("groups", "stage_groups"),
                )
            }
            finished = finished_at or utcnow()
            tx.execute(
                """UPDATE snapshots SET status = 'complete', finished_at = ?, user_count = ?, license_count = ?,
                       sku_count = ?, group_count = ?, request_count = ?, retry_count = ?,
                       duration_seconds = ?, signin_available = ?, warnings = ?
                   WHERE id = ?""",
                (
                    finished, counts["users"], counts["licenses"], counts["skus"], counts["groups"],
                    request_count, retry_count, duration_seconds,
                    int(signin_available), json.dumps(notes), sid,
                ),
            )  # fmt: skip
        self._done = True
        return SnapshotSummary(
            snapshot_id=sid,
            users=counts["users"],
            licenses=counts["licenses"],
            skus=counts["skus"],
            groups=counts["groups"],
            users_changed=users_changed,
            licenses_changed=licenses_changed,
            warnings=notes,
            requests=request_count,
            retries=retry_count,
        )


def _abandon_dead_runs(tx: Any) -> None:
    """Mark 'running' snapshots of processes that no longer exist on this host as failed."""
    host = socket.gethostname()
    for sid, pid in tx.execute(
        "SELECT id, pid FROM snapshots WHERE status = 'running' AND host = ?", (host,)
    ).fetchall():
        if pid is None or not _alive(int(pid)):
            tx.execute(
                "UPDATE snapshots SET status = 'failed', error = ? WHERE id = ?",
                ("the collector process ended before completing this snapshot", sid),
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reconcile(tx: Any, t: str) -> list[str]:
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
        f"SELECT COUNT(DISTINCT sku_id) FROM {t}stage_assigned WHERE sku_id NOT IN (SELECT sku_id FROM {t}stage_skus)"
    ).fetchone()[0]
    if orphans:
        notes.append(f"{orphans} SKU(s) held by users are missing from subscribedSkus.")
    return notes


def _copy_facts(tx: Any, sid: int, t: str) -> None:
    tx.execute(
        f"""INSERT INTO sku_counts (snapshot_id, sku_id, sku_part_number, applies_to, capability_status,
               enabled, warning, suspended, locked_out, consumed, users_in_store)
           SELECT ?, s.sku_id, s.sku_part_number, s.applies_to, s.capability_status, s.enabled, s.warning,
               s.suspended, s.locked_out, s.consumed, COALESCE(h.holders, 0)
           FROM {t}stage_skus s LEFT JOIN {t}stage_holders h ON h.sku_id = s.sku_id""",
        (sid,),
    )
    for target, table in (
        ("sku_service_plans", "stage_plans"),
        ("subscriptions", "stage_subscriptions"),
        ("licensed_groups", "stage_groups"),
        ("group_licenses", "stage_group_licenses"),
        ("group_error_members", "stage_error_members"),
    ):
        columns = ", ".join(_STAGING[table])
        tx.execute(
            f"INSERT INTO {target} (snapshot_id, {columns}) SELECT ?, {columns} FROM {t}{table}", (sid,)
        )


def _same(columns: Sequence[str], left: str, right: str, op: str) -> str:
    # NULL-safe equality (not =) for nullable columns, so an unchanged null department is not a change;
    # "=" where columns are NOT NULL, which lets the partial indexes serve the join.
    return " AND ".join(f"{left}.{c} {op} {right}.{c}" for c in columns)


def _apply_user_intervals(tx: Any, sid: int, dialect: Dialect) -> int:
    t = dialect.temp
    closed = tx.execute(
        f"""UPDATE users SET valid_to = ? WHERE valid_to IS NULL AND NOT EXISTS (
               SELECT 1 FROM {t}stage_users s WHERE s.user_id = users.user_id AND {_same(USER_ATTRS, "s", "users", dialect.same)})""",
        (sid,),
    ).rowcount
    columns = ", ".join(_STAGING["stage_users"])
    opened = tx.execute(
        f"""INSERT INTO users ({columns}, valid_from, valid_to)
            SELECT {", ".join("s." + c for c in _STAGING["stage_users"])}, ?, NULL FROM {t}stage_users s
            WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.valid_to IS NULL AND u.user_id = s.user_id)
            ORDER BY s.user_id""",  # in index order: fewer index pages touched and split
        (sid,),
    ).rowcount
    return int(max(closed, opened))


def _apply_license_intervals(tx: Any, sid: int, t: str) -> int:
    closed = tx.execute(
        f"""UPDATE user_licenses SET valid_to = ? WHERE valid_to IS NULL AND NOT EXISTS (
               SELECT 1 FROM {t}stage_licenses s WHERE {_same(LICENSE_IDENTITY, "s", "user_licenses", "=")})""",
        (sid,),
    ).rowcount
    columns = ", ".join(_STAGING["stage_licenses"])
    opened = tx.execute(
        f"""INSERT INTO user_licenses ({columns}, valid_from, valid_to)
            SELECT {", ".join("s." + c for c in _STAGING["stage_licenses"])}, ?, NULL FROM {t}stage_licenses s
            WHERE NOT EXISTS (SELECT 1 FROM user_licenses u WHERE u.valid_to IS NULL AND {_same(LICENSE_IDENTITY, "u", "s", "=")})
            ORDER BY s.user_id, s.sku_id, s.assigned_by_group""",
        (sid,),
    ).rowcount
    return int(closed + opened)


def _publish_user_changes(tx: Any, sid: int, dialect: Dialect) -> int:
    """Write the user changes worked out page by page: close the current rows of users who
    changed or left the tenant, open the new rows."""
    t = dialect.temp
    closed = tx.execute(
        f"""UPDATE users SET valid_to = ? WHERE valid_to IS NULL AND
               NOT EXISTS (SELECT 1 FROM {t}stage_users s WHERE s.user_id = users.user_id AND s.differs = 0)""",
        (sid,),
    ).rowcount
    columns = ", ".join(_STAGING["stage_users"])
    opened = tx.execute(
        f"""INSERT INTO users ({columns}, valid_from, valid_to)
            SELECT {columns}, ?, NULL FROM {t}stage_users WHERE differs = 1 ORDER BY user_id""",
        (sid,),
    ).rowcount
    return int(max(closed, opened))


def _flag_signin_changes(tx: Any, dialect: Dialect) -> None:
    """Flag the staged sign-ins that differ from the user's current row (``differs``), as
    ``stage_user_page`` does page by page."""
    t = dialect.temp
    tx.execute(
        f"""UPDATE {t}stage_signins SET differs = CASE WHEN EXISTS (SELECT 1 FROM user_signins c WHERE c.valid_to IS NULL
               AND {_same(_STAGING["stage_signins"], "c", f"{t}stage_signins", dialect.same)}) THEN 0 ELSE 1 END"""
    )


def _publish_signin_changes(tx: Any, sid: int, t: str) -> None:
    """Close the current sign-in row of each user whose activity changed, and open the new one.

    A user missing from this snapshot keeps their row open: the users table decides who is in a
    snapshot, and a returning user's activity then carries on from what was last seen."""
    tx.execute(
        f"""UPDATE user_signins SET valid_to = ? WHERE valid_to IS NULL
               AND user_id IN (SELECT user_id FROM {t}stage_signins WHERE differs = 1)""",
        (sid,),
    )
    columns = ", ".join(_STAGING["stage_signins"])
    tx.execute(
        f"""INSERT INTO user_signins ({columns}, valid_from, valid_to)
            SELECT {columns}, ?, NULL FROM {t}stage_signins WHERE differs = 1 ORDER BY user_id""",
        (sid,),
    )


def _publish_license_changes(tx: Any, sid: int, t: str) -> int:
    """Write the licence changes worked out page by page: close the keys that changed, and every
    licence of users who left; open the new rows."""
    # Users who left had their row closed by _publish_user_changes, which ran first.
    left = tx.execute(
        f"""UPDATE user_licenses SET valid_to = ? WHERE valid_to IS NULL AND user_id IN (
               SELECT user_id FROM users WHERE valid_to = ?
               AND NOT EXISTS (SELECT 1 FROM {t}stage_users s WHERE s.user_id = users.user_id))""",
        (sid, sid),
    ).rowcount
    key = ("user_id", "sku_id", "assigned_by_group")
    changed = tx.execute(
        f"""UPDATE user_licenses SET valid_to = ? WHERE valid_to IS NULL
               AND user_id IN (SELECT user_id FROM {t}stage_closing_licenses)
               AND EXISTS (SELECT 1 FROM {t}stage_closing_licenses c WHERE {_same(key, "c", "user_licenses", "=")})""",
        (sid,),
    ).rowcount
    columns = ", ".join(_STAGING["stage_licenses"])
    opened = tx.execute(
        f"""INSERT INTO user_licenses ({columns}, valid_from, valid_to)
            SELECT {columns}, ?, NULL FROM {t}stage_licenses WHERE differs = 1
            ORDER BY user_id, sku_id, assigned_by_group""",
        (sid,),
    ).rowcount
    return int(left + changed + opened)
