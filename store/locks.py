"""Locks held across processes on one store: one collection, one plan applied and one notification
run at a time.

PostgreSQL: a session advisory lock on the store's connection (released with it, even if the
process dies), keyed by the lock and the store's schema, so tenants' stores in one database do not
block each other. SQLite: an exclusive transaction on a file beside the store, on a connection of
its own, so the store itself stays open to readers and writers; the OS drops it if the process
dies. Neither blocks anything but another holder of the same lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from licensedesk.errors import StoreError
from store.db import POSTGRES, Store

# The second half of a PostgreSQL lock's key: the schema the store's tables are in.
_SCHEMA = "hashtext(current_schema())"


class LockTimeout(StoreError):
    """Another process still held the lock after the wait (its sentence says which)."""


@dataclass(frozen=True)
class Lock:
    """One lock: the file beside an SQLite store, the advisory key on PostgreSQL, and the
    sentence for a wait that ran out (``{wait}``: the seconds waited)."""

    suffix: str
    key: int
    busy: str


COLLECT = Lock(
    ".collect-lock", 4245,
    "Another collection of this store is still running after {wait:.0f} s; this one did not start.",
)  # fmt: skip
APPLY = Lock(
    ".apply-lock", 4243,
    "Another plan is being applied from this store and has not finished after {wait:.0f} s; nothing was sent.",
)  # fmt: skip
NOTIFY = Lock(
    ".notify-lock", 4244,
    "Another notification run on this store has not finished after {wait:.0f} s; nothing was sent.",
)  # fmt: skip


@contextmanager
def holding(
    store: Store, lock: Lock, *, wait: float, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold ``lock`` on ``store`` until the block ends.

    Raises:
        LockTimeout: another process still held it after ``wait`` seconds (``on_wait`` is called
            once, when the lock is found taken).
    """
    with _attempts(store, lock) as take:
        deadline = time.monotonic() + wait
        waited = False
        while not take():
            if time.monotonic() >= deadline:
                raise LockTimeout(lock.busy.format(wait=wait))
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            time.sleep(0.1)
        yield


@contextmanager
def _attempts(store: Store, lock: Lock) -> Iterator[Callable[[], bool]]:
    """A function that tries the lock once; what it took is released when the block ends."""
    if store.dialect is not POSTGRES:
        beside = sqlite3.connect(f"{store.path}{lock.suffix}", timeout=0, isolation_level=None)
        try:
            yield lambda: _try_exclusive(beside)
        finally:
            beside.close()  # closing ends the exclusive transaction, and the lock with it
        return
    from store.postgres import DatabaseError

    held = False

    def take() -> bool:
        nonlocal held
        held = bool(
            store.conn.execute(
                f"SELECT pg_try_advisory_lock(CAST(? AS INTEGER), {_SCHEMA})", (lock.key,)
            ).fetchone()[0]
        )
        return held

    try:
        yield take
    finally:
        if held:
            try:
                store.conn.execute(
                    f"SELECT pg_advisory_unlock(CAST(? AS INTEGER), {_SCHEMA})", (lock.key,)
                ).fetchone()
            except DatabaseError:
                pass  # a broken connection: the server drops its session locks with it


def _try_exclusive(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return False
        raise StoreError(f"Cannot take a lock beside the store ({exc}).") from None
    return True
