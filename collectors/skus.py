"""Subscribed SKUs (``GET /subscribedSkus``): seat counts and service plans per SKU."""

from __future__ import annotations

from typing import Any

from collectors.graph import GraphClient
from collectors.normalize import count, guid, text
from store.staging import ServicePlanRow, SkuRow

SKU_SELECT = (
    "skuId,skuPartNumber,appliesTo,capabilityStatus,prepaidUnits,consumedUnits,servicePlans,subscriptionIds"
)


def fetch_skus(client: GraphClient) -> list[dict[str, Any]]:
    """All subscribed SKUs (one page in practice; followed like any other collection)."""
    return [sku for page in client.iter_pages("/subscribedSkus", {"$select": SKU_SELECT}) for sku in page]


def sku_rows(raw: list[dict[str, Any]]) -> tuple[list[SkuRow], list[ServicePlanRow]]:
    """SKUs and their service plans as rows; entries without a skuId are dropped."""
    skus: list[SkuRow] = []
    plans: list[ServicePlanRow] = []
    for item in raw:
        sku_id = guid(item.get("skuId"))
        if sku_id is None:
            continue
        raw_units = item.get("prepaidUnits")
        units: dict[str, Any] = raw_units if isinstance(raw_units, dict) else {}
        skus.append(
            SkuRow(
                sku_id=sku_id,
                sku_part_number=text(item.get("skuPartNumber")) or sku_id,
                applies_to=text(item.get("appliesTo")),
                capability_status=text(item.get("capabilityStatus")),
                enabled=count(units.get("enabled")),
                warning=count(units.get("warning")),
                suspended=count(units.get("suspended")),
                locked_out=count(units.get("lockedOut")),
                consumed=count(item.get("consumedUnits")),
            )
        )
        seen: set[str] = set()
        for plan in item.get("servicePlans") or []:
            if not isinstance(plan, dict):
                continue
            plan_id = guid(plan.get("servicePlanId"))
            if plan_id is None or plan_id in seen:
                continue
            seen.add(plan_id)
            plans.append(
                ServicePlanRow(
                    sku_id=sku_id,
                    service_plan_id=plan_id,
                    service_plan_name=text(plan.get("servicePlanName")),
                    provisioning_status=text(plan.get("provisioningStatus")),
                    applies_to=text(plan.get("appliesTo")),
                )
            )
    return skus, plans
