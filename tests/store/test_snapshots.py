"""The store: migrations, atomic snapshots, and compact history that reproduces every snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from licensedesk.errors import StoreError
from store import queries
from store.db import SCHEMA_VERSION, open_store
from store.snapshots import SnapshotWriter

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
GROUP = "11111111-1111-1111-1111-111111111111"


def _sku(sku_id: str, part: str, enabled: int, consumed: int) -> tuple[object, ...]:
    return (sku_id, part, "User", "Enabled", enabled, 0, 0, 0, consumed)


def _user(uid: str, dept: str | None = "Sales") -> tuple[object, ...]:
    return (
        uid,
        f"{uid}@contoso.com",
        uid.upper(),
        1,
        "Member",
        "US",
        dept,
        "Contoso",
        "Clerk",
        "2024-01-01T00:00:00Z",
    )


def _take(
    store_url: str,
    licenses: list[tuple[str, str, str, str, str]],
    users: list[str],
    *,
    dept: dict[str, str] | None = None,
) -> int:
    """One snapshot from hand-written rows: licenses are (user, sku, group, state, error)."""
    with open_store(store_url) as store, SnapshotWriter(store, "t1") as writer:
        held = {(u, s) for u, s, _g, state, _e in licenses if state == "Active"}
        writer.stage(
            "stage_skus",
            [
                _sku(E3, "SPE_E3", 10, sum(1 for _u, s in held if s == E3)),
                _sku(VISIO, "VISIOCLIENT", 2, sum(1 for _u, s in held if s == VISIO)),
            ],
        )
        writer.stage("stage_users", [_user(u, (dept or {}).get(u, "Sales")) for u in users])
        writer.stage("stage_licenses", [(u, s, g, st, e, "", None) for u, s, g, st, e in licenses])
        writer.stage("stage_assigned", sorted(held))
        summary = writer.complete()
        return summary.snapshot_id


def _licenses_as_of(store_url: str, sid: int) -> set[tuple[str, str, str, str, str]]:
    with open_store(store_url) as store:
        frame = queries.user_licenses(store, sid)
    return {
        (r.user_id, r.sku_id, r.assigned_by_group, r.state, r.error) for r in frame.itertuples(index=False)
    }


def test_migrating_twice_is_a_no_op(store_url: str) -> None:
    with open_store(store_url) as store:
        assert store.schema_version() == SCHEMA_VERSION
    with open_store(store_url) as store:
        rows = store.conn.execute("SELECT version FROM schema_migrations").fetchall()
        assert rows == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
        if store.dialect.name == "sqlite":
            assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_not_a_database_is_one_sentence(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError) as err:
        open_store(bogus)
    assert str(err.value) == f"{bogus} is not a License Desk store (not an SQLite database)."


def test_newer_schema_is_refused(store_url: str) -> None:
    with open_store(store_url) as store, store.atomic() as tx:
        tx.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01')")
    with pytest.raises(StoreError, match="schema version 999, newer than this License Desk understands"):
        open_store(store_url)


def test_missing_store_is_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="There is no store at .*license-desk collect"):
        open_store(tmp_path / "none.sqlite", create=False)


def test_failure_mid_snapshot_publishes_nothing(store_url: str) -> None:
    first = _take(store_url, [("alice", E3, "", "Active", "")], ["alice"])
    with open_store(store_url) as store:
        with pytest.raises(RuntimeError, match="page 3 failed"), SnapshotWriter(store, "t1") as writer:
            writer.stage("stage_skus", [_sku(E3, "SPE_E3", 10, 2)])
            writer.stage("stage_users", [_user("alice"), _user("bob")])
            writer.stage("stage_licenses", [("bob", E3, "", "Active", "", "", None)])
            raise RuntimeError("page 3 failed")
        assert queries.resolve_snapshot(store) == first
        info = queries.snapshots(store).set_index("id")
        assert info.loc[first + 1, "status"] == "failed"
        assert info.loc[first + 1, "error"] == "page 3 failed"
        # Nothing of the failed attempt leaked into the facts.
        assert (
            store.conn.execute(
                "SELECT COUNT(*) FROM sku_counts WHERE snapshot_id = ?", (first + 1,)
            ).fetchone()[0]
            == 0
        )
        assert store.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1
    assert _licenses_as_of(store_url, first) == {("alice", E3, "", "Active", "")}


def test_history_reproduces_every_snapshot_and_unchanged_days_write_nothing(store_url: str) -> None:
    day1 = [
        ("alice", E3, "", "Active", ""),
        ("bob", E3, GROUP, "Active", ""),
        ("carol", VISIO, "", "Active", ""),
    ]
    day2 = day1  # nothing changed
    day3 = [
        ("alice", E3, "", "Active", ""),
        ("bob", E3, GROUP, "Active", ""),
        ("bob", E3, "", "Active", ""),  # bob now also holds E3 directly: still one seat
        ("dave", E3, GROUP, "Error", "CountViolation"),
    ]  # carol left
    s1 = _take(store_url, day1, ["alice", "bob", "carol"])
    with open_store(store_url) as store:
        rows_after_1 = store.conn.execute("SELECT COUNT(*) FROM user_licenses").fetchone()[0]
    s2 = _take(store_url, day2, ["alice", "bob", "carol"])
    with open_store(store_url) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM user_licenses").fetchone()[0] == rows_after_1 == 3
    s3 = _take(store_url, day3, ["alice", "bob", "dave"], dept={"alice": "Finance"})

    assert _licenses_as_of(store_url, s1) == set(day1)
    assert _licenses_as_of(store_url, s2) == set(day1)
    assert _licenses_as_of(store_url, s3) == set(day3)
    with open_store(store_url) as store:
        # 3 rows from day 1, none from day 2, 2 opened on day 3 (carol's closed, not deleted)
        assert store.conn.execute("SELECT COUNT(*) FROM user_licenses").fetchone()[0] == 5
        depts = queries.users(store, s1).set_index("user_id")["department"].to_dict()
        assert depts == {"alice": "Sales", "bob": "Sales", "carol": "Sales"}
        later = queries.users(store, s3).set_index("user_id")["department"].to_dict()
        assert later == {"alice": "Finance", "bob": "Sales", "dave": "Sales"}
        errors = queries.group_errors(store, s3)
        assert errors[["user_id", "sku_id", "error"]].values.tolist() == [["dave", E3, "CountViolation"]]
        counts = queries.sku_counts(store, s3).set_index("sku_part_number")
        assert counts.loc["SPE_E3", "users_in_store"] == 2  # alice and bob (dave is in error)
        assert counts.loc["VISIOCLIENT", "users_in_store"] == 0


def test_consumed_units_mismatch_is_explained(store_url: str) -> None:
    with open_store(store_url) as store, SnapshotWriter(store, "t1") as writer:
        writer.stage("stage_skus", [_sku(E3, "SPE_E3", 10, 3)])
        writer.stage("stage_users", [_user("alice")])
        writer.stage("stage_licenses", [("alice", E3, "", "Active", "", "", None)])
        writer.stage("stage_assigned", [("alice", E3)])
        summary = writer.complete()
    assert len(summary.warnings) == 1
    assert summary.warnings[0].startswith("SPE_E3: Graph reports 3 consumed units but 1 users hold it")
    with open_store(store_url) as store:
        assert queries.snapshot_info(store, summary.snapshot_id)["warnings"] == summary.warnings


def test_abandoned_running_snapshot_is_marked_failed(store_url: str) -> None:
    import socket

    with open_store(store_url) as store, store.atomic() as tx:
        tx.execute(
            "INSERT INTO snapshots (tenant_id, started_at, status, host, pid) VALUES ('t1', '2026-01-01', 'running', ?, ?)",
            (socket.gethostname(), 2**22 + 12345),  # no such process
        )
    sid = _take(store_url, [("alice", E3, "", "Active", "")], ["alice"])
    with open_store(store_url) as store:
        info = queries.snapshots(store).set_index("id")
        assert info.loc[1, "status"] == "failed"
        assert "ended before completing" in info.loc[1, "error"]
        assert queries.resolve_snapshot(store) == sid


def test_no_snapshot_yet_is_explained(store_url: str) -> None:
    with open_store(store_url) as store, pytest.raises(StoreError, match="has no complete snapshot yet"):
        queries.resolve_snapshot(store)
