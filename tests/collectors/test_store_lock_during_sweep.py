"""A collection writes its pages into the store as they arrive, but never holds the store's writer
lock while it waits on Graph: an operator applying a plan, or a price import, meanwhile waits for
a page's writes (milliseconds), not for Graph (seconds, or a throttled minute)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store


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
