"""What a notification run sends: one digest of ``license-desk check``'s findings per channel,
holding only what the channel has not been told yet.

- A finding's **key** names the thing it is about, stable from one snapshot to the next:
  ``threshold:<part number>:<limit>``, ``group_error:<group id>:<part number>:<error>``,
  ``expiring:<subscription id>``, ``renewal:<subscription id>``. Exclusions name findings by key.
- Its **facts** are its detail less the countdown (``days_left``): a finding whose facts differ from
  what was last sent is **changed**; the days counting down to the same date change nothing.
- Per channel, against what was last sent (``store.notifications``): **new** (never sent, or sent
  and resolved since), **changed**, **reminder** (unchanged, last sent ``reminder_days`` or more
  UTC calendar days ago; 0 = never remind), **unchanged** (counted, not listed), **resolved**
  (sent before, no longer found). A digest is due when any of those but unchanged is non-empty.
- **Exclusions** (per SKU: part number or skuId, any case; per finding: its key) keep a finding
  out of digests only: ``check``, the dashboard and the store still show it. An excluded finding
  is neither sent nor reported as resolved; what was sent of it before is kept as it was.

Pure Python: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.thresholds import KINDS, Finding

# Detail fields that move every day without the finding itself changing.
_COUNTDOWN = frozenset({"days_left", "hours_old"})


def finding_key(finding: Finding) -> str:
    """The stable name of what a finding is about (see the module docstring)."""
    detail = finding.detail
    if finding.kind == "threshold":
        limit = "min_free_seats" if "min_free_seats" in detail else "max_utilization_percent"
        return f"threshold:{finding.subject}:{limit}"
    if finding.kind == "group_error":
        return f"group_error:{detail['group_id']}:{detail['sku_part_number']}:{detail['error']}"
    if finding.kind in ("expiring", "renewal"):
        return f"{finding.kind}:{detail['subscription_id']}"
    return f"{finding.kind}:{finding.subject}"


def finding_facts(finding: Finding) -> str:
    """A fingerprint of what a finding says, countdowns left out: equal fingerprints, same news."""
    facts = {k: v for k, v in finding.detail.items() if k not in _COUNTDOWN}
    text = json.dumps([finding.kind, finding.subject, facts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def finding_sku(finding: Finding) -> tuple[str, str]:
    """(skuId, part number) a finding is about."""
    detail = finding.detail
    part = str(
        detail.get("sku_part_number")
        or ("" if finding.kind in ("group_error", "collection") else finding.subject)
    )
    return str(detail.get("sku_id") or ""), part


def is_finding_key(text: str) -> bool:
    """Whether ``text`` has the shape of a finding key (``<kind>:<something>``)."""
    kind, _, rest = text.partition(":")
    return kind in KINDS and bool(rest)


@dataclass(frozen=True)
class Exclusions:
    """What never goes into a digest: SKUs (part number or skuId) and finding keys, any case."""

    skus: frozenset[str] = frozenset()
    findings: frozenset[str] = frozenset()

    @classmethod
    def of(cls, skus: Iterable[str] = (), findings: Iterable[str] = ()) -> Exclusions:
        return cls(frozenset(s.strip().lower() for s in skus), frozenset(f.strip().lower() for f in findings))

    def excludes(self, finding: Finding) -> bool:
        return self._matches(finding_key(finding), finding_sku(finding))

    def excludes_sent(self, sent: Sent) -> bool:
        """Whether a finding told before is excluded now (then it is not reported as resolved)."""
        return self._matches(sent.key, (sent.sku_id, sent.sku_part_number))

    def _matches(self, key: str, skus: tuple[str, str]) -> bool:
        return key.lower() in self.findings or any(name and name.lower() in self.skus for name in skus)


def split_excluded(
    findings: Sequence[Finding], exclusions: Exclusions
) -> tuple[list[Finding], list[Finding]]:
    """(kept, excluded), each in ``check``'s order."""
    kept = [f for f in findings if not exclusions.excludes(f)]
    excluded = [f for f in findings if exclusions.excludes(f)]
    return kept, excluded


@dataclass(frozen=True)
class Sent:
    """What a channel was last told about one finding (a ``store.notifications`` state row)."""

    key: str
    kind: str
    subject: str
    message: str
    facts: str
    first_sent_at: dt.datetime
    last_sent_at: dt.datetime
    sku_id: str = ""
    sku_part_number: str = ""


