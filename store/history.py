"""Named reads across snapshots: what changed between two, and counts over time.

Per-user rows are intervals of snapshot ids (valid from ``valid_from`` inclusive to ``valid_to``
exclusive). For snapshots ``lo < hi``, exactly the rows that opened or closed in ``(lo, hi]``
differ between them, so the change queries touch only those rows (through the ``*_span``
indexes) instead of rebuilding both snapshots. All SQL is parameterised and portable.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.trends import interval_counts
from store.db import Store

_VALID = "{t}.valid_from <= :{s} AND ({t}.valid_to IS NULL OR {t}.valid_to > :{s})"


def _frame(store: Store, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    return store.frame(sql, params)


def _ordered(before: int, after: int) -> dict[str, int]:
    lo, hi = sorted((before, after))
    return {"lo": lo, "hi": hi}


def license_changes(store: Store, before: int, after: int) -> pd.DataFrame:
    """Assignment rows of every (user, SKU) whose assignments differ between two snapshots.

    The earlier of the two snapshots is ``side == 'before'``, the later ``'after'``. For each
    (user, SKU) with any change, all of its rows valid in either snapshot are returned, so a
    user who keeps a SKU through a second source is seen to keep it.

    Returns:
        ``side``, ``user_id``, ``sku_id``, ``assigned_by_group``, ``state``, ``error``,
        ``disabled_plans``, ``user_principal_name``, ``display_name`` (as of the later snapshot
        when the user still exists, else as last seen).
    """
    params = _ordered(before, after)
    rows = _frame(
        store,
        f"""WITH touched AS (
                SELECT DISTINCT user_id, sku_id FROM user_licenses
                WHERE (valid_from > :lo AND valid_from <= :hi) OR (valid_to > :lo AND valid_to <= :hi)
            )
            SELECT 'before' AS side, l.user_id, l.sku_id, l.assigned_by_group, l.state, l.error, l.disabled_plans
            FROM user_licenses l JOIN touched t ON t.user_id = l.user_id AND t.sku_id = l.sku_id
            WHERE {_VALID.format(t="l", s="lo")}
            UNION ALL
            SELECT 'after', l.user_id, l.sku_id, l.assigned_by_group, l.state, l.error, l.disabled_plans
            FROM user_licenses l JOIN touched t ON t.user_id = l.user_id AND t.sku_id = l.sku_id
            WHERE {_VALID.format(t="l", s="hi")}
            ORDER BY 2, 3, 1 DESC, 4""",
        params,
    )
    names = _user_names(store, params)
    if rows.empty:
        return rows.assign(user_principal_name=pd.Series(dtype=object), display_name=pd.Series(dtype=object))
    return rows.merge(names, on="user_id", how="left")


def _user_names(store: Store, params: dict[str, int]) -> pd.DataFrame:
    """UPN and display name of users valid in either snapshot whose licences changed."""
    frame = _frame(
        store,
        f"""WITH touched_users AS (
                SELECT DISTINCT user_id FROM user_licenses
                WHERE (valid_from > :lo AND valid_from <= :hi) OR (valid_to > :lo AND valid_to <= :hi)
            )
            SELECT u.user_id, u.user_principal_name, u.display_name, u.valid_from FROM users u
            WHERE u.user_id IN (SELECT user_id FROM touched_users)
              AND (({_VALID.format(t="u", s="lo")}) OR ({_VALID.format(t="u", s="hi")}))""",
        params,
    )
    # The row valid in the later snapshot has the larger valid_from: keep it.
    latest = frame.sort_values("valid_from").drop_duplicates("user_id", keep="last")
    return latest.drop(columns="valid_from")


def user_changes(store: Store, before: int, after: int) -> pd.DataFrame:
    """Users present in only one of two snapshots: ``change`` is 'added' or 'removed'.

    A user in one snapshot and not the other has a row that opened or closed in between, so only
    those users (through the ``*_span``/``*_closed`` indexes) are looked up, by id
    (``users_by_id``), instead of comparing the two snapshots' whole user lists.

    Returns:
        ``user_id``, ``user_principal_name``, ``display_name``, ``change``, sorted by change then UPN.
    """
    params = _ordered(before, after)
    return _frame(
        store,
        f"""WITH touched AS (
                SELECT DISTINCT user_id FROM users
                WHERE (valid_from > :lo AND valid_from <= :hi) OR (valid_to > :lo AND valid_to <= :hi)
            )
            SELECT u.user_id, u.user_principal_name, u.display_name, 'added' AS change
            FROM touched t JOIN users u ON u.user_id = t.user_id AND {_VALID.format(t="u", s="hi")}
            WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.user_id = t.user_id AND {_VALID.format(t="p", s="lo")})
            UNION ALL
            SELECT u.user_id, u.user_principal_name, u.display_name, 'removed'
            FROM touched t JOIN users u ON u.user_id = t.user_id AND {_VALID.format(t="u", s="lo")}
            WHERE NOT EXISTS (SELECT 1 FROM users n WHERE n.user_id = t.user_id AND {_VALID.format(t="n", s="hi")})
            ORDER BY 4, 2""",
        params,
    )


def error_history(store: Store) -> pd.DataFrame:
    """Members in group-assignment error per complete snapshot and error kind.

    Error rows are few (and have their own partial index, ``user_licenses_errors``): they are read
    once and counted at every snapshot by ``analysis.trends.interval_counts``, instead of joining
    every snapshot with every error row (millions of pairs over a year of history).

    Returns:
        ``snapshot_id``, ``started_at``, ``error``, ``members``; snapshots without errors have
        no rows.
    """
    errors = _frame(
        store,
        "SELECT valid_from, valid_to, error FROM user_licenses WHERE error <> '' AND assigned_by_group <> ''",
    )
    taken = _frame(store, "SELECT id, started_at FROM snapshots WHERE status = 'complete' ORDER BY id")
    return interval_counts(errors, taken, "error").rename(columns={"count": "members"})


def latest_attempt(store: Store) -> int | None:
    """The id of the newest snapshot attempt of any status (the cache key of the snapshot list)."""
    row = store.conn.execute("SELECT MAX(id) FROM snapshots").fetchone()
    return None if row is None or row[0] is None else int(row[0])
