"""Kill the collector at every point of a collection: the store always opens, the latest complete
snapshot is either the previous one or a complete new one, and the next collection succeeds.
Also: the dashboard's reads go on while a collection holds the write lock (WAL)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any

import pytest

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store

# Kept whole on one pytest-xdist worker: it kills processes at every request and times a read.
pytestmark = pytest.mark.xdist_group("kill_points")


def _graph_calls(sim: Any) -> int:
    return len([r for r in sim.requests if r.path.startswith("/v1.0/") and r.batch_item is None])


def test_kill_at_every_request_boundary(store_url: str) -> None:
    with GraphSimulator(users=2200, seed=17) as sim:
        settings = simulator_settings(sim, store_url)
        first = run_collection(settings)
        sim.clear_log()
        run_collection(settings)
        total = _graph_calls(sim)  # requests in one collection
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")},
            **settings.environ(),
        }
        sim.faults.add("slow", path_prefix="/v1.0/", delay=0.3)
        outcomes: list[str] = []
        with open_store(store_url) as store:
            seen_before = _seen_as_of(store, queries.resolve_snapshot(store))
        for point in range(1, total + 2):  # after each request, and once after the last one
            sim.clear_log()
            with open_store(store_url) as store:
                before = queries.resolve_snapshot(store)
            proc = subprocess.Popen([sys.executable, "-m", "licensedesk", "collect"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            deadline = time.monotonic() + 60
            while (
                _graph_calls(sim) < min(point, total) and proc.poll() is None and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            if point > total:
                time.sleep(0.1)  # somewhere in the publishing, or just after it
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            with open_store(store_url) as store:
                if store.dialect.name == "sqlite":
                    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                latest = queries.resolve_snapshot(store)
                status = queries.snapshot_info(store, latest)["status"]
                # Pages the killed collector published are in the history but never seen.
                assert _seen_as_of(store, before) == seen_before
            assert status == "complete"
            assert latest in (before, max(queries_ids(store_url)))
            if latest != before:
                with open_store(store_url) as store:
                    seen_before = _seen_as_of(store, latest)
            outcomes.append("kept previous" if latest == before else "completed")
        sim.faults.clear()
        final = run_collection(settings)
    assert final.users == first.users
    with open_store(store_url) as store:
        # Every killed collection was undone: no history row names a snapshot that is not complete.
        complete = set(queries.complete_snapshot_ids(store))
        for table in ("users", "user_licenses", "user_signins"):
            named = {row[0] for row in store.conn.execute(f"SELECT valid_from FROM {table}").fetchall()}
            named |= {row[0] for row in store.conn.execute(f"SELECT valid_to FROM {table}").fetchall()}
            assert named - {None} <= complete, table
    print(
        f"kill points: {len(outcomes)}, kept previous: {outcomes.count('kept previous')}, completed: {outcomes.count('completed')}"
    )
    assert len(outcomes) == total + 1 and outcomes.count("kept previous") >= total - 1


def _seen_as_of(store: Any, sid: int) -> tuple[Any, ...]:
    """What a reader of snapshot ``sid`` sees: its users, licences and sign-ins, in order."""
    users = queries.users(store, sid).sort_values("user_id").reset_index(drop=True)
    licenses = queries.user_licenses(store, sid)
    licenses = licenses.sort_values(list(licenses.columns)).reset_index(drop=True)
    return (users.to_json(), licenses.to_json())


def queries_ids(path: str) -> list[int]:
    with open_store(path) as store:
        return queries.complete_snapshot_ids(store)


def test_reads_continue_while_a_collection_holds_the_write_lock(store_url: str) -> None:
    with GraphSimulator(users=300, seed=3) as sim:
        first = run_collection(simulator_settings(sim, store_url))
    writer = open_store(store_url)
    try:
        for statement in writer.dialect.begin:  # the writer lock complete() holds while publishing
            writer.conn.execute(statement)
        writer.conn.execute("UPDATE snapshots SET warnings = warnings WHERE id = ?", (first.snapshot_id,))
        started = time.monotonic()
        with open_store(store_url) as reader:  # the dashboard, meanwhile
            assert queries.resolve_snapshot(reader) == first.snapshot_id
            assert len(queries.users(reader, first.snapshot_id)) == first.users
        assert time.monotonic() - started < 2.0, "a reader must not wait for the writer"
        # A second writer queues instead (and times out here).
        if writer.dialect.name == "sqlite":
            queued = sqlite3.connect(store_url, timeout=0.2)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                queued.execute("BEGIN IMMEDIATE")
            queued.close()
        else:
            with open_store(store_url) as other:
                assert other.conn.execute("SELECT pg_try_advisory_lock(4242)").fetchone()[0] is False
    finally:
        writer.conn.rollback()
        writer.close()
