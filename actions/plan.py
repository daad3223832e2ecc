"""Plans: the list of intended changes, built from a gap, checked before anything is sent.

Pure: DataFrames in, a frozen Plan out. A plan is refused as a whole (nothing is sent) when it
would overdraw a SKU, remove a licence a user inherits from a group, or target a user or SKU
that does not exist; each refusal is one sentence. Imports no HTTP, database or Streamlit.

Input frames (as ``store.queries`` returns them):
- skus: ``seat_table`` output (sku_id, sku_part_number, name, purchased, consumed, available, ...)
- users: user_id, user_principal_name, display_name, usage_location, account_enabled
- licenses: user_id, sku_id, assigned_by_group ('' = direct), state, error
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd

from actions.user_list import USER_COLUMNS as USER_COLUMNS
from actions.user_list import parse_user_list as parse_user_list

ACTIVE_STATES = frozenset({"Active", "ActiveWithError"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class ChangeKind(StrEnum):
    ASSIGN = "assign"
    REMOVE = "remove"
    SET_USAGE_LOCATION = "set_usage_location"
    REPROCESS_USER = "reprocess_user"
    GROUP_ASSIGN = "group_assign"


@dataclass(frozen=True)
class Change:
    """One intended write. ``seats`` is what it takes from its SKU (+1 assign, -1 remove, 0 otherwise)."""

    kind: ChangeKind
    user_id: str
    user_principal_name: str
    sku_id: str | None = None
    sku_part_number: str | None = None
    disabled_plans: tuple[str, ...] = ()
    usage_location: str | None = None
    seats: int = 0
    reason: str = ""
    group_id: str | None = None

    def describe(self) -> str:
        """A line for previews and the audit log."""
        if self.kind is ChangeKind.ASSIGN:
            return f"assign {self.sku_part_number} to {self.user_principal_name}"
        if self.kind is ChangeKind.REMOVE:
            return f"remove {self.sku_part_number} from {self.user_principal_name}"
        if self.kind is ChangeKind.SET_USAGE_LOCATION:
            return f"set usage location of {self.user_principal_name} to {self.usage_location}"
        if self.kind is ChangeKind.GROUP_ASSIGN:
            return f"add {self.sku_part_number} to group {self.user_principal_name} ({self.reason})"
        return f"reprocess group licences of {self.user_principal_name}"


@dataclass(frozen=True)
class Refusal:
    target: str
    reason: str


@dataclass(frozen=True)
class SeatChange:
    sku_id: str
    sku_part_number: str
    purchased: int
    consumed_before: int
    consumed_after: int

    @property
    def available_before(self) -> int:
        return self.purchased - self.consumed_before

    @property
    def available_after(self) -> int:
        return self.purchased - self.consumed_after


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    refused: tuple[Refusal, ...]
    seats: tuple[SeatChange, ...]
    skipped: tuple[Refusal, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the plan may be applied: nothing refused and something to do."""
        return not self.refused and bool(self.changes)

    def as_json(self) -> dict[str, Any]:
        """The preview contract: ``{"changes": [...], "refused": [...], "seats": {...}}`` (plus skipped)."""
        return {
            "changes": [
                {**asdict(c), "kind": c.kind.value, "disabled_plans": list(c.disabled_plans)}
                for c in self.changes
            ],
            "refused": [asdict(r) for r in self.refused],
            "skipped": [asdict(r) for r in self.skipped],
            "seats": {
                s.sku_part_number: {
                    "sku_id": s.sku_id,
                    "purchased": s.purchased,
                    "consumed_before": s.consumed_before,
                    "consumed_after": s.consumed_after,
                    "available_before": s.available_before,
                    "available_after": s.available_after,
                }
                for s in self.seats
            },
        }


