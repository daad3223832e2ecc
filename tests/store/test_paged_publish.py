"""Pages compared with the history as they arrive (``stage_user_page``) publish exactly what
rows given to ``stage`` (compared at ``complete()``) publish, and that is each day's tenant.

The collector stages users page by page and works out, while the next page downloads, which rows
differ from the current history; ``complete()`` then only writes those. Rows staged through
``stage`` are compared the same way, a page at a time, when publishing. Both must give the same
history, row for row, on a tenant that changes in every way a tenant can, and every snapshot must
read back as the tenant it was taken from. Pages are published into the history as they
arrive, unseen by readers: a collection that fails takes them back out, and one whose process
died is undone by the next.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from licensedesk.errors import StoreError
from store.db import Store, open_store
from store.publish import KEY_INDEXES
from store.snapshots import SnapshotSummary, SnapshotWriter
from store.usage import USAGE_COLUMNS

E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965"
E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
VISIO = "c5928f49-12ba-48f7-ada3-0d743a3601d5"
SKUS = (E3, E5, VISIO)
GROUPS = ("", "", "g-sales", "g-all")
TABLES = {
    "users": "SELECT * FROM users",
    "user_licenses": "SELECT * FROM user_licenses",
    "user_signins": "SELECT * FROM user_signins",
    "sku_counts": "SELECT snapshot_id, sku_id, consumed, users_in_store FROM sku_counts",
    "snapshots": "SELECT id, status, user_count, license_count, signin_available FROM snapshots",
}

Tenant = dict[str, dict[str, Any]]  # user id -> {"attrs", "licenses", "signin"}


def _user(rng: random.Random, uid: str) -> dict[str, Any]:
    return {
        "attrs": (
            f"{uid}@contoso.com", rng.choice([uid.title(), None]), rng.choice([1, 0, None]), "Member",
            rng.choice(["US", "GB", None]), rng.choice(["Sales", "IT", None]), None, None, None,
        ),
        "licenses": {
            (sku, group): (rng.choice(["Active", "Active", "ActiveWithError"]), "", "", "2026-01-01T00:00:00Z")
            for sku in rng.sample(SKUS, rng.randint(0, 2))
            for group in rng.sample(GROUPS, rng.randint(1, 2))
        },
        "signin": (rng.choice(["2026-01-02T00:00:00Z", None]), None, None),
    }  # fmt: skip


def _evolve(rng: random.Random, tenant: Tenant, serial: Iterator[int]) -> Tenant:
    """The next day: a few joiners and leavers, and changes to every kind of field."""
    after = {uid: {**u, "licenses": dict(u["licenses"])} for uid, u in tenant.items()}
    for uid in rng.sample(sorted(after), 3):
        del after[uid]
    for _ in range(4):
        uid = f"u{next(serial):03d}"
        after[uid] = _user(rng, uid)
    for uid in rng.sample(sorted(after), len(after) // 3):
        user = after[uid]
        change = rng.choice(["attrs", "state", "plans", "drop", "add", "stamp", "signin", "none"])
        held = sorted(user["licenses"])
        if change == "attrs":
            user["attrs"] = (*user["attrs"][:4], rng.choice(["US", "DE", None]), *user["attrs"][5:])
        elif change == "state" and held:
            key = rng.choice(held)
            user["licenses"][key] = ("Error", "CountViolation", "", user["licenses"][key][3])
        elif change == "plans" and held:
            key = rng.choice(held)
            state, error, _plans, stamp = user["licenses"][key]
            user["licenses"][key] = (state, error, "EXCHANGE_S_STANDARD", stamp)
        elif change == "drop" and held:
            del user["licenses"][rng.choice(held)]
        elif change == "add":
            user["licenses"][(rng.choice(SKUS), rng.choice(GROUPS))] = ("Active", "", "", None)
        elif change == "stamp" and held:
            # Only lastUpdatedDateTime moves: not a change (the stored row's stamp is kept).
            key = rng.choice(held)
            user["licenses"][key] = (*user["licenses"][key][:3], "2026-02-02T00:00:00Z")
        elif change == "signin":
            user["signin"] = (rng.choice(["2026-03-03T00:00:00Z", None]), "2026-03-03T01:00:00Z", None)
    return after


def _rows(tenant: Tenant, uids: Sequence[str], *, signins: bool) -> tuple[list[Any], ...]:
    users = [(uid, *tenant[uid]["attrs"]) for uid in uids]
    licenses = [
        (uid, sku, group, *value)
        for uid in uids
        for (sku, group), value in sorted(tenant[uid]["licenses"].items())
    ]
    assigned = [(uid, sku) for uid in uids for sku in sorted({sku for sku, _g in tenant[uid]["licenses"]})]
    signin_rows = [(uid, *tenant[uid]["signin"]) for uid in uids] if signins else []
    return users, licenses, assigned, signin_rows


def _stage_common(writer: SnapshotWriter) -> None:
    writer.stage("stage_skus", [(sku, sku[:4], "User", "Enabled", 100, 0, 0, 0, 0) for sku in SKUS])


def _take_paged(
    store: Store, tenant: Tenant, rng: random.Random, *, signins: bool, largest: int = 12,
    usage: dict[str, tuple[Any, ...]] | None = None,
) -> SnapshotSummary:  # fmt: skip
    """One collection of ``tenant`` in random pages; with ``usage`` (user id -> usage values), each
    page's users are given theirs as the collector joins them: at once, or held back for a few
    pages as when the reports come in after the first pages."""
    with SnapshotWriter(store, "t") as writer:
        _stage_common(writer)
        uids = rng.sample(sorted(tenant), len(tenant))  # Graph promises no order
        held: list[tuple[Any, ...]] = []
        start = 0
        while start < len(uids):
            size = rng.randint(1, largest)
            page = uids[start : start + size]
            writer.stage_user_page(*_rows(tenant, page, signins=signins))
            if usage is not None:
                held.extend((uid, *usage[uid]) for uid in page if uid in usage)
                if held and rng.random() < 0.6:
                    writer.stage_usage(held)
                    held = []
            start += size
        if held:
            writer.stage_usage(held)
        return writer.complete(signin_available=signins)


def _stage_whole(writer: SnapshotWriter, tenant: Tenant, *, signins: bool) -> None:
    """Stage a whole tenant with ``stage``: compared with the history only when publishing."""
    _stage_common(writer)
    tables = ("stage_users", "stage_licenses", "stage_assigned", "stage_signins")
    for table, rows in zip(tables, _rows(tenant, sorted(tenant), signins=signins), strict=True):
        writer.stage(table, rows)


def _take_whole(store: Store, tenant: Tenant, *, signins: bool) -> SnapshotSummary:
    with SnapshotWriter(store, "t") as writer:
        _stage_whole(writer, tenant, signins=signins)
        return writer.complete(signin_available=signins)


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: sorted((tuple(row) for row in store.conn.execute(sql).fetchall()), key=repr)
        for name, sql in TABLES.items()
    }


def _as_of(store: Store, sid: int) -> tuple[dict[str, tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The users (id -> attributes) and licences (identity, without the stamp) of snapshot ``sid``."""
    live = "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"
    users = store.conn.execute(
        "SELECT user_id, user_principal_name, display_name, account_enabled, user_type, usage_location,"
        f" department, company_name, job_title, created_at FROM users WHERE {live}",
        (sid, sid),
    ).fetchall()
    licenses = store.conn.execute(
        f"SELECT user_id, sku_id, assigned_by_group, state, error, disabled_plans FROM user_licenses WHERE {live}",
        (sid, sid),
    ).fetchall()
    return {row[0]: tuple(row[1:]) for row in users}, {tuple(row) for row in licenses}


