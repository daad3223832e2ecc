"""What is current in the history for a page of users, and what publishing the page changes.

Publishing writes only changes: the rows with no identical current row are opened, and the current
rows they replace (or, for licences, the keys the page no longer holds as stored) are closed. This
module works that out for one page, reading the store only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from store.db import Connection
from store.staging import LICENSE_IDENTITY, USER_ATTRS, SignInRow

IDS_PER_QUERY = 500  # ids bound per VALUES list: well under every engine's parameter limit
# For each id, its current user row (user_id NULL when none) and, when sign-ins are compared, its
# sign-in row, in the staged column order. The ids are a VALUES list that the joins keep as the
# outer loop, so each id is one index lookup; with "user_id IN (...)" and no table statistics
# SQLite read every current row through the valid_to index instead (~40x slower).
_USER_LOOKUP = (
    f"SELECT p.column1, u.user_id, {', '.join('u.' + c for c in USER_ATTRS)}{{signins}} "
    "FROM (VALUES {ids}) AS p LEFT JOIN users u ON u.user_id = p.column1 AND u.valid_to IS NULL{join}"
)
_CURRENT_USERS = _USER_LOOKUP.replace("{signins}", "").replace("{join}", "")
_CURRENT_USERS_AND_SIGNINS = _USER_LOOKUP.replace(
    "{signins}", "".join(", s." + c for c in SignInRow._fields)
).replace("{join}", " LEFT JOIN user_signins s ON s.user_id = p.column1 AND s.valid_to IS NULL")
_CURRENT_LICENSES = (
    f"SELECT {', '.join('u.' + c for c in LICENSE_IDENTITY)} FROM (VALUES {{ids}}) AS p "
    "CROSS JOIN user_licenses u WHERE u.user_id = p.column1 AND u.valid_to IS NULL"
)
_IDENTITY = len(LICENSE_IDENTITY)
_KEY = 3  # user_id, sku_id, assigned_by_group: a licence's key, the start of its identity


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


def compare_page(
    conn: Connection,
    ids: Sequence[str],
    users: Sequence[tuple[Any, ...]],
    licenses: Sequence[tuple[Any, ...]],
    signins: Sequence[tuple[Any, ...]],
) -> PageChanges:
    """Compare a page's rows for the users ``ids`` (every id the rows name, sorted) with the history."""
    width = len(USER_ATTRS) + 1
    current = {
        row[0]: row[1:]
        for row in _lookup(conn, _CURRENT_USERS_AND_SIGNINS if signins else _CURRENT_USERS, ids)
    }
    stored_licenses = set(_lookup(conn, _CURRENT_LICENSES, ids))
    staged = {row[:_IDENTITY] for row in licenses}
    # Stored rows come in the staged column order, so whole tuples compare; a stored id of None
    # means no current row (nothing to close).
    changes = PageChanges(
        users=[],
        licenses=[row for row in licenses if row[:_IDENTITY] not in stored_licenses],
        signins=[],
        closing_licenses=sorted({row[:_KEY] for row in stored_licenses - staged}),
    )
    for row in users:
        stored = current[row[0]][:width]
        if stored != row:
            changes.users.append(row)
            if stored[0] is not None:
                changes.closing_users.append(row[0])
    for row in signins:
        stored = current[row[0]][width:]
        if stored != row:
            changes.signins.append(row)
            if stored[0] is not None:
                changes.closing_signins.append(row[0])
    return changes


def _lookup(conn: Connection, sql: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (with an ``{ids}`` VALUES list) for these user ids, in chunks."""
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        rows = conn.execute(sql.format(ids=", ".join(["(?)"] * len(chunk))), chunk).fetchall()
        out.extend(map(tuple, rows))  # sqlite3 gives tuples already; the PostgreSQL adapter may not
    return out
