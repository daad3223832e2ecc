"""The audit log: every write License Desk sends, recorded before (intent) and after (outcome)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from store.db import Store, utcnow

STATUSES = ("pending", "succeeded", "failed", "refused", "not_sent")


def record_intent(
    store: Store,
    *,
    plan_id: str,
    actor: str,
    tenant_id: str | None,
    action: str,
    user_id: str | None = None,
    user_principal_name: str | None = None,
    group_id: str | None = None,
    sku_id: str | None = None,
    sku_part_number: str | None = None,
    detail: dict[str, Any] | None = None,
    status: str = "pending",
    error: str | None = None,
) -> int:
    """Insert one audit row (committed before the call is sent) and return its id."""
    with store.atomic() as tx:
        cur = tx.execute(
            """INSERT INTO audit_log (plan_id, created_at, finished_at, actor, tenant_id, action, user_id,
                   user_principal_name, group_id, sku_id, sku_part_number, detail, status, error)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            (
                plan_id, utcnow(), None if status == "pending" else utcnow(), actor, tenant_id, action, user_id,
                user_principal_name, group_id, sku_id, sku_part_number, json.dumps(detail or {}, sort_keys=True),
                status, error,
            ),
        )  # fmt: skip
        return int(cur.fetchone()[0])


def record_outcome(
    store: Store,
    entry_id: int,
    *,
    status: str,
    http_status: int | None = None,
    request_id: str | None = None,
    error: str | None = None,
) -> None:
    """Complete an audit row with what Graph answered."""
    with store.atomic() as tx:
        tx.execute(
            "UPDATE audit_log SET status = ?, finished_at = ?, http_status = ?, request_id = ?, error = ? WHERE id = ?",
            (status, utcnow(), http_status, request_id, error, entry_id),
        )


def audit_entries(store: Store) -> pd.DataFrame:
    """The audit log, newest first."""
    return store.frame(
        """SELECT id, plan_id, created_at, finished_at, actor, tenant_id, action, user_principal_name, user_id,
                  group_id, sku_part_number, sku_id, status, http_status, request_id, error, detail
           FROM audit_log ORDER BY id DESC"""
    )
