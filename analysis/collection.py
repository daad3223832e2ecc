"""Health of the collection: the snapshot log, and the SKUs the catalog cannot name.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import pandas as pd

from analysis.inactive import utc

LOG_COLUMNS = [
    "id", "status", "started", "finished", "duration_seconds", "request_count", "retry_count", "user_count",
    "license_count", "sku_count", "group_count", "signin_available", "warnings", "error",
]  # fmt: skip


def snapshot_log(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Every snapshot attempt, newest first, failed ones with their error.

    Args:
        snapshots: ``store.queries.snapshots`` rows (``warnings`` is a list per row).

    Returns:
        ``LOG_COLUMNS``: times as UTC timestamps, ``warnings`` joined into one text,
        ``signin_available`` True/False/None (None while running or failed).
    """
    out = snapshots.copy()
    out["started"] = utc(out["started_at"].to_numpy()).to_numpy()
    out["finished"] = utc(out["finished_at"].to_numpy()).to_numpy()
    out["warnings"] = ["\n".join(w) if isinstance(w, list) else "" for w in out["warnings"]]
    out["signin_available"] = [None if pd.isna(v) else bool(v) for v in out["signin_available"]]
    out["error"] = out["error"].fillna("")
    return out.sort_values("id", ascending=False)[LOG_COLUMNS].reset_index(drop=True)


def unknown_skus(seats: pd.DataFrame) -> pd.DataFrame:
    """SKUs of a snapshot that the catalog does not know (shown by part number until refreshed)."""
    rows = seats[~seats["known"].astype(bool)]
    return rows[["sku_part_number", "sku_id", "purchased", "consumed"]].reset_index(drop=True)


def log_counts(log: pd.DataFrame) -> dict[str, int]:
    """Snapshot attempts by status (``complete``, ``failed``, ``running``) and in all."""
    counts = log["status"].value_counts()
    out = {status: int(counts.get(status, 0)) for status in ("complete", "failed", "running")}
    out["attempts"] = int(len(log))
    return out
