"""Writing one snapshot atomically.

A collection streams its rows into TEMP staging tables (``store.staging``: private to this
connection, so they hold no lock on the store and vanish if the process dies), each page of
users compared with the current history as it is staged (``store.current``). ``complete()`` then,
in ONE transaction, copies the per-snapshot facts, writes the user rows that changed as interval
changes (``store.publish``), and marks the snapshot complete. Readers only ever look at complete
snapshots, so a crash at any point leaves the previous snapshot as the latest.

The comparison is made against the latest complete snapshot when staging began (the base). If
another collection publishes while this one runs, the comparison no longer holds: this one is
discarded (marked failed, with a sentence saying so) rather than overwrite newer data.
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
from store.current import compare_page
from store.db import Store, utcnow
from store.publish import publish
from store.staging import PAGE_TABLES, STAGING, StagingTables, table

# Users per page when rows staged with ``stage`` are compared at complete(), as the collector's pages are.
_PENDING_PAGE = 1000
_INTERNAL = ("stage_closing_licenses", "stage_holders")  # filled by the writer itself


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
        # The latest complete snapshot when staging began: staged rows are compared with the
        # history as it stood then, so they are only published if it is still the latest.
        self._base: int | None = None
        self._tables = StagingTables(store)
        # Per-user rows given to ``stage``, compared and staged page by page at complete().
        self._pending: dict[str, list[Sequence[Any]]] = {name: [] for name in PAGE_TABLES}
        self._holders: Counter[str] = Counter()  # users holding each SKU (stage_assigned)

    def __enter__(self) -> SnapshotWriter:
        with self.store.atomic() as tx:
            _abandon_dead_runs(tx)
            cur = tx.execute(
                "INSERT INTO snapshots (tenant_id, started_at, status, host, pid) VALUES (?, ?, 'running', ?, ?) RETURNING id",
                (self.tenant_id, self.started_at, socket.gethostname(), os.getpid()),
            )
            self.snapshot_id = int(cur.fetchone()[0])
            self._base = _latest_complete(tx)
        # Staging is rebuilt from Graph on any retry, and private to this connection, so it
        # holds no lock on the store and vanishes with the process.
        self._tables.create()
        return self

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
        self._tables.drop()

    def stage(self, name: str, rows: Iterable[Sequence[Any]]) -> None:
        """Add rows to a staging table, in its row type's field order (``store.staging``).

        Small tables keep the first row of a repeated key. Per-user tables must be given each
        user once; their rows are kept until ``complete()``, which compares them with the history
        a page of users at a time, exactly as ``stage_user_page`` does.
        """
        if name in _INTERNAL:
            raise StoreError(f"Internal error: {name} is filled by the snapshot writer itself.")
        if table(name).per_user:
            self._pending[name].extend(rows)
            return
        self._in_transaction(lambda: self._insert(name, rows))

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
        for name, rows in zip(PAGE_TABLES, (users, licenses, assigned, signins), strict=True):
            if rows and len(rows[0]) != len(STAGING[name].columns):
                raise StoreError(
                    f"Internal error: {name} rows have {len(rows[0])} fields, not {len(STAGING[name].columns)}."
                )
        # Sorted ids: neighbouring lookups share index pages (Graph's order is random).
        self._stage_page(sorted(row[0] for row in users), users, licenses, assigned, signins)

    def _stage_page(
        self,
        ids: Sequence[str],
        users: Sequence[tuple[Any, ...]],
        licenses: Sequence[tuple[Any, ...]],
        assigned: Sequence[tuple[Any, ...]],
        signins: Sequence[tuple[Any, ...]],
    ) -> None:
        # No complete snapshot yet means nothing is current: every row is new, and the flag's
        # default (1) says so without rebuilding the rows.
        compared = self._base is not None
        closing: list[tuple[Any, ...]] = []
        if compared:
            page = compare_page(self.store.conn, ids, users, licenses, signins)
            users, licenses, signins, closing = page.users, page.licenses, page.signins, page.closing

        def insert() -> None:
            for name, rows in zip(
                (*PAGE_TABLES, "stage_closing_licenses"),
                (users, licenses, assigned, signins, closing),
                strict=True,
            ):
                if rows:
                    self._insert(name, rows, flagged=compared and STAGING[name].flagged)

        self._in_transaction(insert)

    def _stage_pending(self) -> None:
        """Stage the per-user rows given to ``stage``, a page of users at a time."""
        by_user: dict[str, tuple[list[Any], ...]] = {}
        for position, name in enumerate(PAGE_TABLES):
            for row in self._pending[name]:
                by_user.setdefault(row[0], ([], [], [], []))[position].append(tuple(row))
        self._pending = {name: [] for name in PAGE_TABLES}
        ids = sorted(by_user)
        for start in range(0, len(ids), _PENDING_PAGE):
            chunk = ids[start : start + _PENDING_PAGE]
            rows = [
                [row for uid in chunk for row in by_user[uid][position]]
                for position in range(len(PAGE_TABLES))
            ]
            self._stage_page(chunk, *rows)

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

    def _insert(self, name: str, rows: Iterable[Sequence[Any]], *, flagged: bool = False) -> None:
        if name == "stage_assigned":
            # Holders per SKU are counted as rows arrive (a GROUP BY at publish cost ~0.2 s/100k).
            rows = list(rows)
            self._holders.update(row[1] for row in rows)
        self._tables.insert(name, rows, flagged=flagged)

    def complete(
        self,
        *,
        finished_at: str | None = None,
        request_count: int = 0,
        retry_count: int = 0,
        duration_seconds: float | None = None,
        signin_available: bool = True,
        warnings: Sequence[str] = (),
    ) -> SnapshotSummary:
        """Publish the snapshot: facts, interval changes and status in one transaction.

        Raises:
            StoreError: another collection published a snapshot since this one began (this one
                is then marked failed, and nothing of it is published).
        """
        sid = self.snapshot_id
        if sid is None:
            raise StoreError("Internal error: complete() called outside the snapshot block.")
        notes = list(warnings)
        self._stage_pending()
        # Indexes only where publishing looks rows up: who is still in the tenant, and the few
        # licence keys to close. Whole-table reads need none (~0.3 s per 100k rows saved).
        for name in ("stage_users", "stage_closing_licenses"):
            self._tables.index(name)
        self._in_transaction(lambda: self._insert("stage_holders", sorted(self._holders.items())))
        self._tables.analyze()
        with self.store.atomic() as tx:
            latest = _latest_complete(tx)
            if latest != self._base:
                raise StoreError(
                    f"Another collection published snapshot {latest} while this one ran, so this one was "
                    "discarded rather than overwrite newer data; run the collection again."
                )
            users_changed, licenses_changed, reconciled = publish(
                tx, sid, self.store.dialect, signin_available=signin_available
            )
            notes.extend(reconciled)
            counts = {
                name: self._tables.count(f"stage_{name}") for name in ("users", "licenses", "skus", "groups")
            }
            tx.execute(
                """UPDATE snapshots SET status = 'complete', finished_at = ?, user_count = ?, license_count = ?,
                       sku_count = ?, group_count = ?, request_count = ?, retry_count = ?,
                       duration_seconds = ?, signin_available = ?, warnings = ?
                   WHERE id = ?""",
                (
                    finished_at or utcnow(), counts["users"], counts["licenses"], counts["skus"],
                    counts["groups"], request_count, retry_count, duration_seconds,
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


def _latest_complete(tx: Any) -> int | None:
    latest = tx.execute("SELECT MAX(id) FROM snapshots WHERE status = 'complete'").fetchone()[0]
    return None if latest is None else int(latest)


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
