"""Changes between two snapshots on hand-built frames."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.changes import (
    SnapshotChanges,
    error_changes,
    ledger_counts,
    license_ledger,
    sku_changes,
    snapshot_changes,
)
from analysis.seats import seat_table


def _seats(*rows: tuple[str, str, int, int, int]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["sku_id", "sku_part_number", "enabled", "warning", "consumed"])
    return seat_table(frame.assign(suspended=0, locked_out=0, applies_to="User"))


BEFORE = _seats(("e3", "SPE_E3", 10, 0, 8), ("visio", "VISIOCLIENT", 5, 0, 5), ("flow", "FLOW_FREE", 10000, 0, 3),
                ("old", "PROJECTPROFESSIONAL", 2, 0, 1))  # fmt: skip
AFTER = _seats(("e3", "SPE_E3", 12, 1, 9), ("visio", "VISIOCLIENT", 5, 0, 5), ("flow", "FLOW_FREE", 20000, 0, 7),
               ("new", "POWER_BI_PRO", 3, 0, 0))  # fmt: skip


def test_sku_changes_cover_added_and_removed_skus() -> None:
    out = sku_changes(BEFORE, AFTER)
    assert out[["sku_id", "purchased_before", "purchased_after", "bought", "consumed_before", "consumed_after",
                "assigned", "counted"]].values.tolist() == [
        ["flow", 10000, 20000, 10000, 3, 7, 4, False],
        ["new", 0, 3, 3, 0, 0, 0, True],
        ["old", 2, 0, -2, 1, 0, -1, True],
        ["e3", 10, 13, 3, 8, 9, 1, True],  # 12 enabled + 1 warning
    ]  # fmt: skip


def _errors(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["group_id", "user_id", "sku_id", "error"])


def test_snapshot_changes_count_only_counted_skus() -> None:
    users = pd.DataFrame({"user_id": ["a", "b", "c"], "change": ["added", "added", "removed"]})
    before = _errors(("g", "u1", "e3", "CountViolation"), ("g", "u2", "e3", "CountViolation"))
    after = _errors(
        ("g", "u2", "e3", "CountViolation"), ("g", "u2", "e3", "Other"), ("h", "u3", "v", "Other")
    )
    changes = snapshot_changes(BEFORE, AFTER, users, before, after)
    # bought: e3 +3, new +3, old -2 (FLOW_FREE's +10,000 is not counted); assigned: e3 +1, old -1.
    assert changes == SnapshotChanges(
        seats_bought=4, seats_assigned=0, users_added=2, users_removed=1, new_errors=2, resolved_errors=1
    )


def test_error_changes_mark_new_and_resolved() -> None:
    before = _errors(("g", "u1", "e3", "CountViolation"))
    after = _errors(("g", "u1", "e3", "MutuallyExclusiveViolation"))  # a different error is new
    out = error_changes(before, after)
    assert out[["user_id", "error", "change"]].values.tolist() == [
        ["u1", "MutuallyExclusiveViolation", "new"],
        ["u1", "CountViolation", "resolved"],
    ]


def _rows(*rows: tuple[str, str, str, str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["side", "user_id", "sku_id", "assigned_by_group", "state", "error"])
    return frame.assign(
        user_principal_name=frame["user_id"] + "@x.com", display_name=frame["user_id"], disabled_plans=""
    )


@pytest.mark.parametrize(
    ("rows", "change", "before", "after"),
    [
        ([("after", "u", "e3", "", "Active", "")], "gained", "—", "Direct: Active"),
        ([("before", "u", "e3", "g", "Active", "")], "lost", "via Sales: Active", "—"),
        # Direct assignment removed but the group still gives the seat: changed, not lost.
        (
            [("before", "u", "e3", "", "Active", ""), ("before", "u", "e3", "g", "Active", ""),
             ("after", "u", "e3", "g", "Active", "")],
            "changed", "Direct: Active; via Sales: Active", "via Sales: Active",
        ),
        # Lost the seat, and the group's reassignment failed.
        (
            [("before", "u", "e3", "", "Active", ""), ("after", "u", "e3", "g", "Error", "CountViolation")],
            "lost", "Direct: Active", "via Sales: Error (CountViolation)",
        ),
        # Never held: a failed assignment appeared, or its error changed, or it went away.
        ([("after", "u", "e3", "g", "Error", "CountViolation")], "in error", "—", "via Sales: Error (CountViolation)"),
        ([("before", "u", "e3", "zz", "Error", "Other")], "in error", "via zz: Error (Other)", "—"),
        (
            [("before", "u", "e3", "g", "ActiveWithError", "Other"), ("after", "u", "e3", "g", "Active", "")],
            "changed", "via Sales: ActiveWithError (Other)", "via Sales: Active",
        ),
    ],
)  # fmt: skip
def test_ledger(
    rows: list[tuple[str, str, str, str, str, str]], change: str, before: str, after: str
) -> None:
    ledger = license_ledger(_rows(*rows), {"e3": "Microsoft 365 E3"}, {"g": "Sales"})
    assert ledger[["user_principal_name", "sku", "change", "before", "after"]].values.tolist() == [
        ["u@x.com", "Microsoft 365 E3", change, before, after]
    ]


def test_ledger_counts_and_empty_ledger() -> None:
    ledger = license_ledger(
        _rows(
            ("after", "a", "e3", "", "Active", ""),
            ("after", "b", "e3", "", "Active", ""),
            ("before", "c", "v", "", "Active", ""),
        ),
        {},
        {},
    )
    assert ledger["sku"].tolist() == ["e3", "e3", "v"]  # unknown ids shown as they are
    assert ledger_counts(ledger) == {"gained": 2, "lost": 1, "changed": 0, "in error": 0}
    empty = license_ledger(_rows(), {}, {})
    assert empty.empty and ledger_counts(empty) == {"gained": 0, "lost": 0, "changed": 0, "in error": 0}
