"""What every planner checks the same way: the SKU and users named exist in the latest
snapshot, the service plans to disable belong to the SKU, and the plan leaves no SKU overdrawn
(``finish``). Each failure is a refusal of one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

from actions.changes import Change, Plan, Refusal, SeatChange

ACTIVE_STATES = frozenset({"Active", "ActiveWithError"})
COUNTRY = re.compile(r"^[A-Z]{2}$")


def find_sku(skus: pd.DataFrame, wanted: str) -> pd.Series | None:
    """A SKU row by part number (case-insensitive) or skuId."""
    key = wanted.strip().lower()
    match = skus[(skus["sku_id"].str.lower() == key) | (skus["sku_part_number"].str.lower() == key)]
    return None if match.empty else match.iloc[0]


def resolve_targets(
    targets: Iterable[str], users: pd.DataFrame, refused: list[Refusal]
) -> list[tuple[str, pd.Series]]:
    """(target, user row) for each target (UPN or object id, any case) once; a refusal for each
    target the latest snapshot does not know."""
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


def holders(licenses: pd.DataFrame, sku_id: str) -> set[str]:
    """The user ids holding the SKU (in an active state)."""
    mine = licenses[(licenses["sku_id"] == sku_id) & licenses["state"].isin(ACTIVE_STATES)]
    return set(mine["user_id"])


def part_number(skus: pd.DataFrame, sku_id: str) -> str:
    """The SKU's part number, or its id when the snapshot does not list it."""
    match = skus[skus["sku_id"] == sku_id]
    return str(match.iloc[0]["sku_part_number"]) if not match.empty else sku_id


def disabled_plan_ids(
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


def finish(changes: list[Change], refused: list[Refusal], skipped: list[Refusal], skus: pd.DataFrame) -> Plan:
    """The plan of these changes, with its seat counts per SKU; refused if it overdraws one."""
    demand: dict[str, int] = {}
    for change in changes:
        if change.sku_id and change.seats:
            demand[change.sku_id] = demand.get(change.sku_id, 0) + change.seats
        if change.from_sku_id:  # a downgrade frees the seat of the SKU it replaces
            demand[change.from_sku_id] = demand.get(change.from_sku_id, 0) - 1
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
