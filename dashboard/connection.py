"""One read-only connection per store, shared by every session, and the writes' own connections.

Opening a store costs more than most of the reads the pages make (SQLite checks the schema;
PostgreSQL signs in over the network), and a page makes dozens of reads per run, so readers
share one connection per store location, cached with ``st.cache_resource``:

- Read-only: SQLite ``mode=ro`` (SQLite itself refuses every write) or a PostgreSQL session whose
  transactions are READ ONLY. Reads run in autocommit, so each one sees the latest commit: a
  collection made elsewhere shows as soon as its snapshot id does.
- Threads: Streamlit runs every session's script in a thread of its own, and a connection runs
  one statement at a time (``sqlite3`` is opened with ``check_same_thread=False``; psycopg
  serialises too), so reads take the connection's lock: one read at a time per store.
- Staleness: a cached connection is checked on each use: an SQLite file replaced at the same path
  (``license-desk demo`` rebuilds its store) or a PostgreSQL connection the server dropped is
  reopened rather than read. Released connections (evicted, or cleared after a collection) are
  closed, after the read in flight.

Writes (the price book, thresholds, exemptions) open a connection of their own for the one
transaction: they are rare, and they may need to migrate, which a read-only connection cannot.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import streamlit as st

from store.db import open_store
from store.locations import is_postgres, sqlite_path

# Stores a dashboard process reads at once: one in production, one per store in the tests.
_STORES = 16


def _file_identity(location: str) -> tuple[int, int] | None:
    """(device, inode) of an SQLite store's file; None for PostgreSQL or a file now gone."""
    if is_postgres(location):
        return None
    try:
        stat = os.stat(sqlite_path(location))
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class SharedReader:
    """A read-only store connection and the lock that gives it to one read at a time."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.identity = _file_identity(location)
        self.store = open_store(location, readonly=True)
        self.lock = threading.Lock()
        self.closed = False

    def usable(self) -> bool:
        """Still the store at its location, and still connected."""
        if self.closed:
            return False
        raw = getattr(self.store.conn, "raw", None)  # psycopg's connection, on PostgreSQL
        if raw is not None:
            return not raw.closed
        return _file_identity(self.location) == self.identity

    def close(self) -> None:
        """Close once the read in flight (if any) has finished."""
        with self.lock:
            if not self.closed:
                self.closed = True
                self.store.close()


def _release(reader: SharedReader) -> None:
    reader.close()


@st.cache_resource(max_entries=_STORES, show_spinner=False, validate=SharedReader.usable, on_release=_release)
def _shared_reader(location: str) -> SharedReader:
    return SharedReader(location)


def read(location: str, reader: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``reader(store, *args, **kwargs)`` on the shared read-only connection to ``location``.

    Raises:
        licensedesk.errors.StoreError: no store there, or one this code cannot read (not cached:
            the next run tries again).
    """
    retried = False
    while True:
        shared = _shared_reader(location)
        with shared.lock:
            if not shared.closed:
                try:
                    return reader(shared.store, *args, **kwargs)
                except Exception:
                    # A PostgreSQL server restarted since the connection was made: one more try,
                    # on a new connection (the lookup drops the broken one), as a fresh open would.
                    if retried or shared.usable():
                        raise
                    retried = True
        # Released between the lookup and the lock (a collection cleared the caches): the next
        # lookup opens a fresh one.


def write(location: str, writer: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``writer(store, *args, **kwargs)`` on a connection of its own, closed afterwards.

    Raises:
        licensedesk.errors.StoreError: no store at ``location`` (a write never creates one).
    """
    with open_store(location, create=False) as store:
        return writer(store, *args, **kwargs)
