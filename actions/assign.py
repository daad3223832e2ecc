"""Plans that assign a SKU: directly to users, directly to the members of a group in error
where that can succeed, or to a group itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from actions.changes import Change, ChangeKind, Plan, Refusal
from actions.plan_checks import COUNTRY, disabled_plan_ids, find_sku, finish, holders, resolve_targets


def plan_assign(
    sku: str,
    targets: Iterable[str],
    *,
    skus: pd.DataFrame,
    users: pd.DataFrame,
    licenses: pd.DataFrame,
    disabled_plans: Sequence[str] = (),
    service_plans: pd.DataFrame | None = None,
    usage_location: str | None = None,
) -> Plan:
    """Assign ``sku`` directly to each target (UPN or object id).

    Users who already hold the SKU are skipped, not refused. A user with no usage location is
    refused unless ``usage_location`` is given, in which case setting it is planned first.
    ``disabled_plans`` are service plan names or ids, checked against ``service_plans``
    (``store.queries.service_plans`` rows: sku_id, service_plan_id, service_plan_name).
    """
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    changes: list[Change] = []
    row = find_sku(skus, sku)
    if row is None:
        return Plan((), (Refusal(sku, f"There is no SKU {sku!r} in the latest snapshot."),), ())
    if usage_location is not None and not COUNTRY.match(usage_location):
        refused.append(Refusal(usage_location, f"{usage_location!r} is not a two-letter ISO country code."))
    disabled = disabled_plan_ids(row, disabled_plans, service_plans, refused)
    held = holders(licenses, str(row["sku_id"]))
    for target, user in resolve_targets(targets, users, refused):
        uid, upn = str(user["user_id"]), str(user["user_principal_name"])
        if uid in held:
            skipped.append(Refusal(upn, f"{upn} already holds {row['sku_part_number']}."))
            continue
        if user.get("account_enabled") == 0:
            refused.append(
                Refusal(upn, f"{upn} is a disabled account; assigning it a licence would waste a seat.")
            )
            continue
        location = user.get("usage_location")
        if not isinstance(location, str) or not location:
            if usage_location is None:
                refused.append(
                    Refusal(
                        upn,
                        f"{upn} has no usage location, which Graph requires for direct assignment; pass a country code to set one first.",
                    )
                )
                continue
            changes.append(
                Change(
                    ChangeKind.SET_USAGE_LOCATION,
                    uid,
                    upn,
                    usage_location=usage_location,
                    reason="no usage location",
                )
            )
        changes.append(
            Change(
                ChangeKind.ASSIGN,
                uid,
                upn,
                sku_id=str(row["sku_id"]),
                sku_part_number=str(row["sku_part_number"]),
                disabled_plans=disabled,
                seats=1,
                reason=f"requested for {target}",
            )
        )
    return finish(changes, refused, skipped, skus)


# Why a member in one of these group errors is left out of a direct assignment: Graph refuses the
# direct assignment for the same cause, or the cause is not the user's licence at all.
_NOT_BY_DIRECT_ASSIGNMENT = {
    "MutuallyExclusiveViolation": "a plan of the licence conflicts with a plan the user already has, and a "
    "direct assignment is refused for the same conflict: remove one of the two first",
    "DependencyViolation": "the licence needs a plan the user does not have, and a direct assignment is "
    "refused for the same reason: assign the prerequisite first",
    "UniquenessViolation": "the mailbox cannot be provisioned because a proxy address is already used: fix "
    "the address in Exchange, then reprocess the user",
    "Other": "the mailbox cannot be provisioned (usually a proxy address already used): fix it in Exchange, "
    "then reprocess the user",
}


def plan_group_errors_assign(
    sku: str,
    group_id: str,
    *,
    skus: pd.DataFrame,
    users: pd.DataFrame,
    licenses: pd.DataFrame,
    disabled_plans: Sequence[str] = (),
    service_plans: pd.DataFrame | None = None,
    usage_location: str | None = None,
) -> Plan:
    """Assign ``sku`` directly to the members of ``group_id`` in error, where that can succeed.

    Planned, in user principal name order: members waiting for a seat (CountViolation) while the
    SKU has free seats; members whose usage location is the obstacle (the SKU is prohibited
    there, or they have none, which direct assignment requires) only when ``usage_location`` is
    given, which is then set first. Every other member in error is skipped with the reason, so
    the plan is never refused for the seats it cannot cover: those members are skipped as such.
    """
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    changes: list[Change] = []
    row = find_sku(skus, sku)
    if row is None:
        return Plan((), (Refusal(sku, f"There is no SKU {sku!r} in the latest snapshot."),), ())
    if usage_location is not None and not COUNTRY.match(usage_location):
        refused.append(Refusal(usage_location, f"{usage_location!r} is not a two-letter ISO country code."))
    disabled = disabled_plan_ids(row, disabled_plans, service_plans, refused)
    sku_id, part = str(row["sku_id"]), str(row["sku_part_number"])
    in_error = licenses[(licenses["assigned_by_group"] == group_id) & (licenses["error"] != "")]
    # All-or-nothing per group: a member's products of one group share one error; the row of the
    # SKU being assigned is preferred when the group carries it.
    in_error = in_error.assign(other_sku=in_error["sku_id"] != sku_id).sort_values(["user_id", "other_sku"])
    cause = dict(in_error.drop_duplicates("user_id")[["user_id", "error"]].itertuples(index=False))
    held = holders(licenses, sku_id)
    free = max(int(row["available"]), 0)
    members = users[users["user_id"].isin(list(cause))].sort_values("user_principal_name")
    for user in members.to_dict("records"):
        uid, upn = str(user["user_id"]), str(user["user_principal_name"])
        error = cause[uid]
        location = user.get("usage_location")
        has_location = isinstance(location, str) and bool(location)
        if uid in held:
            skipped.append(Refusal(upn, f"{upn} already holds {part}."))
            continue
        if user.get("account_enabled") == 0:
            skipped.append(
                Refusal(upn, f"{upn} is a disabled account; assigning it a licence would waste a seat.")
            )
            continue
        if error in _NOT_BY_DIRECT_ASSIGNMENT:
            skipped.append(Refusal(upn, f"{upn} is left out ({error}): {_NOT_BY_DIRECT_ASSIGNMENT[error]}."))
            continue
        location_error = error == "ProhibitedInUsageLocationViolation"
        if error not in ("CountViolation", "ProhibitedInUsageLocationViolation"):
            skipped.append(
                Refusal(
                    upn,
                    f"{upn} is left out ({error}): only members waiting for a seat or blocked by their usage location can be assigned directly.",
                )
            )
            continue
        if (location_error or not has_location) and usage_location is None:
            why = (
                f"{part} is not available in the user's usage location {location}"
                if location_error and has_location
                else "the user has no usage location, which direct assignment requires"
            )
            skipped.append(
                Refusal(upn, f"{upn} is left out ({error}): {why}; give a usage location to set first.")
            )
            continue
        if location_error and has_location and usage_location == location:
            skipped.append(
                Refusal(
                    upn,
                    f"{upn} is left out ({error}): {part} is not available in {location}, the usage location given.",
                )
            )
            continue
        if free <= 0:
            skipped.append(
                Refusal(
                    upn,
                    f"{upn} is left out ({error}): no seat of {part} is left for it; free or buy more first.",
                )
            )
            continue
        free -= 1
        if location_error or not has_location:
            changes.append(
                Change(ChangeKind.SET_USAGE_LOCATION, uid, upn, usage_location=usage_location,
                       reason=f"{error}: usage location {location or 'none'}")
            )  # fmt: skip
        changes.append(
            Change(ChangeKind.ASSIGN, uid, upn, sku_id=sku_id, sku_part_number=part, disabled_plans=disabled,
                   seats=1, reason=f"{error} in group {group_id}")
        )  # fmt: skip
    return finish(changes, refused, skipped, skus)


def plan_group_assign(
    sku: str,
    group_id: str,
    group_name: str,
    members: Sequence[str],
    *,
    skus: pd.DataFrame,
    licenses: pd.DataFrame,
    disabled_plans: Sequence[str] = (),
    service_plans: pd.DataFrame | None = None,
) -> Plan:
    """Add ``sku`` to a group: every member who does not already hold it takes a seat.

    Refused when the members who would need a seat outnumber the free seats: Entra would
    assign up to capacity and leave the rest in CountViolation, which is the gap this tool
    exists to close, not to create.
    """
    row = find_sku(skus, sku)
    if row is None:
        return Plan((), (Refusal(sku, f"There is no SKU {sku!r} in the latest snapshot."),), ())
    if not members:
        return Plan(
            (), (), (), (Refusal(group_name, f"Group {group_name} has no members; nothing would change."),)
        )
    refused: list[Refusal] = []
    disabled = disabled_plan_ids(row, disabled_plans, service_plans, refused)
    held = holders(licenses, str(row["sku_id"]))
    needing = [m for m in {m.lower() for m in members} if m not in held]
    change = Change(
        ChangeKind.GROUP_ASSIGN,
        "",
        group_name,
        sku_id=str(row["sku_id"]),
        sku_part_number=str(row["sku_part_number"]),
        disabled_plans=disabled,
        seats=len(needing),
        reason=f"{len(members)} member(s), {len(needing)} without it",
        group_id=group_id,
    )
    return finish([change], refused, [], skus)
