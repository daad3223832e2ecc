"""Cached loaders of the usage reports' data (``store.usage``) for the Reclaim and Costs pages.

Beside ``dashboard.loaders`` (which calls them for candidates and costs) and read through the
same shared connection; only Streamlit caching and store reads here, no arithmetic.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis import reclaim_usage
from analysis.reclaim_usage import unused_pairs
from dashboard.connection import read
from store import queries
from store.usage import load_usage_reports, usage_if_collected

_TTL = 3600
_ENTRIES = 16


@st.cache_resource(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def usage(path: str, snapshot_id: int) -> pd.DataFrame | None:
    """``store.usage.usage_if_collected`` (never mutated by its callers: analysis copies)."""
    found: pd.DataFrame | None = read(path, usage_if_collected, snapshot_id)
    return found


@st.cache_data(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def usage_reports(path: str, snapshot_id: int) -> pd.DataFrame:
    """What each usage report gave the snapshot (``store.usage.load_usage_reports``)."""
    reports: pd.DataFrame = read(path, load_usage_reports, snapshot_id)
    return reports


@st.cache_resource(ttl=_TTL, max_entries=_ENTRIES, show_spinner=False)
def unused(path: str, snapshot_id: int, days: int, _holders: pd.DataFrame) -> set[tuple[str, str]] | None:
    """``analysis.reclaim_usage.unused_pairs`` of the snapshot, None without usage data; ``_holders``
    (the snapshot's seat holders) is left out of the cache key (it follows from the others)."""
    found = usage(path, snapshot_id)
    if found is None:
        return None
    licenses = read(path, queries.held_licenses, snapshot_id)
    plans = read(path, queries.service_plans, snapshot_id)
    return unused_pairs(_holders, licenses, plans, found, usage_days=days)


def usage_notice(path: str, snapshot_id: int) -> str | None:
    """``analysis.reclaim_usage.usage_notice`` of the snapshot's usage reports."""
    return reclaim_usage.usage_notice(usage_reports(path, snapshot_id))