def _days(seed: int, count: int, users: int = 40) -> list[Tenant]:
    rng = random.Random(seed)
    serial = iter(range(1000))
    tenant = {uid: _user(rng, uid) for uid in (f"u{next(serial):03d}" for _ in range(users))}
    days = [tenant]
    for _ in range(count - 1):
        days.append(_evolve(rng, days[-1], serial))
    return days


def _usage_days(days: Sequence[Tenant], seed: int, without: int) -> list[dict[str, tuple[Any, ...]] | None]:
    """Each day's usage (user id -> the values after user_id, ``USAGE_COLUMNS`` order) for most of
    its users; day ``without`` has none (no Reports.Read.All). From day 3 on the reports are
    refreshed each day, as Graph's are, so every row of those days differs from the day before."""
    rng = random.Random(seed)
    out: list[dict[str, tuple[Any, ...]] | None] = []
    last: dict[str, tuple[Any, ...]] = {}
    for day, tenant in enumerate(days):
        refreshed = f"2026-01-{max(day, 2):02d}"
        usage = {}
        for uid in sorted(tenant):
            if rng.random() < 0.15:
                continue  # not in the reports today
            before = last.get(uid)
            if before is None or rng.random() < 0.3:
                before = (
                    refreshed, rng.choice(["2026-01-01", None]), None, None, rng.choice(["2025-12-30", None]),
                    None, None, rng.randint(0, 1), rng.randint(0, 1), None, rng.choice(["UserMailbox", None]),
                    rng.choice([3 * 1024**3, None]), 0, rng.choice([0, 1, None]), 7,
                )  # fmt: skip
            usage[uid] = (refreshed, *before[1:])
        last = usage
        out.append(None if day == without else usage)
    return out


