"""Publishing staged rows into the store, table by table, inside the snapshot's one transaction.

Per-snapshot facts (SKU counts, plans, subscriptions, groups) are copied as they are. Users,
licences and sign-ins are kept as intervals: every staged row already says whether it ``differs``
from the current history (``store.current``), so publishing closes and opens only those, and an
unchanged day writes next to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from store.db import Connection, Dialect
from store.staging import STAGING

_USERS = ", ".join(STAGING["stage_users"].columns)
_LICENSES = ", ".join(STAGING["stage_licenses"].columns)
_SIGNINS = ", ".join(STAGING["stage_signins"].columns)


def reconcile(tx: Connection, t: str) -> list[str]:
    """Compare the per-user count of each SKU (``stage_holders``) with Graph's consumedUnits; explain any gap."""
    rows = tx.execute(
        f"""SELECT s.sku_part_number, s.consumed, COALESCE(h.holders, 0)
           FROM {t}stage_skus s LEFT JOIN {t}stage_holders h ON h.sku_id = s.sku_id
           WHERE s.consumed <> COALESCE(h.holders, 0) ORDER BY s.sku_part_number"""
    ).fetchall()
    notes = [
        f"{part}: Graph reports {consumed} consumed units but {holders} users hold it in this snapshot "
        f"({'more' if consumed > holders else 'fewer'} consumed than held: deleted users keep their licences "
        "for 30 days in the recycle bin, and assignments that changed during the collection also differ)."
        for part, consumed, holders in rows
    ]
    orphans = tx.execute(
        f"SELECT COUNT(DISTINCT sku_id) FROM {t}stage_assigned WHERE sku_id NOT IN (SELECT sku_id FROM {t}stage_skus)"
    ).fetchone()[0]
    if orphans:
        notes.append(f"{orphans} SKU(s) held by users are missing from subscribedSkus.")
    return notes


def copy_facts(tx: Connection, sid: int, t: str) -> None:
    tx.execute(
        f"""INSERT INTO sku_counts (snapshot_id, sku_id, sku_part_number, applies_to, capability_status,
               enabled, warning, suspended, locked_out, consumed, users_in_store)
           SELECT ?, s.sku_id, s.sku_part_number, s.applies_to, s.capability_status, s.enabled, s.warning,
               s.suspended, s.locked_out, s.consumed, COALESCE(h.holders, 0)
           FROM {t}stage_skus s LEFT JOIN {t}stage_holders h ON h.sku_id = s.sku_id""",
        (sid,),
    )
    for staged in STAGING.values():
        if staged.fact:
            columns = ", ".join(staged.columns)
            tx.execute(
                f"INSERT INTO {staged.fact} (snapshot_id, {columns}) SELECT ?, {columns} FROM {t}{staged.name}",
                (sid,),
            )


def _same(columns: Sequence[str], left: str, right: str, op: str) -> str:
    return " AND ".join(f"{left}.{c} {op} {right}.{c}" for c in columns)


def publish_users(tx: Connection, sid: int, t: str) -> int:
    """Close the current rows of users who changed or left the tenant, open the new rows."""
    closed = tx.execute(
        f"""UPDATE users SET valid_to = ? WHERE valid_to IS NULL AND
               NOT EXISTS (SELECT 1 FROM {t}stage_users s WHERE s.user_id = users.user_id AND s.differs = 0)""",
        (sid,),
    ).rowcount
    opened = tx.execute(
        f"""INSERT INTO users ({_USERS}, valid_from, valid_to)
            SELECT {_USERS}, ?, NULL FROM {t}stage_users WHERE differs = 1
            ORDER BY user_id""",  # in index order: fewer index pages touched and split
        (sid,),
    ).rowcount
    return int(max(closed, opened))


def publish_licenses(tx: Connection, sid: int, t: str) -> int:
    """Close the keys that changed, and every licence of users who left; open the new rows."""
    # Users who left had their row closed by publish_users, which runs first.
    left = tx.execute(
        f"""UPDATE user_licenses SET valid_to = ? WHERE valid_to IS NULL AND user_id IN (
               SELECT user_id FROM users WHERE valid_to = ?
               AND NOT EXISTS (SELECT 1 FROM {t}stage_users s WHERE s.user_id = users.user_id))""",
        (sid, sid),
    ).rowcount
    key = STAGING["stage_closing_licenses"].columns
    # "=" rather than NULL-safe equality: the key columns are NOT NULL, which lets the partial
    # indexes serve the join.
    changed = tx.execute(
        f"""UPDATE user_licenses SET valid_to = ? WHERE valid_to IS NULL
               AND user_id IN (SELECT user_id FROM {t}stage_closing_licenses)
               AND EXISTS (SELECT 1 FROM {t}stage_closing_licenses c WHERE {_same(key, "c", "user_licenses", "=")})""",
        (sid,),
    ).rowcount
    opened = tx.execute(
        f"""INSERT INTO user_licenses ({_LICENSES}, valid_from, valid_to)
            SELECT {_LICENSES}, ?, NULL FROM {t}stage_licenses WHERE differs = 1
            ORDER BY user_id, sku_id, assigned_by_group""",
        (sid,),
    ).rowcount
    return int(left + changed + opened)


def publish_signins(tx: Connection, sid: int, t: str) -> None:
    """Close the current sign-in row of each user whose activity changed, and open the new one.

    A user missing from this snapshot keeps their row open: the users table decides who is in a
    snapshot, and a returning user's activity then carries on from what was last seen."""
    tx.execute(
        f"""UPDATE user_signins SET valid_to = ? WHERE valid_to IS NULL
               AND user_id IN (SELECT user_id FROM {t}stage_signins WHERE differs = 1)""",
        (sid,),
    )
    tx.execute(
        f"""INSERT INTO user_signins ({_SIGNINS}, valid_from, valid_to)
            SELECT {_SIGNINS}, ?, NULL FROM {t}stage_signins WHERE differs = 1 ORDER BY user_id""",
        (sid,),
    )


def publish(
    tx: Connection, sid: int, dialect: Dialect, *, signin_available: bool
) -> tuple[int, int, list[str]]:
    """Every step, in order: (users changed, licences changed, reconciliation notes)."""
    t = dialect.temp
    notes = reconcile(tx, t)
    copy_facts(tx, sid, t)
    users_changed = publish_users(tx, sid, t)
    licenses_changed = publish_licenses(tx, sid, t)
    if signin_available:
        publish_signins(tx, sid, t)
    return users_changed, licenses_changed, notes
