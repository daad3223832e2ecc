"""Applying a plan to the tenant: opt-in, re-checked against live seats, audited per change.

Order of safety checks, each of which sends nothing when it fails and leaves a ``refused`` row
in the audit log:
1. writes enabled in configuration (``LICENSE_DESK_ALLOW_WRITES=true``);
2. the plan itself has no refusal;
3. the store's apply lock (one plan at a time, across processes: see ``store.locks``), held
   from the next check to the last answer, so two operators cannot both pass it;
4. live seat counts (a fresh ``/subscribedSkus``) still cover the plan — another operator may
   have used seats since the snapshot the plan was built from. (Entra processes a group's
   members after answering 202 to its assignLicense, so on the real service a plan applied just
   after a group plan can still see seats the group is about to take; the lock does not wait
   for that processing.)
Then every change is recorded as 'pending' and sent once, in ``$batch`` calls of 20 (only an item
Graph answered 429, i.e. did not process, is resent), each batch's answers recorded as they come.
A change whose answer never came (connection lost, no answer in the batch) is ``unknown``: never
resent. A failed change does not stop the others, except a 403 (the rest would fail the same way)
and a user whose usage location was not set (their assignment would fail).

Ctrl-C while sending stops before the next batch: the batch in flight is recorded ``unknown``,
what was never sent ``not_sent``, and ``ApplyInterrupted`` carries the counts.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from actions.changes import Change, ChangeKind, Plan, api_calls
from collectors.graph import MAX_BATCH, GraphClient, WriteOutcome
from collectors.skus import fetch_skus, sku_rows
from licensedesk.config import NO_WRITE_IDENTITY, Settings
from licensedesk.errors import ActionRefused
from store.audit import Intent, Outcome, record_intents, record_outcomes
from store.db import Store
from store.locks import APPLY, LockTimeout, holding

# How long an apply waits for another one from the same store to finish before it is refused.
LOCK_WAIT_SECONDS = 600.0
STATUSES = ("succeeded", "failed", "unknown", "not_sent")
UNKNOWN_ADVICE = "check it in the tenant before sending it again"


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    status: str  # one of STATUSES
    http_status: int | None
    request_id: str | None
    error: str | None
    audit_id: int


@dataclass(frozen=True)
class ApplyResult:
    plan_id: str
    results: tuple[ChangeResult, ...]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def succeeded(self) -> int:
        return self.count("succeeded")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def unknown(self) -> int:
        return self.count("unknown")

    @property
    def not_sent(self) -> int:
        return self.count("not_sent")

    @property
    def complete(self) -> bool:
        """Every change succeeded."""
        return self.succeeded == len(self.results)

    def summary(self) -> str:
        """``3 succeeded, 1 failed, 2 outcome unknown, 0 not sent`` (unknown explained when any)."""
        text = (
            f"{self.succeeded} succeeded, {self.failed} failed, {self.unknown} outcome unknown, "
            f"{self.not_sent} not sent"
        )
        if self.unknown:
            text += f" (sent, but Graph's answer never came: {UNKNOWN_ADVICE})"
        return text


class ApplyInterrupted(KeyboardInterrupt):
    """Ctrl-C while a plan was being sent, raised once the audit log says what became of each change."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__(f"plan {result.plan_id}: {result.summary()}")
        self.result = result


