"""Group licence errors per member: why each member is in error, and what fixes it (DESIGN §6).

``explain_errors`` finds the conflicting SKU, the usage location or the missing prerequisite of
each member; ``analysis.group_errors`` rolls the members up per group, SKU and error.

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


def plural(n: int, word: str) -> str:
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