def test_pages_compared_as_they_arrive_publish_the_same_history(store_url: str, tmp_path: Path) -> None:
    days = _days(seed=7, count=10)
    rng = random.Random(8)
    # Day 6 has no sign-in data (Graph refused it): sign-ins must be left as they were.
    with_signins = [day != 6 for day in range(len(days))]
    paged_summaries, whole_summaries = [], []
    with open_store(store_url) as paged, open_store(str(tmp_path / "whole.sqlite")) as whole:
        for tenant, signins in zip(days, with_signins, strict=True):
            paged_summaries.append(_take_paged(paged, tenant, rng, signins=signins))
            whole_summaries.append(_take_whole(whole, tenant, signins=signins))
        paged_rows, whole_rows = _dump(paged), _dump(whole)
    for name in TABLES:
        assert paged_rows[name] == whole_rows[name], name
    assert [(s.users_changed, s.licenses_changed) for s in paged_summaries] == [
        (s.users_changed, s.licenses_changed) for s in whole_summaries
    ]
    # The history really moved: joiners, leavers and changed licences on every later day.
    assert all(s.users_changed >= 3 and s.licenses_changed > 0 for s in paged_summaries[1:])
    # Each snapshot reads back as the tenant it was taken from (the tenants are the expectation,
    # written by _user and _evolve, not by the store), and the users current at the end are
    # exactly the last day's users.
    with open_store(store_url) as store:
        for tenant, summary in zip(days, paged_summaries, strict=True):
            users, licenses = _as_of(store, summary.snapshot_id)
            assert users == {uid: user["attrs"] for uid, user in tenant.items()}
            assert licenses == {
                (uid, sku, group, state, error, plans)
                for uid, user in tenant.items()
                for (sku, group), (state, error, plans, _stamp) in user["licenses"].items()
            }
        current = {row[0] for row in store.conn.execute("SELECT user_id FROM users WHERE valid_to IS NULL")}
    assert current == set(days[-1])


