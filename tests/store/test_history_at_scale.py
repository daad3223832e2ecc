"""At a few thousand users over several simulated days, the compact history reproduces every
snapshot's per-user licences exactly as the simulator served them on that day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cli.demo_tenant import simulator_settings
from collectors.runner import run_collection
from graphsim.server import GraphSimulator
from graphsim.tenant import build_tenant
from store import queries
from store.db import open_store

Row = tuple[str, str, str, str, str, str]


def _served(tenant: Any) -> set[Row]:
    """What Graph reports for every user today, normalised as the store keeps it."""
    rows: set[Row] = set()
    with tenant.lock:
        for user in tenant.users:
            uid = user.id.lower()
            for sku, lic in user.direct.items():
                rows.add(
                    (
                        uid,
                        sku.lower(),
                        "",
                        "Active",
                        "",
                        ",".join(sorted(p.lower() for p in lic.disabled_plans)),
                    )
                )
            for (gid, sku), glic in user.group_licenses.items():
                error = "" if glic.error in ("None", None) else glic.error
                plans = ",".join(sorted(p.lower() for p in glic.disabled_plans))
                rows.add((uid, sku.lower(), gid.lower(), glic.state, error, plans))
    return rows


def test_every_snapshot_is_reproduced_exactly(tmp_path: Any) -> None:
    tenant = build_tenant(users=2500, seed=13, start=datetime(2026, 3, 1, 6, tzinfo=UTC))
    store_url = str(tmp_path / "history.sqlite")
    expected: dict[int, set[Row]] = {}
    with GraphSimulator(tenant) as sim:
        settings = simulator_settings(sim, store_url)
        for day in range(8):
            if day:
                for _ in range(3):  # several simulated days between collections: more change
                    tenant.advance_day()
            expected[run_collection(settings).snapshot_id] = _served(tenant)
    assert len({frozenset(v) for v in expected.values()}) == len(expected), (
        "the tenant must change between snapshots"
    )
    with open_store(store_url) as store:
        for sid, rows in expected.items():
            got = queries.user_licenses(store, sid)
            stored = {
                (r.user_id, r.sku_id, r.assigned_by_group, r.state, r.error, r.disabled_plans)
                for r in got.itertuples(index=False)
            }
            assert stored == rows, f"snapshot {sid}: {len(stored ^ rows)} rows differ"
        # Compactness: far fewer rows than one copy per snapshot.
        total = store.conn.execute("SELECT COUNT(*) FROM user_licenses").fetchone()[0]
        per_snapshot = sum(len(v) for v in expected.values())
        assert total < per_snapshot / 3
