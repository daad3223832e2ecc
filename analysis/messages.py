"""A digest as each channel carries it: an e-mail's subject and text, a Microsoft Teams Adaptive
Card (the body a Teams Workflows "when a webhook request is received" flow posts), and the JSON of
the generic webhook with its HMAC-SHA256 signature.

Links point at the dashboard's pages (``dashboard_url`` + the page's path) when a dashboard URL is
configured. A Teams card lists at most ``CARD_ITEMS`` findings (Teams refuses cards past about
28 KB) and says how many more the dashboard shows; e-mail and webhook carry them all.

Pure Python: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from analysis.digest import Digest, Entry

CARD_ITEMS = 25
SIGNATURE_HEADER = "X-License-Desk-Signature-256"
# Where each kind of finding is looked at (dashboard/app.py page paths; "" is the Overview).
PAGES = {"threshold": "", "group_error": "group_errors", "expiring": "renewals", "renewal": "renewals"}
PAGE_TITLES = {"": "Overview", "group_errors": "Group errors", "renewals": "Renewals"}
_SECTIONS = (("new", "New"), ("changed", "Changed"), ("reminders", "Reminder"))


def page_url(dashboard_url: str | None, kind: str) -> str | None:
    """The dashboard page for a kind of finding, or None without a dashboard URL."""
    if not dashboard_url:
        return None
    return _page(dashboard_url, PAGES.get(kind, ""))


def _page(dashboard_url: str, page: str) -> str:
    return f"{dashboard_url.rstrip('/')}/{page}"


def _when(started_at: str) -> str:
    stamp = dt.datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def headline(digest: Digest) -> str:
    """One line: what this digest says (the e-mail subject, the card's title)."""
    if digest.all_clear and not digest.resolved:
        return "License Desk: all clear"
    parts = [
        f"{len(digest.new)} new" if digest.new else "",
        f"{len(digest.changed)} changed" if digest.changed else "",
        _plural(len(digest.reminders), "reminder") if digest.reminders else "",
        f"{len(digest.resolved)} resolved" if digest.resolved else "",
    ]
    news = ", ".join(p for p in parts if p)
    if digest.all_clear:
        return f"License Desk: all clear ({news})"
    return f"License Desk: {_plural(digest.open_findings, 'finding')} need attention ({news or 'no news'})"


def email_text(digest: Digest, *, dashboard_url: str | None = None, tenant: str | None = None) -> str:
    """The digest as plain text, every finding with its key (to exclude it) and its page."""
    lines = [
        f"License Desk{' for ' + tenant if tenant else ''}, snapshot {digest.snapshot_id} "
        f"({_when(digest.snapshot_started_at)}).",
        "",
    ]
    if digest.all_clear:
        lines.append("All clear: no threshold breached, no group error, nothing expiring.")
        lines.append("")
    for attr, title in _SECTIONS:
        entries: tuple[Entry, ...] = getattr(digest, attr)
        if not entries:
            continue
        lines.append(f"{title} ({len(entries)})")
        for entry in entries:
            lines.append(f"- {entry.finding.message}")
            if entry.reason == "changed" and entry.previous is not None:
                lines.append(f"  was: {entry.previous.message}")
            if entry.reason == "reminder" and entry.previous is not None:
                lines.append(f"  first sent {entry.previous.first_sent_at:%Y-%m-%d}, still open")
            url = page_url(dashboard_url, entry.finding.kind)
            if url:
                lines.append(f"  {url}")
            lines.append(f"  id: {entry.key}")
        lines.append("")
    if digest.resolved:
        lines.append(f"Resolved since the last notification ({len(digest.resolved)})")
        lines.extend(f"- {sent.message}" for sent in digest.resolved)
        lines.append("")
    notes = []
    if digest.unchanged:
        notes.append(
            f"{_plural(len(digest.unchanged), 'other finding')} still open, already notified"
            + (f" (reminded every {digest.reminder_days} days)." if digest.reminder_days else ".")
        )
    if digest.excluded:
        notes.append(f"{_plural(digest.excluded, 'finding')} left out by the notification exclusions.")
    lines.extend(notes)
    if notes:
        lines.append("")
    if dashboard_url:
        lines.append(f"Dashboard: {dashboard_url}")
    lines.append("Sent by `license-desk notify`.")
    return "\n".join(lines) + "\n"


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def adaptive_card(
    digest: Digest, *, dashboard_url: str | None = None, tenant: str | None = None
) -> dict[str, Any]:
    """The Teams message: an Adaptive Card 1.4 in the envelope a Workflows webhook flow expects."""
    body: list[dict[str, Any]] = [
        _text_block(headline(digest), size="Medium", weight="Bolder"),
        _text_block(
            f"{tenant + ', ' if tenant else ''}snapshot {digest.snapshot_id} ({_when(digest.snapshot_started_at)})",
            isSubtle=True,
            spacing="None",
        ),  # fmt: skip
    ]
    counts = digest.counts()
    facts = [
        {"title": title, "value": str(counts[name])}
        for name, title in (("new", "New"), ("changed", "Changed"), ("reminders", "Reminders"),
                            ("unchanged", "Still open"), ("resolved", "Resolved"), ("excluded", "Excluded"))
        if counts[name]
    ]  # fmt: skip
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    # The budget of CARD_ITEMS lines is shared by the listed findings, then the resolved ones.
    left = CARD_ITEMS
    for attr, title in _SECTIONS:
        entries: tuple[Entry, ...] = getattr(digest, attr)
        if not entries or left == 0:
            continue
        body.append(_text_block(title, weight="Bolder", separator=True))
        for entry in entries[:left]:
            text = f"- {entry.finding.message}"
            if entry.reason == "changed" and entry.previous is not None:
                text += f" (was: {entry.previous.message})"
            body.append(_text_block(text, spacing="Small"))
        left -= min(left, len(entries))
    if digest.resolved and left:
        body.append(_text_block(f"Resolved ({len(digest.resolved)})", weight="Bolder", separator=True))
        body.extend(_text_block(f"- {sent.message}", spacing="Small") for sent in digest.resolved[:left])
        left -= min(left, len(digest.resolved))
    hidden = len(digest.listed) + len(digest.resolved) - (CARD_ITEMS - left)
    if hidden > 0:
        body.append(_text_block(f"... and {hidden} more: see the dashboard.", isSubtle=True))
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    if dashboard_url:
        # One button per page the listed findings are on (the Overview when none is listed).
        pages = sorted({PAGES.get(e.finding.kind, "") for e in digest.listed}) or [""]
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": PAGE_TITLES[page], "url": _page(dashboard_url, page)}
            for page in pages
        ]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def webhook_payload(
    digest: Digest, *, delivery_id: str, dashboard_url: str | None = None, tenant: str | None = None
) -> dict[str, Any]:
    """The generic webhook's JSON: every listed finding with its key, detail and page."""

    def entry(e: Entry) -> dict[str, Any]:
        return {**e.as_json(), "url": page_url(dashboard_url, e.finding.kind)}

    return {
        "type": "license_desk.digest",
        "delivery_id": delivery_id,
        "sent_at": digest.generated_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tenant": tenant,
        "snapshot_id": digest.snapshot_id,
        "snapshot_started_at": digest.snapshot_started_at,
        "status": "ok" if digest.all_clear else "attention",
        "summary": headline(digest),
        "counts": digest.counts(),
        "new": [entry(e) for e in digest.new],
        "changed": [entry(e) for e in digest.changed],
        "reminders": [entry(e) for e in digest.reminders],
        "still_open": [e.key for e in digest.unchanged],
        "resolved": [
            {"key": s.key, "kind": s.kind, "subject": s.subject, "message": s.message}
            for s in digest.resolved
        ],
        "dashboard_url": dashboard_url,
    }


def json_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def signature(body: bytes, secret: str) -> str:
    """The ``X-License-Desk-Signature-256`` value: ``sha256=`` + hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
