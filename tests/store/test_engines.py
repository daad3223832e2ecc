"""Choosing the store by location: SQLite paths and URLs, PostgreSQL URLs, and their failures."""

from __future__ import annotations

import threading
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
        with open_store(store_url) as store, SnapshotWriter(store, "t1") as writer:
            writer.stage("stage_skus", [(E3, "SPE_E3", "User", "Enabled", 10, 0, 0, 0, len(users))])
            writer.stage(
                "stage_users", [(u, f"{u}@x", u, 1, "Member", "US", None, None, None, None) for u in users]
            )
            writer.stage("stage_licenses", [(u, E3, "", "Active", "", "", None) for u in users])
            writer.stage("stage_assigned", [(u, E3) for u in users])
            ready.wait(timeout=30)
            results.append(writer.complete())
    except Exception as exc:  # noqa: BLE001 - the test inspects what each writer ended with
        results.append(exc)


def test_two_collections_publishing_at_once_queue_and_keep_history_in_order(store_url: str) -> None:
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
    # Both began with no complete snapshot, so whichever publishes second compared its rows with
    # history that is no longer the latest: it is refused whatever the order, the other is the latest.
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(results) == 2
    with open_store(store_url) as store:
        latest = queries.resolve_snapshot(store)
        held = set(queries.user_licenses(store, latest)["user_id"])
        info = queries.snapshots(store).set_index("id")
    assert len(errors) == 1 and str(errors[0]) == (
        f"Another collection published snapshot {latest} while this one ran, so this one was discarded "
        "rather than overwrite newer data; run the collection again."
    )
    assert sorted(info["status"]) == ["complete", "failed"]
    assert info.loc[info["status"] == "failed", "error"].tolist() == [str(errors[0])]
    assert held in ({"alice", "bob"}, {"alice", "carol", "dave"})
