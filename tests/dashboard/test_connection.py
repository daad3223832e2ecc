"""The one read-only connection per store that every dashboard session shares
(dashboard/connection.py): reads from many script threads at once, a store rebuilt at the same
path, and a PostgreSQL server that drops the connection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import streamlit as st

from dashboard import loaders
from dashboard.connection import read
from store import queries
from tests.dashboard.tenant import build_single, build_store

# build_store: snapshots 1 and 2 complete, 3 failed, 4 complete (tests/dashboard/tenant.py).
HISTORY = [1, 2, 4]


def test_sessions_reading_at_once_each_get_their_own_answer(tenant_store: str) -> None:
    # Streamlit runs each session's script in a thread of its own: 8 sessions, 25 reads each, of
    # two snapshots whose user counts differ (12 in snapshot 1, 15 in snapshot 4, test_data.py).
    def session(n: int) -> list[tuple[list[int], int]]:
        sid = 1 if n % 2 else 4
        return [
            (loaders.snapshot_ids(tenant_store), len(read(tenant_store, queries.users, sid)))
            for _ in range(25)
        ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(session, range(8)))
    for n, reads in enumerate(answers):
        assert reads == [(HISTORY, 12 if n % 2 else 15)] * 25


def test_a_store_rebuilt_at_the_same_path_is_read_afresh(tmp_path: Path) -> None:
    # `license-desk demo` rebuilds its store while a dashboard may have it open.
    path = build_single(str(tmp_path / "store.sqlite"))
    assert loaders.snapshot_ids(path) == [1]
    rebuilt = build_store(str(tmp_path / "rebuilt.sqlite"))
    os.replace(rebuilt, path)
    assert loaders.snapshot_ids(path) == HISTORY


def test_a_dropped_postgresql_connection_is_made_again(store_url: str) -> None:
    build_store(store_url)
    assert loaders.snapshot_ids(store_url) == HISTORY
    if "://" not in store_url:
        return  # SQLite: a file has no server to drop it
    # The server ends every License Desk session, the dashboard's shared reader among them (as a
    # restart or an idle timeout would).
    with psycopg.connect(store_url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'license-desk' AND pid <> pg_backend_pid()) AS t"
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    assert loaders.snapshot_ids(store_url) == HISTORY
    assert len(read(store_url, queries.users, 4)) == 15


@pytest.fixture(autouse=True)
def _no_open_connections() -> Iterator[None]:
    """The caches are cleared after each test too, so no connection outlives its store."""
    yield
    st.cache_resource.clear()
