"""The write calls: assignLicense (user and group), reprocessLicenseAssignment, PATCH usageLocation.

Why separate from the read router: writes need their own permissions (the read identity must never
be able to change anything) and strict body parsing, and every one of them must hand over to
graphsim.licensing so group processing runs afterwards. Callers hold tenant.lock. Imports
graphsim.calls, graphsim.errors, graphsim.licensing, graphsim.model, graphsim.payloads,
graphsim.tenant, graphsim.usage_locations.
"""

from __future__ import annotations

import json
import re
from typing import Any

from graphsim import licensing
from graphsim.calls import ApiRequest, ApiResponse, need
from graphsim.errors import bad_request
from graphsim.model import Group, User
from graphsim.payloads import GROUP_DEFAULT, USER_DEFAULT, group_json, user_json
from graphsim.tenant import Tenant
from graphsim.usage_locations import ISO_COUNTRIES

_DIR_WRITE = "Directory.ReadWrite.All"
USER_LICENSE_WRITE = frozenset({"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", _DIR_WRITE})
GROUP_LICENSE_WRITE = frozenset({"LicenseAssignment.ReadWrite.All", "Group.ReadWrite.All", _DIR_WRITE})
USER_WRITE = frozenset({"User.ReadWrite.All", _DIR_WRITE})  # reprocess and PATCH: not LicenseAssignment.*
USER_ANSWER = (
    *USER_DEFAULT, "accountEnabled", "usageLocation", "assignedLicenses", "assignedPlans", "licenseAssignmentStates",
)  # fmt: skip
GROUP_ANSWER = (*GROUP_DEFAULT, "assignedLicenses", "licenseProcessingState")
_GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_UNREADABLE = "Unable to read JSON request payload. Please ensure Content-Type header is set."


def json_body(req: ApiRequest) -> dict[str, Any]:
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        raise bad_request(_UNREADABLE) from None
    if not isinstance(body, dict):
        raise bad_request(_UNREADABLE)
    return body


def _guid(value: Any, prop: str, resource: str) -> str:
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise bad_request(f"Invalid value specified for property '{prop}' of resource '{resource}'.")
    return value.lower()


def parse_license_body(req: ApiRequest) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    """assignLicense's body: both arrays required (either may be empty); GUIDs compared lowercase."""
    body = json_body(req)
    missing = [k for k in ("addLicenses", "removeLicenses") if not isinstance(body.get(k), list)]
    if missing:
        raise bad_request(
            "One or more parameters of the function import 'assignLicense' are missing from the request "
            f"payload. The missing parameters are: {', '.join(missing)}."
        )
    add: list[tuple[str, tuple[str, ...]]] = []
    for item in body["addLicenses"]:
        if not isinstance(item, dict):
            raise bad_request("Invalid value specified for property 'addLicenses' of resource 'User'.")
        plans = item.get("disabledPlans") or []
        if not isinstance(plans, list):
            raise bad_request(
                "Invalid value specified for property 'disabledPlans' of resource 'AssignedLicense'."
            )
        disabled = tuple(sorted({_guid(p, "disabledPlans", "AssignedLicense") for p in plans}))
        add.append((_guid(item.get("skuId"), "skuId", "AssignedLicense"), disabled))
    remove = [_guid(s, "removeLicenses", "User") for s in body["removeLicenses"]]
    return add, remove


def patch_user(tenant: Tenant, req: ApiRequest, user: User) -> ApiResponse:
    """PATCH /users/{id}: only usageLocation (ISO 3166-1 alpha-2, or null) is supported here."""
    need(req, USER_WRITE)
    body = json_body(req)
    for prop in body:
        if prop != "usageLocation":
            raise bad_request(f"Property '{prop}' cannot be updated by this service.")
    location = body.get("usageLocation")
    if location is not None and (not isinstance(location, str) or location.upper() not in ISO_COUNTRIES):
        raise bad_request("Invalid value specified for property 'usageLocation' of resource 'User'.")
    user.usage_location = location.upper() if isinstance(location, str) else None
    return ApiResponse(204)


def assign_user(tenant: Tenant, req: ApiRequest, user: User, context: str) -> ApiResponse:
    """POST /users/{id}/assignLicense -> 200 and the user."""
    need(req, USER_LICENSE_WRITE)
    add, remove = parse_license_body(req)
    try:
        licensing.assign_direct(tenant, user, add, remove)
    except licensing.LicenseError as exc:
        raise bad_request(str(exc)) from None
    return ApiResponse(200, {"@odata.context": context, **user_json(tenant, user, USER_ANSWER)})


def reprocess_user(tenant: Tenant, req: ApiRequest, user: User, context: str) -> ApiResponse:
    """POST /users/{id}/reprocessLicenseAssignment -> 200 and the user."""
    need(req, USER_WRITE)
    licensing.process_user(tenant, user)
    return ApiResponse(200, {"@odata.context": context, **user_json(tenant, user, USER_ANSWER)})


def assign_group(tenant: Tenant, req: ApiRequest, group: Group, context: str) -> ApiResponse:
    """POST /groups/{id}/assignLicense -> 202 and the group (members are processed at once here)."""
    need(req, GROUP_LICENSE_WRITE)
    add, remove = parse_license_body(req)
    try:
        licensing.assign_to_group(tenant, group, add, remove)
    except licensing.LicenseError as exc:
        raise bad_request(str(exc)) from None
    return ApiResponse(202, {"@odata.context": context, **group_json(tenant, group, GROUP_ANSWER)})
