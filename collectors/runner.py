"""One collection from configuration: open the store, build the client, take the snapshot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.catalog import load_common_skus
from collectors.graph import GraphClient
from collectors.snapshot import collect_snapshot
from licensedesk.config import Settings
from store.catalog import ensure_builtin_catalog
from store.db import open_store
from store.snapshots import SnapshotSummary


def run_collection(
    settings: Settings,
    *,
    progress: Callable[[Any], None] | None = None,
    clock: Callable[[], str] | None = None,
    client: GraphClient | None = None,
) -> SnapshotSummary:
    """Collect one snapshot of the configured tenant into the configured store."""
    settings.require_tenant()
    graph = client or GraphClient(settings)
    # Credentials first: a collection that cannot sign in leaves no trace in the store (not even
    # a failed snapshot, or a new empty store) but its one-sentence error.
    graph.sign_in()
    with open_store(settings.store) as store:
        ensure_builtin_catalog(store, load_common_skus())
        return collect_snapshot(graph, store, clock=clock, progress=progress)
