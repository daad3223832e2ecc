"""Plans that take licences back: remove direct assignments, or reprocess group licences in error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from actions.changes import Change, ChangeKind, Plan, Refusal
from actions.plan_checks import ACTIVE_STATES, find_sku, finish, part_number, resolve_targets


def plan_remove(
    sku: str, targets: Iterable[str], *, skus: pd.DataFrame, users: pd.DataFrame, licenses: pd.DataFrame
) -> Plan:
    """Remove a directly assigned ``sku`` from each target; inherited licences are refused."""
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    changes: list[Change] = []
    row = find_sku(skus, sku)
    if row is None:
        return Plan((), (Refusal(sku, f"There is no SKU {sku!r} in the latest snapshot."),), ())
    sku_id = str(row["sku_id"])
    for _target, user in resolve_targets(targets, users, refused):
        uid, upn = str(user["user_id"]), str(user["user_principal_name"])
        mine = licenses[(licenses["user_id"] == uid) & (licenses["sku_id"] == sku_id)]
        direct = mine[mine["assigned_by_group"] == ""]
        inherited = mine[mine["assigned_by_group"] != ""]
        if direct.empty and not inherited.empty:
            refused.append(
                Refusal(
                    upn,
                    f"{upn} inherits {row['sku_part_number']} from a group; remove the user from the group instead.",
                )
            )
            continue
        if direct.empty:
            skipped.append(Refusal(upn, f"{upn} does not hold {row['sku_part_number']}."))
            continue
        # Still consumes a seat if a group also grants it: removing the direct copy frees nothing.
        frees = 0 if (inherited["state"].isin(ACTIVE_STATES)).any() else -1
        changes.append(
            Change(
                ChangeKind.REMOVE,
                uid,
                upn,
                sku_id=sku_id,
                sku_part_number=str(row["sku_part_number"]),
                seats=frees,
            )
        )
    return finish(changes, refused, skipped, skus)


def plan_remove_many(
    targets: Mapping[str, Iterable[str]], *, skus: pd.DataFrame, users: pd.DataFrame, licenses: pd.DataFrame
) -> Plan:
    """One plan removing several SKUs' direct assignments: ``targets`` maps a SKU to the users to
    remove it from (e.g. ``analysis.reclaim.removal_targets``); each SKU as ``plan_remove``."""
    changes: list[Change] = []
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    for sku, users_ in targets.items():
        part = plan_remove(sku, users_, skus=skus, users=users, licenses=licenses)
        changes.extend(part.changes)
        refused.extend(part.refused)
        skipped.extend(part.skipped)
    return finish(changes, refused, skipped, skus)


def plan_reprocess(
    targets: Iterable[str] | None = None,
    *,
    group_id: str | None = None,
    skus: pd.DataFrame,
    users: pd.DataFrame,
    licenses: pd.DataFrame,
) -> Plan:
    """Reprocess the group licences of users (given, or every member of ``group_id`` in error).

    A member in CountViolation takes a seat when reprocessed, so the plan counts those seats and
    is refused if the SKU cannot cover them all.
    """
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    changes: list[Change] = []
    if group_id is not None:
        in_error = licenses[(licenses["assigned_by_group"] == group_id) & (licenses["error"] != "")]
        if in_error.empty:
            return Plan((), (), (), (Refusal(group_id, "The group has no members in error."),))
        targets = sorted(set(in_error["user_id"]))
    for _target, user in resolve_targets(targets or (), users, refused):
        uid, upn = str(user["user_id"]), str(user["user_principal_name"])
        errors = licenses[
            (licenses["user_id"] == uid) & (licenses["assigned_by_group"] != "") & (licenses["error"] != "")
        ]
        if group_id is not None:
            errors = errors[errors["assigned_by_group"] == group_id]
        if errors.empty:
            skipped.append(Refusal(upn, f"{upn} has no group licence in error."))
            continue
        held = set(licenses[(licenses["user_id"] == uid) & licenses["state"].isin(ACTIVE_STATES)]["sku_id"])
        waiting = sorted(set(errors[errors["error"] == "CountViolation"]["sku_id"]) - held)
        for sku_id in waiting or [None]:
            part = part_number(skus, sku_id) if sku_id else None
            changes.append(
                Change(ChangeKind.REPROCESS_USER, uid, upn, sku_id=sku_id, sku_part_number=part, seats=1 if sku_id else 0,
                       reason=", ".join(sorted(set(errors["error"]))))
            )  # fmt: skip
    # One reprocess call per user, whatever the number of SKUs it unblocks.
    return finish(changes, refused, skipped, skus)
