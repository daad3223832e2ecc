"""The pure part of notifications: finding keys, new/changed/reminder/resolved, exclusions, the
Teams card and the webhook signature (analysis.digest, analysis.messages)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from analysis.digest import (
    Digest,
    Exclusions,
    Sent,
    build_digest,
    finding_facts,
    finding_key,
    finding_sku,
    should_send,
)
from analysis.messages import CARD_ITEMS, adaptive_card, email_text, headline, json_body, signature
from analysis.thresholds import Finding

NOW = dt.datetime(2026, 3, 10, 7, 15, tzinfo=dt.UTC)
TRIAL = Finding("expiring", "SPE_E5", "A SPE_E5 subscription of 1 seat: its trial ends on 2026-03-12 (in 2 days).",
                {"subscription_id": "sub-1", "sku_id": "e5-id", "status": "Enabled", "is_trial": True, "seats": 1,
                 "next_lifecycle_at": "2026-03-12", "days_left": 2})  # fmt: skip
LOW = Finding("threshold", "SPE_E3", "SPE_E3 has 3 free seats, below the minimum of 5.",
              {"sku_id": "e3-id", "available": 3, "purchased": 10, "min_free_seats": 5})  # fmt: skip
GROUP = Finding("group_error", "E3 Staff", "Group 'E3 Staff': 2 members cannot get SPE_E3 (CountViolation).",
                {"group_id": "g1", "sku_id": "e3-id", "sku_part_number": "SPE_E3", "error": "CountViolation", "members": 2})  # fmt: skip


def sent(finding: Finding, *, days_ago: int, facts: str | None = None) -> Sent:
    when = NOW - dt.timedelta(days=days_ago)
    return Sent(finding_key(finding), finding.kind, finding.subject, finding.message,
                facts or finding_facts(finding), when - dt.timedelta(days=3), when, *finding_sku(finding))  # fmt: skip


def digest(findings: list[Finding], state: list[Sent], **kwargs: Any) -> Digest:
    return build_digest(
        findings, {s.key: s for s in state}, snapshot_id=4, snapshot_started_at="2026-03-10T06:00:00Z",
        now=NOW, reminder_days=int(kwargs.pop("reminder_days", 7)), **kwargs,
    )  # fmt: skip


def test_keys_name_the_thing_not_the_wording() -> None:
    assert finding_key(LOW) == "threshold:SPE_E3:min_free_seats"
    assert finding_key(GROUP) == "group_error:g1:SPE_E3:CountViolation"
    assert finding_key(TRIAL) == "expiring:sub-1"
    tomorrow = Finding(TRIAL.kind, TRIAL.subject, TRIAL.message.replace("in 2 days", "in 1 day"),
                       {**TRIAL.detail, "days_left": 1})  # fmt: skip
    assert finding_facts(tomorrow) == finding_facts(TRIAL)  # the countdown is not news
    worse = Finding(GROUP.kind, GROUP.subject, GROUP.message, {**GROUP.detail, "members": 3})
    assert finding_facts(worse) != finding_facts(GROUP)


@pytest.mark.parametrize(
    ("state", "reminder_days", "expected"),
    [
        ([], 7, "new"),
        (["same", 1], 7, "unchanged"),
        (["same", 6], 7, "unchanged"),
        (["same", 7], 7, "reminder"),
        (["same", 30], 0, "unchanged"),  # 0: never remind
        (["other facts", 1], 7, "changed"),
    ],
)
def test_each_finding_sorted_against_what_was_sent(
    state: list[object], reminder_days: int, expected: str
) -> None:
    before = []
    if state:
        facts = None if state[0] == "same" else "something else"
        before = [sent(LOW, days_ago=int(state[1]), facts=facts)]  # type: ignore[call-overload]
    result = digest([LOW], before, reminder_days=reminder_days)
    sections = {
        "new": result.new,
        "changed": result.changed,
        "reminder": result.reminders,
        "unchanged": result.unchanged,
    }  # type: ignore[attr-defined]
    assert [name for name, entries in sections.items() if entries] == [expected]
    assert result.due == (expected != "unchanged")  # type: ignore[attr-defined]


def test_resolved_is_news_but_an_excluded_finding_is_not_resolved() -> None:
    result = digest([LOW], [sent(LOW, days_ago=1), sent(GROUP, days_ago=1), sent(TRIAL, days_ago=1)],
                    exclusions=Exclusions.of(skus=["spe_e5"]))  # fmt: skip
    assert [s.key for s in result.resolved] == ["group_error:g1:SPE_E3:CountViolation"]  # type: ignore[attr-defined]
    assert (result.excluded, result.open_findings, result.due) == (0, 1, True)  # type: ignore[attr-defined]
    hidden = digest([LOW, TRIAL], [sent(LOW, days_ago=1), sent(TRIAL, days_ago=1)],
                    exclusions=Exclusions.of(findings=["EXPIRING:sub-1"]))  # fmt: skip
    assert (hidden.excluded, hidden.resolved, hidden.due) == (1, (), False)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("exclusion", "left"),
    [
        (Exclusions.of(skus=["SPE_E3"]), ["expiring:sub-1"]),  # a part number: the group error's SKU too
        (Exclusions.of(skus=["E5-ID"]), ["threshold:SPE_E3:min_free_seats", "group_error:g1:SPE_E3:CountViolation"]),
        (Exclusions.of(findings=["group_error:g1:SPE_E3:CountViolation"]), ["threshold:SPE_E3:min_free_seats", "expiring:sub-1"]),
        (Exclusions.of(skus=["E3 Staff"]), ["threshold:SPE_E3:min_free_seats", "group_error:g1:SPE_E3:CountViolation", "expiring:sub-1"]),
    ],
)  # fmt: skip
def test_exclusions_per_sku_and_per_finding(exclusion: Exclusions, left: list[str]) -> None:
    result = digest([LOW, GROUP, TRIAL], [], exclusions=exclusion)
    assert [e.key for e in result.new] == left  # type: ignore[attr-defined]


def test_quiet_when_all_clear_unless_asked() -> None:
    clear = digest([], [])
    assert (clear.all_clear, clear.due) == (True, False)  # type: ignore[attr-defined]
    assert not should_send(clear, send_all_clear=False)  # type: ignore[arg-type]
    assert should_send(clear, send_all_clear=True)  # type: ignore[arg-type]
    assert headline(clear) == "License Desk: all clear"  # type: ignore[arg-type]
    recovered = digest([], [sent(LOW, days_ago=2)])
    assert headline(recovered) == "License Desk: all clear (1 resolved)"  # type: ignore[arg-type]
    assert should_send(recovered, send_all_clear=False)  # type: ignore[arg-type]


def test_card_lists_at_most_card_items_and_says_how_many_more() -> None:
    many = [
        Finding("group_error", f"G{i}", f"Group 'G{i}': 1 member cannot get X (CountViolation).",
                {"group_id": f"g{i}", "sku_id": "x", "sku_part_number": "X", "error": "CountViolation", "members": 1})
        for i in range(CARD_ITEMS + 7)
    ]  # fmt: skip
    card = adaptive_card(digest(many, []), dashboard_url="https://ld.example")  # type: ignore[arg-type]
    content = card["attachments"][0]["content"]
    listed = [b["text"] for b in content["body"] if b["type"] == "TextBlock" and b["text"].startswith("- ")]
    assert len(listed) == CARD_ITEMS
    assert content["body"][-1]["text"] == "... and 7 more: see the dashboard."
    assert content["actions"] == [
        {"type": "Action.OpenUrl", "title": "Group errors", "url": "https://ld.example/group_errors"}
    ]
    assert len(json_body(card)) < 28_000  # Teams' card size limit
    text = email_text(digest(many, []))  # type: ignore[arg-type]
    assert text.count("cannot get X") == CARD_ITEMS + 7  # e-mail carries them all


def test_signature_is_hmac_sha256_of_the_body() -> None:
    # RFC 4231-style known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    assert signature(b"The quick brown fox jumps over the lazy dog", "key") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
    body = json_body({"message": "Grüße", "n": 1})
    assert json.loads(body) == {"message": "Grüße", "n": 1} and b" " not in body


def test_card_budget_is_shared_with_resolved_findings() -> None:
    groups = [
        Finding("group_error", f"G{i}", f"Group 'G{i}': 1 member cannot get X (CountViolation).",
                {"group_id": f"g{i}", "sku_id": "x", "sku_part_number": "X", "error": "CountViolation", "members": 1})
        for i in range(30)
    ]  # fmt: skip
    # 20 still found (new), 10 told before and gone (resolved): 30 lines for a card of 25
    content = adaptive_card(digest(groups[:20], [sent(g, days_ago=1) for g in groups[20:]]))["attachments"][
        0
    ]["content"]  # type: ignore[arg-type]
    texts = [b["text"] for b in content["body"] if b["type"] == "TextBlock"]
    assert sum(t.startswith("- ") for t in texts) == CARD_ITEMS
    assert "Resolved (10)" in texts and texts[-1] == "... and 5 more: see the dashboard."
    assert "actions" not in content  # no dashboard URL, no buttons
