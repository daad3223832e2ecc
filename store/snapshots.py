"""Writing one snapshot so that readers see all of it or none of it.

A collection holds the store's collect lock (``store.locks.COLLECT``) from start to end: a second
collection of the same store is refused at once, with a sentence naming the one running. Each page
of users is compared with the current history (``store.current``) and its changes published into
the history tables as it arrives (``store.publish``), and so are the users' usage rows as they are
joined to the reports (``stage_usage``); those rows stay invisible, because readers only look as of
complete snapshots. ``complete()`` then, in ONE transaction, closes the users who left (and the
usage of users given none), copies the per-snapshot facts (staged in TEMP tables,
``store.staging``) and marks the snapshot complete.

A collection that fails takes its rows back out (``store.publish.undo``) in the transaction that
marks it failed; one whose process died is still 'running', and the next collection, which holds
the lock and so knows it is dead, undoes it first. A 'failed' snapshot therefore has no rows in
the history, and a crash at any point leaves the previous snapshot as the latest.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from typing import Any

from licensedesk.errors import StoreError
from store.current import CurrentDigests, PageChanges, compare_page, read_digests
from store.db import Store, utcnow
from store.locks import COLLECT, LockTimeout, holding
from store.publish import (
    build_key_indexes,
    close_leavers,
    copy_facts,
    defer_key_indexes,
    publish_page,
    publish_usage,
    reconcile,
    undo,
)
from store.staging import PAGE_TABLES, STAGING, StagingTables, table
from store.summary import SnapshotSummary as SnapshotSummary  # re-exported: callers name it here
from store.usage_history import UsageHistory

# Users per page when rows staged with ``stage`` are compared at complete(), as the collector's pages are.
_PENDING_PAGE = 1000
_INTERNAL = ("stage_holders",)  # filled by the writer itself
# A first collection judges, over pages 3 to 10 of its sweep, whether to keep deferring its key
# indexes (bench_collect.py: a fast sweep waited 0.2 s before page 2, then next to nothing).
_WARM_UP_PAGES = 2
_JUDGED_AT = 10
_DIED = "the collector process ended before completing this snapshot"


class SnapshotWriter:
    """Stage rows for one snapshot and publish them with ``complete()``.

    Use as a context manager: leaving the block without ``complete()`` (an exception, a
    KeyboardInterrupt) marks the snapshot failed and takes out what its pages wrote.
    """

    def __init__(self, store: Store, tenant_id: str, started_at: str | None = None) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.started_at = started_at or utcnow()
        self.snapshot_id: int | None = None
        self._done = False
        # The latest complete snapshot when the collection began; None: nothing is current.
        self._base: int | None = None
        self._digests: CurrentDigests | None = None  # what is current at _base (see waiting_on_graph)
        self._held = ExitStack()  # the collect lock, held until the writer is left
        # A first collection builds the key indexes at the end (or early: see _publish_page).
        self._indexes_deferred = False
        self._tables = StagingTables(store)
        # Per-user rows given to ``stage``, compared and published page by page at complete().
        self._pending: dict[str, list[Sequence[Any]]] = {name: [] for name in PAGE_TABLES}
        self._holders: Counter[str] = Counter()  # users holding each SKU (stage_assigned)
        self._seen: set[str] = set()  # users published so far: the others left the tenant
        self._usage = UsageHistory()  # the usage rows given to stage_usage
        self._licenses = 0
        self._users_opened = self._users_closed = self._licenses_changed = 0
        # When the open transaction of page writes began (None: none open); see _publish_page.
        self._writing_since: float | None = None
        # Time spent waiting on Graph (from commit_pages to the next page) and publishing pages.
        self._wait_began: float | None = None
        self._waited = self._working = 0.0
        self._pages = 0

    def __enter__(self) -> SnapshotWriter:
        try:
            self._held.enter_context(holding(self.store, COLLECT, wait=0))
        except LockTimeout:
            self._held.close()
            raise self._refused() from None
        try:
            with self.store.atomic() as tx:
                # Under the lock, a 'running' snapshot is one whose process died: undone, then failed.
                dead = [
                    int(row[0])
                    for row in tx.execute("SELECT id FROM snapshots WHERE status = 'running'").fetchall()
                ]
                undo(tx, dead)
                for sid in dead:
                    tx.execute("UPDATE snapshots SET status = 'failed', error = ? WHERE id = ?", (_DIED, sid))
                self.snapshot_id = self._insert_snapshot(tx, "running")
                self._base = _latest_complete(tx)
                self._indexes_deferred = defer_key_indexes(tx)
            # Staging is rebuilt from Graph on any retry, and private to this connection, so it
            # holds no lock on the store and vanishes with the process.
            self._tables.create()
            for statement in self.store.dialect.collect_setup:
                self.store.conn.execute(statement)
        except BaseException:
            self._held.close()
            raise
        return self

    def _insert_snapshot(self, tx: Any, status: str, error: str | None = None) -> int:
        cur = tx.execute(
            "INSERT INTO snapshots (tenant_id, started_at, status, host, pid, error) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (self.tenant_id, self.started_at, status, socket.gethostname(), os.getpid(), error),
        )
        return int(cur.fetchone()[0])

    def _refused(self) -> StoreError:
        """The sentence for a collection refused because another holds the lock, recorded as failed."""
        # The holder records its snapshot just after taking the lock: give it a moment to appear.
        deadline = time.monotonic() + 2.0
        while True:
            running = self.store.conn.execute(
                "SELECT id, started_at, pid, host FROM snapshots WHERE status = 'running' ORDER BY id DESC"
            ).fetchone()
            if running is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        which = (
            f" (snapshot {running[0]}, started {running[1]} by process {running[2]} on {running[3]})"
            if running is not None
            else ""
        )
        sentence = (
            f"Another collection of this store is running{which}, so this one did not start; "
            "run it again once that one has finished."
        )
        with self.store.atomic() as tx:
            self._insert_snapshot(tx, "failed", sentence[:500])
        return StoreError(sentence)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        try:
            conn = self.store.conn
            self._writing_since = None
            if conn.in_transaction:
                conn.rollback()
            if not self._done and self.snapshot_id is not None:
                reason = str(exc) if exc else "the collection stopped before completing"
                try:
                    with self.store.atomic() as tx:
                        undo(tx, [self.snapshot_id])
                        if self._indexes_deferred:
                            build_key_indexes(tx)
                        tx.execute(
                            "UPDATE snapshots SET status = 'failed', finished_at = ?, error = ? WHERE id = ? AND status = 'running'",
                            (utcnow(), reason[:500], self.snapshot_id),
                        )
                except Exception:  # noqa: BLE001 - the original error matters more than this bookkeeping
                    pass  # still 'running': the next collection undoes it
            self._tables.drop()
        finally:
            self._held.close()

    def stage(self, name: str, rows: Iterable[Sequence[Any]]) -> None:
        """Add rows to a staging table, in its row type's field order (``store.staging``).

        Small tables keep the first row of a repeated key. Per-user tables must be given each
        user once; their rows are kept until ``complete()``, which compares and publishes them a
        page of users at a time, exactly as ``stage_user_page`` does.
        """
        if name in _INTERNAL:
            raise StoreError(f"Internal error: {name} is filled by the snapshot writer itself.")
        if table(name).per_user:
            self._pending[name].extend(rows)
            return
        self.store.temp_writes(lambda: self._tables.insert(name, rows))

    def stage_user_page(
        self,
        users: Sequence[tuple[Any, ...]],
        licenses: Sequence[tuple[Any, ...]],
        assigned: Sequence[tuple[Any, ...]],
        signins: Sequence[tuple[Any, ...]],
    ) -> None:
        """Publish one page of users (each user once across pages) with their licences, assigned
        SKUs and sign-ins (rows of this page's users only): compared with the current history,
        and what differs written into it, unseen by readers until ``complete()``.

        The collector calls this while the next page downloads, so it costs no wall-clock time
        when Graph is the slower side, and ``complete()`` has little left to do.
        """
        for name, rows in zip(PAGE_TABLES, (users, licenses, assigned, signins), strict=True):
            if rows and len(rows[0]) != len(STAGING[name].columns):
                raise StoreError(
                    f"Internal error: {name} rows have {len(rows[0])} fields, not {len(STAGING[name].columns)}."
                )
        # Sorted ids: neighbouring lookups share index pages (Graph's order is random).
        self._publish_page(sorted(row[0] for row in users), users, licenses, assigned, signins)

    def _publish_page(
        self,
        ids: Sequence[str],
        users: Sequence[tuple[Any, ...]],
        licenses: Sequence[tuple[Any, ...]],
        assigned: Sequence[tuple[Any, ...]],
        signins: Sequence[tuple[Any, ...]],
    ) -> None:
        sid = self.snapshot_id
        if sid is None:
            raise StoreError("Internal error: a page staged outside the snapshot block.")
        if not self._seen.isdisjoint(ids):
            raise StoreError("Internal error: a user was staged on two pages of one snapshot.")
        began = time.monotonic()
        if self._wait_began is not None:
            self._waited += began - self._wait_began
            self._wait_began = None
        self._seen.update(ids)
        self._holders.update(row[1] for row in assigned)
        self._licenses += len(licenses)
        if self._base is None:
            # Nothing is current: every row is new.
            changes = PageChanges(list(users), list(licenses), list(signins))
        else:
            changes = compare_page(self.store.conn, self._read_digests(), ids, users, licenses, signins)
        self._users_opened += len(changes.users)
        self._users_closed += len(changes.closing_users)
        self._licenses_changed += len(changes.licenses) + len(changes.closing_licenses)
        self._page_write(lambda conn, dialect: publish_page(conn, sid, dialect, changes))
        conn = self.store.conn
        self._pages += 1
        self._working += time.monotonic() - began
        if self._pages == _WARM_UP_PAGES:
            # Even a fast sweep waits for its first pages (the first request, the parser starting).
            self._waited = self._working = 0.0
        elif self._indexes_deferred and self._pages == _JUDGED_AT and self._waited > self._working:
            # A sweep that waits on Graph longer than it works hides the indexes' upkeep behind the
            # waits; building them after the last page would be the one thing left unhidden.
            build_key_indexes(conn)
            self._indexes_deferred = False
        self._commit_if_due()

    def stage_usage(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Publish usage rows (``store.usage.USAGE_COLUMNS`` order, each user once per snapshot) as
        pages are, unseen until ``complete()``, which closes the usage of every user given none
        (``store.usage_history``)."""
        sid = self.snapshot_id
        if sid is None:
            raise StoreError("Internal error: usage staged outside the snapshot block.")
        if not rows:
            return
        opening, closing = self._usage.changes(self.store.conn, rows, history_empty=self._base is None)
        self._page_write(lambda conn, dialect: publish_usage(conn, sid, dialect, opening, closing))
        self._commit_if_due()

    def _page_write(self, work: Callable[[Any, Any], None]) -> None:
        """Run ``work(conn, dialect)`` in the open transaction of page writes (begun if none is)."""
        conn = self.store.conn
        if self._writing_since is None:
            self.store.begin_write()
            self._writing_since = time.monotonic()
        try:
            work(conn, self.store.dialect)
        except BaseException:
            self._writing_since = None
            conn.rollback()
            raise

    def _commit_if_due(self) -> None:
        """Commit the page writes once their transaction has been open ``page_commit_seconds``."""
        since = self._writing_since
        if since is not None and time.monotonic() - since >= self.store.dialect.page_commit_seconds:
            self.commit_pages()

    def _read_digests(self) -> CurrentDigests:
        if self._digests is None:
            self._digests = read_digests(self.store.conn)
        return self._digests

    def waiting_on_graph(self) -> None:
        """What the collector calls before each wait on Graph: the pages written so far are
        committed (``commit_pages``), and before the first page the current rows are read
        (``store.current.read_digests``, ~0.6 s per 100,000 users), while that page downloads."""
        self.commit_pages()
        if self._base is not None and self._pages == 0:
            self._read_digests()

    def commit_pages(self) -> None:
        """Commit the pages written so far (they stay unseen): the collector calls this before it
        waits on Graph, so the store's writer lock is never held across a wait."""
        self._wait_began = time.monotonic()
        if self._writing_since is not None:
            self._writing_since = None
            self.store.conn.commit()

    def _stage_pending(self) -> None:
        """Publish the per-user rows given to ``stage``, a page of users at a time."""
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
            self._publish_page(chunk, *rows)

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
        """Publish the snapshot: the users who left, the facts and the status in one transaction;
        ``also`` are further publishers (e.g. ``store.usage.publish_usage_reports``) run in it.

        Raises:
            StoreError: the store's latest complete snapshot is not the one this collection began
                from (a collection that did not take the collect lock published meanwhile); this
                one is then marked failed, and nothing of it is published.
        """
        sid = self.snapshot_id
        if sid is None:
            raise StoreError("Internal error: complete() called outside the snapshot block.")
        notes = list(warnings)
        self._stage_pending()
        self._digests = None  # every page is compared: freed before the last transaction
        self._usage.done_comparing()
        self.commit_pages()
        self.store.temp_writes(lambda: self._tables.insert("stage_holders", sorted(self._holders.items())))
        t = self.store.dialect.temp
        with self.store.atomic() as tx:
            latest = _latest_complete(tx)
            if latest != self._base:
                raise StoreError(
                    f"Another collection published snapshot {latest} while this one ran, so this one was "
                    "discarded rather than overwrite newer data; run the collection again."
                )
            left, left_licenses = close_leavers(tx, sid, self._seen) if self._base is not None else (0, 0)
            if self._base is not None:
                self._usage.close_the_rest(tx, sid)
            notes.extend(reconcile(tx, t))
            copy_facts(tx, sid, t)
            if self._indexes_deferred:
                build_key_indexes(tx)
            for extra in also:
                extra(tx, sid)
            counts = {
                "users": len(self._seen), "licenses": self._licenses,
                "skus": self._tables.count("stage_skus"), "groups": self._tables.count("stage_groups"),
            }  # fmt: skip
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
            users_changed=max(self._users_opened, self._users_closed + left),
            licenses_changed=self._licenses_changed + left_licenses,
            warnings=notes,
            requests=request_count,
            retries=retry_count,
        )


def _latest_complete(tx: Any) -> int | None:
    latest = tx.execute("SELECT MAX(id) FROM snapshots WHERE status = 'complete'").fetchone()[0]
    return None if latest is None else int(latest)
