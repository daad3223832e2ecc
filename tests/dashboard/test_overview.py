"""The Overview shows the hand-computed numbers of the tenant in tests/dashboard/tenant.py."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.dashboard.tenant import CALLING, E3, VISIO
from tests.helpers.apptest import download_labels, metrics, open_app, table, texts


def test_headline_metrics(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store)
    shown = metrics(at)
    # Counted SKUs (all but FLOW_FREE): purchased 5+3+0+5+2+3+2, assigned 6+1+0+0+0+1+1.
    assert shown["SKUs"] == "8"
    assert shown["Purchased seats"] == "20"
    assert shown["Assigned seats"] == "9"
    assert shown["Available seats"] == "11"
    assert shown["Unused seats"] == "12"  # E3's -1 counts 0: 2+0+5+2+2+1
    assert shown["Over-assigned SKUs"] == "1"  # E3: 6 assigned, 5 purchased
    # ann, fay, gus, hal, ida, jon, kim, lea, max
    assert shown["Users in group-licence error"] == "9"
    # dan (disabled): E3; cat (131 days): E3 + Visio; eve (never signed in): E3 once although held twice.
    assert shown["Reclaimable seats"] == "4"
    reclaim = next(m for m in at.metric if m.label == "Reclaimable seats")
    assert reclaim.proto.help.startswith(
        "1 held by disabled accounts, 3 by users with no sign-in for 90 days"
    )
    assert at.caption[0].value == "Snapshot 4 of tenant contoso, taken 2025-05-21 06:00 UTC"
    assert not at.warning  # this snapshot has no warnings


def test_changes_since_the_previous_snapshot(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store)
    shown = metrics(at)
    assert shown["Seats bought"] == "+1"  # Visio 2 -> 3
    assert shown["Seats assigned"] == "+1"  # 8 -> 9: E3 7 -> 6, Visio 0 -> 1, Calling 0 -> 1
    assert shown["Users added"] == "4"  # hal, ida, jon, oli
    assert shown["Users removed"] == "1"  # pat
    assert shown["New errors"] == "7"  # all of snapshot 4's nine but gus's and lea's
    assert "Compared with snapshot 2, taken 2025-05-11 06:00 UTC." in texts(at)
    per_sku = table(at, "sku", "purchased_before")
    assert per_sku.to_dict("records") == [
        {"sku": "Microsoft 365 E3", "purchased_before": 5, "purchased_after": 5, "bought": 0,
         "consumed_before": 7, "consumed_after": 6, "assigned": -1, "counted": True},
        {"sku": "Teams Domestic Calling Plan", "purchased_before": 3, "purchased_after": 3, "bought": 0,
         "consumed_before": 0, "consumed_after": 1, "assigned": 1, "counted": True},
        {"sku": "Visio Plan 2", "purchased_before": 2, "purchased_after": 3, "bought": 1,
         "consumed_before": 0, "consumed_after": 1, "assigned": 1, "counted": True},
    ]  # fmt: skip


def _row(frame: Any, part: str) -> dict[str, Any]:
    return dict(frame.set_index("sku_part_number").loc[part])


def test_sku_table_shows_odd_skus_as_they_are(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, tenant_store)
    skus = table(at, "name", "sku_part_number")
    assert len(skus) == 8
    e3 = _row(skus, "SPE_E3")
    assert (e3["purchased"], e3["consumed"], e3["available"]) == (5, 6, -1)  # negative, not clipped
    assert math.isclose(e3["utilization"], 1.2)
    pbi = _row(skus, "POWER_BI_PRO")
    assert (pbi["purchased"], pbi["available"], pbi["suspended"]) == (0, 0, 5)
    assert math.isnan(pbi["utilization"])  # undefined, not 0 and not an error
    partner = _row(skus, "CONTOSO_PARTNER_ADDON")
    assert partner["name"] == "CONTOSO_PARTNER_ADDON" and not partner["known"]
    assert not _row(skus, "FLOW_FREE")["counts_as_unused"]
    assert at.info[0].value.startswith(
        "1 SKU(s) are not in the catalog and are shown by part number: CONTOSO_PARTNER_ADDON."
    )
    assert "Not drawn (free/viral or company-wide, never counted as seats): Power Automate Free." in texts(at)
    assert len(at.get("plotly_chart")) == 1
    assert download_labels(at) == ["Download CSV", "Download Excel"]


def test_sign_in_data_unavailable(no_signin_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, no_signin_store)
    assert [w.value for w in at.warning] == [
        "Sign-in activity is unavailable, so inactive users cannot be identified in this snapshot."
    ]
    reclaim = next(m for m in at.metric if m.label == "Reclaimable seats")
    assert reclaim.value == "1"  # only dan's E3: nobody can be called inactive
    assert "no sign-in data" in reclaim.proto.help


def test_inactivity_threshold_comes_from_configuration(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With 19 days, fay (last sign-in 19.9 days before the snapshot) becomes inactive: her E3 adds one.
    monkeypatch.setenv("LICENSE_DESK_INACTIVE_DAYS", "19")
    at = open_app(monkeypatch, tenant_store)
    assert metrics(at)["Reclaimable seats"] == "5"


def test_first_snapshot_has_no_changes(single_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_app(monkeypatch, single_store)
    assert "This is the first snapshot: changes show from the next one." in texts(at)
    assert "Seats bought" not in metrics(at)


def test_ids_used_by_the_tables_are_the_catalog_ids(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_app(monkeypatch, tenant_store)
    ids = set(table(at, "name", "sku_part_number")["sku_id"])
    assert {E3, VISIO, CALLING} <= ids


def test_overview_of_a_tenant_collected_by_the_real_collectors(
    shared_sim: Any, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same page on a store the collectors filled from the simulator over HTTPS: the metrics are
    # the seat totals of that snapshot, however the simulated tenant happens to look.
    from analysis.seats import seat_table, seat_totals
    from cli.demo_tenant import simulator_settings
    from collectors.runner import run_collection
    from store import queries
    from store.db import open_store

    summary = run_collection(simulator_settings(shared_sim, store_url))
    with open_store(store_url) as store:
        totals = seat_totals(seat_table(queries.sku_counts(store, summary.snapshot_id)))
        in_error = queries.group_errors(store, summary.snapshot_id)["user_id"].nunique()
    at = open_app(monkeypatch, store_url)
    shown = metrics(at)
    assert shown["Purchased seats"] == f"{totals['purchased']:,}"
    assert shown["Assigned seats"] == f"{totals['consumed']:,}"
    assert shown["Available seats"] == f"{totals['purchased'] - totals['consumed']:,}"
    assert shown["Unused seats"] == f"{totals['unused']:,}"
    assert shown["Over-assigned SKUs"] == str(totals["over_assigned_skus"])
    assert shown["Users in group-licence error"] == str(in_error)
    assert len(table(at, "name", "sku_part_number")) == totals["skus"]
