"""Users with their licenses, license assignment states and sign-in activity (``GET /users``).

Pages stream: each page becomes rows and is handed on before the next is fetched, so a
100,000-user tenant is never held in memory. ``signInActivity`` needs AuditLog.Read.All and an
Entra ID P1 tenant; when Graph refuses it the sweep starts again without it and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from collectors.graph import GraphClient
from collectors.normalize import guid, license_error, plan_list, text, timestamp
from licensedesk.errors import GraphError, GraphPermissionError

PAGE_SIZE = 999
SIGNIN_PAGE_CAP = 120  # older tenants refuse more than 120 users a page when signInActivity is selected
USER_FIELDS = (
    "id,displayName,userPrincipalName,accountEnabled,userType,usageLocation,department,companyName,"
    "jobTitle,createdDateTime,assignedLicenses,licenseAssignmentStates"
)
SIGNIN_FIELD = "signInActivity"
ACTIVE_STATES = ("Active", "ActiveWithError")


class UserRow(NamedTuple):
    user_id: str
    user_principal_name: str | None
    display_name: str | None
    account_enabled: int | None
    user_type: str | None
    usage_location: str | None
    department: str | None
    company_name: str | None
    job_title: str | None
    created_at: str | None


class LicenseRow(NamedTuple):
    user_id: str
    sku_id: str
    assigned_by_group: str  # "" for a direct assignment
    state: str
    error: str  # "" for no error
    disabled_plans: str
    last_updated_at: str | None


class AssignedRow(NamedTuple):
    """A SKU in the user's ``assignedLicenses``: what Graph counts in consumedUnits."""

    user_id: str
    sku_id: str


class SignInRow(NamedTuple):
    user_id: str
    last_sign_in_at: str | None
    last_non_interactive_at: str | None
    last_successful_at: str | None


@dataclass
class UserPage:
    users: list[UserRow] = field(default_factory=list)
    licenses: list[LicenseRow] = field(default_factory=list)
    assigned: list[AssignedRow] = field(default_factory=list)
    signins: list[SignInRow] = field(default_factory=list)
    skipped: int = 0  # entries without an id


@dataclass
class UserSweep:
    """The outcome of a sweep besides its rows."""

    signin_available: bool = True
    warnings: list[str] = field(default_factory=list)


def fetch_user_pages(client: GraphClient, sweep: UserSweep) -> Iterator[list[dict[str, Any]]]:
    """Yield raw user pages; records in ``sweep`` whether sign-in activity could be read."""
    select = f"{USER_FIELDS},{SIGNIN_FIELD}"
    top = PAGE_SIZE
    pages = client.iter_pages("/users", {"$select": select, "$top": str(top)})
    try:
        first = next(pages)
    except StopIteration:
        return
    except GraphPermissionError:
        sweep.signin_available = False
        sweep.warnings.append(
            "Sign-in activity is unavailable (Graph refused signInActivity: the app needs AuditLog.Read.All "
            "and the tenant an Entra ID P1 licence), so inactive users cannot be identified in this snapshot."
        )
        select = USER_FIELDS
        pages = client.iter_pages("/users", {"$select": select, "$top": str(top)})
        first = next(pages, [])
    except GraphError as exc:
        if exc.status != 400 or "120" not in str(exc):
            raise
        # Some tenants still cap pages with signInActivity at 120 users.
        pages = client.iter_pages("/users", {"$select": select, "$top": str(SIGNIN_PAGE_CAP)})
        first = next(pages, [])
    yield first
    yield from pages


def user_page_rows(
    page: list[dict[str, Any]], *, with_signins: bool, seen: set[str] | None = None
) -> UserPage:
    """Turn one page of Graph users into rows (pure apart from ``seen``).

    Args:
        seen: ids of users already taken from earlier pages; a user Graph repeats is counted
            once (and added here). This loop runs once per user of the tenant, so it avoids
            per-field helper calls where a plain check does.
    """
    out = UserPage()
    users, licenses, assigned_rows, signins = out.users, out.licenses, out.assigned, out.signins
    seen_ids = seen if seen is not None else set()
    for item in page:
        if not isinstance(item, dict):
            out.skipped += 1
            continue
        user_id = guid(item.get("id"))
        if user_id is None:
            out.skipped += 1
            continue
        if user_id in seen_ids:
            continue
        seen_ids.add(user_id)
        enabled = item.get("accountEnabled")
        users.append(
            UserRow(
                user_id,
                text(item.get("userPrincipalName")),
                text(item.get("displayName")),
                int(enabled) if isinstance(enabled, bool) else None,
                text(item.get("userType")),
                text(item.get("usageLocation")),
                text(item.get("department")),
                text(item.get("companyName")),
                text(item.get("jobTitle")),
                timestamp(item.get("createdDateTime")),
            )
        )
        held: dict[str, Any] = {}
        for lic in item.get("assignedLicenses") or ():
            sku = guid(lic.get("skuId")) if isinstance(lic, dict) else None
            if sku and sku not in held:
                held[sku] = lic
                assigned_rows.append(AssignedRow(user_id, sku))
        seen_states: set[tuple[str, str]] = set()
        for state in item.get("licenseAssignmentStates") or ():
            if not isinstance(state, dict):
                continue
            sku = guid(state.get("skuId"))
            if sku is None:
                continue
            source = guid(state.get("assignedByGroup")) or ""
            if (sku, source) in seen_states:
                continue
            seen_states.add((sku, source))
            plans = state.get("disabledPlans")
            licenses.append(
                LicenseRow(
                    user_id,
                    sku,
                    source,
                    text(state.get("state")) or "Unknown",
                    license_error(state.get("error")),
                    plan_list(plans) if plans else "",
                    timestamp(state.get("lastUpdatedDateTime")),
                )
            )
        # A licence in assignedLicenses with no state entry is still held: record it as direct.
        if len(held) > len(seen_states) or any((sku, "") not in seen_states for sku in held):
            stated = {sku for sku, _ in seen_states}
            for sku in sorted(set(held) - stated):
                licenses.append(
                    LicenseRow(
                        user_id, sku, "", "Active", "", plan_list(held[sku].get("disabledPlans")), None
                    )
                )
        if with_signins:
            activity = item.get("signInActivity")
            if not isinstance(activity, dict):
                activity = {}
            signins.append(
                SignInRow(
                    user_id,
                    timestamp(activity.get("lastSignInDateTime")),
                    timestamp(activity.get("lastNonInteractiveSignInDateTime")),
                    timestamp(activity.get("lastSuccessfulSignInDateTime")),
                )
            )
    return out