def _history_model(
    days: Sequence[Tenant], sids: Sequence[int], with_signins: Sequence[bool],
    usage: Sequence[dict[str, tuple[Any, ...]] | None],
) -> dict[str, list[Any]]:  # fmt: skip
    """The rows the history should hold after these days, worked out one value at a time: a row is
    opened when a user (a licence key, a sign-in) first has a value or a different one, and closed
    by the snapshot that no longer has it. Written from the tenants alone, not from the store.
    Rows are (*key, *value, valid_from, valid_to)."""
    current: dict[str, dict[tuple[Any, ...], tuple[tuple[Any, ...], int]]] = {
        "users": {}, "user_licenses": {}, "user_signins": {}, "user_usage": {},
    }  # fmt: skip
    closed: dict[str, list[tuple[Any, ...]]] = {table: [] for table in current}

    def end(table: str, key: tuple[Any, ...], sid: int) -> None:
        if key in current[table]:
            value, start = current[table].pop(key)
            closed[table].append((*key, *value, start, sid))

    def put(table: str, key: tuple[Any, ...], value: tuple[Any, ...], sid: int, compared: int) -> None:
        # Only the first ``compared`` fields count: a licence's stamp alone is no change (kept as first seen).
        if key in current[table] and current[table][key][0][:compared] == value[:compared]:
            return
        end(table, key, sid)
        current[table][key] = (value, sid)

    for tenant, sid, signins, given in zip(days, sids, with_signins, usage, strict=True):
        for key in [key for key in current["users"] if key[0] not in tenant]:
            end("users", key, sid)
        # Usage is the day's or none: a user without it today (left, not in the reports, or no
        # reports at all) has their row closed.
        for key in [key for key in current["user_usage"] if key[0] not in (given or {})]:
            end("user_usage", key, sid)
        for uid, value in (given or {}).items():
            put("user_usage", (uid,), value, sid, len(value))
        for uid, sku, group in list(current["user_licenses"]):
            if (sku, group) not in tenant.get(uid, {}).get("licenses", {}):
                end("user_licenses", (uid, sku, group), sid)
        for uid, user in tenant.items():
            put("users", (uid,), user["attrs"], sid, len(user["attrs"]))
            for (sku, group), value in user["licenses"].items():
                put("user_licenses", (uid, sku, group), value, sid, 3)
            if signins:  # a day without sign-in data leaves them as they were; so does leaving
                put("user_signins", (uid,), user["signin"], sid, len(user["signin"]))
    return {
        table: [(*key, *value, start, None) for key, (value, start) in current[table].items()] + closed[table]
        for table in current
    }


@pytest.mark.parametrize("largest", [12, 400], ids=["small-pages", "large-pages"])
def test_the_history_holds_one_row_per_value_each_user_had(store_url: str, largest: int) -> None:
    """Not one row more or less than the days call for: unchanged users, licences and sign-ins
    write nothing (a daily collection compares hashes of the current rows), and every change,
    down to one field of one licence, is written."""
    # Large pages are written many rows to an INSERT (store.publish), small ones a row at a time.
    days = _days(seed=5, count=8, users=300)
    rng = random.Random(6)
    with_signins = [day != 4 for day in range(len(days))]
    usage = _usage_days(days, seed=7, without=5)
    with open_store(store_url) as store:
        sids = [
            _take_paged(store, tenant, rng, signins=signins, largest=largest, usage=given).snapshot_id
            for tenant, signins, given in zip(days, with_signins, usage, strict=True)
        ]
        stored = {
            "users": store.conn.execute(
                "SELECT user_id, user_principal_name, display_name, account_enabled, user_type, usage_location,"
                " department, company_name, job_title, created_at, valid_from, valid_to FROM users"
            ).fetchall(),
            "user_licenses": store.conn.execute(
                "SELECT user_id, sku_id, assigned_by_group, state, error, disabled_plans, last_updated_at,"
                " valid_from, valid_to FROM user_licenses"
            ).fetchall(),
            "user_signins": store.conn.execute(
                "SELECT user_id, last_sign_in_at, last_non_interactive_at, last_successful_at, valid_from,"
                " valid_to FROM user_signins"
            ).fetchall(),
            "user_usage": store.conn.execute(
                f"SELECT {', '.join(USAGE_COLUMNS)}, valid_from, valid_to FROM user_usage"
            ).fetchall(),
        }
    model = _history_model(days, sids, with_signins, usage)
    for table, rows in model.items():
        assert sorted(map(tuple, stored[table]), key=repr) == sorted(rows, key=repr), table
    # The days really changed every part: closed rows in each table.
    assert all(any(row[-1] is not None for row in rows) for rows in model.values())


_DYING_COLLECTOR = """
import sys, time
from store.db import open_store
from store.snapshots import SnapshotWriter
from tests.store.test_paged_publish import _days, _rows, _stage_common

day2 = _days(seed=11, count=3)[1]
writer = SnapshotWriter(open_store(sys.argv[1]), "t").__enter__()
_stage_common(writer)
uids = sorted(day2)
for start in range(0, len(uids), 9):  # every page of day 2 published; complete() never comes
    if start + 9 >= len(uids):
        time.sleep(1.1)  # as if waiting on Graph: the pages so far are committed with the last
    writer.stage_user_page(*_rows(day2, uids[start : start + 9], signins=True))
    writer.stage_usage([(uid, "2026-01-05", *[None] * 14) for uid in uids[start : start + 9]])
writer.commit_pages()  # as the collector does before it waits on Graph
print(writer.snapshot_id, flush=True)
time.sleep(120)
"""


