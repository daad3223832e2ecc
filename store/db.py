"""Opening the store: an SQLite file (the default) or a PostgreSQL database, migrated on open.

The location is what ``LICENSE_DESK_STORE`` holds: a file path (or ``sqlite:///path``) for
SQLite, a ``postgresql://`` URL for a store shared by a scheduled collector and a dashboard on
different machines. Store modules write one SQL for both: ``?`` placeholders (``:name`` for
``frame``), portable functions only, and the few differences (the writer lock, temporary
staging tables) taken from ``store.dialect``.

``atomic()`` is the only way code writes: it commits on success and rolls back on any
exception, so no caller can leave a half-written change behind. It also serialises writers on
both engines, so two collections or two operators queue instead of interleaving.

Longer locks (one plan applied at a time, one notification run at a time) are in ``store.locks``:
they block neither readers nor ``atomic()`` writers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from licensedesk.errors import StoreError
from store.locations import describe as describe  # re-exported: callers name locations through store.db
from store.locations import is_postgres, sqlite_path
from store.migrations import MIGRATIONS

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = MIGRATIONS[-1][0]
_STORE_SETTING = "LICENSE_DESK_STORE"
# PostgreSQL advisory lock 4242 is the writer lock (Dialect.begin); store.locks holds the others.
Params = Sequence[Any] | Mapping[str, Any]


def utcnow() -> str:
    """Now as the store writes it: ISO-8601 UTC with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What store modules may call: the part of sqlite3.Connection that store.postgres also offers."""

    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Any, /) -> Any: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Dialect:
    """The few places where SQLite and PostgreSQL need different SQL."""

    name: str
    temp: str  # prefix that names a connection-private temporary table
    begin: tuple[str, ...]  # statements that open a write transaction holding the writer lock
    same: str  # NULL-safe equality: NULL compared with NULL is "the same"
    # Staging tables (store.staging): statements run before they are created, and whether their
    # columns carry SQL types. Whether a page's new history rows load with COPY (store.publish).
    temp_setup: tuple[str, ...]
    typed_temp: bool
    copy: bool
    # How long a collection keeps writing pages of users in one transaction before it commits,
    # and statements run on its connection before it starts.
    page_commit_seconds: float
    collect_setup: tuple[str, ...]


SQLITE = Dialect(
    name="sqlite",
    temp="temp.",
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of failing
    # half-way with SQLITE_BUSY on upgrade.
    begin=("BEGIN IMMEDIATE",),
    same="IS",
    temp_setup=("PRAGMA temp_store = MEMORY",),
    typed_temp=False,  # untyped (no affinity to apply), as they were tuned
    copy=False,
    # A commit writes every page it dirtied to the WAL again, and a page of 1,000 users dirties
    # leaves all over the per-user indexes: committing each page wrote ~1 GB of WAL per 100,000
    # users. Pages that keep arriving share a transaction for up to this long; the collector also
    # commits before it waits on Graph (SnapshotWriter.commit_pages). Readers never wait.
    page_commit_seconds=1.0,
    collect_setup=("PRAGMA cache_size = -65536",),
)
POSTGRES = Dialect(
    name="postgresql",
    temp="pg_temp.",
    # A transaction-scoped advisory lock gives PostgreSQL SQLite's one-writer-at-a-time rule,
    # which the snapshot publish and the migrations rely on; readers are never blocked.
    begin=("BEGIN", "SELECT pg_advisory_xact_lock(4242)"),
    same="IS NOT DISTINCT FROM",
    temp_setup=(),
    typed_temp=True,
    copy=True,  # several times faster than INSERTs
    # Row-level WAL: a commit costs next to nothing, and the writer lock (4242) is database-wide,
    # so other tenants' writers must not wait.
    page_commit_seconds=0.0,
    collect_setup=(),
)


class Store:
    """A connection to the store and the helpers every store module uses."""

    def __init__(self, conn: Connection, path: str, dialect: Dialect = SQLITE) -> None:
        self.conn = conn
        self.path = path  # for messages: never holds a password
        self.dialect = dialect

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin_write(self) -> None:
        """Open a write transaction holding the writer lock (``atomic`` ends it; a collection's
        page writes end theirs with a commit of their own)."""
        if self.conn.in_transaction:
            raise StoreError("Internal error: nested write transaction on the store.")
        for statement in self.dialect.begin:
            self.conn.execute(statement)

    @contextmanager
    def atomic(self) -> Iterator[Connection]:
        """One write transaction, holding the writer lock until it ends."""
        self.begin_write()
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()

    def temp_writes(self, work: Callable[[], None]) -> None:
        """Run ``work``, which writes only TEMP tables, in one transaction (in autocommit mode
        SQLite commits every row on its own), or in the connection's open one. It takes no lock
        on the store."""
        if self.conn.in_transaction:
            work()
            return
        self.conn.execute("BEGIN")
        try:
            work()
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def frame(self, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """A query's rows as a DataFrame; ``:name`` placeholders."""
        # Imported here: a collection never reads a frame, and pandas was ~0.25 s of the
        # `license-desk collect` process's start (python -X importtime).
        import pandas as pd

        if isinstance(self.conn, sqlite3.Connection):
            return pd.read_sql_query(sql, self.conn, params=params or {})
        cur = self.conn.execute(sql, dict(params or {}))
        columns = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns, coerce_float=True)

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def applied_migrations(self) -> set[int]:
        return {int(row[0]) for row in self.conn.execute("SELECT version FROM schema_migrations").fetchall()}


