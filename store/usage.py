"""Microsoft 365 usage in the store: its columns, what each snapshot got from each report, and
the usage read back as of a snapshot.

Usage rows are intervals like users' (``user_usage``): the snapshot writer publishes them as the
collector joins them to each page's users (``SnapshotWriter.stage_usage``, compared with hashes of
the current rows, ``store.current``), unseen by readers until the snapshot completes; its last
transaction closes the rows of users given none (all of them when the snapshot has no usage: no
Reports.Read.All, concealed names), so old usage is never shown as if it were the snapshot's, and
records the reports' outcomes (``publish_usage_reports``). Imports store.db only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from store.db import Store

if TYPE_CHECKING:
    import pandas as pd  # the readers' frames only: a collection never loads pandas

USAGE_COLUMNS = (
    "user_id", "report_date", "exchange_at", "onedrive_at", "sharepoint_at", "teams_at", "yammer_at",
    "apps_at", "desktop_apps", "web_mobile_apps", "copilot_at", "recipient_type", "mailbox_bytes",
    "has_archive", "on_hold", "onedrive_bytes",
)  # fmt: skip
REPORT_COLUMNS = ("report", "status", "refresh_date", "rows", "matched")
_AS_OF = "valid_from <= :sid AND (valid_to IS NULL OR valid_to > :sid)"


def publish_usage_reports(tx: Any, sid: int, reports: Sequence[tuple[Any, ...]]) -> None:
    """Inside the snapshot's transaction: what each report gave it (``REPORT_COLUMNS`` order)."""
    marks = ", ".join("?" for _ in REPORT_COLUMNS)
    tx.executemany(
        f"INSERT INTO usage_reports (snapshot_id, {', '.join(REPORT_COLUMNS)}) VALUES (?, {marks})",
        [(sid, *row) for row in reports],
    )


def load_usage(store: Store, snapshot_id: int) -> pd.DataFrame:
    """Each user's usage as of the snapshot (columns ``USAGE_COLUMNS``); empty when none."""
    return store.frame(
        f"SELECT {', '.join(USAGE_COLUMNS)} FROM user_usage WHERE {_AS_OF} ORDER BY user_id",
        {"sid": snapshot_id},
    )


def load_usage_reports(store: Store, snapshot_id: int) -> pd.DataFrame:
    """What each usage report gave the snapshot: report, status, refresh_date, rows, matched."""
    return store.frame(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM usage_reports WHERE snapshot_id = :sid ORDER BY report",
        {"sid": snapshot_id},
    )


def usage_if_collected(store: Store, snapshot_id: int) -> pd.DataFrame | None:
    """``load_usage`` when the snapshot got usage from at least one report, else None (no
    Reports.Read.All, concealed names, or a snapshot older than usage collection): unknown, not
    "nobody used anything"."""
    reports = load_usage_reports(store, snapshot_id)
    if not (reports["status"] == "ok").any():
        return None
    return load_usage(store, snapshot_id)
