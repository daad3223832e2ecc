"""A collection killed half-way leaves the previous snapshot as the latest, and the next one works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from store import queries
from store.db import open_store


def _env(settings: Any) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")},
        **settings.environ(),
    }


def test_sigkill_halfway_keeps_previous_snapshot_and_next_collection_succeeds(store_url: str) -> None:
    with GraphSimulator(users=3000, seed=9) as sim:
        settings = simulator_settings(sim, store_url)
        first = run_collection(settings)
        sim.clear_log()
        # Slow user pages so the kill lands while pages are being staged.
        sim.faults.add("slow", path_prefix="/v1.0/users", delay=0.6)
        proc = subprocess.Popen(
            [sys.executable, "-m", "licensedesk", "collect"],
            env=_env(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            served = [r for r in sim.requests if r.path == "/v1.0/users" and r.status == 200]
            if len(served) >= 2:  # two of three pages staged, one in flight
                break
            time.sleep(0.05)
        else:
            proc.kill()
            raise AssertionError("the collector never reached the user pages")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

        with open_store(store_url) as store:
            assert queries.resolve_snapshot(store) == first.snapshot_id
            statuses = queries.snapshots(store)["status"].tolist()
            assert statuses == ["running", "complete"]  # the killed run, never published
            if store.dialect.name == "sqlite":
                assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

        sim.faults.clear()
        second = run_collection(settings)
        assert second.snapshot_id > first.snapshot_id
        with open_store(store_url) as store:
            snaps = queries.snapshots(store).set_index("id")
            assert snaps.loc[second.snapshot_id, "status"] == "complete"
            killed = snaps[snaps["status"] == "failed"]
            assert len(killed) == 1 and "ended before completing" in killed.iloc[0]["error"]
            assert second.users == first.users
