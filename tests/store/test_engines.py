"""Choosing the store by location: SQLite paths and URLs, PostgreSQL URLs, and their failures."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from licensedesk.config import load_settings
from licensedesk.errors import ConfigError, StoreError
from store import queries
from store.db import describe, open_store, store_exists
from store.snapshots import SnapshotWriter

CANARY = "pg-Pa55word~canary"
E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def test_describe_hides_only_the_password() -> None:
    assert describe(f"postgresql://ld:{CANARY}@db.example:5432/licenses?sslmode=require") == (
        "postgresql://ld:***@db.example:5432/licenses?sslmode=require"
    )
    assert describe("postgresql://ld@db.example/licenses") == "postgresql://ld@db.example/licenses"
    assert describe("sqlite:///data/x.sqlite") == "data/x.sqlite"
    assert describe("data/x.sqlite") == "data/x.sqlite"


def test_sqlite_url_and_plain_path_are_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    open_store(f"sqlite:///{path}").close()  # an absolute path: four slashes in all
    assert path.exists() and store_exists(path) and store_exists(f"sqlite:///{path}")


def test_unreachable_postgres_is_one_sentence_without_the_password() -> None:
    url = f"postgresql://ld:{CANARY}@127.0.0.1:1/licenses"
    with pytest.raises(StoreError) as err:
        open_store(url)
    message = str(err.value)
    assert message.startswith(
        "Cannot connect to the PostgreSQL store at postgresql://ld:***@127.0.0.1:1/licenses ("
    )
    assert CANARY not in message and "\n" not in message
    with pytest.raises(StoreError, match="Cannot connect"):
        store_exists(url)


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("mysql://db/licenses", "LICENSE_DESK_STORE must be a file path, sqlite:///PATH or postgresql://HOST/DATABASE, not a mysql:// URL."),
        ("sqlite://data/x.sqlite", "LICENSE_DESK_STORE must spell an SQLite store as sqlite:///PATH (three slashes)."),
    ],
)  # fmt: skip
def test_unsupported_store_urls_are_configuration_errors(store: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"LICENSE_DESK_STORE": store})
    assert str(err.value) == expected


def test_the_store_password_is_a_secret_and_not_in_repr() -> None:
    settings = load_settings({"LICENSE_DESK_STORE": f"postgresql://ld:{CANARY}@db/licenses"})
    assert CANARY in settings.secrets
    assert CANARY not in repr(settings)


def test_an_empty_schema_is_no_store_until_created(store_url: str) -> None:
    assert not store_exists(store_url)
    with pytest.raises(StoreError, match="There is no store at .*run `license-desk collect`"):
        open_store(store_url, create=False)
    open_store(store_url).close()
    assert store_exists(store_url)


def test_booleans_and_big_sums_read_back_as_sqlite_gives_them(store_url: str) -> None:
    with open_store(store_url) as store:
        with store.atomic() as tx:
            tx.execute(
                "INSERT INTO thresholds (sku_id, min_free_seats, updated_at) VALUES (?, ?, ?)",
                ("a", True, "now"),
            )
        assert store.conn.execute("SELECT min_free_seats FROM thresholds").fetchone()[0] == 1
        big = store.conn.execute("SELECT SUM(CAST(? AS BIGINT)) FROM thresholds", (2**40,)).fetchone()[0]
        assert big == 2**40 and isinstance(big, int)
        assert store.frame("SELECT sku_id FROM thresholds WHERE sku_id LIKE :p", {"p": "a%"})[
            "sku_id"
        ].tolist() == ["a"]


def _publish(store_url: str, users: list[str], ready: threading.Barrier, results: list[object]) -> None:
    try:
        with open_store(store_url) as store:
            ready.wait(timeout=30)
            with SnapshotWriter(store, "t1") as writer:
                writer.stage("stage_skus", [(E3, "SPE_E3", "User", "Enabled", 10, 0, 0, 0, len(users))])
                writer.stage(
                    "stage_users",
                    [(u, f"{u}@x", u, 1, "Member", "US", None, None, None, None) for u in users],
                )
                writer.stage("stage_licenses", [(u, E3, "", "Active", "", "", None) for u in users])
                writer.stage("stage_assigned", [(u, E3) for u in users])
                time.sleep(1.0)  # still running when the other one tries to start
                results.append(writer.complete())
    except Exception as exc:  # noqa: BLE001 - the test inspects what each writer ended with
        results.append(exc)


def test_two_collections_started_at_once_run_one_and_refuse_the_other(store_url: str) -> None:
    open_store(store_url).close()
    ready = threading.Barrier(2)
    results: list[object] = []
    threads = [
        threading.Thread(target=_publish, args=(store_url, users, ready, results))
        for users in (["alice", "bob"], ["alice", "carol", "dave"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Whichever took the collect lock first runs to the end; the other is refused before it
    # stages anything, and says which collection is running.
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(results) == 2 and len(errors) == 1
    with open_store(store_url) as store:
        latest = queries.resolve_snapshot(store)
        held = set(queries.user_licenses(store, latest)["user_id"])
        info = queries.snapshots(store).set_index("id")
    assert str(errors[0]).startswith(
        f"Another collection of this store is running (snapshot {latest}, started "
    )
    assert str(errors[0]).endswith("so this one did not start; run it again once that one has finished.")
    assert sorted(info["status"]) == ["complete", "failed"]
    assert info.loc[info["status"] == "failed", "error"].tolist() == [str(errors[0])]
    assert held in ({"alice", "bob"}, {"alice", "carol", "dave"})
    # The lock went with the collection that held it: the next one runs.
    again: list[object] = []
    _publish(store_url, ["erin"], threading.Barrier(1), again)
    assert not isinstance(again[0], Exception), again[0]


def test_collections_of_two_stores_run_at_once(store_url: str, tmp_path: Path) -> None:
    """The collect lock is the store's: two tenants' stores (two files, or two schemas of one
    PostgreSQL database) collect at the same time."""
    other = str(tmp_path / "other.sqlite")
    schema = f"other_{uuid.uuid4().hex[:12]}"
    if store_url.startswith("postgresql"):
        import psycopg

        base, _options = store_url.split("?", 1)
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        other = f"{base}?options=-csearch_path%3D{schema}"
    try:
        with open_store(store_url) as one, open_store(other) as two:
            with SnapshotWriter(one, "t1") as first, SnapshotWriter(two, "t2") as second:
                for writer in (first, second):
                    writer.stage(
                        "stage_users", [("alice", "a@x", "A", 1, "Member", "US", None, None, None, None)]
                    )
                assert first.complete().users == 1
                assert second.complete().users == 1
    finally:
        if store_url.startswith("postgresql"):
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
