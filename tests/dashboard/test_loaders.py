"""The loaders in dashboard/loaders.py themselves: shared frames stay unedited, and the narrow reads
give what the full ones gave."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.inactive import reclaim_by_sku, reclaimable_seats
from dashboard import loaders, ui
from tests.dashboard.tenant import E3, FLOW, VISIO


@pytest.mark.parametrize("loader", ["holders", "users_table", "candidates"])
def test_a_caller_editing_a_shared_frame_leaves_the_cache_alone(finance_store: str, loader: str) -> None:
    sid = loaders.latest_snapshot(finance_store)
    assert sid is not None
    args: tuple[object, ...] = (finance_store, sid, 90)
    if loader == "candidates":
        args = (*args, loaders.version(loaders.exemptions(finance_store)))
    first = getattr(loaders, loader)(*args)
    expected = first.copy(deep=True)
    assert not first.empty
    first.loc[first.index[0], "user_id"] = "edited"
    first["sku_id"] = "edited"
    first["extra"] = 1
    first.iloc[0, 1] = None
    pd.testing.assert_frame_equal(getattr(loaders, loader)(*args), expected)


@pytest.mark.parametrize("days", [30, 90])
def test_reclaimable_by_sku_counts_the_reclaimable_seats_of_the_skus_asked_for(
    tenant_store: str, days: int
) -> None:
    for sid in loaders.snapshot_ids(tenant_store):
        every = reclaim_by_sku(
            reclaimable_seats(
                loaders.user_licenses(tenant_store, sid),
                loaders.activity(tenant_store, sid, days),
                loaders.users(tenant_store, sid),
                loaders.seats(tenant_store, sid),
            )
        )
        skus = tuple(loaders.seats(tenant_store, sid)["sku_id"])
        assert loaders.reclaimable_by_sku(tenant_store, sid, days, skus) == every
        assert loaders.reclaimable_by_sku(tenant_store, sid, days, (E3,)) == {E3: every[E3]}
        assert loaders.reclaimable_by_sku(tenant_store, sid, days, ()) == {}
    # Latest snapshot: cat (inactive past 30 and 90 days) holds E3 and Visio, dan (disabled) and
    # eve (never signed in) E3; ned never signed in, but FLOW_FREE is free, never reclaimable.
    assert every == {E3: 3, VISIO: 1}
    assert loaders.reclaimable_by_sku(tenant_store, sid, days, (FLOW,)) == {}


def test_when_each_is_when_of_each() -> None:
    values = [
        "2025-01-01T06:00:00Z", "2025-01-02T06:00:00.1234567Z", None, "not a date",
        pd.Timestamp("2025-03-01T00:00:00Z"), "2025-01-01T06:00:00+02:00",
    ]  # fmt: skip
    assert ui.when_each(values) == [ui.when(v) for v in values]
    assert ui.when_each([]) == []