@contextmanager
def _dying_collector(store_url: str) -> Iterator[tuple[int, int]]:
    """A collector process that has published every page of day 2: (its snapshot, its pid) while
    it lives; it is killed with SIGKILL when the block ends."""
    repo = Path(__file__).resolve().parents[2]
    dying = subprocess.Popen(
        [sys.executable, "-c", _DYING_COLLECTOR, store_url], cwd=repo, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )  # fmt: skip
    try:
        assert dying.stdout is not None
        yield int(dying.stdout.readline()), dying.pid
    finally:
        dying.send_signal(signal.SIGKILL)
        dying.wait(timeout=10)
        if dying.stdout is not None:
            dying.stdout.close()


def _reference(path: Path, *tenants: Tenant | None) -> dict[str, list[tuple[Any, ...]]]:
    """The history of a store that saw only these tenants (None: an attempt that failed at once)."""
    with open_store(str(path)) as reference:
        for tenant in tenants:
            if tenant is None:
                with pytest.raises(RuntimeError), SnapshotWriter(reference, "t"):
                    raise RuntimeError("stopped")
            else:
                _take_whole(reference, tenant, signins=True)
        return _dump(reference)


def test_a_failed_collection_takes_its_published_pages_back_out(store_url: str, tmp_path: Path) -> None:
    day1, day2, _day3 = _days(seed=11, count=3)
    usage1, usage2, _usage3 = _usage_days([day1, day2, _day3], seed=13, without=-1)
    assert usage1 is not None and usage2 is not None
    rng = random.Random(12)
    with open_store(store_url) as store:
        first = _take_paged(store, day1, rng, signins=True, usage=usage1).snapshot_id
        usage_before = _usage_rows(store)
        with pytest.raises(RuntimeError, match="Graph stopped"), SnapshotWriter(store, "t") as writer:
            _stage_common(writer)
            uids = sorted(day2)
            writer.stage_user_page(*_rows(day2, uids[:-10], signins=True))
            writer.stage_usage([(uid, *usage2[uid]) for uid in uids[:-10] if uid in usage2])
            time.sleep(1.1)  # as if waiting on Graph: SQLite commits its page writes every second
            writer.stage_user_page(*_rows(day2, uids[-10:-5], signins=True))
            # The pages are in the history already, committed and unseen: the test means
            # something only then.
            with open_store(store_url) as reader:
                assert _rows_of(reader, writer.snapshot_id) > 10
                assert _as_of(reader, first) == _as_of_tenant(day1)
            assert _as_of(store, first) == _as_of_tenant(day1)
            raise RuntimeError("Graph stopped on page 2")
        assert _history_of(_dump(store)) == _history_of(_reference(tmp_path / "ref.sqlite", day1))
        assert _usage_rows(store) == usage_before  # its usage rows taken out, the ones they replaced reopened
        assert any(row[-2] == first for row in usage_before)  # (there were some)
        failed = store.conn.execute(
            "SELECT status, error FROM snapshots WHERE id = ?", (first + 1,)
        ).fetchone()
    assert tuple(failed) == ("failed", "Graph stopped on page 2")


