"""Take one snapshot: run every collector and publish the result atomically.

Order matters for consistency: SKUs first (their consumedUnits are compared with the user
sweep), then subscriptions, then the users (published page by page, unseen until the snapshot
completes), with the groups and the usage reports (joined to each page's users, and published
alike) read beside them. Any failure leaves the store exactly as it was, apart from a 'failed' row
recording why.

The usage reports and the licensed groups are read on two threads while the user pages stream
in: neither needs a user id until it is staged, a 100,000-user report set is ~75 MB of CSV whose
download would otherwise wait on Graph after the sweep's, and the groups are a few round trips
(more with many groups in error) that would otherwise come after the last page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from collectors.graph import GraphClient
from collectors.groups import fetch_licensed_groups
from collectors.page_parser import open_page_parser
from collectors.skus import fetch_skus, sku_rows
from collectors.subscriptions import fetch_subscriptions, subscription_rows
from collectors.usage import FetchedUsage, UsageJoin, fetch_usage
from collectors.user_rows import drop_repeated
from collectors.users import UserSweep, fetch_user_pages
from store.db import Store
from store.snapshots import SnapshotSummary, SnapshotWriter
from store.usage import publish_usage_reports


@dataclass
class Progress:
    """What a progress display is told: a step name and users seen so far."""

    step: str
    users: int = 0


ProgressCallback = Callable[[Progress], None]


def collect_snapshot(
    client: GraphClient,
    store: Store,
    *,
    clock: Callable[[], str] | None = None,
    progress: ProgressCallback | None = None,
) -> SnapshotSummary:
    """Collect the tenant behind ``client`` into ``store`` as one new complete snapshot.

    Args:
        clock: returns "now" as ISO-8601 UTC; the demo passes the simulated tenant's clock so
            its history has one snapshot a simulated day.
        progress: called after each step and each page of users.

    Raises:
        LicenseDeskError: anything that stopped the collection (nothing was published).
    """
    notify = progress or (lambda _p: None)
    tenant_id = client.settings.tenant_id or "unknown"
    started = time.monotonic()
    started_at = clock() if clock else None
    with SnapshotWriter(store, tenant_id, started_at) as writer:
        notify(Progress("subscribed SKUs"))
        skus, plans = sku_rows(fetch_skus(client))
        writer.stage("stage_skus", skus)
        writer.stage("stage_plans", plans)

        notify(Progress("subscriptions"))
        writer.stage("stage_subscriptions", subscription_rows(fetch_subscriptions(client)))

        beside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="beside-the-sweep")
        usage_in = FetchedUsage()
        fetched = beside.submit(fetch_usage, client, usage_in)
        licensed_groups = beside.submit(fetch_licensed_groups, client)
        parser = open_page_parser()
        joined = UsageJoin(writer.stage_usage)
        try:
            sweep = UserSweep()
            seen = skipped = 0
            user_ids: set[str] = set()
            # Page writes stay in one transaction while pages keep arriving, and are committed
            # before any wait on Graph, so other writers of the store never wait on Graph.
            for page in fetch_user_pages(client, sweep, parser, on_wait=writer.waiting_on_graph):
                rows = drop_repeated(page, user_ids)
                writer.stage_user_page(rows.users, rows.licenses, rows.assigned, rows.signins)
                joined.users([(u[1].lower(), u[0]) for u in rows.users if u[1]])
                if not joined.has_reports and fetched.done():
                    joined.reports(fetched.result())  # a report that failed fails the collection now
                seen += len(rows.users)
                skipped += rows.skipped
                notify(Progress("users", users=seen))

            writer.commit_pages()
            notify(Progress("licensed groups", users=seen))
            groups = licensed_groups.result()
            writer.stage("stage_groups", groups.groups)
            writer.stage("stage_group_licenses", groups.licenses)
            writer.stage("stage_error_members", groups.error_members)

            notify(Progress("usage reports", users=seen))
            if not joined.has_reports:
                joined.reports(fetched.result())
            usage = joined.finish()
        finally:
            parser.close()
            # A failed sweep fails now: the reports' thread stops at its next thousand rows (the
            # groups' few requests are left to finish on their own).
            usage_in.stop.set()
            beside.shutdown(wait=False)

        warnings = list(sweep.warnings) + usage.warnings
        if skipped:
            warnings.append(f"{skipped} user entries without an id were skipped.")
        notify(Progress("saving", users=seen))
        return writer.complete(
            finished_at=clock() if clock else None,
            request_count=client.stats.requests,
            retry_count=client.stats.retries,
            duration_seconds=round(time.monotonic() - started, 3),
            signin_available=sweep.signin_available,
            warnings=warnings,
            also=[lambda tx, sid: publish_usage_reports(tx, sid, usage.reports)],
        )
