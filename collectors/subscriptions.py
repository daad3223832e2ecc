"""Commerce subscriptions behind the SKUs (``GET /directory/subscriptions``): terms, trials, renewals."""

from __future__ import annotations

from typing import Any

from collectors.graph import GraphClient
from collectors.normalize import count, flag, guid, text, timestamp
from store.staging import SubscriptionRow

SUBSCRIPTION_SELECT = "id,commerceSubscriptionId,skuId,skuPartNumber,status,totalLicenses,isTrial,createdDateTime,nextLifecycleDateTime"


def fetch_subscriptions(client: GraphClient) -> list[dict[str, Any]]:
    """Every commerce subscription of the tenant."""
    pages = client.iter_pages("/directory/subscriptions", {"$select": SUBSCRIPTION_SELECT})
    return [item for page in pages for item in page]


def subscription_rows(raw: list[dict[str, Any]]) -> list[SubscriptionRow]:
    """Subscriptions as rows; entries without an id are dropped."""
    rows: list[SubscriptionRow] = []
    for item in raw:
        sub_id = text(item.get("id"))
        if sub_id is None:
            continue
        rows.append(
            SubscriptionRow(
                subscription_id=sub_id,
                commerce_subscription_id=text(item.get("commerceSubscriptionId")),
                sku_id=guid(item.get("skuId")),
                sku_part_number=text(item.get("skuPartNumber")),
                status=text(item.get("status")),
                total_licenses=count(item.get("totalLicenses")),
                is_trial=flag(item.get("isTrial")),
                created_at=timestamp(item.get("createdDateTime")),
                next_lifecycle_at=timestamp(item.get("nextLifecycleDateTime")),
            )
        )
    return rows
