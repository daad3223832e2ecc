"""The reads every finance figure of one snapshot starts from (``analysis.reports.FinanceInputs``):
its seats, seat holders (as of the snapshot's own time), subscriptions, the price book and the
seats of people who use none of their SKU's workloads. ``report costs``, the deliveries and the
portfolio all read them here, so a tenant's waste is the same number wherever it is shown."""

from __future__ import annotations

import pandas as pd

from analysis.holders import seat_holders
from analysis.reclaim_usage import unused_pairs
from analysis.reports import FinanceInputs
from analysis.seats import seat_table
from store import queries
from store.db import Store
from store.prices import load_prices
from store.usage import usage_if_collected


def finance_inputs(store: Store, snapshot_id: int, *, inactive_days: int) -> FinanceInputs:
    """Read one snapshot's finance inputs; ``inactive_days`` is ``Settings.inactive_days``."""
    info = queries.snapshot_info(store, snapshot_id)
    signin = bool(info.get("signin_available", 1))
    holders = seat_holders(
        queries.users(store, snapshot_id),
        queries.user_licenses(store, snapshot_id),
        now=pd.Timestamp(info["started_at"]),
        inactive_days=inactive_days,
        signin_available=signin,
    )
    usage = usage_if_collected(store, snapshot_id)
    unused = None
    if usage is not None:
        unused = unused_pairs(holders, queries.held_licenses(store, snapshot_id),
                              queries.service_plans(store, snapshot_id), usage, usage_days=inactive_days)  # fmt: skip
    return FinanceInputs(
        snapshot_id=snapshot_id,
        started_at=str(info["started_at"]),
        seats=seat_table(queries.sku_counts(store, snapshot_id)),
        holders=holders,
        subscriptions=queries.subscriptions(store, snapshot_id),
        prices=load_prices(store),
        signin_available=signin,
        unused=unused,
    )
