"""Named reads across snapshots (store/history.py), from interval rows written by SnapshotWriter."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store import history, queries
from store.db import SCHEMA_VERSION, open_store
from store.snapshots import SnapshotWriter
from tests.dashboard.tenant import build_store

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"


def _take(path: str, users: list[str], licenses: list[tuple[str, str, str, str, str]]) -> int:
    with open_store(path) as store, SnapshotWriter(store, "t1") as writer:
        writer.stage("stage_skus", [(E3, "SPE_E3", "User", "Enabled", 10, 0, 0, 0, 0)])
        writer.stage(
            "stage_users",
            [(u, f"{u}@contoso.com", u.title(), 1, "Member", "US", "Sales", "", "", None) for u in users],
        )
        writer.stage("stage_licenses", [(u, s, g, st, e, "", None) for u, s, g, st, e in licenses])
        return writer.complete().snapshot_id


def test_changes_between_two_snapshots(tmp_path: Path) -> None:
    path = build_store(str(tmp_path / "tenant.sqlite"))
    with open_store(path) as store:
        rows = history.license_changes(store, 2, 4)
        # Both orders give the same answer: the earlier snapshot is "before".
        assert rows.equals(history.license_changes(store, 4, 2))
        touched = sorted({(r.user_id, r.sku_id.split("-")[0]) for r in rows.itertuples()})
        assert touched == [
            ("ann", "4b9405b0"), ("cat", "c5928f49"), ("eve", "05e9a617"), ("fay", "4b9405b0"), ("hal", "05e9a617"),
            ("ida", "0dab259f"), ("jon", "0dab259f"), ("kim", "639dec6b"), ("max", "c5928f49"), ("oli", "0dab259f"),
            ("pat", "05e9a617"),
        ]  # fmt: skip
        eve = rows[rows["user_id"] == "eve"]
        # eve kept her direct E3 (a row valid in both) and gained a group one: all three rows come back.
        assert eve[["side", "assigned_by_group"]].values.tolist() == [
            ["before", ""],
            ["after", ""],
            ["after", "aaaaaaaa-0000-0000-0000-000000000001"],
        ]
        pat = rows[rows["user_id"] == "pat"]
        assert pat[["side", "user_principal_name"]].values.tolist() == [["before", "pat@contoso.com"]]

        people = history.user_changes(store, 2, 4)
        assert people[["user_id", "change"]].values.tolist() == [
            ["hal", "added"], ["ida", "added"], ["jon", "added"], ["oli", "added"], ["pat", "removed"],
        ]  # fmt: skip
        assert history.user_changes(store, 1, 2).empty

        errors = history.error_history(store)
        assert errors[["snapshot_id", "error", "members"]].values.tolist() == [
            [1, "CountViolation", 1],
            [2, "CountViolation", 1],
            [2, "UniquenessViolation", 1],
            [4, "CountViolation", 2],
            [4, "DependencyViolation", 1],
            [4, "MutuallyExclusiveViolation", 2],
            [4, "Other", 1],
            [4, "ProhibitedInUsageLocationViolation", 2],
            [4, "UniquenessViolation", 1],
        ]
        assert history.latest_attempt(store) == 4  # the failed attempt 3 is older


def test_a_row_that_came_and_went_between_two_snapshots_is_no_change(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite")
    a = _take(path, ["alice"], [("alice", E3, "", "Active", "")])
    _take(path, ["alice", "bob"], [("alice", E3, "", "Active", ""), ("bob", VISIO, "", "Active", "")])
    c = _take(path, ["alice"], [("alice", E3, "", "Active", "")])
    with open_store(path) as store:
        assert history.license_changes(store, a, c).empty
        assert history.user_changes(store, a, c).empty
        assert history.user_changes(store, a, a + 1)[["user_id", "change"]].values.tolist() == [
            ["bob", "added"]
        ]


def test_empty_store(tmp_path: Path) -> None:
    with open_store(tmp_path / "e.sqlite") as store:
        assert history.latest_attempt(store) is None
        assert history.error_history(store).empty


def test_error_reads_match_the_full_error_rows_in_every_snapshot(tmp_path: Path) -> None:
    path = build_store(str(tmp_path / "tenant.sqlite"))
    with open_store(path) as store:
        trend = history.error_history(store)
        for sid in queries.complete_snapshot_ids(store):
            full = queries.group_errors(store, sid)
            keys = queries.error_members(store, sid)
            assert sorted(keys.itertuples(index=False, name=None)) == sorted(
                full[["group_id", "user_id", "sku_id", "error"]].itertuples(index=False, name=None)
            )
            counted = trend[trend["snapshot_id"] == sid]
            assert dict(zip(counted["error"], counted["members"], strict=True)) == dict(
                full["error"].value_counts()
            )


def test_a_store_from_before_migration_5_is_upgraded(tmp_path: Path) -> None:
    path = build_store(str(tmp_path / "tenant.sqlite"))
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP INDEX user_licenses_errors; DROP INDEX users_by_id; DELETE FROM schema_migrations WHERE version >= 5;"
        # what the later migrations made that a re-run would make again (8: notifications)
        "DROP TABLE notification_state; DROP TABLE notification_deliveries;"
    )
    conn.close()
    with open_store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        plan = store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT valid_from, valid_to, error FROM user_licenses "
            "WHERE error <> '' AND assigned_by_group <> ''"
        ).fetchall()
        assert "user_licenses_errors" in str(plan)
        assert not history.error_history(store).empty
