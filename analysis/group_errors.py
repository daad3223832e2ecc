"""Group licence errors: for each member in error, why, and what fixes it (DESIGN §6).

``explain_errors`` works per member (the conflicting SKU, the usage location, the missing
prerequisite); ``error_summary`` rolls members up per group, SKU and error with one cause and one
fix, and for CountViolation the seat numbers: **seats short** = distinct members waiting in
CountViolation for the SKU (all groups), **seats free** = the SKU's ``available`` from
``seat_table`` (negative when over-assigned), **seats needed** = max(0, short - free).

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from analysis.disabled_plans import split_plan_ids
from analysis.inactive import HELD_STATES
from analysis.labels import group_names, sku_label, sku_names, source_label
from analysis.licensing_rules import MUTUALLY_EXCLUSIVE_PLANS, PLAN_PREREQUISITES, plan_text
from analysis.users import matches

COUNT = "CountViolation"
LOCATION = "ProhibitedInUsageLocationViolation"
EXCLUSIVE = "MutuallyExclusiveViolation"
DEPENDENCY = "DependencyViolation"
UNIQUENESS = "UniquenessViolation"
KNOWN_ERRORS = (COUNT, LOCATION, EXCLUSIVE, DEPENDENCY, UNIQUENESS, "Other")
# The errors explained from the member's other licences (``explain_errors``' ``licenses``): the
# others are explained from their code, the member's row and the group's other SKUs alone.
PER_MEMBER_LICENCES = (EXCLUSIVE, DEPENDENCY)
EXCHANGE_FIX = (
    'Find the duplicate proxy address in Exchange (Get-Recipient -Filter "EmailAddresses -eq '
    "'smtp:<address>'\"), remove it from the other object, then reprocess the user."
)
MEMBER_COLUMNS = [
    "group_name", "sku", "error", "user_principal_name", "display_name", "usage_location", "detail", "fix",
    "group_id", "sku_id", "user_id",
]  # fmt: skip
SUMMARY_COLUMNS = [
    "group_name", "sku", "error", "members", "cause", "fix", "seats_short", "seats_free", "seats_needed",
    "users", "group_id", "sku_id",
]  # fmt: skip


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Held(NamedTuple):
    """One held assignment of a user in error."""

    sku_id: str
    assigned_by_group: str
    disabled_plans: str


@dataclass(frozen=True)
class _Context:
    """Lookups shared by every member's explanation, keyed so that explaining one member never
    scans every row (tens of thousands of members are in error in a big tenant)."""

    skus: Mapping[str, str]
    groups: Mapping[str, str]
    plans: Mapping[str, Mapping[str, str]]  # sku_id -> plan id -> plan name
    held: Mapping[str, Sequence[_Held]]  # user -> held assignments (users in error only)
    failed: Mapping[tuple[str, str, str], set[str]]  # (user, group, error) -> SKUs in that error
    own_disabled: Mapping[tuple[str, str, str], str]  # (user, sku, group) -> disabled plan ids

    def plans_on(self, sku_id: str, disabled: str) -> set[str]:
        off = split_plan_ids(disabled)
        return {name for pid, name in self.plans.get(sku_id, {}).items() if pid not in off}

    def skus_with_plan(self, plan_names: set[str]) -> list[str]:
        return sorted(
            sku_label(s, self.skus) for s, plans in self.plans.items() if plan_names & set(plans.values())
        )


def _failed_together(row: Mapping[str, Any], ctx: _Context) -> tuple[str, str] | None:
    """When the group assigns several SKUs, Graph assigns none of them to a member once one fails:
    the other SKUs then carry the same error without a conflict of their own."""
    same = ctx.failed.get((row["user_id"], row["group_id"], row["error"]), set()) - {row["sku_id"]}
    if not same:
        return None
    names = ", ".join(sorted({sku_label(s, ctx.skus) for s in same}))
    return (
        f"Failed together with {names} from the same group: Graph assigns none of a group's licences to a "
        "member when one of them fails, so the cause is most likely there.",
        f"Fix {names} for this user (see its row), then reprocess the user.",
    )


def _location(row: Mapping[str, Any]) -> tuple[str, str]:
    where = row["usage_location"]
    if not isinstance(where, str) or not where:
        return "No usage location is set.", "Set the user's usage location, then reprocess the user."
    return (
        f"Usage location {where}.",
        f"If {where} is wrong, correct it; if it is right, {row['sku']} cannot be used there: remove the "
        "user from the group. Then reprocess the user.",
    )


def _exclusive(row: Mapping[str, Any], ctx: _Context) -> tuple[str, str]:
    disabled = ctx.own_disabled.get((row["user_id"], row["sku_id"], row["group_id"]), "")
    wanted = ctx.plans_on(row["sku_id"], disabled)
    others = [o for o in ctx.held.get(row["user_id"], ()) if o.sku_id != row["sku_id"]]
    for other in others:
        clash = sorted(
            (mine, theirs)
            for mine in wanted
            for theirs in ctx.plans_on(other.sku_id, other.disabled_plans)
            if (mine, theirs) in MUTUALLY_EXCLUSIVE_PLANS
        )
        if not clash:
            continue
        name = sku_label(other.sku_id, ctx.skus)
        source = (
            "directly" if not other.assigned_by_group else source_label(other.assigned_by_group, ctx.groups)
        )
        detail = f"Conflicts with {name}, held {source} (plan {clash[0][1]} against {clash[0][0]})."
        if not other.assigned_by_group:
            fix = f"Remove the direct {name} licence (or switch off {clash[0][1]} in it), then reprocess the user."
        else:
            fix = (
                f"{name} comes from group {ctx.groups.get(other.assigned_by_group, other.assigned_by_group)}: "
                f"remove the user from one of the two groups, or switch off {clash[0][1]} in one group's "
                "assignment, then reprocess the user."
            )
        return detail, fix
    together = _failed_together(row, ctx)
    if together is not None:
        return together
    held = [
        f"{sku_label(o.sku_id, ctx.skus)} ({source_label(o.assigned_by_group, ctx.groups)})" for o in others
    ]
    if not held:
        return (
            "The conflicting licence is not in this snapshot (it may have been removed since).",
            "Reprocess the user.",
        )
    return (
        "The conflicting plan could not be pinpointed; the user also holds " + ", ".join(held) + ".",
        "Remove whichever of these conflicts with " + str(row["sku"]) + " (prefer a direct one), then "
        "reprocess the user.",
    )


def _dependency(row: Mapping[str, Any], ctx: _Context) -> tuple[str, str]:
    disabled = ctx.own_disabled.get((row["user_id"], row["sku_id"], row["group_id"]), "")
    dependants = sorted(ctx.plans_on(row["sku_id"], disabled) & set(PLAN_PREREQUISITES))
    has: set[str] = set()
    for other in ctx.held.get(row["user_id"], ()):
        has |= ctx.plans_on(other.sku_id, other.disabled_plans)
    for plan in dependants:
        needs = PLAN_PREREQUISITES[plan]
        if has & set(needs):
            continue
        options = " or ".join(plan_text(p) for p in needs)
        carriers = ctx.skus_with_plan(set(needs))
        where = (
            f", which {', '.join(carriers)} include" if carriers else ", which no SKU in this tenant includes"
        )
        return (
            f"{plan} needs {options}{where}; the user holds none of them.",
            f"Give the user a licence with {options} (add it to this group, since add-ons need their "
            "prerequisite in the same group), then reprocess the user.",
        )
    together = _failed_together(row, ctx)
    if together is not None:
        return together
    return (
        f"The prerequisite cannot be derived: Graph does not say which plan {row['sku']} is missing, "
        "and the user's plans match no known dependency.",
        f"Check {row['sku']}'s prerequisites in Microsoft's documentation, give the user that licence, "
        "then reprocess the user.",
    )


def explain_errors(
    errors: pd.DataFrame,
    licenses: pd.DataFrame,
    seats: pd.DataFrame,
    plans: pd.DataFrame,
    groups: pd.DataFrame,
) -> pd.DataFrame:
    """One row per member in error, with a specific ``detail`` and ``fix``.

    Args:
        errors: ``store.queries.group_errors`` rows.
        licenses: ``store.queries.user_licenses`` rows of the same snapshot; only those of
            members in a ``PER_MEMBER_LICENCES`` error are read.
        seats: ``analysis.seats.seat_table`` output (SKU names).
        plans: ``store.queries.service_plans`` rows (to find conflicting and prerequisite plans).
        groups: ``store.queries.licensed_groups`` rows (group names of other assignments).

    Returns:
        ``MEMBER_COLUMNS``, ordered by group, SKU, error and user.
    """
    names = sku_names(seats)
    in_error = set(errors["user_id"].tolist())
    # A set lookup per row: Series.isin with tens of thousands of values is slow on Arrow strings.
    mine = licenses[np.array([u in in_error for u in licenses["user_id"].tolist()], dtype=bool)]
    columns = [mine[c].tolist() for c in ("user_id", "sku_id", "assigned_by_group", "disabled_plans")]
    held_rows = mine["state"].isin(HELD_STATES).tolist()
    held: dict[str, list[_Held]] = {}
    for (user, sku, group, disabled), is_held in zip(zip(*columns, strict=True), held_rows, strict=True):
        if is_held:
            held.setdefault(user, []).append(_Held(sku, group, disabled))
    failed: dict[tuple[str, str, str], set[str]] = {}
    for user, group, error, sku in zip(
        *(errors[c].tolist() for c in ("user_id", "group_id", "error", "sku_id")), strict=True
    ):
        failed.setdefault((user, group, error), set()).add(sku)
    ctx = _Context(
        skus=names,
        groups=group_names(groups.drop_duplicates("group_id")),
        plans={
            str(sku): dict(zip(g["service_plan_id"], g["service_plan_name"].fillna(""), strict=True))
            for sku, g in plans.groupby("sku_id")
        },
        held=held,
        failed=failed,
        own_disabled={(u, s, g): d for u, s, g, d in zip(*columns, strict=True)},
    )
    out = errors.copy()
    out["group_name"] = [
        ctx.groups.get(g, n if isinstance(n, str) and n else g)
        for g, n in zip(out["group_id"], out["group_name"], strict=True)
    ]
    out["sku"] = [sku_label(s, names) for s in out["sku_id"]]
    # Only these errors read the member's row; the others are explained by their code alone.
    per_member = {LOCATION, EXCLUSIVE, DEPENDENCY}
    errors_ = out["error"].tolist()
    wanted = [i for i, error in enumerate(errors_) if error in per_member]
    # Plain dicts, not iterrows(): a Series per member costs seconds for tens of thousands.
    fields = {c: out[c].iloc[wanted].tolist() for c in out.columns}
    rows = {i: {c: fields[c][n] for c in fields} for n, i in enumerate(wanted)}
    explained: list[tuple[str, str]] = []
    for i, error in enumerate(errors_):
        if error == COUNT:
            explained.append(("Waiting for a free seat.", "See the group's seat numbers."))
        elif error == LOCATION:
            explained.append(_location(rows[i]))
        elif error == EXCLUSIVE:
            explained.append(_exclusive(rows[i], ctx))
        elif error == DEPENDENCY:
            explained.append(_dependency(rows[i], ctx))
        elif error == UNIQUENESS:
            explained.append(("Duplicate proxy address (Graph: UniquenessViolation).", EXCHANGE_FIX))
        else:
            explained.append((f"Graph reported {error}.", EXCHANGE_FIX))
    out["detail"] = [d for d, _ in explained]
    out["fix"] = [f for _, f in explained]
    return out.sort_values(["group_name", "sku", "error", "user_principal_name"])[MEMBER_COLUMNS].reset_index(
        drop=True
    )


def _count_fix(short: int, free: int, reclaimable: int | None) -> str:
    need = max(0, short - free)
    reclaim = (
        f" {_plural(reclaimable, 'seat')} of this SKU {'is' if reclaimable == 1 else 'are'} held by inactive or "
        "disabled users and could be reclaimed."
        if reclaimable is not None
        else ""
    )
    if need == 0:
        return f"{_plural(free, 'seat')} free now, enough for all {short} waiting: reprocess the group to assign them."
    if free > 0:
        return (
            f"{_plural(free, 'seat')} free now for {short} waiting: reprocess the group to use them, and free or "
            f"buy {need} more.{reclaim}"
        )
    over = f", and the SKU is over-assigned by {-free}" if free < 0 else ""
    return f"No seat is free ({free} available{over}): free or buy {need}, then reprocess the group.{reclaim}"


def _cause(error: str, group: str, sku: str, members: int, short: int) -> str:
    if error == COUNT:
        return (
            f"{group} assigns {sku} to more members than there are free seats: {_plural(short, 'member')} "
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
