"""Applying a plan to the tenant: opt-in, re-checked against live seats, audited per change.

Order of safety checks, each of which sends nothing when it fails:
1. writes enabled in configuration (``LICENSE_DESK_ALLOW_WRITES=true``);
2. the plan itself has no refusal;
3. live seat counts (a fresh ``/subscribedSkus``) still cover the plan — another operator may
   have used seats since the snapshot the plan was built from.
Then each change is recorded as 'pending', sent once (in ``$batch`` calls of 20; only an item
Graph answered 429, i.e. did not process, is resent), and recorded with Graph's answer. A
failed change does not stop the others, except a 403 (the rest would fail the same way) and a
user whose usage location could not be set (their assignment would fail).
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actions.plan import Change, ChangeKind, Plan, api_calls
from collectors.graph import GraphClient
from collectors.skus import fetch_skus, sku_rows
from licensedesk.config import NO_WRITE_IDENTITY, Settings
from licensedesk.errors import ActionRefused
from store.audit import record_intent, record_outcome
from store.db import Store


@dataclass(frozen=True)
class ChangeResult:
    change: Change
    status: str  # succeeded | failed | not_sent
    http_status: int | None
    request_id: str | None
    error: str | None
    audit_id: int


@dataclass(frozen=True)
class ApplyResult:
    plan_id: str
    results: tuple[ChangeResult, ...]

    @property
    def succeeded(self) -> int:
        return sum(r.status == "succeeded" for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status != "succeeded" for r in self.results)


def default_actor() -> str:
    """Who applies a plan from the command line: the local account name."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


def apply_plan(
    plan: Plan,
    *,
    settings: Settings,
    client: GraphClient,
    store: Store,
    actor: str,
    on_result: Callable[[ChangeResult], None] | None = None,
) -> ApplyResult:
    """Send a plan's changes to Graph, auditing each one.

    Raises:
        ActionRefused: writes disabled, no write app configured, a refused plan, or live seats no longer cover it
            (recorded in the audit log; nothing sent).
    """
    plan_id = uuid.uuid4().hex[:12]
    tenant = settings.tenant_id
    if not settings.allow_writes:
        raise ActionRefused(
            "Writes are disabled: set LICENSE_DESK_ALLOW_WRITES=true to apply plans; nothing was sent."
        )
    if settings.write_identity() is None:  # client must be GraphClient(settings, identity="write")
        record_intent(store, plan_id=plan_id, actor=actor, tenant_id=tenant, action="plan", status="refused",
                      error=NO_WRITE_IDENTITY)  # fmt: skip
        raise ActionRefused(NO_WRITE_IDENTITY)
    if not plan.ok:
        reason = plan.refused[0].reason if plan.refused else "The plan has no changes."
        record_intent(store, plan_id=plan_id, actor=actor, tenant_id=tenant, action="plan", status="refused", error=reason,
                      detail={"refused": [r.reason for r in plan.refused]})  # fmt: skip
        raise ActionRefused(f"The plan was refused and nothing was sent: {reason}")
    shortfall = _live_shortfall(plan, client)
    if shortfall:
        record_intent(
            store,
            plan_id=plan_id,
            actor=actor,
            tenant_id=tenant,
            action="plan",
            status="refused",
            error=shortfall,
        )
        raise ActionRefused(f"Nothing was sent: {shortfall}")

    # Usage locations first, in their own batches: an assignment for a user whose location
    # could not be set would fail at Graph, so it is not sent.
    calls = api_calls(plan)
    phases = [
        [c for c in calls if c.kind is ChangeKind.SET_USAGE_LOCATION],
        [c for c in calls if c.kind is not ChangeKind.SET_USAGE_LOCATION],
    ]
    results: list[ChangeResult] = []
    failed_users: set[str] = set()
    stop_reason: str | None = None
    for phase in phases:
        audit_ids = [_intent(store, plan_id, actor, tenant, change) for change in phase]
        to_send = [
            (change, audit_id)
            for change, audit_id in zip(phase, audit_ids, strict=True)
            if not stop_reason and change.user_id not in failed_users
        ]
        outcomes = client.batch_write([_request_for(change) for change, _ in to_send]) if to_send else []
        answered = {audit_id: outcome for (_c, audit_id), outcome in zip(to_send, outcomes, strict=True)}
        for change, audit_id in zip(phase, audit_ids, strict=True):
            outcome = answered.get(audit_id)
            if outcome is None:
                why = stop_reason or "not sent because an earlier change for this user failed"
                result = ChangeResult(change, "not_sent", None, None, why, audit_id)
            elif outcome.ok:
                result = ChangeResult(change, "succeeded", outcome.status, outcome.request_id, None, audit_id)
            else:
                error = _write_permission_message(change) if outcome.status == 403 else outcome.error
                result = ChangeResult(change, "failed", outcome.status, outcome.request_id, error, audit_id)
                failed_users.add(change.user_id)
                if outcome.status == 403:
                    stop_reason = f"not sent: an earlier change was refused for lack of permission ({error})"
            record_outcome(
                store, audit_id, status=result.status, http_status=result.http_status,
                request_id=result.request_id, error=result.error,
            )  # fmt: skip
            results.append(result)
            if on_result:
                on_result(result)
    return ApplyResult(plan_id, tuple(results))


def _intent(store: Store, plan_id: str, actor: str, tenant: str | None, change: Change) -> int:
    return record_intent(
        store,
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
                "reason": change.reason},
    )  # fmt: skip


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
