"""Loading for the dashboard: the only module with ``st.cache_*``.

Every cached loader takes the store path and the snapshot id, so a new snapshot is a new cache
key and stale numbers cannot be served after a collection.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import streamlit as st

from licensedesk.config import DEFAULT_STORE
from store import queries
from store.db import open_store


def store_path() -> str:
    """The store the dashboard reads (``LICENSE_DESK_STORE``, else the default)."""
    return os.environ.get("LICENSE_DESK_STORE") or DEFAULT_STORE


def latest_snapshot(path: str) -> int | None:
    """The latest complete snapshot id, or None (deliberately uncached: it is the cache key)."""
    if not os.path.exists(path):
        return None
    with open_store(path, create=False) as store:
        ids = queries.complete_snapshot_ids(store)
    return ids[-1] if ids else None


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def sku_counts(path: str, snapshot_id: int) -> pd.DataFrame:
    with open_store(path, create=False) as store:
        return queries.sku_counts(store, snapshot_id)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def snapshot_info(path: str, snapshot_id: int) -> dict[str, Any]:
    with open_store(path, create=False) as store:
        return queries.snapshot_info(store, snapshot_id)
