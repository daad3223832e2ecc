"""The audit log: every write License Desk sends, recorded before (intent) and after (outcome),
and every plan it refused to send.

Statuses: ``pending`` (recorded, not answered yet; left so only by a process that died mid-call),
``succeeded``, ``failed`` (Graph answered with an error), ``unknown`` (sent, but the answer never
came: check the tenant before sending it again), ``refused`` (License Desk sent nothing) and
``not_sent`` (part of a plan that stopped before it).

Ids are assigned here, one more than the largest, inside the write transaction: ``Store.atomic``
holds the writer lock on both engines, so two writers cannot take the same id (see migration 7).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from store.db import Connection, Store, utcnow

STATUSES = ("pending", "succeeded", "failed", "unknown", "refused", "not_sent")


@dataclass(frozen=True)
class Intent:
    """One audit row to insert: what is about to be sent (or was refused)."""

    plan_id: str
    actor: str
    tenant_id: str | None
    action: str
    user_id: str | None = None
    user_principal_name: str | None = None
    group_id: str | None = None
    sku_id: str | None = None
    sku_part_number: str | None = None
    detail: dict[str, Any] | None = None
    status: str = "pending"
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one audit row's change."""

    entry_id: int
    status: str
    http_status: int | None = None
    request_id: str | None = None
    error: str | None = None


def record_intents(store: Store, intents: Sequence[Intent]) -> list[int]:
    """Insert audit rows in one transaction (committed before anything is sent); their ids, in order."""
    now = utcnow()
    with store.atomic() as tx:
        first = _next_id(tx)
        tx.executemany(
            """INSERT INTO audit_log (id, plan_id, created_at, finished_at, actor, tenant_id, action, user_id,
                   user_principal_name, group_id, sku_id, sku_part_number, detail, status, error)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    first + n,
                    i.plan_id,
                    now,
                    None if i.status == "pending" else now,
                    i.actor,
                    i.tenant_id,
                    i.action,
                    i.user_id,
                    i.user_principal_name,
                    i.group_id,
                    i.sku_id,
                    i.sku_part_number,
                    json.dumps(i.detail or {}, sort_keys=True),
                    i.status,
                    i.error,
                )  # fmt: skip
                for n, i in enumerate(intents)
            ],
        )
    return [first + n for n in range(len(intents))]


def record_intent(store: Store, **intent: Any) -> int:
    """Insert one audit row (see ``Intent`` for the fields) and return its id."""
    (entry_id,) = record_intents(store, [Intent(**intent)])
    return entry_id


def record_outcomes(store: Store, outcomes: Sequence[Outcome]) -> None:
    """Complete audit rows with what Graph answered (or why nothing was), in one transaction."""
    now = utcnow()
    with store.atomic() as tx:
        tx.executemany(
            "UPDATE audit_log SET status = ?, finished_at = ?, http_status = ?, request_id = ?, error = ? WHERE id = ?",
            [(o.status, now, o.http_status, o.request_id, o.error, o.entry_id) for o in outcomes],
        )


def record_outcome(
    store: Store,
    entry_id: int,
    *,
    status: str,
    http_status: int | None = None,
    request_id: str | None = None,
    error: str | None = None,
) -> None:
    """Complete one audit row with what Graph answered."""
    record_outcomes(store, [Outcome(entry_id, status, http_status, request_id, error)])


def audit_entries(store: Store) -> pd.DataFrame:
    """The audit log, newest first."""
    return store.frame(
        """SELECT id, plan_id, created_at, finished_at, actor, tenant_id, action, user_principal_name, user_id,
                  group_id, sku_part_number, sku_id, status, http_status, request_id, error, detail
           FROM audit_log ORDER BY id DESC"""
    )


def _next_id(tx: Connection) -> int:
    row = tx.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log").fetchone()
    return int(row[0])
