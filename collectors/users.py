"""Users with their licenses, license assignment states and sign-in activity (``GET /users``).

Pages stream: each page becomes rows (in the page parser's process: ``collectors.page_parser``)
and is handed on while the next ones download, so a 100,000-user tenant is never held in memory.
``signInActivity`` needs AuditLog.Read.All and an Entra ID P1 tenant; when Graph refuses it the
sweep starts again without it and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from collectors.graph import GraphClient
from collectors.page_parser import PageParser
from collectors.user_rows import UserTuples, user_page_tuples
from licensedesk.errors import GraphError, GraphPermissionError
from store.staging import AssignedRow, LicenseRow, SignInRow, UserRow

PAGE_SIZE = 999
SIGNIN_PAGE_CAP = 120  # older tenants refuse more than 120 users a page when signInActivity is selected
USER_FIELDS = (
    "id,displayName,userPrincipalName,accountEnabled,userType,usageLocation,department,companyName,"
    "jobTitle,createdDateTime,assignedLicenses,licenseAssignmentStates"
)
SIGNIN_FIELD = "signInActivity"
ACTIVE_STATES = ("Active", "ActiveWithError")


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


def fetch_user_pages(
    client: GraphClient, sweep: UserSweep, parser: PageParser, on_wait: Callable[[], None] | None = None
) -> Iterator[UserTuples]:
    """Yield each page of users as rows (``parser`` makes them); records in ``sweep`` whether
    sign-in activity could be read. A user Graph repeats on a later page is in each page's rows
    (``collectors.user_rows.drop_repeated`` takes them out). ``on_wait`` is called before waiting
    for a page that has not arrived yet."""
    select = f"{USER_FIELDS},{SIGNIN_FIELD}"
    top = PAGE_SIZE
    with_signins = parser.decoder(with_signins=True)
    pages = client.iter_pages("/users", {"$select": select, "$top": str(top)}, with_signins, on_wait)
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
        pages = client.iter_pages(
            "/users", {"$select": select, "$top": str(top)}, parser.decoder(with_signins=False), on_wait
        )
        first = next(pages, UserTuples())
    except GraphError as exc:
        if exc.status != 400 or "120" not in str(exc):
            raise
        # Some tenants still cap pages with signInActivity at 120 users.
        pages = client.iter_pages(
            "/users", {"$select": select, "$top": str(SIGNIN_PAGE_CAP)}, with_signins, on_wait
        )
        first = next(pages, UserTuples())
    yield first
    yield from pages


def user_page_rows(page: list[dict[str, Any]], *, with_signins: bool) -> UserPage:
    """Turn one page of Graph users into named rows (pure).

    The collection itself uses :func:`collectors.user_rows.user_page_tuples`; this is the same
    result with field names, for callers that read rows rather than store them.
    """
    rows = user_page_tuples(page, with_signins=with_signins)
    return UserPage(
        [UserRow._make(r) for r in rows.users],
        [LicenseRow._make(r) for r in rows.licenses],
        [AssignedRow._make(r) for r in rows.assigned],
        [SignInRow._make(r) for r in rows.signins],
        rows.skipped,
    )