def test_a_collection_whose_process_died_is_undone_by_the_next(store_url: str, tmp_path: Path) -> None:
    """A collector killed after publishing every page (SIGKILL: nothing of it runs again): readers
    never see its rows, a collection started meanwhile is refused with a sentence naming it, and
    the next collection undoes it and publishes a history as if it had never run."""
    day1, day2, day3 = _days(seed=11, count=3)
    rng = random.Random(12)
    with open_store(store_url) as store:
        first = _take_paged(store, day1, rng, signins=True).snapshot_id
    with _dying_collector(store_url) as (dead, pid):
        with open_store(store_url) as store:
            assert _rows_of(store, dead) > 10
            assert len(_usage_rows(store)) == len(day2)  # its usage rows, committed and unseen
            assert _as_of(store, first) == _as_of_tenant(day1)
            with pytest.raises(StoreError) as refused, SnapshotWriter(store, "t"):
                pass
        assert str(refused.value).startswith(
            f"Another collection of this store is running (snapshot {dead}, started "
        )
        assert f"by process {pid} on " in str(refused.value)
        assert str(refused.value).endswith(
            "so this one did not start; run it again once that one has finished."
        )
    with open_store(store_url) as store:
        assert _as_of(store, first) == _as_of_tenant(day1)
        third = _take_paged(store, day3, rng, signins=True)
        statuses = store.conn.execute("SELECT id, status, error FROM snapshots ORDER BY id").fetchall()
        history = _history_of(_dump(store))
        usage_after = _usage_rows(store)
    assert third.snapshot_id == dead + 2
    assert [tuple(row) for row in statuses] == [
        (first, "complete", None),
        (dead, "failed", "the collector process ended before completing this snapshot"),
        (dead + 1, "failed", str(refused.value)),
        (third.snapshot_id, "complete", None),
    ]
    # As a store that saw day 1, two attempts that wrote nothing, then day 3.
    assert history == _history_of(_reference(tmp_path / "ref.sqlite", day1, None, None, day3))
    assert usage_after == []  # nobody was given usage by a collection that completed


def _rows_of(store: Store, sid: int | None) -> int:
    """History rows a snapshot opened or closed."""
    return sum(
        store.conn.execute(
            f"SELECT COUNT(*) FROM {table} WHERE valid_from = ? OR valid_to = ?", (sid, sid)
        ).fetchone()[0]
        for table in ("users", "user_licenses", "user_signins", "user_usage")
    )


def _usage_rows(store: Store) -> list[tuple[Any, ...]]:
    rows = store.conn.execute(f"SELECT {', '.join(USAGE_COLUMNS)}, valid_from, valid_to FROM user_usage")
    return sorted((tuple(row) for row in rows.fetchall()), key=repr)


def _history_of(dump: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    return {name: dump[name] for name in ("users", "user_licenses", "user_signins")}


def _as_of_tenant(tenant: Tenant) -> tuple[dict[str, tuple[Any, ...]], set[tuple[Any, ...]]]:
    """What ``_as_of`` must read for a snapshot of ``tenant`` (written from the tenant, not the store)."""
    users = {uid: tuple(user["attrs"]) for uid, user in tenant.items()}
    licenses = {
        (uid, sku, group, state, error, plans)
        for uid, user in tenant.items()
        for (sku, group), (state, error, plans, _stamp) in user["licenses"].items()
    }
    return users, licenses


def _indexes(store: Store) -> dict[str, str]:
    """The store's indexes on the per-user tables: name -> definition (whitespace folded)."""
    if store.dialect.name == "sqlite":
        rows = store.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    else:
        rows = store.conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
        )
    return {name: " ".join(sql.split()) for name, sql in rows.fetchall()}


def test_a_first_collection_killed_without_its_key_indexes_gets_them_back(
    store_url: str, tmp_path: Path
) -> None:
    """A first collection loads the history without the per-user key indexes and builds them at
    the end; killed in between, it leaves them dropped, and the next collection puts them back."""
    with open_store(store_url) as store:
        migrated = _indexes(store)
    if store_url.endswith(".sqlite"):
        # The declaration the collector rebuilds from is the migrations' own.
        for name, definition in KEY_INDEXES.items():
            assert migrated[name] == " ".join(f"CREATE INDEX {name} ON {definition}".split()), name
    with _dying_collector(store_url) as (dead, _pid):
        pass
    with open_store(store_url) as store:
        assert set(KEY_INDEXES) & set(_indexes(store)) == set()  # the test means something only then
        assert _rows_of(store, dead) > 10
        day1 = _days(seed=11, count=1)[0]
        _take_paged(store, day1, random.Random(3), signins=True)
        assert _indexes(store) == migrated
        history = _history_of(_dump(store))
    assert history == _history_of(_reference(tmp_path / "ref.sqlite", None, day1))
