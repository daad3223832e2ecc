"""/subscribedSkus and /directory/subscriptions agree with the tenant and with the users' licenses."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from graphsim.server import GraphSimulator
from graphsim.skus import SKUS
from tests.helpers.graph_client import Graph

REQUIRED = {
    "SPE_E3", "SPE_E5", "ENTERPRISEPACK", "SPB", "POWER_BI_PRO", "VISIOCLIENT", "PROJECTPROFESSIONAL",
    "AAD_PREMIUM", "AAD_PREMIUM_P2", "EMS", "Microsoft_365_Copilot", "WORKPLACE_ANALYTICS", "FLOW_FREE",
    "POWER_BI_STANDARD",
}  # fmt: skip
UNKNOWN_SKU = "45715bb8-13f9-4bf6-927f-ef96c102d394"


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_seat_counts_match_subscribed_skus_and_users(graph300: Graph, sim300: GraphSimulator) -> None:
    body = graph300.get("subscribedSkus").json()
    assert body["@odata.context"] == f"{sim300.graph_url}/$metadata#subscribedSkus"
    skus = {s["skuId"]: s for s in body["value"]}
    expected = sim300.tenant.seat_counts()
    assert set(skus) == set(expected)
    users = graph300.all("users", {"$select": "id,assignedLicenses", "$top": "999"})
    held = Counter(a["skuId"] for u in users for a in u["assignedLicenses"])
    for sku_id, counts in expected.items():
        sku = skus[sku_id]
        units = sku["prepaidUnits"]
        assert (units["enabled"], units["warning"], units["suspended"], units["lockedOut"], sku["consumedUnits"]) == (
            counts.enabled, counts.warning, counts.suspended, counts.locked_out, counts.consumed,
        )  # fmt: skip
        assert sku["consumedUnits"] == held[sku_id], sku["skuPartNumber"]
        assert sku["id"] == f"{sim300.tenant_id}_{sku_id}"
        assert 1 <= len(sku["servicePlans"]) <= 8


def test_the_catalogue_has_every_case_the_product_must_show(graph300: Graph) -> None:
    skus = {s["skuPartNumber"]: s for s in graph300.get("subscribedSkus").json()["value"]}
    assert REQUIRED <= set(skus) and 12 <= len(skus) <= 20
    assert skus["FLOW_FREE"]["prepaidUnits"]["enabled"] == 10_000
    assert skus["POWER_BI_STANDARD"]["prepaidUnits"]["enabled"] == 1_000_000
    assert any(s["prepaidUnits"]["warning"] > 0 for s in skus.values())
    assert any(s["capabilityStatus"] == "Suspended" for s in skus.values())
    assert any(s["appliesTo"] == "Company" for s in skus.values())
    assert any(s["skuId"] == UNKNOWN_SKU for s in skus.values())
    over = [p for p, s in skus.items() if s["consumedUnits"] > s["prepaidUnits"]["enabled"]]
    assert over == ["PROJECTPROFESSIONAL"]


def test_subscriptions_add_up_to_prepaid_units(graph300: Graph, sim300: GraphSimulator) -> None:
    subs = graph300.all("directory/subscriptions", {"$top": "7"})
    assert len(subs) == len(sim300.tenant.subscriptions)
    skus = {s["skuId"]: s for s in graph300.get("subscribedSkus").json()["value"]}
    buckets: Counter[tuple[str, str]] = Counter()
    for sub in subs:
        buckets[(sub["skuId"], sub["status"])] += sub["totalLicenses"]
        assert sub["id"] in skus[sub["skuId"]]["subscriptionIds"]
        assert sub["skuPartNumber"] == skus[sub["skuId"]]["skuPartNumber"]
    for sku_id, sku in skus.items():
        units = sku["prepaidUnits"]
        for status, key in (("Enabled", "enabled"), ("Warning", "warning"), ("Suspended", "suspended")):
            assert buckets[(sku_id, status)] == units[key], (sku["skuPartNumber"], status)
    now = sim300.tenant.now
    renewals = [_when(s["nextLifecycleDateTime"]) for s in subs]
    assert all(now < r <= now + timedelta(days=370) for r in renewals)
    assert any(r <= now + timedelta(days=30) for r in renewals)
    assert any(r > now + timedelta(days=90) for r in renewals)
    assert any(s["isTrial"] for s in subs)
    assert Counter(s["skuId"] for s in subs).most_common(1)[0][1] in (2, 3, 4)


def test_select_is_the_only_option_on_subscribed_skus(graph300: Graph) -> None:
    selected = graph300.get("subscribedSkus", params={"$select": "skuId,consumedUnits"}).json()["value"]
    assert all(set(s) == {"skuId", "consumedUnits"} for s in selected)
    for params in ({"$top": "5"}, {"$filter": "skuPartNumber eq 'SPE_E3'"}):
        response = graph300.get("subscribedSkus", params=params)
        assert response.status_code == 400 and response.json()["error"]["code"] == "Request_BadRequest"
    unknown = graph300.get("subscribedSkus", params={"$select": "skuId,color"})
    assert unknown.json()["error"]["message"] == (
        "Could not find a property named 'color' on type 'microsoft.graph.subscribedSku'."
    )


def test_every_identifier_is_microsofts_except_the_unknown_sku(reference_csv: Path) -> None:
    with reference_csv.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    plans_of: dict[str, dict[str, str]] = {}
    part_of: dict[str, str] = {}
    for row in rows:
        part_of[row["GUID"]] = row["String_Id"].strip()
        plans_of.setdefault(row["GUID"], {})[row["Service_Plan_Id"]] = row["Service_Plan_Name"]
    for sku in SKUS:
        if sku.sku_id == UNKNOWN_SKU:
            assert UNKNOWN_SKU not in part_of
            continue
        assert part_of[sku.sku_id] == sku.part_number
        for plan in sku.plans:
            assert plans_of[sku.sku_id].get(plan.id) == plan.name, (sku.part_number, plan.name)