def find_sku(skus: pd.DataFrame, wanted: str) -> pd.Series | None:
    """A SKU row by part number (case-insensitive) or skuId."""
    key = wanted.strip().lower()
    match = skus[(skus["sku_id"].str.lower() == key) | (skus["sku_part_number"].str.lower() == key)]
    return None if match.empty else match.iloc[0]


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
    if usage_location is not None and not _COUNTRY.match(usage_location):
        refused.append(Refusal(usage_location, f"{usage_location!r} is not a two-letter ISO country code."))
    disabled = _disabled_plan_ids(row, disabled_plans, service_plans, refused)
    held = _holders(licenses, str(row["sku_id"]))
    for target, user in _resolve(targets, users, refused):
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
    return _finish(changes, refused, skipped, skus)


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
    if usage_location is not None and not _COUNTRY.match(usage_location):
        refused.append(Refusal(usage_location, f"{usage_location!r} is not a two-letter ISO country code."))
    disabled = _disabled_plan_ids(row, disabled_plans, service_plans, refused)
    sku_id, part = str(row["sku_id"]), str(row["sku_part_number"])
    in_error = licenses[(licenses["assigned_by_group"] == group_id) & (licenses["error"] != "")]
    # All-or-nothing per group: a member's products of one group share one error; the row of the
    # SKU being assigned is preferred when the group carries it.
    in_error = in_error.assign(other_sku=in_error["sku_id"] != sku_id).sort_values(["user_id", "other_sku"])
    cause = dict(in_error.drop_duplicates("user_id")[["user_id", "error"]].itertuples(index=False))
    held = _holders(licenses, sku_id)
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
    return _finish(changes, refused, skipped, skus)


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
    for _target, user in _resolve(targets, users, refused):
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
    return _finish(changes, refused, skipped, skus)


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
    return _finish(changes, refused, skipped, skus)


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
    for _target, user in _resolve(targets or (), users, refused):
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
            part = _part_number(skus, sku_id) if sku_id else None
            changes.append(
                Change(ChangeKind.REPROCESS_USER, uid, upn, sku_id=sku_id, sku_part_number=part, seats=1 if sku_id else 0,
                       reason=", ".join(sorted(set(errors["error"]))))
            )  # fmt: skip
    # One reprocess call per user, whatever the number of SKUs it unblocks.
    return _finish(changes, refused, skipped, skus)


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
    disabled = _disabled_plan_ids(row, disabled_plans, service_plans, refused)
    held = _holders(licenses, str(row["sku_id"]))
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
    return _finish([change], refused, [], skus)


def api_calls(plan: Plan) -> list[Change]:
    """The changes that become Graph calls (a user reprocessed for two SKUs is one call)."""
    seen: set[tuple[ChangeKind, str]] = set()
    calls: list[Change] = []
    for change in plan.changes:
        if change.kind is ChangeKind.REPROCESS_USER:
            if (change.kind, change.user_id) in seen:
                continue
            seen.add((change.kind, change.user_id))
        calls.append(change)
    return calls


def _resolve(
    targets: Iterable[str], users: pd.DataFrame, refused: list[Refusal]
) -> list[tuple[str, pd.Series]]:
    by_upn = {str(u).lower(): i for i, u in users["user_principal_name"].items() if isinstance(u, str)}
    by_id = {str(u).lower(): i for i, u in users["user_id"].items()}
    found: list[tuple[str, pd.Series]] = []
    seen: set[str] = set()
    for target in targets:
        key = target.strip().lower()
        index = by_upn.get(key, by_id.get(key))
        if index is None:
            refused.append(Refusal(target, f"There is no user {target!r} in the latest snapshot."))
            continue
        user = users.loc[index]
        if str(user["user_id"]) in seen:
            continue
        seen.add(str(user["user_id"]))
        found.append((target, user))
    return found


def _holders(licenses: pd.DataFrame, sku_id: str) -> set[str]:
    mine = licenses[(licenses["sku_id"] == sku_id) & licenses["state"].isin(ACTIVE_STATES)]
    return set(mine["user_id"])


def _part_number(skus: pd.DataFrame, sku_id: str) -> str:
    match = skus[skus["sku_id"] == sku_id]
    return str(match.iloc[0]["sku_part_number"]) if not match.empty else sku_id


