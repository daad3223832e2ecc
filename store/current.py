"""What is current in the history for a page of users, and what publishing the page changes.

Publishing writes only changes: the rows with no identical current row are opened, and the current
rows they replace (or, for licences, the keys the page no longer holds as stored) are closed. This
module works that out for one page, reading the store only.

A daily collection finds most users unchanged, and looking each one up was most of its time
(~1.9 s per 100,000 users: two index lookups per user). So the current rows are read once, in one
pass per table, into a hash per user and part (``CurrentDigests``); a page's rows are hashed the
same way, and only what differs is written. A user's attributes or sign-in that differ are closed
by user id and opened anew, with no lookup; only users whose licences differ have their current
licences looked up, to close just the keys that changed (a licence's valid_from is its history).

Measured (benchmarks/ab_collect.py, 100,000 users, against the lookups): a tenant collected again
unchanged, 0.92 of the time; with 70% of the sign-ins moving each day (benchmarks/bench_history.py)
no faster, since writing those sign-in rows is then most of the work; ~18 MB for the digests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from store.db import Connection
from store.staging import LICENSE_IDENTITY, USER_ATTRS, SignInRow
from store.usage import USAGE_COLUMNS

IDS_PER_QUERY = 500  # ids bound per VALUES list: well under every engine's parameter limit
# The ids are a VALUES list that the join keeps as the outer loop, so each id is one index lookup;
# with "user_id IN (...)" and no table statistics SQLite read every current row through the
# valid_to index instead (~40x slower).
_CURRENT_LICENSES = (
    f"SELECT {', '.join('u.' + c for c in LICENSE_IDENTITY)} FROM (VALUES {{ids}}) AS p "
    "CROSS JOIN user_licenses u WHERE u.user_id = p.column1 AND u.valid_to IS NULL"
)
# Each current row in the staged column order, so a stored row and the staged row it equals hash alike.
_ALL_USERS = f"SELECT user_id, {', '.join(USER_ATTRS)} FROM users WHERE valid_to IS NULL"
_ALL_LICENSES = f"SELECT {', '.join(LICENSE_IDENTITY)} FROM user_licenses WHERE valid_to IS NULL"
_ALL_SIGNINS = f"SELECT {', '.join(SignInRow._fields)} FROM user_signins WHERE valid_to IS NULL"
_ALL_USAGE = f"SELECT {', '.join(USAGE_COLUMNS)} FROM user_usage WHERE valid_to IS NULL"
_IDENTITY = len(LICENSE_IDENTITY)
_KEY = 3  # user_id, sku_id, assigned_by_group: a licence's key, the start of its identity
_FETCH = 10_000
_MASK = (1 << 64) - 1
_SIGNIN, _LICENSES = 64, 128  # where a user's sign-in and licence hashes sit in its digest


@dataclass
class PageChanges:
    """What publishing one page writes: the rows to open, and the current rows to close (users'
    and sign-ins' by user id, licences' by key)."""

    users: list[tuple[Any, ...]]
    licenses: list[tuple[Any, ...]]
    signins: list[tuple[Any, ...]]
    closing_users: list[str] = field(default_factory=list)
    closing_licenses: list[tuple[Any, ...]] = field(default_factory=list)
    closing_signins: list[str] = field(default_factory=list)


@dataclass
class CurrentDigests:
    """For each user with any current row, one int of three 64-bit hashes: of its user row (bits
    0-63), of its sign-in row (64-127) and of its set of licence identities (128-191). A row's
    hash is never 0, which stands for no row (and, for licences, an empty set). One int rather
    than three dicts: ~18 instead of ~45 MB per 100,000 users.

    Python's ``hash`` of a tuple agrees with ``==`` for the values stored here (str, int, bool,
    None), and is the same for equal rows within one process; a change goes unseen only if its
    64-bit hash collides with the old one's. The digests are read at the start of a collection,
    which alone writes these tables while it holds the collect lock, and each user is published
    once per collection, so they stay what is current before each page.
    """

    by_user: dict[str, int]


def read_digests(conn: Connection) -> CurrentDigests:
    """The digests of every current row, in one pass over each table."""
    by_user = {row[0]: _hash(row) for row in _rows(conn, _ALL_USERS)}
    get = by_user.get
    for row in _rows(conn, _ALL_SIGNINS):
        by_user[row[0]] = get(row[0], 0) | _hash(row) << _SIGNIN
    for uid, digest in _license_digests(_rows(conn, _ALL_LICENSES)).items():
        by_user[uid] = get(uid, 0) | digest << _LICENSES
    return CurrentDigests(by_user)


def read_usage_digests(conn: Connection) -> dict[str, int]:
    """The hash of each user's current usage row (``store.usage``), in one pass."""
    return {row[0]: _hash(row) for row in _rows(conn, _ALL_USAGE)}


