"""Named reads: each returns a DataFrame for one complete snapshot (the latest by default).

Only complete snapshots are ever read. Per-user rows are reconstructed from the interval
history: a row belongs to snapshot S when ``valid_from <= S`` and ``valid_to`` is null or
greater than S. All SQL is parameterised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.inactive import HELD_STATES
from licensedesk.errors import StoreError
from store.db import Store

_AS_OF = "{t}.valid_from <= :sid AND ({t}.valid_to IS NULL OR {t}.valid_to > :sid)"
# A user's sign-in row as of :sid. Most users' sign-ins change daily, so a user has hundreds of
# rows after a year: the one wanted is found by two index seeks on (user_id, valid_from), where
# _AS_OF would walk every older row of each user.
_SIGNINS_AS_OF = (
    "LEFT JOIN user_signins si ON si.user_id = u.user_id AND si.valid_from = ("
    "SELECT MAX(x.valid_from) FROM user_signins x WHERE x.user_id = u.user_id AND x.valid_from <= :sid) "
    "AND (si.valid_to IS NULL OR si.valid_to > :sid)"
)


def _frame(store: Store, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    return store.frame(sql, params)


def snapshots(store: Store) -> pd.DataFrame:
    """Every snapshot attempt, newest first, with its status, counts and warnings (a list)."""
    frame = _frame(store, "SELECT * FROM snapshots ORDER BY id DESC")
    frame["warnings"] = frame["warnings"].map(lambda text: json.loads(text) if text else [])
    return frame


def complete_snapshot_ids(store: Store) -> list[int]:
    """Ids of complete snapshots, oldest first."""
    rows = store.conn.execute("SELECT id FROM snapshots WHERE status = 'complete' ORDER BY id").fetchall()
    return [int(r[0]) for r in rows]


def resolve_snapshot(store: Store, snapshot_id: int | None = None) -> int:
    """The given complete snapshot, or the latest complete one.

    Raises:
        StoreError: no complete snapshot yet, or the id is not a complete snapshot.
    """
    if snapshot_id is None:
        row = store.conn.execute("SELECT MAX(id) FROM snapshots WHERE status = 'complete'").fetchone()
        if row[0] is None:
            raise StoreError(
                f"The store at {store.path} has no complete snapshot yet; run `license-desk collect` first."
            )
        return int(row[0])
    row = store.conn.execute("SELECT status FROM snapshots WHERE id = ?", (snapshot_id,)).fetchone()
    if row is None or row[0] != "complete":
        raise StoreError(f"Snapshot {snapshot_id} is not a complete snapshot in {store.path}.")
    return snapshot_id


def snapshot_info(store: Store, snapshot_id: int) -> dict[str, Any]:
    """One snapshot's row as a dict (warnings decoded)."""
    cur = store.conn.execute("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,))
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    if row is None:
        raise StoreError(f"Snapshot {snapshot_id} does not exist in {store.path}.")
    info = dict(zip(names, row, strict=True))
    info["warnings"] = json.loads(info["warnings"] or "[]")
    return info


def sku_counts(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Per-SKU seat counts with the catalog's name and kind (null when the SKU is unknown)."""
    return _frame(
        store,
        """SELECT s.sku_id, s.sku_part_number, c.name AS catalog_name, c.kind AS catalog_kind, s.applies_to,
                  s.capability_status, s.enabled, s.warning, s.suspended, s.locked_out, s.consumed, s.users_in_store
           FROM sku_counts s LEFT JOIN catalog_products c ON c.sku_id = s.sku_id
           WHERE s.snapshot_id = :sid ORDER BY s.sku_part_number""",
        {"sid": snapshot_id},
    )


def sku_history(store: Store) -> pd.DataFrame:
    """Seat counts of every SKU in every complete snapshot, with the snapshot's start time."""
    return _frame(
        store,
        """SELECT sn.id AS snapshot_id, sn.started_at, s.sku_id, s.sku_part_number, s.enabled, s.warning,
                  s.suspended, s.locked_out, s.consumed
           FROM sku_counts s JOIN snapshots sn ON sn.id = s.snapshot_id
           WHERE sn.status = 'complete' ORDER BY sn.id, s.sku_part_number""",
    )


def service_plans(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Service plans of each SKU in a snapshot."""
    return _frame(
        store,
        "SELECT sku_id, service_plan_id, service_plan_name, provisioning_status, applies_to "
        "FROM sku_service_plans WHERE snapshot_id = :sid ORDER BY sku_id, service_plan_name",
        {"sid": snapshot_id},
    )


def subscriptions(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Commerce subscriptions in a snapshot."""
    return _frame(
        store,
        """SELECT subscription_id, commerce_subscription_id, sku_id, sku_part_number, status, total_licenses,
                  is_trial, created_at, next_lifecycle_at
           FROM subscriptions WHERE snapshot_id = :sid ORDER BY sku_part_number, subscription_id""",
        {"sid": snapshot_id},
    )


# Users as of :sid with their sign-in activity as of :sid; {where} narrows them (users_holding).
_USERS = (
    """SELECT u.user_id, u.user_principal_name, u.display_name, u.account_enabled, u.user_type,
              u.usage_location, u.department, u.company_name, u.job_title, u.created_at,
              si.last_sign_in_at, si.last_non_interactive_at, si.last_successful_at
       FROM users u """
    + _SIGNINS_AS_OF
    + """
       WHERE """
    + _AS_OF.format(t="u")
    + """ {where}
       ORDER BY u.user_principal_name"""
)


def users(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Users as of a snapshot, with their sign-in activity as collected in that snapshot."""
    return _frame(store, _USERS.format(where=""), {"sid": snapshot_id})


# Assignment rows as of :sid with the SKU's part number; {where} narrows them (user_licenses_of).
_LICENSES = (
    """SELECT l.user_id, l.sku_id, COALESCE(s.sku_part_number, c.sku_part_number, l.sku_id) AS sku_part_number,
              l.assigned_by_group, l.state, l.error, l.disabled_plans, l.last_updated_at
       FROM user_licenses l
       LEFT JOIN sku_counts s ON s.snapshot_id = :sid AND s.sku_id = l.sku_id
       LEFT JOIN catalog_products c ON c.sku_id = l.sku_id
       WHERE """
    + _AS_OF.format(t="l")
    + """ {where}
       ORDER BY l.user_id, sku_part_number, l.assigned_by_group"""
)


def holder_inputs(store: Store, snapshot_id: int) -> pd.DataFrame:
    """What ``analysis.holders.seat_holders`` reads of each user as of a snapshot: the ``users``
    columns less ``job_title`` and ``last_successful_at``, unordered (seat holders come out in
    their licences' order; SQLite's sort of 100,000 names is a quarter of the read)."""
    return _frame(
        store,
        f"""SELECT u.user_id, u.user_principal_name, u.display_name, u.account_enabled, u.user_type,
                   u.usage_location, u.department, u.company_name, u.created_at,
                   si.last_sign_in_at, si.last_non_interactive_at
            FROM users u {_SIGNINS_AS_OF}
            WHERE {_AS_OF.format(t="u")}""",
        {"sid": snapshot_id},
    )


def user_licenses(store: Store, snapshot_id: int) -> pd.DataFrame:
    """License assignment states as of a snapshot; ``assigned_by_group``/``error`` are '' when none."""
    return _frame(store, _LICENSES.format(where=""), {"sid": snapshot_id})


def license_states(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Every assignment as of a snapshot, narrow and unordered: ``user_id``, ``sku_id``,
    ``assigned_by_group``, ``state``, ``error`` (what the user table and its filters read).

    ``user_licenses`` with the part-number joins, the plans, the dates and SQLite's sort of
    200,000 rows left out: about half its cost."""
    return _frame(
        store,
        f"""SELECT l.user_id, l.sku_id, l.assigned_by_group, l.state, l.error FROM user_licenses l
            WHERE {_AS_OF.format(t="l")}""",
        {"sid": snapshot_id},
    )


def user_licenses_of(
    store: Store, snapshot_id: int, *, user_id: str | None = None, sku_id: str | None = None
) -> pd.DataFrame:
    """``user_licenses`` rows (same columns, same order) of one user or of one SKU."""
    if (user_id is None) == (sku_id is None):
        raise ValueError("name exactly one of user_id and sku_id")
    column, value = ("user_id", user_id) if user_id is not None else ("sku_id", sku_id)
    return _frame(
        store, _LICENSES.format(where=f"AND l.{column} = :value"), {"sid": snapshot_id, "value": value}
    )


def users_holding(store: Store, snapshot_id: int, sku_id: str) -> pd.DataFrame:
    """``users`` rows (same columns, same order) of the users with any assignment of one SKU."""
    holding = f"AND u.user_id IN (SELECT l.user_id FROM user_licenses l WHERE {_AS_OF.format(t='l')} AND l.sku_id = :sku)"
    return _frame(store, _USERS.format(where=holding), {"sid": snapshot_id, "sku": sku_id})


def held_seat_counts(store: Store, snapshot_id: int, sku_ids: Sequence[str]) -> pd.DataFrame:
    """Per user, how many of ``sku_ids`` they hold (state Active or ActiveWithError) as of a
    snapshot: ``user_id``, ``seats`` (distinct SKUs). Users holding none are left out.

    Counted in SQL: one row per user instead of one per assignment, for a headline count."""
    if not sku_ids:
        return pd.DataFrame({"user_id": pd.Series(dtype=object), "seats": pd.Series(dtype="int64")})
    states = {f"state{i}": state for i, state in enumerate(HELD_STATES)}
    skus = {f"sku{i}": sku for i, sku in enumerate(sku_ids)}
    return _frame(
        store,
        f"""SELECT l.user_id, COUNT(DISTINCT l.sku_id) AS seats FROM user_licenses l
            WHERE {_AS_OF.format(t="l")} AND l.state IN ({", ".join(":" + name for name in states)})
              AND l.sku_id IN ({", ".join(":" + name for name in skus)})
            GROUP BY l.user_id""",
        {"sid": snapshot_id, **states, **skus},
    )


def activity_inputs(store: Store, snapshot_id: int) -> pd.DataFrame:
    """What ``analysis.inactive.user_activity`` reads of each user as of a snapshot: ``user_id``,
    ``account_enabled``, ``created_at``, ``last_sign_in_at``, ``last_non_interactive_at``."""
    return _frame(
        store,
        f"""SELECT u.user_id, u.account_enabled, u.created_at, si.last_sign_in_at, si.last_non_interactive_at
            FROM users u {_SIGNINS_AS_OF}
            WHERE {_AS_OF.format(t="u")}""",
        {"sid": snapshot_id},
    )


def held_licenses(store: Store, snapshot_id: int) -> pd.DataFrame:
    """The assignments that hold a seat (state Active or ActiveWithError) as of a snapshot:
    ``user_id``, ``sku_id``, ``assigned_by_group``, ``state``, ``disabled_plans``, ``last_updated_at``,
    unordered.

    What seat holders and reclaim candidates read: half the columns of ``user_licenses`` and no
    sort, which is most of the cost of reading 200,000 assignments."""
    states = {f"state{i}": state for i, state in enumerate(HELD_STATES)}
    return _frame(
        store,
        f"""SELECT l.user_id, l.sku_id, l.assigned_by_group, l.state, l.disabled_plans, l.last_updated_at
            FROM user_licenses l
            WHERE {_AS_OF.format(t="l")} AND l.state IN ({", ".join(":" + name for name in states)})""",
        {"sid": snapshot_id, **states},
    )


def licensed_groups(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Licensed groups with the SKUs each assigns (one row per group and SKU)."""
    return _frame(
        store,
        """SELECT g.group_id, g.display_name AS group_name, g.processing_state, g.has_errors, gl.sku_id,
                  gl.disabled_plans
           FROM licensed_groups g LEFT JOIN group_licenses gl
             ON gl.snapshot_id = g.snapshot_id AND gl.group_id = g.group_id
           WHERE g.snapshot_id = :sid ORDER BY g.display_name, gl.sku_id""",
        {"sid": snapshot_id},
    )


def group_errors(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Every group-based assignment in error: group, member, SKU and Graph's error code."""
    return _frame(
        store,
        f"""SELECT l.assigned_by_group AS group_id, g.display_name AS group_name, l.user_id,
                   u.user_principal_name, u.display_name, u.usage_location, l.sku_id,
                   COALESCE(s.sku_part_number, c.sku_part_number, l.sku_id) AS sku_part_number,
                   l.state, l.error, l.last_updated_at
            FROM user_licenses l
            LEFT JOIN licensed_groups g ON g.snapshot_id = :sid AND g.group_id = l.assigned_by_group
            LEFT JOIN users u ON u.user_id = l.user_id AND {_AS_OF.format(t="u")}
            LEFT JOIN sku_counts s ON s.snapshot_id = :sid AND s.sku_id = l.sku_id
            LEFT JOIN catalog_products c ON c.sku_id = l.sku_id
            WHERE {_AS_OF.format(t="l")} AND l.assigned_by_group <> '' AND l.error <> ''
            ORDER BY g.display_name, l.error, u.user_principal_name""",
        {"sid": snapshot_id},
    )


def group_error_members(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Graph's own list of members in error per group (membersWithLicenseErrors)."""
    return _frame(
        store,
        "SELECT group_id, user_id FROM group_error_members WHERE snapshot_id = :sid ORDER BY group_id, user_id",
        {"sid": snapshot_id},
    )


def error_members(store: Store, snapshot_id: int) -> pd.DataFrame:
    """The keys of ``group_errors``: ``group_id``, ``user_id``, ``sku_id``, ``error`` of every
    group-based assignment in error, without names or joins (read from ``user_licenses_errors``)."""
    return _frame(
        store,
        f"""SELECT l.assigned_by_group AS group_id, l.user_id, l.sku_id, l.error FROM user_licenses l
            WHERE {_AS_OF.format(t="l")} AND l.assigned_by_group <> '' AND l.error <> ''
            ORDER BY l.assigned_by_group, l.user_id, l.sku_id""",
        {"sid": snapshot_id},
    )


def licenses_of_users_in_error(
    store: Store, snapshot_id: int, errors: Sequence[str] | None = None
) -> pd.DataFrame:
    """``user_licenses`` rows (same columns, same order) of the users with a group-licence error,
    or with one of ``errors`` (error codes) when given.

    What explaining the errors needs (their other licences and their own disabled plans): a
    fraction of every licence when a fraction of the users is in error. Only some errors are
    explained from the member's other licences (``analysis.group_errors.PER_MEMBER_LICENCES``);
    a big tenant's errors are mostly CountViolation, whose members' licences are never read."""
    kinds = {f"error{i}": error for i, error in enumerate(errors or ())}
    if errors is None:
        which = ""
    elif kinds:
        which = f"AND e.error IN ({', '.join(':' + name for name in kinds)})"
    else:
        which = "AND 1 = 0"  # no error code asked for: nobody (``IN ()`` is not SQL)
    return _frame(
        store,
        f"""SELECT l.user_id, l.sku_id, COALESCE(s.sku_part_number, c.sku_part_number, l.sku_id) AS sku_part_number,
                   l.assigned_by_group, l.state, l.error, l.disabled_plans, l.last_updated_at
            FROM user_licenses l
            LEFT JOIN sku_counts s ON s.snapshot_id = :sid AND s.sku_id = l.sku_id
            LEFT JOIN catalog_products c ON c.sku_id = l.sku_id
            WHERE {_AS_OF.format(t="l")} AND l.user_id IN (
                SELECT e.user_id FROM user_licenses e
                WHERE {_AS_OF.format(t="e")} AND e.assigned_by_group <> '' AND e.error <> '' {which})
            ORDER BY l.user_id, sku_part_number, l.assigned_by_group""",
        {"sid": snapshot_id, **kinds},
    )


def departments(store: Store, snapshot_id: int) -> pd.DataFrame:
    """The distinct ``department`` values of the users as of a snapshot (null and '' included
    when some user has them), unordered: what a department picker offers, without reading
    every user."""
    return _frame(
        store,
        f"SELECT DISTINCT u.department FROM users u WHERE {_AS_OF.format(t='u')}",
        {"sid": snapshot_id},
    )


def error_member_departments(store: Store, snapshot_id: int) -> pd.DataFrame:
    """``user_id``, ``department`` of the users with a group-licence error as of a snapshot (the
    users of ``group_errors``), unordered: what filtering members in error by department reads."""
    return _frame(
        store,
        f"""SELECT u.user_id, u.department FROM users u
            WHERE {_AS_OF.format(t="u")} AND u.user_id IN (
                SELECT l.user_id FROM user_licenses l
                WHERE {_AS_OF.format(t="l")} AND l.assigned_by_group <> '' AND l.error <> '')""",
        {"sid": snapshot_id},
    )


def held_seat_pairs(store: Store, snapshot_id: int, sku_ids: Sequence[str]) -> pd.DataFrame:
    """``user_id``, ``sku_id`` of the assignments of ``sku_ids`` that hold a seat (state Active or
    ActiveWithError) as of a snapshot, unordered; a seat held both directly and through groups
    appears once per assignment.

    Two columns of a few SKUs' assignments: what counting reclaimable seats per SKU needs, not
    every assignment joined with every user (``seat_holders``)."""
    if not sku_ids:
        return pd.DataFrame({"user_id": pd.Series(dtype=object), "sku_id": pd.Series(dtype=object)})
    states = {f"state{i}": state for i, state in enumerate(HELD_STATES)}
    skus = {f"sku{i}": sku for i, sku in enumerate(sku_ids)}
    return _frame(
        store,
        f"""SELECT l.user_id, l.sku_id FROM user_licenses l
            WHERE {_AS_OF.format(t="l")} AND l.state IN ({", ".join(":" + name for name in states)})
              AND l.sku_id IN ({", ".join(":" + name for name in skus)})""",
        {"sid": snapshot_id, **states, **skus},
    )
