"""Collect many tenants: every enabled registered tenant (or one shard of them) into its own store,
a bounded number at once, under one app's throttling budget.

Why threads: a collection mostly waits on Graph, and one process holding one ``AppBudget`` is
what keeps every tenant's requests inside the app's budget across all tenants. A tenant's failure
is that tenant's: it is caught, recorded on its registry row in one sentence, and the others go
on. Imports no Streamlit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

from collectors.graph import GraphClient
from collectors.pacing import AppBudget
from collectors.runner import run_collection
from licensedesk.config import Settings
from licensedesk.errors import LicenseDeskError, redact
from licensedesk.tenants import TenantEntry, tenant_settings
from store.db import describe, open_store, utcnow
from store.tenants import prepare_tenant_store, record_outcome, tenant_store


@dataclass(frozen=True)
class TenantOutcome:
    """How one tenant's collection ended (``status`` "complete" or "failed", with ``error``)."""

    tenant_id: str
    display_name: str
    status: str
    store: str
    snapshot_id: int | None = None
    users: int | None = None
    licenses: int | None = None
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    paced_seconds: float = 0.0
    seconds: float = 0.0
    error: str | None = None


def collect_tenants(
    settings: Settings,
    entries: Sequence[TenantEntry],
    *,
    workers: int = 4,
    on_done: Callable[[TenantOutcome], None] | None = None,
) -> list[TenantOutcome]:
    """Collect each entry into its own store, ``workers`` at a time; outcomes in the entries' order.

    Pacing (``settings.pacing``) shares one ``AppBudget`` between all of them. Each outcome is also
    recorded on the registry in ``settings.store``.
    """
    budget = AppBudget.of(settings) if settings.pacing else None
    with open_store(settings.store) as registry:
        for entry in entries:
            prepare_tenant_store(registry, settings.store, entry.tenant_id)
    outcomes: dict[str, TenantOutcome] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="collect") as pool:
        futures = {pool.submit(_collect_one, settings, entry, budget): entry for entry in entries}
        with open_store(settings.store) as registry:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes[outcome.tenant_id] = outcome
                record_outcome(
                    registry, outcome.tenant_id, ran_at=utcnow(), snapshot_id=outcome.snapshot_id,
                    error=outcome.error,
                )  # fmt: skip
                if on_done is not None:
                    on_done(outcome)
    return [outcomes[e.tenant_id] for e in entries]


def _collect_one(settings: Settings, entry: TenantEntry, budget: AppBudget | None) -> TenantOutcome:
    started = time.monotonic()
    location = tenant_store(settings.store, entry.tenant_id)
    base = TenantOutcome(entry.tenant_id, entry.display_name, "failed", describe(location))
    client: GraphClient | None = None
    own = settings
    try:
        own = replace(tenant_settings(settings, entry), store=location)
        client = GraphClient(own, pacer=budget.pacer() if budget else None)
        summary = run_collection(own, client=client)
    except LicenseDeskError as exc:
        return _failed(base, client, started, redact(str(exc), *settings.secrets, *own.secrets))
    except Exception as exc:  # noqa: BLE001 - one tenant's bug must not stop the others
        message = f"Unexpected error ({exc.__class__.__name__}: {exc})."
        return _failed(base, client, started, redact(message, *settings.secrets, *own.secrets))
    return replace(
        base, status="complete", snapshot_id=summary.snapshot_id, users=summary.users,
        licenses=summary.licenses, requests=client.stats.requests, retries=client.stats.retries,
        throttled=client.stats.throttled, paced_seconds=client.pacer.waited if client.pacer else 0.0,
        seconds=round(time.monotonic() - started, 3),
    )  # fmt: skip


def _failed(base: TenantOutcome, client: GraphClient | None, started: float, error: str) -> TenantOutcome:
    stats = client.stats if client is not None else None
    return replace(
        base, error=error, seconds=round(time.monotonic() - started, 3),
        requests=stats.requests if stats else 0, retries=stats.retries if stats else 0,
        throttled=stats.throttled if stats else 0,
    )  # fmt: skip