def default_actor() -> str:
    """Who applies a plan from the command line: the local account name."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


def record_refusal(
    plan: Plan, *, settings: Settings, store: Store, actor: str, reason: str | None = None
) -> str:
    """Record that a plan was refused (nothing sent) and return the sentence saying why.

    ``reason`` defaults to the plan's first refusal; all of them go in the row's detail.
    """
    why = reason or (plan.refused[0].reason if plan.refused else "The plan has no changes.")
    # The first changes show what was asked; a plan of thousands must not make a huge row.
    detail = {
        "refused": [r.reason for r in plan.refused],
        "changes": [c.describe() for c in plan.changes[:50]],
        "change_count": len(plan.changes),
    }
    row = Intent(plan_id=uuid.uuid4().hex[:12], actor=actor, tenant_id=settings.tenant_id, action="plan",
                 status="refused", error=why, detail=detail)  # fmt: skip
    record_intents(store, [row])
    return why


def apply_plan(
    plan: Plan,
    *,
    settings: Settings,
    client: GraphClient,
    store: Store,
    actor: str,
    on_result: Callable[[ChangeResult], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> ApplyResult:
    """Send a plan's changes to Graph, auditing each one.

    ``on_result`` is called for each change once its outcome is recorded; ``on_wait`` once if
    another apply from the same store must finish first.

    Raises:
        ActionRefused: writes disabled, no write app configured, a refused plan, another apply
            holding the lock too long, or live seats no longer covering it (recorded in the audit
            log; nothing sent).
        ApplyInterrupted: Ctrl-C while sending (recorded; the result says what was sent).
    """
    if not settings.allow_writes:
        record_refusal(plan, settings=settings, store=store, actor=actor,
                       reason="Writes are disabled (LICENSE_DESK_ALLOW_WRITES is not true).")  # fmt: skip
        raise ActionRefused(
            "Writes are disabled: set LICENSE_DESK_ALLOW_WRITES=true to apply plans; nothing was sent."
        )
    if settings.write_identity() is None:  # client must be GraphClient(settings, identity="write")
        record_refusal(plan, settings=settings, store=store, actor=actor, reason=NO_WRITE_IDENTITY)
        raise ActionRefused(NO_WRITE_IDENTITY)
    if not plan.ok:
        reason = record_refusal(plan, settings=settings, store=store, actor=actor)
        raise ActionRefused(f"The plan was refused and nothing was sent: {reason}")
    try:
        with holding(store, APPLY, wait=lock_wait, on_wait=on_wait):
            shortfall = _live_shortfall(plan, client)
            if shortfall:
                record_refusal(plan, settings=settings, store=store, actor=actor, reason=shortfall)
                raise ActionRefused(f"Nothing was sent: {shortfall}")
            return _send(
                plan, settings=settings, client=client, store=store, actor=actor, on_result=on_result
            )
    except LockTimeout as exc:
        record_refusal(plan, settings=settings, store=store, actor=actor, reason=str(exc))
        raise ActionRefused(str(exc)) from None


def _send(
    plan: Plan,
    *,
    settings: Settings,
    client: GraphClient,
    store: Store,
    actor: str,
    on_result: Callable[[ChangeResult], None] | None,
) -> ApplyResult:
    plan_id = uuid.uuid4().hex[:12]
    # Usage locations first, in batches of their own: an assignment for a user whose location was
    # not set would fail at Graph, so it is not sent.
    calls = api_calls(plan)
    changes = [c for c in calls if c.kind is ChangeKind.SET_USAGE_LOCATION] + [
        c for c in calls if c.kind is not ChangeKind.SET_USAGE_LOCATION
    ]
    ids = record_intents(store, [_intent(plan_id, actor, settings.tenant_id, c) for c in changes])
    results: dict[int, ChangeResult] = {}
    recorded: set[int] = set()
    in_flight: list[int] = []
    blocked_users: dict[str, str] = {}  # user id -> why their later changes are not sent
    stop_reason: str | None = None
    try:
        for batch in _batches(changes):
            for i in batch:
                change = changes[i]
                why = stop_reason
                if change.kind is not ChangeKind.SET_USAGE_LOCATION:
                    why = why or blocked_users.get(change.user_id)
                if why:
                    results[i] = ChangeResult(change, "not_sent", None, None, why, ids[i])
            in_flight = [i for i in batch if i not in results]
            outcomes = client.batch_write([_request_for(changes[i]) for i in in_flight]) if in_flight else []
            for i, outcome in zip(in_flight, outcomes, strict=True):
                results[i] = _result(changes[i], outcome, ids[i])
            in_flight = []
            for i in batch:
                result = results[i]
                if result.change.kind is ChangeKind.SET_USAGE_LOCATION and result.status != "succeeded":
                    blocked_users[result.change.user_id] = (
                        "not sent because the user's usage location was not set first"
                    )
                if result.http_status == 403 and stop_reason is None:
                    stop_reason = (
                        f"not sent: an earlier change was refused for lack of permission ({result.error})"
                    )
            _record(store, [results[i] for i in batch])
            recorded.update(batch)
            for i in batch:
                if on_result:
                    on_result(results[i])
    except BaseException as exc:
        # Ctrl-C, or anything else that stops the loop: the audit log must still say what became
        # of each change, and nothing is retried.
        interrupted = isinstance(exc, KeyboardInterrupt)
        waiting = (
            "interrupted while waiting for Graph's answer"
            if interrupted
            else "the apply stopped before Graph's answer came"
        )
        unsent = (
            "not sent: the apply was interrupted"
            if interrupted
            else "not sent: the apply stopped on an error"
        )
        for i in in_flight:
            results.setdefault(
                i, ChangeResult(changes[i], "unknown", None, None, f"{waiting}; {UNKNOWN_ADVICE}", ids[i])
            )
        for i, change in enumerate(changes):
            results.setdefault(i, ChangeResult(change, "not_sent", None, None, unsent, ids[i]))
        _record(store, [results[i] for i in range(len(changes)) if i not in recorded])
        if interrupted:
            raise ApplyInterrupted(
                ApplyResult(plan_id, tuple(results[i] for i in range(len(changes))))
            ) from None
        raise
    return ApplyResult(plan_id, tuple(results[i] for i in range(len(changes))))


def _batches(changes: Sequence[Change]) -> list[list[int]]:
    """Indexes of ``changes`` in $batch-sized groups, usage locations never sharing a batch with
    the assignments that need them."""
    out: list[list[int]] = []
    for kind_is_location in (True, False):
        phase = [
            i for i, c in enumerate(changes) if (c.kind is ChangeKind.SET_USAGE_LOCATION) is kind_is_location
        ]
        out.extend(phase[n : n + MAX_BATCH] for n in range(0, len(phase), MAX_BATCH))
    return out


def _result(change: Change, outcome: WriteOutcome, audit_id: int) -> ChangeResult:
    if outcome.ok:
        return ChangeResult(change, "succeeded", outcome.status, outcome.request_id, None, audit_id)
    if outcome.status is None:  # sent, and no answer came back for it
        unknown = f"{outcome.error or 'no answer'}; {UNKNOWN_ADVICE}"
        return ChangeResult(change, "unknown", None, outcome.request_id, unknown, audit_id)
    error = _write_permission_message(change) if outcome.status == 403 else outcome.error
    return ChangeResult(change, "failed", outcome.status, outcome.request_id, error, audit_id)


def _record(store: Store, results: Sequence[ChangeResult]) -> None:
    if results:
        record_outcomes(
            store, [Outcome(r.audit_id, r.status, r.http_status, r.request_id, r.error) for r in results]
        )


def _intent(plan_id: str, actor: str, tenant: str | None, change: Change) -> Intent:
    return Intent(
        plan_id=plan_id,
        actor=actor,
        tenant_id=tenant,
        action=change.kind.value,
        user_id=change.user_id or None,
        user_principal_name=change.user_principal_name,
        group_id=change.group_id,
        sku_id=change.sku_id,
        sku_part_number=change.sku_part_number,
        detail={"disabled_plans": list(change.disabled_plans), "usage_location": change.usage_location,
                "reason": change.reason, **_downgrade_detail(change)},
    )  # fmt: skip


def _downgrade_detail(change: Change) -> dict[str, Any]:
    """A downgrade's audit row names both SKUs (its own SKU columns hold the one assigned)."""
    if change.kind is not ChangeKind.DOWNGRADE:
        return {}
    return {"from_sku_id": change.from_sku_id, "from_sku_part_number": change.from_sku_part_number,
            "to_sku_id": change.sku_id, "to_sku_part_number": change.sku_part_number}  # fmt: skip


