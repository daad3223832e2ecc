"""A collection writes its pages into the store as they arrive, but never holds the store's writer
lock while it waits on Graph: an operator applying a plan, or a price import, meanwhile waits for
a page's writes (milliseconds), not for Graph (seconds, or a throttled minute)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store
from store.publish import KEY_INDEXES


def test_the_writer_lock_is_free_while_the_sweep_waits_on_graph(tmp_path: Path) -> None:
    path = str(tmp_path / "store.sqlite")
    with GraphSimulator(users=2400, seed=5) as sim:  # three pages of users
        settings = simulator_settings(sim, path)
        run_collection(settings)  # the next one compares and writes changes, as a daily one does
        sim.tenant.advance_day()
        sim.faults.add("slow", path_prefix="/v1.0/users", delay=2.5)
        outcome: list[object] = []
        collecting = threading.Thread(target=lambda: outcome.append(run_collection(settings)))
        collecting.start()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        busy_since: float | None = None
        longest_busy = 0.0
        tries = 0
        while collecting.is_alive():
            now = time.monotonic()
            try:
                other.execute("BEGIN IMMEDIATE")  # what every other writer of the store does
                other.rollback()
                busy_since = None
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
                busy_since = busy_since or now
                longest_busy = max(longest_busy, now - busy_since)
            tries += 1
            time.sleep(0.02)
        collecting.join()
        other.close()
    assert tries > 100  # the sweep took seconds: three pages, each 2.5 s away
    assert not isinstance(outcome[0], Exception)
    with open_store(path) as store:
        assert queries.snapshot_info(store, queries.resolve_snapshot(store))["status"] == "complete"
    # Without the commit before each wait the lock was held from one page to the next (2.5 s).
    assert longest_busy < 1.0, f"another writer was kept waiting {longest_busy:.2f} s"


def test_a_first_collection_that_waits_on_graph_builds_its_key_indexes_during_the_sweep(
    tmp_path: Path,
) -> None:
    """A first collection loads the history without its per-user key indexes and builds them
    after the last page, unless it spends its sweep waiting on Graph: then it builds them after a
    few pages, while it would be waiting anyway, and keeps them up to date as pages come."""
    path = str(tmp_path / "store.sqlite")
    seen_with_indexes: list[int] = []

    def progress(step: Any) -> None:
        if step.step == "users":
            with sqlite3.connect(path) as reader:
                names = {
                    row[0] for row in reader.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
                }
            if "users_current" in names:
                seen_with_indexes.append(step.users)

    with GraphSimulator(users=11_500, seed=5) as sim:  # twelve pages of users
        sim.faults.add("slow", path_prefix="/v1.0/users", delay=0.4)
        summary = run_collection(simulator_settings(sim, path), progress=progress)
    assert summary.users == 11_500
    # Built after the tenth page, committed before the wait for the eleventh: seen from then on.
    assert seen_with_indexes and min(seen_with_indexes) < 11_500
    with open_store(path) as store:
        names = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(KEY_INDEXES) <= names
