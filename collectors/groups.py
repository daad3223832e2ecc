"""Licensed groups and their members in error (``GET /groups``, ``membersWithLicenseErrors``).

The reason for each error is not on the group: it is the member's ``licenseAssignmentStates``
entry for that group, which the user sweep already collects. The group calls give the group
names, what each group assigns, and Graph's own list of members in error (kept to cross-check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.graph import GraphClient
from collectors.normalize import guid, plan_list, text
from store.staging import ErrorMemberRow, GroupLicenseRow, GroupRow

GROUP_SELECT = "id,displayName,assignedLicenses,licenseProcessingState"
PAGE_SIZE = 999


def fetch_groups(client: GraphClient) -> list[dict[str, Any]]:
    """Every group with what it assigns; unlicensed ones are filtered out by ``group_rows``."""
    pages = client.iter_pages("/groups", {"$select": GROUP_SELECT, "$top": str(PAGE_SIZE)})
    return [group for page in pages for group in page]


def fetch_groups_with_errors(client: GraphClient) -> set[str]:
    """Ids of groups Graph flags with members in error.

    No ``ConsistencyLevel`` header and no ``$count``: with them Graph rejects this filter.
    """
    params = {"$filter": "hasMembersWithLicenseErrors eq true", "$select": "id"}
    return {
        g for page in client.iter_pages("/groups", params) for g in (guid(i.get("id")) for i in page) if g
    }


def fetch_error_members(client: GraphClient, group_ids: list[str]) -> list[ErrorMemberRow]:
    """Members in error for each group, first pages through ``$batch``, further pages followed."""
    paths = [f"/groups/{gid}/membersWithLicenseErrors?$select=id&$top={PAGE_SIZE}" for gid in group_ids]
    rows: list[ErrorMemberRow] = []
    for gid, body in zip(group_ids, client.batch_get(paths), strict=True):
        rows.extend(ErrorMemberRow(gid, uid) for uid in _ids(body.get("value")))
        next_link = body.get("@odata.nextLink")
        if isinstance(next_link, str):
            for page in client.iter_pages(next_link):
                rows.extend(ErrorMemberRow(gid, uid) for uid in _ids(page))
    return sorted(set(rows))


def group_rows(
    raw: list[dict[str, Any]], error_group_ids: set[str]
) -> tuple[list[GroupRow], list[GroupLicenseRow]]:
    """Licensed groups (those assigning at least one SKU, or flagged in error) and their SKUs."""
    groups: list[GroupRow] = []
    licenses: list[GroupLicenseRow] = []
    for item in raw:
        gid = guid(item.get("id"))
        if gid is None:
            continue
        assigned = [lic for lic in item.get("assignedLicenses") or [] if isinstance(lic, dict)]
        if not assigned and gid not in error_group_ids:
            continue
        state = item.get("licenseProcessingState")
        groups.append(
            GroupRow(
                group_id=gid,
                display_name=text(item.get("displayName")),
                processing_state=text(state.get("state")) if isinstance(state, dict) else None,
                has_errors=int(gid in error_group_ids),
            )
        )
        seen: set[str] = set()
        for lic in assigned:
            sku = guid(lic.get("skuId"))
            if sku and sku not in seen:
                seen.add(sku)
                licenses.append(GroupLicenseRow(gid, sku, plan_list(lic.get("disabledPlans"))))
    return groups, licenses


@dataclass
class LicensedGroups:
    """A collection's group rows: the licensed groups, what each assigns, and the members in error."""

    groups: list[GroupRow]
    licenses: list[GroupLicenseRow]
    error_members: list[ErrorMemberRow]


def fetch_licensed_groups(client: GraphClient) -> LicensedGroups:
    """Every row the snapshot keeps of groups (read beside the user sweep, on a thread of its own)."""
    error_groups = fetch_groups_with_errors(client)
    groups, licenses = group_rows(fetch_groups(client), error_groups)
    return LicensedGroups(groups, licenses, fetch_error_members(client, sorted(error_groups)))


def _ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [uid for uid in (guid(v.get("id")) for v in value if isinstance(v, dict)) if uid]


def fetch_group_members(client: GraphClient, group_id: str) -> list[str]:
    """Object ids of a group's direct members (group licensing does not follow nested groups)."""
    params = {"$select": "id", "$top": str(PAGE_SIZE)}
    pages = client.iter_pages(f"/groups/{group_id}/members", params)
    return [
        uid
        for page in pages
        for uid in _ids([m for m in page if "user" in str(m.get("@odata.type", "user"))])
    ]


def find_groups_named(client: GraphClient, name: str) -> list[tuple[str, str]]:
    """(id, display name) of every group whose display name is ``name`` (Graph compares it
    case-insensitively): any group, licensed or not."""
    literal = name.replace("'", "''")  # OData string literal: a quote is doubled
    params = {"$filter": f"displayName eq '{literal}'", "$select": "id,displayName"}
    found = []
    for page in client.iter_pages("/groups", params):
        for item in page:
            gid = guid(item.get("id"))
            if gid:
                found.append((gid, text(item.get("displayName")) or gid))
    return found
