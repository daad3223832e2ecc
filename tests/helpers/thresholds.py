"""A threshold breached in the finance tenant, for the notification tests."""

from __future__ import annotations

from store.db import open_store
from store.prices import save_threshold
from tests.analysis import finance_tenant as t


def breach_e3(store_location: str, minimum: int = 5) -> None:
    """SPE_E3 has 3 free seats: a minimum above that is a threshold finding."""
    with open_store(store_location) as store:
        save_threshold(store, t.E3, "SPE_E3", min_free_seats=minimum, max_utilization_percent=None)
