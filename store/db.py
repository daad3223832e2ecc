"""Opening the store: one SQLite file in WAL mode, migrated on open.

WAL lets the dashboard read while a collection writes. ``atomic()`` is the only way code
writes: it commits on success and rolls back on any exception, so no caller can leave a
half-written change behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from licensedesk.errors import StoreError
from store.migrations import MIGRATIONS

SCHEMA_VERSION = MIGRATIONS[-1][0]


def utcnow() -> str:
    """Now as the store writes it: ISO-8601 UTC with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    """A connection to the store and the helpers every store module uses."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front, so two writers
        queue instead of failing half-way with SQLITE_BUSY on upgrade."""
        if self.conn.in_transaction:
            raise StoreError("Internal error: nested write transaction on the store.")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)


def open_store(path: str | Path, *, create: bool = True) -> Store:
    """Open (and upgrade) the store at ``path``.

    Raises:
        StoreError: not a database, a newer schema than this code knows, or not creatable.
    """
    location = Path(path)
    if not create and not location.exists():
        raise StoreError(
            f"There is no store at {location}; run `license-desk collect` or `license-desk demo` first."
        )
    try:
        location.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see Store.atomic).
        conn = sqlite3.connect(location, isolation_level=None, timeout=30.0, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"Cannot open the store at {location} ({exc}).") from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        store = Store(conn, str(location))
        _migrate(store)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "not a database" in str(exc) or "file is encrypted" in str(exc):
            raise StoreError(f"{location} is not a License Desk store (not an SQLite database).") from None
        raise StoreError(f"Cannot open the store at {location} ({exc}).") from None
    except StoreError:
        conn.close()
        raise
    return store


def _migrate(store: Store) -> None:
    conn = store.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = store.schema_version()
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"The store at {store.path} has schema version {current}, newer than this License Desk "
            f"understands ({SCHEMA_VERSION}); upgrade License Desk."
        )
    for version, name, sql in MIGRATIONS:
        if version <= current:
            continue
        with store.atomic() as tx:
            for statement in _statements(sql):
                tx.execute(statement)
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, utcnow()),
            )


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (ours contain no semicolons inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
