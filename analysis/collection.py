"""Health of the collection: the snapshot log, and the SKUs the catalog cannot name.

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import pandas as pd

from analysis.inactive import utc
from analysis.thresholds import Finding

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


def collection_findings(log: pd.DataFrame, now: pd.Timestamp, *, stale_hours: float) -> list[Finding]:
    """What ``check`` says about collecting itself: numbers from a stale or failing collection
    look exactly like fresh ones, so the scheduled job's silence must be a finding.

    Args:
        log: ``snapshot_log`` output (newest first).
        now: the current time (UTC).
        stale_hours: age of the latest complete snapshot past which it is reported.

    Returns:
        ``collection`` findings: ``failing`` when the attempts after the latest complete snapshot
        failed (counted, with the latest error), ``stale`` when that snapshot is too old.
    """
    complete = log[log["status"] == "complete"]
    if complete.empty:
        return []  # there is nothing to check yet, and resolving the snapshot already said so
    latest = complete.iloc[0]
    sid, started = int(latest["id"]), pd.Timestamp(latest["started"])
    out: list[Finding] = []
    failed = log[(log["status"] == "failed") & (log["id"] > sid)]
    if not failed.empty:
        last = failed.iloc[0]
        when = pd.Timestamp(last["finished"] if pd.notna(last["finished"]) else last["started"])
        error = str(last["error"]).strip().rstrip(".") or "no reason was recorded"
        times = "collection has" if len(failed) == 1 else f"{len(failed)} collections have"
        out.append(Finding(
            "collection", "failing",
            f"The last {times} failed, the latest at {when:%Y-%m-%d %H:%M} UTC: {error}. "
            f"The numbers shown are from snapshot {sid} of {started:%Y-%m-%d %H:%M} UTC.",
            {"failed_attempts": len(failed), "latest_failed_id": int(last["id"]), "error": error, "snapshot_id": sid},
        ))  # fmt: skip
    hours = (now - started).total_seconds() / 3600
    if hours > stale_hours:
        out.append(Finding(
            "collection", "stale",
            f"The latest complete snapshot ({sid}, {started:%Y-%m-%d %H:%M} UTC) is {hours:.0f} hours old, "
            f"more than {stale_hours:g}; check that the scheduled `license-desk collect` runs.",
            {"snapshot_id": sid, "hours_old": round(hours, 1), "stale_hours": stale_hours},
        ))  # fmt: skip
    return out
