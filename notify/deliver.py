"""A notification run: for each channel, its digest of the findings, sent and audited.

Channels run one after the other; a channel that fails is recorded (``failed``, one sentence) and
the next one still runs. A channel's state moves on only when its message got through, so what a
dead channel missed is sent when it comes back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

from analysis.digest import Digest, build_digest, should_send
from analysis.messages import (
    SIGNATURE_HEADER,
    adaptive_card,
    email_text,
    headline,
    json_body,
    signature,
    webhook_payload,
)
from analysis.thresholds import Finding
from licensedesk.errors import redact
from notify.config import EmailChannel, HttpChannel, NotifyConfig
from notify.send import DeliveryError, build_email, post_json, send_email
from store import notifications
from store.db import Store
from store.locks import NOTIFY, holding


@dataclass(frozen=True)
class Result:
    """What happened on one channel: ``sent``, ``failed``, ``quiet`` (nothing to say) or ``dry run``."""

    channel: str
    destination: str
    status: str
    subject: str
    digest: Digest | None = None
    answer: str | None = None
    error: str | None = None


def new_run_id() -> str:
    return uuid.uuid4().hex


def notify_channels(
    store: Store,
    config: NotifyConfig,
    findings: Sequence[Finding],
    *,
    snapshot_id: int,
    snapshot_started_at: str,
    now: dt.datetime | None = None,
    only: Sequence[str] = (),
    dry_run: bool = False,
    lock_wait: float = 300.0,
) -> list[Result]:
    """Send each configured channel (or those named in ``only``) its digest of ``findings``.

    One run at a time per store (``store.locks.NOTIFY``, waited for up to ``lock_wait`` seconds):
    two runs at once would both read what was sent before either recorded its sending, and send
    the same digest twice. A dry run sends nothing and takes no lock.
    """
    with nullcontext() if dry_run else holding(store, NOTIFY, wait=lock_wait):
        when = now or dt.datetime.now(dt.UTC)
        run_id = new_run_id()
        results: list[Result] = []
        for channel in config.channels:
            if only and channel.name not in only:
                continue
            digest = build_digest(
                findings,
                notifications.load_sent(store, channel.name),
                snapshot_id=snapshot_id,
                snapshot_started_at=snapshot_started_at,
                now=when,
                reminder_days=config.reminder_days,
                exclusions=config.exclusions,
            )
            subject = headline(digest)
            if not should_send(digest, send_all_clear=config.send_all_clear):
                results.append(Result(channel.name, channel.destination, "quiet", subject, digest))
                continue
            if dry_run:
                results.append(Result(channel.name, channel.destination, "dry run", subject, digest))
                continue
            results.append(_deliver(store, config, channel, digest, subject, run_id))
        return results


def _deliver(
    store: Store,
    config: NotifyConfig,
    channel: EmailChannel | HttpChannel,
    digest: Digest,
    subject: str,
    run_id: str,
) -> Result:
    delivery_id = f"{run_id}.{channel.name}"
    entry = notifications.record_pending(
        store, run_id=run_id, channel=channel.name, destination=channel.destination, what="digest",
        subject=subject, snapshot_id=digest.snapshot_id,
        content={"delivery_id": delivery_id, "counts": digest.counts(), "findings": digest.sent_keys()},
    )  # fmt: skip
    try:
        answer = _send(config, channel, digest, subject, delivery_id)
    except DeliveryError as exc:
        error = redact(str(exc), *config.secrets)
        notifications.record_failure(store, entry, error=error, answer=exc.answer)
        return Result(channel.name, channel.destination, "failed", subject, digest, exc.answer, error)
    except Exception as exc:  # noqa: BLE001 - one channel's surprise must not silence the others
        error = f"Unexpected error while sending ({exc.__class__.__name__}); run with --debug for details."
        notifications.record_failure(store, entry, error=error)
        return Result(channel.name, channel.destination, "failed", subject, digest, None, error)
    notifications.record_sent(store, entry, answer=answer, channel=channel.name, digest=digest)
    return Result(channel.name, channel.destination, "sent", subject, digest, answer)


def _send(
    config: NotifyConfig, channel: EmailChannel | HttpChannel, digest: Digest, subject: str, delivery_id: str
) -> str:
    links = {"dashboard_url": config.dashboard_url, "tenant": config.tenant_name}
    if isinstance(channel, EmailChannel):
        return send_email(channel, build_email(channel, subject, email_text(digest, **links)))
    if channel.name == "teams":
        return post_json(channel, json_body(adaptive_card(digest, **links)))
    body = json_body(webhook_payload(digest, delivery_id=delivery_id, **links))
    headers = {
        SIGNATURE_HEADER: signature(body, channel.secret or ""),
        "X-License-Desk-Delivery": delivery_id,
    }
    return post_json(channel, body, headers)


def mail_report(
    store: Store,
    channel: EmailChannel,
    *,
    subject: str,
    text: str,
    attachment: tuple[str, bytes, str],
    snapshot_id: int,
    rows: int,
) -> Result:
    """Mail a report file through the e-mail channel, audited like a digest."""
    entry = notifications.record_pending(
        store, run_id=new_run_id(), channel=channel.name, destination=channel.destination, what="report",
        subject=subject, snapshot_id=snapshot_id,
        content={"attachment": attachment[0], "bytes": len(attachment[1]), "rows": rows},
    )  # fmt: skip
    try:
        answer = send_email(channel, build_email(channel, subject, text, attachment=attachment))
    except DeliveryError as exc:
        error = redact(str(exc), channel.password)
        notifications.record_failure(store, entry, error=error, answer=exc.answer)
        return Result(channel.name, channel.destination, "failed", subject, None, exc.answer, error)
    notifications.record_sent(store, entry, answer=answer)
    return Result(channel.name, channel.destination, "sent", subject, None, answer)
