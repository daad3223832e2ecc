"""Group licence errors: for each member in error, why, and what fixes it (DESIGN §6).

``explain_errors`` (``analysis.member_errors``) works per member (the conflicting SKU, the usage
location, the missing prerequisite); ``error_summary`` rolls members up per group, SKU and error
with one cause and one fix, and for CountViolation the seat numbers: **seats short** = distinct
members waiting in CountViolation for the SKU (all groups), **seats free** = the SKU's
``available`` from ``seat_table`` (negative when over-assigned), **seats needed** =
max(0, short - free).

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.member_errors import (
    COUNT,
    DEPENDENCY,
    EXCHANGE_FIX,
    EXCLUSIVE,
    KNOWN_ERRORS,
    LOCATION,
    MEMBER_COLUMNS,
    PER_MEMBER_LICENCES,
    UNIQUENESS,
    explain_errors,
    plural,
)
from analysis.users import matches

# The codes, the member columns and explain_errors are defined beside the per-member explanations
# and stay importable from here, where the rest of License Desk looks for them.
__all__ = [
    "COUNT", "DEPENDENCY", "EXCHANGE_FIX", "EXCLUSIVE", "KNOWN_ERRORS", "LOCATION", "MEMBER_COLUMNS",
    "PER_MEMBER_LICENCES", "SUMMARY_COLUMNS", "UNIQUENESS", "error_counts", "error_summary", "explain_errors",
    "filter_errors", "groups_in_error", "short_skus",
]  # fmt: skip

SUMMARY_COLUMNS = [
    "group_name", "sku", "error", "members", "cause", "fix", "seats_short", "seats_free", "seats_needed",
    "users", "group_id", "sku_id",
]  # fmt: skip


def _count_fix(short: int, free: int, reclaimable: int | None) -> str:
    need = max(0, short - free)
    reclaim = (
        f" {plural(reclaimable, 'seat')} of this SKU {'is' if reclaimable == 1 else 'are'} held by inactive or "
        "disabled users and could be reclaimed."
        if reclaimable is not None
        else ""
    )
    if need == 0:
        return f"{plural(free, 'seat')} free now, enough for all {short} waiting: reprocess the group to assign them."
    if free > 0:
        return (
            f"{plural(free, 'seat')} free now for {short} waiting: reprocess the group to use them, and free or "
            f"buy {need} more.{reclaim}"
        )
    over = f", and the SKU is over-assigned by {-free}" if free < 0 else ""
    return f"No seat is free ({free} available{over}): free or buy {need}, then reprocess the group.{reclaim}"


def _cause(error: str, group: str, sku: str, members: int, short: int) -> str:
    if error == COUNT:
        return (
            f"{group} assigns {sku} to more members than there are free seats: {plural(short, 'member')} "
            f"of all groups wait for a seat, {members} of them in this group."
        )
    if error == LOCATION:
        return (
            f"{sku} includes a service that is not available in the member's usage location, or none is set."
        )
    if error == EXCLUSIVE:
        return f"The member already holds a licence with a plan that conflicts with {sku}."
    if error == DEPENDENCY:
        return f"A plan in {sku} needs a prerequisite plan the member does not have."
    if error == UNIQUENESS:
        return "Provisioning the mailbox found a proxy address another object already uses (UniquenessViolation)."
    return f"Graph reported {error} without more detail; most often a duplicate proxy address."


def error_summary(
    explained: pd.DataFrame, seats: pd.DataFrame, reclaimable: Mapping[str, int] | None = None
) -> pd.DataFrame:
    """One row per group, SKU and error, with the cause, the fix and (CountViolation) seat numbers.

    Args:
        explained: ``explain_errors`` output.
        seats: ``analysis.seats.seat_table`` output (``available`` per SKU).
        reclaimable: optional reclaimable seats per SKU id (``analysis.inactive.reclaim_by_sku``).

    Returns:
        ``SUMMARY_COLUMNS``; the seat columns are null except for CountViolation. ``users`` lists
        members' UPNs, as 'upn (usage location)' for location errors.
    """
    available = dict(zip(seats["sku_id"], seats["available"].astype("int64"), strict=True))
    waiting = explained[explained["error"] == COUNT].groupby("sku_id")["user_id"].nunique()
    rows = []
    for (gid, sku_id, error), members in explained.groupby(["group_id", "sku_id", "error"], sort=False):
        group, sku = members["group_name"].iloc[0], members["sku"].iloc[0]
        short = int(waiting.get(sku_id, 0))
        is_count = error == COUNT
        free = int(available.get(sku_id, 0))
        if is_count:
            fix = _count_fix(short, free, None if reclaimable is None else int(reclaimable.get(sku_id, 0)))
        elif error == LOCATION:
            fix = "Set each member's correct usage location, or remove members from the group where the service is not sold; then reprocess them."
        elif error in (EXCLUSIVE, DEPENDENCY):
            fix = "Per member, as listed below; then reprocess the users."
        else:
            fix = EXCHANGE_FIX
        if error == LOCATION:
            users = ", ".join(
                f"{u} ({loc if isinstance(loc, str) and loc else 'none'})"
                for u, loc in zip(members["user_principal_name"], members["usage_location"], strict=True)
            )
        else:
            users = ", ".join(str(u) for u in members["user_principal_name"])
        rows.append(
            {
                "group_name": group,
                "sku": sku,
                "error": error,
                "members": len(members),
                "cause": _cause(str(error), str(group), str(sku), len(members), short),
                "fix": fix,
                "seats_short": short if is_count else None,
                "seats_free": free if is_count else None,
                "seats_needed": max(0, short - free) if is_count else None,
                "users": users,
                "group_id": gid,
                "sku_id": sku_id,
            }
        )
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    for column in ("seats_short", "seats_free", "seats_needed"):
        out[column] = out[column].astype("Int64")
    return out.sort_values(["group_name", "sku", "error"]).reset_index(drop=True)


def short_skus(explained: pd.DataFrame) -> list[str]:
    """SKU ids with members waiting in CountViolation, sorted: the SKUs whose reclaimable seats
    ``error_summary`` shows (in the fix of their CountViolation rows)."""
    return sorted({str(s) for s in explained.loc[explained["error"] == COUNT, "sku_id"].tolist()})


def error_counts(explained: pd.DataFrame) -> dict[str, int]:
    """Members in error per error kind (every known kind present, 0 when absent), plus totals."""
    counts = {kind: 0 for kind in KNOWN_ERRORS}
    for kind, n in explained["error"].value_counts().items():
        counts[str(kind)] = counts.get(str(kind), 0) + int(n)
    counts["users"] = int(explained["user_id"].nunique())
    counts["groups"] = int(explained["group_id"].nunique())
    return counts


def filter_errors(
    explained: pd.DataFrame,
    users: pd.DataFrame | None,
    *,
    sku_id: str | None = None,
    departments: Sequence[str] = (),
) -> pd.DataFrame:
    """Members in error of one SKU and/or of some departments (``analysis.users.NONE_LABEL`` = none).

    Args:
        users: ``user_id``, ``department`` of (at least) the members in error; read only to
            filter by department, so it may be None without ``departments``.
    """
    keep = pd.Series(True, index=explained.index)
    if sku_id is not None:
        keep &= explained["sku_id"] == sku_id
    if departments:
        if users is None:
            raise ValueError("filtering by department needs the users' departments")
        department = explained["user_id"].map(dict(zip(users["user_id"], users["department"], strict=True)))
        keep &= matches(department, departments)
    return explained[keep.astype(bool)].reset_index(drop=True)


def groups_in_error(errors: pd.DataFrame) -> pd.DataFrame:
    """Groups with members in error, worst first: ``group_id``, ``group_name``, ``members``
    (distinct users in error). Ties are ordered by name.

    Args:
        errors: ``store.queries.group_errors`` rows (``group_id``, ``group_name``, ``user_id``).
    """
    counted = errors.groupby(["group_id", "group_name"])["user_id"].nunique().reset_index(name="members")
    return counted.sort_values(["members", "group_name"], ascending=[False, True]).reset_index(drop=True)