def _request_for(change: Change) -> tuple[str, str, dict[str, Any] | None]:
    """(method, path, body) of the Graph call for one change."""
    user = f"/users/{change.user_id}"
    if change.kind is ChangeKind.ASSIGN:
        body = {
            "addLicenses": [{"skuId": change.sku_id, "disabledPlans": list(change.disabled_plans)}],
            "removeLicenses": [],
        }
        return "POST", f"{user}/assignLicense", body
    if change.kind is ChangeKind.REMOVE:
        return "POST", f"{user}/assignLicense", {"addLicenses": [], "removeLicenses": [change.sku_id]}
    if change.kind is ChangeKind.DOWNGRADE:  # one request: the user is never without a licence
        add = [{"skuId": change.sku_id, "disabledPlans": list(change.disabled_plans)}]
        return "POST", f"{user}/assignLicense", {"addLicenses": add, "removeLicenses": [change.from_sku_id]}
    if change.kind is ChangeKind.SET_USAGE_LOCATION:
        return "PATCH", user, {"usageLocation": change.usage_location}
    if change.kind is ChangeKind.GROUP_ASSIGN:
        body = {
            "addLicenses": [{"skuId": change.sku_id, "disabledPlans": list(change.disabled_plans)}],
            "removeLicenses": [],
        }
        return "POST", f"/groups/{change.group_id}/assignLicense", body
    return "POST", f"{user}/reprocessLicenseAssignment", None


def _write_permission_message(change: Change) -> str:
    needed = {
        ChangeKind.SET_USAGE_LOCATION: "User.ReadWrite.All",
        ChangeKind.REPROCESS_USER: "User.ReadWrite.All",
        ChangeKind.GROUP_ASSIGN: "LicenseAssignment.ReadWrite.All (or Group.ReadWrite.All)",
    }.get(change.kind, "LicenseAssignment.ReadWrite.All")
    return f"Graph refused the write (403): the app needs the application permission {needed}."


def _live_shortfall(plan: Plan, client: GraphClient) -> str | None:
    """Re-check seat demand against Graph's current counts; a sentence if they no longer suffice."""
    demand = {
        s.sku_id: s.consumed_after - s.consumed_before
        for s in plan.seats
        if s.consumed_after > s.consumed_before
    }
    if not demand:
        return None
    live = {row.sku_id: row for row in sku_rows(fetch_skus(client))[0]}
    for sku_id, needed in demand.items():
        row = live.get(sku_id)
        if row is None:
            return f"SKU {sku_id} is no longer subscribed."
        free = row.enabled + row.warning - row.consumed
        if free < needed:
            return (
                f"{row.sku_part_number} has {max(free, 0)} free seat(s) now but the plan needs {needed}; "
                "seats were used since the snapshot it was built from."
            )
    return None