@dataclass(frozen=True)
class Entry:
    """A finding listed in a digest, with why (``new``, ``changed``, ``reminder``)."""

    key: str
    finding: Finding
    reason: str
    previous: Sent | None = None

    def as_json(self) -> dict[str, Any]:
        out = {"key": self.key, **self.finding.as_json()}
        if self.previous is not None:
            out["first_sent_at"] = _iso(self.previous.first_sent_at)
            out["last_sent_at"] = _iso(self.previous.last_sent_at)
            if self.reason == "changed":
                out["previous_message"] = self.previous.message
        return out


@dataclass(frozen=True)
class Digest:
    """One channel's digest of one snapshot's findings."""

    snapshot_id: int
    snapshot_started_at: str
    new: tuple[Entry, ...] = ()
    changed: tuple[Entry, ...] = ()
    reminders: tuple[Entry, ...] = ()
    unchanged: tuple[Entry, ...] = ()
    resolved: tuple[Sent, ...] = ()
    excluded: int = 0
    reminder_days: int = 0
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def listed(self) -> tuple[Entry, ...]:
        """The findings the digest lists: new, changed, then reminders."""
        return self.new + self.changed + self.reminders

    @property
    def open_findings(self) -> int:
        """Findings found now, exclusions left out."""
        return len(self.listed) + len(self.unchanged)

    @property
    def due(self) -> bool:
        """Whether there is news for this channel."""
        return bool(self.listed or self.resolved)

    @property
    def all_clear(self) -> bool:
        return self.open_findings == 0

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new), "changed": len(self.changed), "reminders": len(self.reminders),
            "unchanged": len(self.unchanged), "resolved": len(self.resolved), "excluded": self.excluded,
        }  # fmt: skip

    def sent_keys(self) -> dict[str, list[str]]:
        """What the digest holds, by key: the record kept of a delivery."""
        return {
            "new": [e.key for e in self.new],
            "changed": [e.key for e in self.changed],
            "reminders": [e.key for e in self.reminders],
            "resolved": [s.key for s in self.resolved],
        }


def build_digest(
    findings: Sequence[Finding],
    sent: Mapping[str, Sent],
    *,
    snapshot_id: int,
    snapshot_started_at: str,
    now: dt.datetime,
    reminder_days: int,
    exclusions: Exclusions = Exclusions(),
) -> Digest:
    """Sort a snapshot's findings against what a channel was already told (module docstring).

    Args:
        findings: ``analysis.thresholds.check_findings`` output (what ``license-desk check`` reports).
        sent: the channel's state, by finding key.
        now: the time of the run (UTC): reminders count calendar days from ``last_sent_at`` to it.
        reminder_days: resend an unchanged finding after this many days; 0 never resends.
    """
    kept, excluded = split_excluded(findings, exclusions)
    sections: dict[str, list[Entry]] = {"new": [], "changed": [], "reminder": [], "unchanged": []}
    seen: set[str] = set()
    for finding in kept:
        key = finding_key(finding)
        if key in seen:
            continue  # check never repeats a finding; a digest must not either
        seen.add(key)
        before = sent.get(key)
        if before is None:
            reason = "new"
        elif before.facts != finding_facts(finding):
            reason = "changed"
        elif reminder_days > 0 and (now.date() - before.last_sent_at.date()).days >= reminder_days:
            reason = "reminder"
        else:
            reason = "unchanged"
        sections[reason].append(Entry(key, finding, reason, before))
    resolved = tuple(
        s for key, s in sorted(sent.items()) if key not in seen and not exclusions.excludes_sent(s)
    )
    return Digest(
        snapshot_id=snapshot_id,
        snapshot_started_at=snapshot_started_at,
        new=tuple(sections["new"]),
        changed=tuple(sections["changed"]),
        reminders=tuple(sections["reminder"]),
        unchanged=tuple(sections["unchanged"]),
        resolved=resolved,
        excluded=len(excluded),
        reminder_days=reminder_days,
        generated_at=now,
    )


def should_send(digest: Digest, *, send_all_clear: bool) -> bool:
    """A digest goes out when there is news, or on an all-clear run when asked for one."""
    return digest.due or (send_all_clear and digest.all_clear)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
