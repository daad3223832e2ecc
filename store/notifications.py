"""Notification state and the delivery audit (migration 8).

- ``notification_state``: per channel and finding key, what was last sent (``analysis.digest.Sent``).
- ``notification_deliveries``: every message, written ``pending`` before it is sent and completed
  with the server's answer after, as the write audit log is. A row left ``pending`` means the
  process died mid-send: whether it arrived is unknown.

A successful delivery and the state it implies are written in one transaction, so the state never
claims a channel was told what it was not. Imports no Streamlit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from analysis.digest import Digest, Sent, finding_facts, finding_sku
from store.db import Store, utcnow

DELIVERY_STATUSES = ("pending", "sent", "failed")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_sent(store: Store, channel: str) -> dict[str, Sent]:
    """What ``channel`` was last told, by finding key."""
    rows = store.conn.execute(
        """SELECT finding_key, kind, subject, message, facts, first_sent_at, last_sent_at, sku_id, sku_part_number
           FROM notification_state WHERE channel = ? ORDER BY finding_key""",
        (channel,),
    ).fetchall()
    return {
        str(r[0]): Sent(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            _parse(r[5]),
            _parse(r[6]),
            str(r[7]),
            str(r[8]),
        )
        for r in rows
    }


def record_pending(
    store: Store,
    *,
    run_id: str,
    channel: str,
    destination: str,
    what: str,
    subject: str,
    snapshot_id: int | None,
    content: Mapping[str, Any],
) -> int:
    """Insert a delivery row before the message is sent; its id."""
    with store.atomic() as tx:
        cur = tx.execute(
            """INSERT INTO notification_deliveries (run_id, created_at, channel, destination, what, subject,
                   snapshot_id, content, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending') RETURNING id""",
            (run_id, utcnow(), channel, destination, what, subject, snapshot_id,
             json.dumps(dict(content), sort_keys=True)),
        )  # fmt: skip
        return int(cur.fetchone()[0])


def record_failure(store: Store, delivery_id: int, *, error: str, answer: str | None = None) -> None:
    """Complete a delivery row that did not get through (the state is left as it was)."""
    with store.atomic() as tx:
        tx.execute(
            "UPDATE notification_deliveries SET status = 'failed', finished_at = ?, answer = ?, error = ? WHERE id = ?",
            (utcnow(), answer, error, delivery_id),
        )


def record_sent(
    store: Store,
    delivery_id: int,
    *,
    answer: str,
    channel: str | None = None,
    digest: Digest | None = None,
) -> None:
    """Complete a delivery row that got through and, for a digest, remember what ``channel`` now
    knows: listed findings as sent at the digest's time, resolved ones forgotten. One transaction."""
    with store.atomic() as tx:
        tx.execute(
            "UPDATE notification_deliveries SET status = 'sent', finished_at = ?, answer = ? WHERE id = ?",
            (utcnow(), answer, delivery_id),
        )
        if digest is None or channel is None:
            return
        now = _stamp(digest.generated_at)
        tx.executemany(
            """INSERT INTO notification_state (channel, finding_key, kind, subject, sku_id, sku_part_number,
                   message, facts, first_sent_at, last_sent_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (channel, finding_key) DO UPDATE SET
                   kind = excluded.kind, subject = excluded.subject, sku_id = excluded.sku_id,
                   sku_part_number = excluded.sku_part_number, message = excluded.message,
                   facts = excluded.facts, last_sent_at = excluded.last_sent_at""",
            [
                (channel, e.key, e.finding.kind, e.finding.subject, *finding_sku(e.finding), e.finding.message,
                 finding_facts(e.finding), now, now)
                for e in digest.listed
            ],
        )  # fmt: skip
        _forget(tx, channel, (s.key for s in digest.resolved))


def _forget(tx: Any, channel: str, keys: Iterable[str]) -> None:
    tx.executemany(
        "DELETE FROM notification_state WHERE channel = ? AND finding_key = ?",
        [(channel, key) for key in keys],
    )


def deliveries(store: Store) -> pd.DataFrame:
    """The delivery audit, newest first: ``id``, ``run_id``, ``created_at``, ``finished_at``,
    ``channel``, ``destination``, ``what``, ``subject``, ``snapshot_id``, ``status``, ``answer``,
    ``error``, ``content`` (JSON text)."""
    return store.frame(
        """SELECT id, run_id, created_at, finished_at, channel, destination, what, subject, snapshot_id,
                  status, answer, error, content
           FROM notification_deliveries ORDER BY id DESC"""
    )
