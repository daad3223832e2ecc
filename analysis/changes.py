"""What changed between two snapshots: seats bought and assigned, users, errors, and who gained
or lost which licence.

Totals count the SKUs that count as seats (``counts_as_unused``, as in ``seat_totals``), so a free
SKU's thousands of viral units never show up as "seats bought".

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.inactive import HELD_STATES
from analysis.labels import assignment_text, sku_label, source_label

ERROR_KEY = ["group_id", "user_id", "sku_id", "error"]
LEDGER_COLUMNS = [
    "user_principal_name", "display_name", "sku", "change", "before", "after", "user_id", "sku_id",
]  # fmt: skip
NONE = "—"


@dataclass(frozen=True)
class SnapshotChanges:
    """Headline differences from an earlier snapshot to a later one."""

    seats_bought: int  # change in purchased seats (negative: seats lapsed or were cancelled)
    seats_assigned: int  # change in consumed seats
    users_added: int
    users_removed: int
    new_errors: int  # group-assignment errors in the later snapshot that the earlier one lacked
    resolved_errors: int  # errors of the earlier snapshot gone in the later one


def sku_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per-SKU purchased and consumed before and after, for SKUs where either changed.

    Args:
        before, after: ``analysis.seats.seat_table`` outputs of the two snapshots.

    Returns:
        ``sku``, ``purchased_before``, ``purchased_after``, ``bought``, ``consumed_before``,
        ``consumed_after``, ``assigned``, ``counted``, ``sku_id``. A SKU missing on one side
        counts as 0 there (it was added or disappeared).
    """
    cols = ["sku_id", "purchased", "consumed"]
    merged = before[cols].merge(after[cols], on="sku_id", how="outer", suffixes=("_before", "_after"))
    for column in ("purchased_before", "purchased_after", "consumed_before", "consumed_after"):
        merged[column] = merged[column].fillna(0).astype("int64")
    merged["bought"] = merged["purchased_after"] - merged["purchased_before"]
    merged["assigned"] = merged["consumed_after"] - merged["consumed_before"]
    names = dict(zip(before["sku_id"], before["name"], strict=True))
    names.update(zip(after["sku_id"], after["name"], strict=True))
    counted = dict(zip(before["sku_id"], before["counts_as_unused"], strict=True))
    counted.update(zip(after["sku_id"], after["counts_as_unused"], strict=True))
    merged["sku"] = [names[s] for s in merged["sku_id"]]
    merged["counted"] = [bool(counted[s]) for s in merged["sku_id"]]
    changed = merged[(merged["bought"] != 0) | (merged["assigned"] != 0)]
    columns = [
        "sku", "purchased_before", "purchased_after", "bought", "consumed_before", "consumed_after", "assigned",
        "counted", "sku_id",
    ]  # fmt: skip
    return changed[columns].sort_values("sku").reset_index(drop=True)


def error_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Group-assignment errors that appeared or were resolved (``store.queries.group_errors`` or
    ``error_members`` rows).

    Returns:
        The error rows with a ``change`` column: 'new' (only in ``after``) or 'resolved' (only in
        ``before``); rows in both are left out.
    """
    # Columns as lists, zipped: itertuples over Arrow strings costs most of a second per 25,000 rows.
    listed_before = list(zip(*(before[c].tolist() for c in ERROR_KEY), strict=True))
    listed_after = list(zip(*(after[c].tolist() for c in ERROR_KEY), strict=True))
    keys_before, keys_after = set(listed_before), set(listed_after)
    new = after[np.array([k not in keys_before for k in listed_after], dtype=bool)]
    gone = before[np.array([k not in keys_after for k in listed_before], dtype=bool)]
    return pd.concat([new.assign(change="new"), gone.assign(change="resolved")], ignore_index=True)


def snapshot_changes(
    before_seats: pd.DataFrame,
    after_seats: pd.DataFrame,
    user_changes: pd.DataFrame,
    before_errors: pd.DataFrame,
    after_errors: pd.DataFrame,
) -> SnapshotChanges:
    """Headline changes between two snapshots.

    Args:
        before_seats, after_seats: ``seat_table`` outputs.
        user_changes: ``store.history.user_changes`` rows (``change`` is 'added' or 'removed').
        before_errors, after_errors: ``store.queries.group_errors`` (or ``error_members``) rows.
    """
    skus = sku_changes(before_seats, after_seats)
    counted = skus[skus["counted"]]
    errors = error_changes(before_errors, after_errors)
    return SnapshotChanges(
        seats_bought=int(counted["bought"].sum()),
        seats_assigned=int(counted["assigned"].sum()),
        users_added=int((user_changes["change"] == "added").sum()),
        users_removed=int((user_changes["change"] == "removed").sum()),
        new_errors=int((errors["change"] == "new").sum()),
        resolved_errors=int((errors["change"] == "resolved").sum()),
    )


def _describe(rows: list[dict[str, Any]], groups: Mapping[str, str]) -> str:
    if not rows:
        return NONE
    parts = sorted(
        f"{source_label(r['assigned_by_group'], groups)}: {assignment_text(r['state'], r['error'])}"
        for r in rows
    )
    return "; ".join(parts)


def license_ledger(
    rows: pd.DataFrame, sku_names: Mapping[str, str], group_names: Mapping[str, str]
) -> pd.DataFrame:
    """Who gained or lost which licence between two snapshots.

    Args:
        rows: ``store.history.license_changes`` output: for every (user, SKU) whose assignments
            differ, all its assignment rows in the earlier (``side == 'before'``) and the later
            (``side == 'after'``) snapshot, with ``user_principal_name`` and ``display_name``.
        sku_names, group_names: display names (``analysis.labels``).

    Returns:
        One row per (user, SKU), ``LEDGER_COLUMNS``. ``change`` is 'gained' (holds a seat only
        after), 'lost' (only before), 'changed' (holds it in both, through different assignments
        or states) or 'in error' (holds it in neither: an assignment failed, changed its error,
        or its error went away with the assignment). ``before``/``after`` describe the
        assignments as 'Direct: Active; via Sales: Error (CountViolation)', '—' for none.
    """
    # Plain records: a pandas groupby with per-group filtering costs milliseconds per (user, SKU).
    pairs: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for record in rows.to_dict("records"):
        sides = pairs.setdefault((record["user_id"], record["sku_id"]), {"before": [], "after": []})
        sides[record["side"]].append(record)
    out = []
    for (user, sku), sides in pairs.items():
        before, after = sides["before"], sides["after"]
        held_before = any(r["state"] in HELD_STATES for r in before)
        held_after = any(r["state"] in HELD_STATES for r in after)
        if held_after and not held_before:
            change = "gained"
        elif held_before and not held_after:
            change = "lost"
        elif held_before:
            change = "changed"
        else:
            change = "in error"
        first = (before or after)[0]
        out.append(
            {
                "user_principal_name": first["user_principal_name"],
                "display_name": first["display_name"],
                "sku": sku_label(str(sku), sku_names),
                "change": change,
                "before": _describe(before, group_names),
                "after": _describe(after, group_names),
                "user_id": user,
                "sku_id": sku,
            }
        )
    ledger = pd.DataFrame(out, columns=LEDGER_COLUMNS)
    return ledger.sort_values(["change", "sku", "user_principal_name"]).reset_index(drop=True)


def ledger_counts(ledger: pd.DataFrame) -> dict[str, int]:
    """How many ledger rows of each kind (every kind present, 0 when absent)."""
    counts = ledger["change"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in ("gained", "lost", "changed", "in error")}