def store_exists(location: str | Path) -> bool:
    """Whether a store has been created at ``location`` (without creating one).

    Raises:
        StoreError: a PostgreSQL server that cannot be reached.
    """
    if not is_postgres(location):
        return sqlite_path(location).exists()
    from store import postgres

    conn = postgres.connect(str(location))
    try:
        return postgres.has_table(conn, "schema_migrations")
    finally:
        conn.close()


def open_store(location: str | Path, *, create: bool = True, readonly: bool = False) -> Store:
    """Open the store at ``location``: a path, ``sqlite:///path`` or ``postgresql://``.

    Args:
        create: create the store when there is none yet (else: an error saying so).
        readonly: for commands that only read: never creates, upgrades or writes anything, so a
            report pointed at the wrong file leaves it exactly as it was. A store with an older
            schema is an error asking for a command that writes (``collect``), which upgrades it.

    Raises:
        StoreError: unreachable, not a License Desk store, a schema this code cannot read, or not
            creatable.
    """
    if is_postgres(location):
        return _open_postgres(str(location), create=create and not readonly, readonly=readonly)
    return _open_sqlite(sqlite_path(location), create=create and not readonly, readonly=readonly)


def _missing(label: str) -> StoreError:
    return StoreError(
        f"There is no store at {label}; run `license-desk collect` or `license-desk demo` first."
    )


def _open_sqlite(location: Path, *, create: bool, readonly: bool) -> Store:
    if not create and not location.exists():
        raise _missing(str(location))
    try:
        if readonly:
            # mode=ro: SQLite itself refuses every write, journal-mode changes included.
            uri = f"{location.resolve().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30.0, check_same_thread=False)
        else:
            location.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves (see Store.atomic).
            conn = sqlite3.connect(location, isolation_level=None, timeout=30.0, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"Cannot open the store at {location} ({exc}).") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and "schema_migrations" not in tables:
            raise StoreError(
                f"{location} is an SQLite database of another application, not a License Desk store; "
                f"License Desk left it untouched: point {_STORE_SETTING} at a new file."
            )
        store = Store(conn, str(location), SQLITE)
        if readonly:
            if not tables:
                raise _missing(str(location))
            _check_version(store)
        else:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
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


def _open_postgres(url: str, *, create: bool, readonly: bool) -> Store:
    from store import postgres

    label = describe(url)
    conn = postgres.connect(url)
    try:
        if not create and not postgres.has_table(conn, "schema_migrations"):
            raise _missing(label)
        store = Store(conn, label, POSTGRES)
        if readonly:
            conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            _check_version(store)
        else:
            _migrate(store)
    except postgres.DatabaseError as exc:
        conn.close()
        raise StoreError(f"Cannot open the store at {label} ({postgres.first_line(exc)}).") from None
    except BaseException:
        conn.close()
        raise
    return store


def _check_version(store: Store) -> None:
    """A reader's check: the store's schema is the one this code reads (nothing is upgraded)."""
    current = store.schema_version()
    if current > SCHEMA_VERSION:
        raise _too_new(store, current)
    if current < SCHEMA_VERSION or len(store.applied_migrations()) < len(MIGRATIONS):
        raise StoreError(
            f"The store at {store.path} has schema version {current} and this License Desk reads "
            f"{SCHEMA_VERSION}; run `license-desk collect` once to upgrade it (reports never change the store)."
        )


def _too_new(store: Store, current: int) -> StoreError:
    return StoreError(
        f"The store at {store.path} has schema version {current}, newer than this License Desk "
        f"understands ({SCHEMA_VERSION}); upgrade License Desk."
    )


def _migrate(store: Store) -> None:
    conn = store.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = store.schema_version()
    if current > SCHEMA_VERSION:
        raise _too_new(store, current)
    # Each migration not yet recorded runs, in order: by membership rather than "above the
    # highest", so a store can never skip one (and a test can replay one by forgetting it).
    applied = store.applied_migrations()
    for version, name, sql in MIGRATIONS:
        if version in applied:
            continue
        with store.atomic() as tx:
            # Another process may have applied it while we waited for the writer lock.
            if version in store.applied_migrations():
                continue
            for statement in _statements(sql):
                tx.execute(_ddl(statement, store.dialect))
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, utcnow()),
            )


def _ddl(statement: str, dialect: Dialect) -> str:
    """The two column types whose spelling differs: an auto-numbered id, and a double."""
    if dialect is not POSTGRES:
        return statement
    return statement.replace(
        "id INTEGER PRIMARY KEY", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    ).replace(" REAL", " DOUBLE PRECISION")


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (ours contain no semicolons inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
