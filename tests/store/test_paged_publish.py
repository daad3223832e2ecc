"""Pages compared with the history as they arrive (``stage_user_page``) publish exactly what
rows given to ``stage`` (compared at ``complete()``) publish, and that is each day's tenant.

The collector stages users page by page and works out, while the next page downloads, which rows
differ from the current history; ``complete()`` then only writes those. Rows staged through
``stage`` are compared the same way, a page at a time, when publishing. Both must give the same
history, row for row, on a tenant that changes in every way a tenant can, and every snapshot must
read back as the tenant it was taken from. When another collection publishes while pages are
being compared, the comparison is stale: the collection is discarded and says so.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from licensedesk.errors import StoreError
from store.db import Store, open_store
from store.snapshots import SnapshotSummary, SnapshotWriter

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


def _take_paged(store: Store, tenant: Tenant, rng: random.Random, *, signins: bool) -> SnapshotSummary:
    with SnapshotWriter(store, "t") as writer:
        _stage_common(writer)
        uids = rng.sample(sorted(tenant), len(tenant))  # Graph promises no order
        start = 0
        while start < len(uids):
            size = rng.randint(1, 12)
            writer.stage_user_page(*_rows(tenant, uids[start : start + size], signins=signins))
            start += size
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


def _days(seed: int, count: int) -> list[Tenant]:
    rng = random.Random(seed)
    serial = iter(range(1000))
    tenant = {uid: _user(rng, uid) for uid in (f"u{next(serial):03d}" for _ in range(40))}
    days = [tenant]
    for _ in range(count - 1):
        days.append(_evolve(rng, days[-1], serial))
    return days


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


def test_a_collection_published_meanwhile_discards_this_one_with_a_sentence(
    store_url: str, tmp_path: Path
) -> None:
    day1, day2, day3 = _days(seed=11, count=3)
    rng = random.Random(12)
    with open_store(store_url) as store:
        _take_paged(store, day1, rng, signins=True)
    with (
        open_store(store_url) as first,
        open_store(store_url) as second,
        SnapshotWriter(first, "t") as earlier,  # started first: the smaller id
    ):
        with pytest.raises(StoreError) as err, SnapshotWriter(second, "t") as later:
            _stage_common(later)
            uids = sorted(day3)
            half = len(uids) // 2
            # Half the pages are compared with day 1, then day 2 is published, then the rest.
            later.stage_user_page(*_rows(day3, uids[:half], signins=True))
            _stage_whole(earlier, day2, signins=True)
            published_day2 = earlier.complete().snapshot_id
            later.stage_user_page(*_rows(day3, uids[half:], signins=True))
            later.complete()
        published = _dump(first)
    sentence = (
        f"Another collection published snapshot {published_day2} while this one ran, so this one was "
        "discarded rather than overwrite newer data; run the collection again."
    )
    assert str(err.value) == sentence
    # Nothing of day 3 was published: the history is days 1 and 2, as a store that only ever
    # saw them holds it, and the discarded collection is recorded as failed with the sentence.
    with open_store(str(tmp_path / "reference.sqlite")) as reference:
        for tenant in (day1, day2):
            _take_whole(reference, tenant, signins=True)
        expected = _dump(reference)
    for name in ("users", "user_licenses", "user_signins"):
        assert published[name] == expected[name], name
    assert [row[1] for row in published["snapshots"]] == ["complete", "complete", "failed"]
    with open_store(store_url) as store:
        failed = store.conn.execute("SELECT error FROM snapshots WHERE status = 'failed'").fetchall()
    assert [row[0] for row in failed] == [sentence]