def _disabled_plan_ids(
    row: pd.Series, wanted: Sequence[str], service_plans: pd.DataFrame | None, refused: list[Refusal]
) -> tuple[str, ...]:
    """The servicePlanIds Graph needs for ``wanted`` (names or ids, any case) of the SKU in ``row``;
    a refusal listing the SKU's plan names when one is not among them."""
    if not wanted:
        return ()
    part, sku_id = str(row["sku_part_number"]), str(row["sku_id"]).lower()
    plans = service_plans if service_plans is not None else pd.DataFrame(columns=["sku_id"])
    mine = plans[plans["sku_id"].astype(str).str.lower() == sku_id]
    if mine.empty:
        refused.append(
            Refusal(part, f"The latest snapshot lists no service plans of {part}, so the plans to disable cannot be checked.")
        )  # fmt: skip
        return ()
    by_key: dict[str, str] = {}
    for plan_id, name in zip(mine["service_plan_id"], mine["service_plan_name"], strict=True):
        by_key[str(plan_id).lower()] = str(plan_id).lower()
        if isinstance(name, str) and name:
            by_key[name.lower()] = str(plan_id).lower()
    unknown = [w for w in wanted if w.strip().lower() not in by_key]
    if unknown:
        names = sorted({str(n) for n in mine["service_plan_name"] if isinstance(n, str) and n})
        listed = " or ".join(repr(w) for w in unknown)
        refused.append(
            Refusal(", ".join(unknown), f"{part} has no service plan {listed}; its plans are {', '.join(names)} (by name or id).")
        )  # fmt: skip
        return ()
    return tuple(sorted({by_key[w.strip().lower()] for w in wanted}))


def _finish(
    changes: list[Change], refused: list[Refusal], skipped: list[Refusal], skus: pd.DataFrame
) -> Plan:
    demand: dict[str, int] = {}
    for change in changes:
        if change.sku_id and change.seats:
            demand[change.sku_id] = demand.get(change.sku_id, 0) + change.seats
    seats: list[SeatChange] = []
    for sku_id, delta in sorted(demand.items()):
        row = skus[skus["sku_id"] == sku_id].iloc[0]
        seat = SeatChange(
            sku_id=sku_id,
            sku_part_number=str(row["sku_part_number"]),
            purchased=int(row["purchased"]),
            consumed_before=int(row["consumed"]),
            consumed_after=int(row["consumed"]) + delta,
        )
        seats.append(seat)
        if delta > 0 and seat.available_after < 0:
            refused.append(
                Refusal(
                    seat.sku_part_number,
                    f"The plan needs {delta} seat(s) of {seat.sku_part_number} but only "
                    f"{max(seat.available_before, 0)} are available; free or buy "
                    f"{-seat.available_after} more first.",
                )
            )
    return Plan(tuple(changes), tuple(refused), tuple(seats), tuple(skipped))


def plan_tables(plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The preview as two tables: the changes (one row per change) and the seats per SKU.

    Returns:
        changes: ``change``, ``user_principal_name``, ``sku_part_number``, ``seats``, ``reason``
        seats: ``sku_part_number``, ``sku_id``, ``purchased``, ``assigned_before``, ``assigned_after``,
        ``available_before``, ``available_after``
    """
    changes = pd.DataFrame(
        [
            {
                "change": c.describe(),
                "user_principal_name": c.user_principal_name,
                "sku_part_number": c.sku_part_number,
                "seats": c.seats,
                "reason": c.reason,
            }
            for c in plan.changes
        ],
        columns=["change", "user_principal_name", "sku_part_number", "seats", "reason"],
    )
    seats = pd.DataFrame(
        [
            {
                "sku_part_number": s.sku_part_number,
                "sku_id": s.sku_id,
                "purchased": s.purchased,
                "assigned_before": s.consumed_before,
                "assigned_after": s.consumed_after,
                "available_before": s.available_before,
                "available_after": s.available_after,
            }
            for s in plan.seats
        ],
        columns=[
            "sku_part_number",
            "sku_id",
            "purchased",
            "assigned_before",
            "assigned_after",
            "available_before",
            "available_after",
        ],
    )
    return changes, seats
