"""Plans that move users to a cheaper SKU (the Reclaim advice ``premium_unused``: E5 -> E3, and
``desktop_unused``: E3 -> F3 or E1): one assignLicense per user that adds the target SKU and
removes the source SKU in the same request, so the user is never without a licence.

Pure, like every planner (``actions.plan``): DataFrames in, a Plan out.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from actions.changes import Change, ChangeKind, Plan, Refusal
from actions.plan_checks import ACTIVE_STATES, find_sku, finish, resolve_targets
from analysis.disabled_plans import split_plan_ids


def plan_downgrade(
    targets: Iterable[tuple[str, str, str]],
    *,
    skus: pd.DataFrame,
    users: pd.DataFrame,
    licenses: pd.DataFrame,
    service_plans: pd.DataFrame,
) -> Plan:
    """Downgrade each (user, from SKU, to SKU); users by UPN or object id, SKUs by part number or id.

    Refused, so nothing is sent: an unknown user or SKU, a SKU downgraded to itself, a source
    licence the user inherits from a group (changing the membership removes it, as ``plan_remove``
    refuses it), a user with no usage location (Graph refuses the assignment).
    Skipped: a user who does not hold the source SKU, or already holds the target (removing the
    source is then enough: a removal, not a downgrade).
    Seats: the downgrades to one SKU are planned in user principal name order while it has
    available seats (``seat_table``'s ``available``, as every plan's seat check); each one past
    them is skipped with how many seats are missing, so the others can still be applied.
    Disabled plans: the user's disabled plans of the source are kept where the target has the same
    service plan (by id), from ``service_plans`` (``store.queries.service_plans`` rows).
    """
    refused: list[Refusal] = []
    skipped: list[Refusal] = []
    wanted: list[tuple[pd.Series, pd.Series, pd.Series]] = []  # (user, from SKU row, to SKU row)
    for user_key, source, target in targets:
        rows = []
        for sku in (source, target):
            row = find_sku(skus, sku)
            if row is None:
                refused.append(Refusal(sku, f"There is no SKU {sku!r} in the latest snapshot."))
            rows.append(row)
        found = resolve_targets([user_key], users, refused)
        if rows[0] is None or rows[1] is None or not found:
            continue
        if rows[0]["sku_id"] == rows[1]["sku_id"]:
            refused.append(Refusal(source, f"{rows[0]['sku_part_number']} cannot be downgraded to itself."))
            continue
        wanted.append((found[0][1], rows[0], rows[1]))
    plan_ids = _plan_ids(service_plans)
    fitting: dict[str, list[Change]] = {}
    for user, source_row, target_row in wanted:
        change = _change(user, source_row, target_row, licenses, plan_ids, refused, skipped)
        if change is not None:
            fitting.setdefault(str(change.sku_id), []).append(change)
    changes: list[Change] = []
    for sku_id, planned in sorted(fitting.items()):
        planned.sort(key=lambda c: c.user_principal_name.lower())
        row = skus[skus["sku_id"] == sku_id].iloc[0]
        free = max(int(row["available"]), 0)
        changes.extend(planned[:free])
        missing = len(planned) - free
        for change in planned[free:]:
            skipped.append(
                Refusal(
                    change.user_principal_name,
                    f"{change.user_principal_name} is not downgraded: {change.sku_part_number} has {free} "
                    f"available seat(s) for {len(planned)} downgrade(s), {missing} seat(s) missing; buy "
                    f"{missing} more or downgrade fewer.",
                )
            )
    return finish(changes, refused, skipped, skus)


def _plan_ids(service_plans: pd.DataFrame) -> dict[str, frozenset[str]]:
    """skuId (lower case) -> its service plan ids (lower case)."""
    out: dict[str, set[str]] = {}
    for sku, plan in zip(service_plans["sku_id"], service_plans["service_plan_id"], strict=True):
        out.setdefault(str(sku).lower(), set()).add(str(plan).lower())
    return {k: frozenset(v) for k, v in out.items()}


def _change(
    user: pd.Series,
    source: pd.Series,
    target: pd.Series,
    licenses: pd.DataFrame,
    plan_ids: dict[str, frozenset[str]],
    refused: list[Refusal],
    skipped: list[Refusal],
) -> Change | None:
    """The downgrade of one user, or None with the refusal or skip saying why not."""
    uid, upn = str(user["user_id"]), str(user["user_principal_name"])
    src, dst = str(source["sku_part_number"]), str(target["sku_part_number"])
    mine = licenses[licenses["user_id"] == uid]
    held = mine[mine["state"].isin(ACTIVE_STATES)]
    of_source = mine[mine["sku_id"] == source["sku_id"]]
    direct = of_source[of_source["assigned_by_group"] == ""]
    inherited = of_source[(of_source["assigned_by_group"] != "") & of_source["state"].isin(ACTIVE_STATES)]
    if not inherited.empty:
        # Removing the direct copy would leave the group's: the user would hold both SKUs.
        refused.append(
            Refusal(upn, f"{upn} inherits {src} from a group; remove the user from the group instead.")
        )
        return None
    if direct.empty:
        skipped.append(Refusal(upn, f"{upn} does not hold {src}."))
        return None
    if (held["sku_id"] == target["sku_id"]).any():
        skipped.append(Refusal(upn, f"{upn} already holds {dst}: removing {src} is enough."))
        return None
    location = user.get("usage_location")
    if not isinstance(location, str) or not location:
        refused.append(
            Refusal(upn, f"{upn} has no usage location, which Graph requires to assign {dst}; set one first.")
        )
        return None
    target_plans = plan_ids.get(str(target["sku_id"]).lower())
    if not target_plans:
        why = f"The latest snapshot lists no service plans of {dst}, so the disabled plans cannot be carried over."
        if Refusal(dst, why) not in refused:  # once per SKU, not once per user
            refused.append(Refusal(dst, why))
        return None
    disabled = split_plan_ids(direct.iloc[0]["disabled_plans"]) & target_plans
    return Change(
        ChangeKind.DOWNGRADE, uid, upn, sku_id=str(target["sku_id"]), sku_part_number=dst,
        disabled_plans=tuple(sorted(disabled)), seats=1, reason=f"downgrade {src} to {dst}",
        from_sku_id=str(source["sku_id"]), from_sku_part_number=src,
    )  # fmt: skip


def downgrade_pairs(plan: Plan) -> list[tuple[str, str]]:
    """(from skuId, to skuId) of each downgrade in a plan: what ``analysis.downgrade_savings`` prices."""
    return [(str(c.from_sku_id), str(c.sku_id)) for c in plan.changes if c.kind is ChangeKind.DOWNGRADE]