def compare_usage(
    digests: dict[str, int], rows: Sequence[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Usage rows (``USAGE_COLUMNS`` order) against ``read_usage_digests``: the rows to open, and
    the users whose current row they replace."""
    opening: list[tuple[Any, ...]] = []
    closing: list[str] = []
    get = digests.get
    for row in rows:
        stored = get(row[0], 0)
        if stored != _hash(row):
            opening.append(row)
            if stored:
                closing.append(row[0])
    return opening, closing


def compare_page(
    conn: Connection,
    digests: CurrentDigests,
    ids: Sequence[str],
    users: Sequence[tuple[Any, ...]],
    licenses: Sequence[tuple[Any, ...]],
    signins: Sequence[tuple[Any, ...]],
) -> PageChanges:
    """Compare a page's rows for the users ``ids`` (every id the rows name, sorted) with the
    history: its rows (staged column order) against ``digests``, and the current licences of
    the users whose licences differ."""
    changes = PageChanges(users=[], licenses=[], signins=[])
    get = digests.by_user.get
    for rows, shift, opening, closing in (
        (users, 0, changes.users, changes.closing_users),
        (signins, _SIGNIN, changes.signins, changes.closing_signins),
    ):
        for row in rows:
            stored = get(row[0], 0) >> shift & _MASK
            if stored != _hash(row):
                opening.append(row)
                if stored:
                    closing.append(row[0])
    staged_digests = _license_digests(licenses)
    stale = [uid for uid in ids if get(uid, 0) >> _LICENSES != staged_digests.get(uid, 0)]
    if not stale:
        return changes
    stored_licenses = set(_lookup(conn, _CURRENT_LICENSES, stale))
    differ = set(stale)
    staged = {row[:_IDENTITY] for row in licenses if row[0] in differ}
    changes.licenses = [
        row for row in licenses if row[0] in differ and row[:_IDENTITY] not in stored_licenses
    ]
    changes.closing_licenses = sorted({row[:_KEY] for row in stored_licenses - staged})
    return changes


def _hash(row: tuple[Any, ...]) -> int:
    """A row's 64-bit hash, never 0 (0 is no row)."""
    return hash(row) & _MASK or 1


def _license_digests(rows: Iterable[Sequence[Any]]) -> dict[str, int]:
    """Per user, the sum of its licence identities' hashes: the same whatever the rows' order."""
    out: dict[str, int] = {}
    get = out.get
    for row in rows:
        uid = row[0]
        out[uid] = (get(uid, 0) + _hash(tuple(row[:_IDENTITY]))) & _MASK
    return out


def _rows(conn: Connection, sql: str) -> Iterable[tuple[Any, ...]]:
    """``sql``'s rows as tuples, a batch at a time (a table's current rows are never all held)."""
    cur = conn.execute(sql)
    while batch := cur.fetchmany(_FETCH):
        yield from map(tuple, batch)  # sqlite3 gives tuples already; the PostgreSQL adapter may not


def _lookup(conn: Connection, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (with an ``{ids}`` VALUES list) for these user ids, in chunks."""
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        rows = conn.execute(sql.format(ids=", ".join(["(?)"] * len(chunk))), chunk).fetchall()
        out.extend(map(tuple, rows))
    return out
