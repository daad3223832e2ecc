"""What a plan is: the changes it would send, what it refuses or skips, and its seat counts;
its preview tables and the Graph calls it becomes. Built by the planners (``actions.plan``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import pandas as pd


class ChangeKind(StrEnum):
    ASSIGN = "assign"
    REMOVE = "remove"
    SET_USAGE_LOCATION = "set_usage_location"
    REPROCESS_USER = "reprocess_user"
    GROUP_ASSIGN = "group_assign"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class Change:
    """One intended write. ``seats`` is what it takes from its SKU (+1 assign, -1 remove, 0 otherwise).

    A downgrade's SKU is the one it assigns (``seats`` +1, its ``disabled_plans``); the one it takes
    away in the same call is ``from_sku_id`` (one seat freed).
    """

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
    from_sku_id: str | None = None
    from_sku_part_number: str | None = None

    def describe(self) -> str:
        """A line for previews and the audit log."""
        if self.kind is ChangeKind.ASSIGN:
            return f"assign {self.sku_part_number} to {self.user_principal_name}"
        if self.kind is ChangeKind.REMOVE:
            return f"remove {self.sku_part_number} from {self.user_principal_name}"
        if self.kind is ChangeKind.SET_USAGE_LOCATION:
            return f"set usage location of {self.user_principal_name} to {self.usage_location}"
        if self.kind is ChangeKind.DOWNGRADE:
            return f"downgrade {self.user_principal_name} from {self.from_sku_part_number} to {self.sku_part_number}"
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
