"""Microsoft 365 usage in the store: staged during a collection, published as intervals in the
snapshot's own transaction, and read back as of a snapshot.

Why its own staging and publish step: usage is keyed by the users the sweep finds (the collector
stages each page's rows as its users are joined to the reports), and it must appear exactly when
the snapshot does, never half. The snapshot writer calls ``UsageStage.publish`` inside
``complete()``'s transaction. A snapshot without usage (no Reports.Read.All, concealed names)
closes every current usage row: old usage is never shown as if it were the snapshot's. Imports
store.db and store.postgres only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from store.db import SQLITE, Store

if TYPE_CHECKING:
    import pandas as pd  # the readers' frames only: the collector, which stages usage, never loads pandas

USAGE_COLUMNS = (
    "user_id", "report_date", "exchange_at", "onedrive_at", "sharepoint_at", "teams_at", "yammer_at",
    "apps_at", "desktop_apps", "web_mobile_apps", "copilot_at", "recipient_type", "mailbox_bytes",
    "has_archive", "on_hold", "onedrive_bytes",
)  # fmt: skip
REPORT_COLUMNS = ("report", "status", "refresh_date", "rows", "matched")
_INTEGERS = frozenset({"desktop_apps", "web_mobile_apps", "mailbox_bytes", "has_archive", "on_hold",
                       "onedrive_bytes", "rows", "matched"})  # fmt: skip
_AS_OF = "valid_from <= :sid AND (valid_to IS NULL OR valid_to > :sid)"


class UsageStage:
    """Usage rows and report outcomes of one collection, in TEMP tables of the store's connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        temp = store.dialect.temp
        for table, columns in (("stage_usage", USAGE_COLUMNS), ("stage_usage_reports", REPORT_COLUMNS)):
            store.conn.execute(f"DROP TABLE IF EXISTS {temp}{table}")
            store.conn.execute(f"CREATE TEMP TABLE {table} ({', '.join(map(self._column, columns))})")

    def _column(self, name: str) -> str:
        if self.store.dialect is SQLITE:
            return name
        kind = "BIGINT" if name.endswith("_bytes") else "INTEGER" if name in _INTEGERS else "TEXT"
        return f"{name} {kind}"

    def add(self, usage: Sequence[tuple[Any, ...]], reports: Sequence[tuple[Any, ...]]) -> None:
        """Stage the rows (each user once) and what each report gave."""
        conn, temp = self.store.conn, self.store.dialect.temp

        def insert() -> None:
            for table, columns, rows in (
                ("stage_usage", USAGE_COLUMNS, usage), ("stage_usage_reports", REPORT_COLUMNS, reports),
            ):  # fmt: skip
                marks = ", ".join("?" for _ in columns)
                conn.executemany(f"INSERT INTO {temp}{table} ({', '.join(columns)}) VALUES ({marks})", rows)

        self.store.temp_writes(insert)  # or in the collection's open transaction of page writes

    def publish(self, tx: Any, sid: int) -> None:
        """Inside the snapshot's transaction: close current rows that changed or are gone, open the
        staged rows that are new, and record the reports' outcomes."""
        t = self.store.dialect.temp
        # user_id with "=" so the indexes serve the lookups; NULL-safe equality for the rest.
        same = "s.user_id = u.user_id AND " + " AND ".join(
            f"s.{c} {self.store.dialect.same} u.{c}" for c in USAGE_COLUMNS[1:]
        )
        key = (
            "temp.stage_usage_key ON stage_usage"
            if self.store.dialect is SQLITE
            else "stage_usage_key ON pg_temp.stage_usage"
        )
        tx.execute(f"CREATE INDEX IF NOT EXISTS {key} (user_id)")
        tx.execute(
            f"""UPDATE user_usage SET valid_to = ? WHERE valid_to IS NULL AND NOT EXISTS (
                   SELECT 1 FROM {t}stage_usage s WHERE {same.replace("u.", "user_usage.")})""",
            (sid,),
        )
        columns = ", ".join(USAGE_COLUMNS)
        tx.execute(
            f"""INSERT INTO user_usage ({columns}, valid_from, valid_to)
                SELECT {columns}, ?, NULL FROM {t}stage_usage s WHERE NOT EXISTS (
                    SELECT 1 FROM user_usage u WHERE u.valid_to IS NULL AND {same}) ORDER BY user_id""",
            (sid,),
        )
        report_columns = ", ".join(REPORT_COLUMNS)
        tx.execute(
            f"""INSERT INTO usage_reports (snapshot_id, {report_columns})
                SELECT ?, {report_columns} FROM {t}stage_usage_reports""",
            (sid,),
        )

    def drop(self) -> None:
        for table in ("stage_usage", "stage_usage_reports"):
            self.store.conn.execute(f"DROP TABLE IF EXISTS {self.store.dialect.temp}{table}")


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
