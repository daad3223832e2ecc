"""The audit log as the Audit page shows it: filters and headline counts (pure pandas)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

NOT_APPLIED = ("refused", "not_sent")


def filter_audit(
    log: pd.DataFrame,
    *,
    statuses: Sequence[str] = (),
    actions: Sequence[str] = (),
    actors: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows of ``log`` (``status``, ``action``, ``actor`` columns) matching every non-empty filter."""
    shown = log
    for column, wanted in (("status", statuses), ("action", actions), ("actor", actors)):
        if wanted:
            shown = shown[shown[column].isin(list(wanted))]
    return shown


def audit_counts(log: pd.DataFrame) -> dict[str, int]:
    """Changes, succeeded, failed, and refused or not sent."""
    status = log["status"]
    return {
        "changes": int(len(log)),
        "succeeded": int((status == "succeeded").sum()),
        "failed": int((status == "failed").sum()),
        "not_applied": int(status.isin(NOT_APPLIED).sum()),
    }
